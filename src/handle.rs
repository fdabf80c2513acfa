//! The user's handle on the delivery pipeline: flush, shutdown, statistics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::model::{Item, Kind};
use crate::{Error, JKoolEvent};

/// Delivery counters, as read by [`JKoolHandle::stats`].
///
/// ```
/// let stats = tracing_jkool::Stats::default();
/// assert_eq!(stats.dropped, 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Items accepted onto the queue.
    pub queued: u64,
    /// Items jKool accepted.
    pub sent: u64,
    /// Items dropped: the queue was full, the retry buffer overflowed
    /// (oldest first), or the pipeline had stopped.
    pub dropped: u64,
    /// Items jKool rejected, or given up after retrying.
    pub failed: u64,
    /// Requests tried again after a passing failure.
    pub retried: u64,
    /// Repeats folded into an earlier event by duplicate suppression.
    pub suppressed: u64,
    /// Requests jKool accepted.
    pub batches: u64,
    /// Body bytes of the requests jKool accepted.
    pub bytes_sent: u64,
    /// Items accepted but not yet sent, failed or dropped.
    pub queue_depth: u64,
}

/// Counters shared by the layer, the worker and the handle.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub queued: AtomicU64,
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
    pub suppressed: AtomicU64,
    pub batches: AtomicU64,
    pub bytes_sent: AtomicU64,
}

/// How far the worker got, for `flush` and `shutdown` to wait on.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Items the worker is done with: sent, failed, dropped or suppressed.
    pub finished: u64,
    /// Items given up because time ran out.
    pub abandoned: u64,
    /// The worker has stopped.
    pub stopped: bool,
}

/// State shared between the worker and every handle.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub counters: Counters,
    progress: Mutex<Progress>,
    changed: Condvar,
}

impl Shared {
    fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn finish(&self, count: u64, abandoned: u64) {
        let mut progress = self.progress();
        progress.finished += count;
        progress.abandoned += abandoned;
        drop(progress);
        self.changed.notify_all();
    }

    /// `count` items in one accepted request of `bytes` bytes.
    pub fn sent(&self, count: u64, bytes: u64) {
        self.counters.sent.fetch_add(count, Ordering::Relaxed);
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
        self.finish(count, 0);
    }

    /// `count` items rejected for good.
    pub fn failed(&self, count: u64) {
        self.counters.failed.fetch_add(count, Ordering::Relaxed);
        self.finish(count, 0);
    }

    /// `count` items given up because the retry time or the shutdown
    /// deadline ran out.
    pub fn abandoned(&self, count: u64) {
        self.counters.failed.fetch_add(count, Ordering::Relaxed);
        self.finish(count, count);
    }

    /// `count` held items dropped to keep memory bounded.
    pub fn dropped(&self, count: u64) {
        self.counters.dropped.fetch_add(count, Ordering::Relaxed);
        self.finish(count, 0);
    }

    /// `count` repeats folded into a held event.
    pub fn suppressed(&self, count: u64) {
        self.counters.suppressed.fetch_add(count, Ordering::Relaxed);
        self.finish(count, 0);
    }

    pub fn retried(&self) {
        self.counters.retried.fetch_add(1, Ordering::Relaxed);
    }

    /// Called by the worker as its last act.
    pub fn stop(&self) {
        self.progress().stopped = true;
        self.changed.notify_all();
    }

    /// Waits until `done` holds or `timeout` passes; returns the progress.
    fn wait(
        &self,
        timeout: Duration,
        done: impl Fn(&Progress) -> bool,
    ) -> MutexGuard<'_, Progress> {
        let guard = self.progress();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |p| !done(p))
            .unwrap_or_else(|e| e.into_inner());
        guard
    }
}

/// Requests from a handle to the worker.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send everything queued now, without waiting for a batch to fill.
    Flush,
    /// Send everything queued, giving up on what is left at `give_up_at`,
    /// then stop.
    Shutdown { give_up_at: Instant },
}

