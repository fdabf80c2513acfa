//! Flush and shutdown: what a handle asks of the delivery thread and how
//! long it waits for the answer.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{panics, Command, JKoolHandle, ShutdownHook, SHUTDOWN_GRACE};
use crate::handle::stats::{deadline_after, Progress};
use crate::Error;

impl JKoolHandle {
    /// Sends everything queued before the call and waits, at most
    /// `timeout`, until each of those items is sent or given up.
    ///
    /// Blocks the calling thread (never the delivery thread), so it is safe
    /// in `fn main` and inside any tokio runtime; in async code,
    /// [`flush_async`](Self::flush_async) does not block a runtime worker.
    ///
    /// # Errors
    /// [`Error::Timeout`] with the number of those items not delivered:
    /// still pending, or given up because their retry time ran out;
    /// [`Error::Undelivered`] when each had its answer but items were lost
    /// (refused, evicted, or dropped from a full queue) since a flush last
    /// said so: each loss is reported once, by the first flush to return
    /// after it, so that `flush(..)?` means everything emitted so far
    /// arrived. [`Error::DeliveryStopped`] after a panic on the delivery
    /// thread.
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        // A panic this thread caught before is part of what to flush.
        panics::went_on();
        let dropped = self.counters().dropped.load(Ordering::Relaxed);
        let ticket = self.begin(|t| Command::Flush { queued: t.target });
        let progress = self.inner.shared.wait(timeout, |p| ticket.flushed(p));
        let result = ticket.result(&progress, ticket.flushed(&progress));
        drop(progress);
        result.and_then(|()| {
            self.inner
                .shared
                .result(self.inner.shared.new_losses(dropped))
        })
    }

    /// Asks for a flush without waiting for it.
    pub(crate) fn start_flush(&self) {
        self.begin(|t| Command::Flush { queued: t.target });
    }

    /// [`flush`](Self::flush) for async code: awaits instead of blocking
    /// the thread. It runs in any executor; the waiting itself happens on
    /// the delivery thread's own runtime.
    ///
    /// # Errors
    /// As [`flush`](Self::flush).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), tracing_jkool::Error> {
    /// let jkool = tracing_jkool::JKoolLayer::new("my-access-token").handle();
    /// jkool.flush_async(std::time::Duration::from_secs(5)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn flush_async(&self, timeout: Duration) -> Result<(), Error> {
        let dropped = self.counters().dropped.load(Ordering::Relaxed);
        let ticket = self.begin(|t| Command::Flush { queued: t.target });
        self.wait_async(timeout, move |p| ticket.flushed(p)).await;
        let progress = self.inner.shared.progress();
        let result = ticket.result(&progress, ticket.flushed(&progress));
        drop(progress);
        result.and_then(|()| {
            self.inner
                .shared
                .result(self.inner.shared.new_losses(dropped))
        })
    }

    /// Sends everything queued, then stops the delivery thread. What is
    /// still undelivered after `timeout` is given up and counted as failed.
    /// Items emitted afterwards are counted as dropped. If anything was
    /// lost or failed, one line on stderr gives the totals.
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
    /// [`Error::Timeout`] with the number of items given up at the
    /// deadline; [`Error::Undelivered`] when every item had its answer but
    /// some never arrived (refused, evicted, or dropped from a full queue),
    /// so that `shutdown(..)?` means everything arrived;
    /// [`Error::DeliveryStopped`] after a panic on the delivery thread.
    pub fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        let (dropped, ticket) = self.begin_shutdown(timeout);
        let wait = timeout.saturating_add(SHUTDOWN_GRACE);
        let progress = self.inner.shared.wait(wait, |p| p.stopped);
        self.end_shutdown(dropped, ticket, progress)
    }

    /// [`shutdown`](Self::shutdown) for async code: awaits instead of
    /// blocking the thread.
    ///
    /// # Errors
    /// As [`shutdown`](Self::shutdown).
    pub async fn shutdown_async(&self, timeout: Duration) -> Result<(), Error> {
        let (dropped, ticket) = self.begin_shutdown(timeout);
        self.wait_async(timeout.saturating_add(SHUTDOWN_GRACE), |p| p.stopped)
            .await;
        // The thread signalled its end: joining does not wait.
        self.end_shutdown(dropped, ticket, self.inner.shared.progress())
    }

    /// Runs what goes before shutdown and asks the worker to stop; the
    /// items dropped so far, and what the wait is for.
    fn begin_shutdown(&self, timeout: Duration) -> (u64, Ticket) {
        self.run_before_shutdown();
        let dropped = self.counters().dropped.load(Ordering::Relaxed);
        let ticket = self.begin(|_| Command::Shutdown {
            give_up_at: deadline_after(timeout),
        });
        (dropped, ticket)
    }

    /// What shutdown returns once its wait ended at `progress`; joins the
    /// delivery thread if it stopped.
    fn end_shutdown(
        &self,
        dropped: u64,
        ticket: Ticket,
        progress: std::sync::MutexGuard<'_, Progress>,
    ) -> Result<(), Error> {
        let result = ticket.result(&progress, progress.stopped);
        drop(progress);
        self.join_if_stopped();
        result.and_then(|()| {
            self.inner
                .shared
                .result(self.inner.shared.all_losses(dropped))
        })
    }

    pub(super) fn hooks(&self) -> std::sync::MutexGuard<'_, Vec<ShutdownHook>> {
        (self.inner.before_shutdown.lock()).unwrap_or_else(|e| e.into_inner())
    }

    /// Runs what `shutdown` runs first: the last reports, then the open
    /// spans, each once.
    pub(crate) fn run_before_shutdown(&self) {
        // Taken out, so that none runs twice and none runs under the lock.
        let hooks = std::mem::take(&mut *self.hooks());
        for mut hook in hooks {
            hook(self);
        }
    }

    /// Notes what is queued now and sends the worker the command `made`
    /// from that.
    fn begin(&self, made: impl FnOnce(&Ticket) -> Command) -> Ticket {
        let ticket = Ticket {
            started: Instant::now(),
            target: self.counters().queued.load(Ordering::Relaxed),
            abandoned_before: self.inner.shared.progress().abandoned,
        };
        // A worker that already stopped has nothing left to wait for, and
        // the waits see that in `Progress::stopped`.
        let _ = self.inner.control.send(made(&ticket));
        ticket
    }

    /// Makes the delivery thread panic, as a bug there would.
    #[cfg(test)]
    pub(crate) fn panic_delivery_thread(&self) {
        let _ = self.inner.control.send(Command::Panic);
    }

    /// Waits, on the delivery thread's runtime, until `done` holds, the
    /// worker stops, or `timeout` passes.
    async fn wait_async(
        &self,
        timeout: Duration,
        done: impl Fn(&Progress) -> bool + Send + 'static,
    ) {
        let shared = Arc::clone(&self.inner.shared);
        let wait = async move {
            loop {
                let notified = shared.notify.notified();
                tokio::pin!(notified);
                // Registered before the check, so no wake-up is missed.
                notified.as_mut().enable();
                let finished = {
                    let progress = shared.progress();
                    done(&progress) || progress.stopped
                };
                if finished {
                    return;
                }
                notified.await;
            }
        };
        if self.inner.shared.progress().stopped {
            return;
        }
        // A runtime that has shut down cancels the task at once.
        let _ = self
            .inner
            .runtime
            .spawn(async move {
                let _ = tokio::time::timeout(timeout, wait).await;
            })
            .await;
    }

    fn join_if_stopped(&self) {
        if !self.inner.shared.progress().stopped {
            return;
        }
        let thread = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// What a flush or shutdown waits for: the items queued when it began.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    pub(crate) started: Instant,
    pub(crate) target: u64,
    pub(crate) abandoned_before: u64,
}

impl Ticket {
    /// Whether every item queued before the ticket is done with.
    pub(crate) fn flushed(&self, progress: &Progress) -> bool {
        progress.done.low() >= self.target || progress.stopped
    }

    /// `Ok` when the wait ended (`done`) with nothing given up.
    pub(crate) fn result(&self, progress: &Progress, done: bool) -> Result<(), Error> {
        let pending = progress.done.not_done_below(self.target)
            + (progress.abandoned - self.abandoned_before);
        if done && pending == 0 {
            return Ok(());
        }
        if let Some(why) = &progress.crashed {
            return Err(Error::DeliveryStopped {
                pending,
                why: why.clone(),
            });
        }
        Err(Error::Timeout {
            pending,
            waited: self.started.elapsed(),
            cause: progress.trouble.as_ref().map(|t| t.cause.clone()),
        })
    }
}
