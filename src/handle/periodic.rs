//! Reports on the delivery thread's runtime: every interval, and once
//! more at shutdown, an event that a reporter makes (operation metrics,
//! process and health metrics, storm summaries).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{JKoolHandle, WeakHandle};
use crate::JKoolEvent;

/// Longer intervals are taken as this, so that a clock can add them.
const LONGEST: Duration = Duration::from_secs(365 * 24 * 3600);

impl JKoolHandle {
    /// Every `interval` (the first one `interval` from now), sends what the
    /// reporter made by `setup` makes, from a task on the delivery thread's
    /// runtime; `setup` runs there too, first. The task ends when shutdown
    /// begins or the pipeline is gone.
    pub(crate) fn spawn_periodic<R>(
        &self,
        interval: Duration,
        setup: impl FnOnce() -> R + Send + 'static,
    ) where
        R: FnMut(&JKoolHandle) -> Option<JKoolEvent> + Send + 'static,
    {
        // Made by `setup` on the delivery thread; `shutdown` makes the last
        // report with it, so that what changed since the last interval, or in
        // a run shorter than one, arrives.
        let report = Arc::new(Mutex::new(None::<R>));
        let last = report.clone();
        self.before_shutdown(Box::new(move |handle| {
            let mut report = last.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(event) = report.as_mut().and_then(|report| report(handle)) {
                handle.send(event);
            }
        }));
        let task = periodic(self.downgrade(), interval, setup, report);
        // Dropped with the runtime when the delivery thread ends.
        drop(self.runtime().spawn(task));
    }
}

async fn periodic<R>(
    handle: WeakHandle,
    interval: Duration,
    setup: impl FnOnce() -> R,
    report: Arc<Mutex<Option<R>>>,
) where
    R: FnMut(&JKoolHandle) -> Option<JKoolEvent>,
{
    let interval = interval.clamp(Duration::from_millis(1), LONGEST);
    *report.lock().unwrap_or_else(|e| e.into_inner()) = Some(setup());
    let start = tokio::time::Instant::now() + interval;
    let mut ticks = tokio::time::interval_at(start, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Bounded by the pipeline's life: it returns once shutdown begins or
    // the last handle is gone.
    loop {
        ticks.tick().await;
        let Some(handle) = handle.upgrade() else {
            return;
        };
        // The task runs on the worker's thread, so the queue cannot close
        // between this check and the send.
        if handle.is_closed() {
            return;
        }
        let mut report = report.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(event) = report.as_mut().and_then(|report| report(&handle)) {
            handle.send(event);
        }
    }
}