/// How long `shutdown` waits past its deadline for the worker to count
/// what it gave up.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// A handle on a [`JKoolLayer`](crate::JKoolLayer)'s delivery: flush,
/// shut down, read statistics. Cheap to clone and usable from any thread.
///
/// ```no_run
/// use std::time::Duration;
/// let layer = tracing_jkool::JKoolLayer::new("my-access-token");
/// let jkool = layer.handle();
/// // ... install the layer, run the application ...
/// if let Err(err) = jkool.shutdown(Duration::from_secs(5)) {
///     eprintln!("jKool: {err}");
/// }
/// ```
#[derive(Clone)]
pub struct JKoolHandle {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    items: mpsc::Sender<Item>,
    control: mpsc::UnboundedSender<Command>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Set by the layer: queues the spans still open, first thing in
    /// `shutdown`.
    on_shutdown: OnceLock<ShutdownHook>,
}

/// What `shutdown` runs before the worker stops.
pub(crate) type ShutdownHook = Box<dyn Fn(&JKoolHandle) + Send + Sync>;

impl std::fmt::Debug for JKoolHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JKoolHandle")
            .field("stats", &self.stats())
            .finish()
    }
}

impl JKoolHandle {
    pub(crate) fn new(
        shared: Arc<Shared>,
        items: mpsc::Sender<Item>,
        control: mpsc::UnboundedSender<Command>,
        thread: JoinHandle<()>,
    ) -> Self {
        JKoolHandle {
            inner: Arc::new(Inner {
                shared,
                items,
                control,
                thread: Mutex::new(Some(thread)),
                on_shutdown: OnceLock::new(),
            }),
        }
    }

    /// Registers what `shutdown` runs first; only the first call counts.
    pub(crate) fn on_shutdown(&self, hook: ShutdownHook) {
        let _ = self.inner.on_shutdown.set(hook);
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.inner.shared.counters
    }

    /// Puts an item on the queue without waiting; a full queue, or a
    /// stopped pipeline, drops it and counts it.
    pub(crate) fn enqueue(&self, item: Item) {
        let counter = match self.inner.items.try_send(item) {
            Ok(()) => &self.counters().queued,
            Err(_) => &self.counters().dropped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends a fully specified jKool event through the same queue as the
    /// layer's items: it never waits, and a full queue drops and counts it.
    ///
    /// ```no_run
    /// use tracing_jkool::{JKoolEvent, JKoolLayer, Snapshot};
    ///
    /// let jkool = JKoolLayer::new("my-access-token").handle();
    /// jkool.send(
    ///     JKoolEvent::new("Order Processed Successfully")
    ///         .corr_id("order-5")
    ///         .snapshot(Snapshot::new("Payment").category("Order").property("order-amount", 150)),
    /// );
    /// ```
    pub fn send(&self, event: JKoolEvent) {
        self.enqueue(Item::JKoolEvent(Box::new(event)));
    }

    /// Sends one item that is already jKool JSON, such as a line written by
    /// the file sink (`url("file:///...")`), through the same queue and
    /// with the same retries. An `ACTIVITY` goes where activities go;
    /// anything else where events go.
    ///
    /// # Errors
    /// [`Error::InvalidItem`] when `json` is not one JSON object with a
    /// string `type`; nothing is queued then.
    ///
    /// ```no_run
    /// let jkool = tracing_jkool::JKoolLayer::new("my-access-token").handle();
    /// jkool.send_json(r#"{"type":"EVENT","tracking-id":"1","time-usec":1,"msg-text":"replayed"}"#)?;
    /// # Ok::<(), tracing_jkool::Error>(())
    /// ```
    pub fn send_json(&self, json: &str) -> Result<(), Error> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::InvalidItem(e.to_string()))?;
        let kind = match value.get("type").and_then(serde_json::Value::as_str) {
            Some("ACTIVITY") => Kind::Activity,
            Some(_) => Kind::Event,
            None => return Err(Error::InvalidItem("no string \"type\"".into())),
        };
        // Re-written compactly: one line, whatever the input's layout.
        self.enqueue(Item::Raw {
            kind,
            json: value.to_string().into_boxed_str(),
        });
        Ok(())
    }

    /// The delivery counters so far.
    pub fn stats(&self) -> Stats {
        let c = self.counters();
        let finished = self.inner.shared.progress().finished;
        let queued = c.queued.load(Ordering::Relaxed);
        Stats {
            queued,
            sent: c.sent.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
            suppressed: c.suppressed.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
            queue_depth: queued.saturating_sub(finished),
        }
    }

    /// Sends everything queued before the call and waits, at most
    /// `timeout`, until each of those items is sent or given up.
    ///
    /// Blocks the calling thread (never the delivery thread), so it is safe
    /// in `fn main` and inside any tokio runtime.
    ///
    /// # Errors
    /// [`Error::Timeout`] with the number of those items not delivered:
    /// still pending, or given up because their retry time ran out. Items
    /// jKool rejected are counted in [`Stats::failed`].
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        self.request(Command::Flush, timeout, |p, target| {
            p.finished >= target || p.stopped
        })
    }

    /// Sends everything queued, then stops the delivery thread. What is
    /// still undelivered after `timeout` is given up and counted as failed.
    /// Items emitted afterwards are counted as dropped.
    ///
    /// Spans still open (such as a root span entered across `main`) are
    /// sent first, as activities ending now and marked as cut short: the
    /// property `cut_short = true` in their default snapshot, and
    /// completion code `WARNING` unless the span failed (then `ERROR`) or
    /// set `jkool.comp_code`. Their status is computed as for any span
    /// (`END`, or `EXCEPTION` after an error), and their busy and idle
    /// times run to now. Closing such a span later sends nothing more, so
    /// every `parent-id` resolves to exactly one activity.
    ///
    /// # Errors
    /// [`Error::Timeout`] with the number of items given up.
    pub fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        if let Some(hook) = self.inner.on_shutdown.get() {
            hook(self);
        }
        let give_up_at = Instant::now() + timeout;
        let result = self.request(
            Command::Shutdown { give_up_at },
            timeout + SHUTDOWN_GRACE,
            |p, _| p.stopped,
        );
        if self.inner.shared.progress().stopped {
            let thread = self
                .inner
                .thread
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if let Some(thread) = thread {
                // The worker has signalled that it stopped: joining is immediate.
                let _ = thread.join();
            }
        }
        result
    }

    /// A guard that calls [`shutdown`](Self::shutdown) with `timeout` when
    /// dropped: keep it alive until the end of `main`.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let layer = tracing_jkool::JKoolLayer::new("my-access-token");
    /// let _guard = layer.handle().shutdown_guard(Duration::from_secs(5));
    /// tracing_subscriber::registry().with(layer).init();
    /// tracing::info!("sent before main returns");
    /// ```
    pub fn shutdown_guard(&self, timeout: Duration) -> ShutdownGuard {
        ShutdownGuard {
            handle: self.clone(),
            timeout,
        }
    }

    /// Sends `command` and waits until `done(progress, target)`, where
    /// `target` counts the items queued before the call.
    fn request(
        &self,
        command: Command,
        timeout: Duration,
        done: impl Fn(&Progress, u64) -> bool,
    ) -> Result<(), Error> {
        let started = Instant::now();
        let target = self.counters().queued.load(Ordering::Relaxed);
        let shared = &self.inner.shared;
        let abandoned_before = shared.progress().abandoned;
        // A worker that already stopped has nothing left to wait for, and
        // `done` sees that in `Progress::stopped`.
        let _ = self.inner.control.send(command);
        let progress = shared.wait(timeout, |p| done(p, target));
        let pending =
            target.saturating_sub(progress.finished) + (progress.abandoned - abandoned_before);
        if done(&progress, target) && pending == 0 {
            return Ok(());
        }
        Err(Error::Timeout {
            pending,
            waited: started.elapsed(),
        })
    }
}

/// Shuts the pipeline down when dropped; made by
/// [`JKoolHandle::shutdown_guard`].
#[derive(Debug)]
#[must_use = "the guard shuts down when dropped: bind it to a variable"]
pub struct ShutdownGuard {
    handle: JKoolHandle,
    timeout: Duration,
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        if let Err(err) = self.handle.shutdown(self.timeout) {
            eprintln!("tracing-jkool: {err}");
        }
    }
}
