//! State shared by the layer, the delivery thread and every handle: the
//! counters and how far delivery got.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::handle::Watermark;
use crate::Error;

/// Delivery counters, as read by [`JKoolHandle::stats`](crate::JKoolHandle::stats).
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
    /// Items dropped on the application's side: the queue was full, or
    /// the pipeline had stopped.
    pub dropped: u64,
    /// Items evicted on the delivery side, oldest first, to keep memory
    /// bounded while jKool was unreachable or slower than the application.
    pub evicted: u64,
    /// Items jKool rejected, or given up after retrying.
    pub failed: u64,
    /// Requests tried again after a passing failure.
    pub retried: u64,
    /// Repeats folded into an earlier event by duplicate suppression.
    pub suppressed: u64,
    /// Items of traces the [`Sampler`](crate::Sampler) left out.
    pub sampled_out: u64,
    /// Requests jKool accepted.
    pub batches: u64,
    /// Body bytes of the requests jKool accepted.
    pub bytes_sent: u64,
    /// Items accepted but not yet sent, failed or dropped: in the queue,
    /// in memory, or in the spool.
    pub pending: u64,
    /// Writes of items to the disk spool ([`Builder::spool_dir`](crate::Builder::spool_dir)):
    /// it counts writes, not items, so an item spilled twice counts twice.
    pub spooled: u64,
    /// The spool's size on disk now, in bytes.
    pub spool_bytes: u64,
    /// Items dropped from the spool at its cap
    /// ([`Builder::spool_max_bytes`](crate::Builder::spool_max_bytes)), and
    /// items an earlier process left that jKool refused. This process's
    /// own items dropped at the cap also count in `evicted`, so that
    /// `queued = sent + evicted + failed + suppressed + sampled_out + pending` holds.
    pub spool_dropped: u64,
    /// Torn or corrupt stretches of the spool skipped (a record cut short
    /// by a crash, a failed checksum): each skips the rest of its segment.
    pub spool_corrupt: u64,
    /// Disk errors of the spool (full disk, read-only directory): items
    /// stayed in memory instead, for 30 s after each.
    pub spool_errors: u64,
    /// Items an earlier process left in the spool that this one delivered.
    /// They are not part of `queued` or `sent`.
    pub recovered: u64,
    /// How many requests the delivery thread lets be in flight now: it
    /// follows the round trip, between 1 and
    /// [`Builder::max_concurrent_requests`](crate::Builder::max_concurrent_requests).
    pub concurrency_limit: u64,
}

/// Counters shared by the layer, the worker and the handle.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub queued: AtomicU64,
    pub sent: AtomicU64,
    pub dropped: AtomicU64,
    pub evicted: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
    pub suppressed: AtomicU64,
    pub sampled_out: AtomicU64,
    pub batches: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub spooled: AtomicU64,
    pub spool_bytes: AtomicU64,
    pub spool_dropped: AtomicU64,
    pub spool_corrupt: AtomicU64,
    pub spool_errors: AtomicU64,
    pub recovered: AtomicU64,
    pub concurrency_limit: AtomicU64,
}

impl Counters {
    /// The counters now, with `finished` items done with (read first, so
    /// that `pending` never counts an item done but not yet queued).
    pub(crate) fn stats(&self, finished: u64) -> Stats {
        let queued = self.queued.load(Ordering::Relaxed);
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            queued,
            sent: load(&self.sent),
            dropped: load(&self.dropped),
            evicted: load(&self.evicted),
            failed: load(&self.failed),
            retried: load(&self.retried),
            suppressed: load(&self.suppressed),
            sampled_out: load(&self.sampled_out),
            batches: load(&self.batches),
            bytes_sent: load(&self.bytes_sent),
            pending: queued.saturating_sub(finished),
            spooled: load(&self.spooled),
            spool_bytes: load(&self.spool_bytes),
            spool_dropped: load(&self.spool_dropped),
            spool_corrupt: load(&self.spool_corrupt),
            spool_errors: load(&self.spool_errors),
            recovered: load(&self.recovered),
            concurrency_limit: load(&self.concurrency_limit),
        }
    }
}

/// How far the worker got, for `flush` and `shutdown` to wait on.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Items the worker is done with: sent, failed, dropped or suppressed.
    pub finished: u64,
    /// Which of them, by their place in the queue.
    pub done: Watermark,
    /// Items given up because time ran out.
    pub abandoned: u64,
    /// The worker has stopped.
    pub stopped: bool,
    /// Why the worker stopped on a fault of its own, if it did.
    pub crashed: Option<String>,
    /// Why a request last failed or was retried, if one did.
    pub trouble: Option<Trouble>,
}

/// Why requests last failed, in words, and what would cure it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Trouble {
    pub cure: Cure,
    pub cause: String,
}

/// What a person can do about a failing delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cure {
    /// jKool refused the token.
    CheckToken,
    /// jKool could not be reached, or refused items for good.
    CheckUrl,
    /// jKool answered that it cannot take items now: wait longer.
    Wait,
}

/// State shared between the worker and every handle.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub counters: Counters,
    progress: Mutex<Progress>,
    changed: Condvar,
    /// Wakes async waiters, as `changed` wakes blocked ones.
    pub notify: Notify,
    /// The losses a flush has reported so far.
    reported: Mutex<Losses>,
    /// Set with operation metrics on: what the worker counts closed spans in.
    pub(crate) operations: std::sync::OnceLock<std::sync::Arc<dyn Observer>>,
}

/// What the worker shows every item it takes from the queue, before
/// sampling, and asks for a last report as it stops: operation metrics.
pub(crate) trait Observer: Send + Sync + std::fmt::Debug {
    /// Counts an item taken from the queue.
    fn observe(&self, item: &crate::item::model::Item);
    /// What was counted since the last report, if anything.
    fn report(&self) -> Option<crate::JKoolEvent>;
}

/// Items that never arrived, as `shutdown` and `flush` report them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Losses {
    failed: u64,
    evicted: u64,
    dropped: u64,
}

impl Losses {
    /// `Ok` when there are none.
    fn result(self, cause: impl FnOnce() -> Option<String>) -> Result<(), Error> {
        match self {
            Losses {
                failed: 0,
                evicted: 0,
                dropped: 0,
            } => Ok(()),
            Losses {
                failed,
                evicted,
                dropped,
            } => Err(Error::Undelivered {
                failed,
                evicted,
                dropped,
                cause: cause(),
            }),
        }
    }
}

impl Shared {
    pub(crate) fn progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The items at `seqs` are done with: counted in `counter` before they
    /// count as finished, so that the counters never lag what `pending`
    /// stopped counting; in `abandoned` too when given up for lack of time.
    fn finish(&self, counter: &AtomicU64, seqs: impl ExactSizeIterator<Item = u64>, gave_up: bool) {
        let count = seqs.len() as u64;
        counter.fetch_add(count, Ordering::Relaxed);
        let mut progress = self.progress();
        for seq in seqs {
            progress.done.done(seq);
        }
        progress.finished += count;
        if gave_up {
            progress.abandoned += count;
        }
        drop(progress);
        self.wake();
    }

    /// Wakes every wait on the progress.
    fn wake(&self) {
        self.changed.notify_all();
        self.notify.notify_waiters();
    }

    /// The items at `seqs`, in one accepted request of `bytes` bytes.
    pub(crate) fn sent(&self, seqs: impl ExactSizeIterator<Item = u64>, bytes: u64) {
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
        self.finish(&self.counters.sent, seqs, false);
    }

    /// `count` items an earlier process left, in one accepted request.
    pub(crate) fn recovered(&self, count: u64, bytes: u64) {
        self.counters.recovered.fetch_add(count, Ordering::Relaxed);
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
    }

    /// `count` items dropped from the spool that an earlier process left.
    pub(crate) fn spool_dropped(&self, count: u64) {
        let c = &self.counters;
        c.spool_dropped.fetch_add(count, Ordering::Relaxed);
    }

    /// The items at `seqs` rejected for good.
    pub(crate) fn failed(&self, seqs: impl ExactSizeIterator<Item = u64>) {
        self.finish(&self.counters.failed, seqs, false);
    }

    /// The items at `seqs` given up because the retry time or the shutdown
    /// deadline ran out.
    pub(crate) fn abandoned(&self, seqs: impl ExactSizeIterator<Item = u64>) {
        self.finish(&self.counters.failed, seqs, true);
    }

    /// The held items at `seqs` evicted to keep memory bounded.
    pub(crate) fn evicted(&self, seqs: impl ExactSizeIterator<Item = u64>) {
        self.finish(&self.counters.evicted, seqs, false);
    }

    /// The items at `seqs`, of traces the sampler left out.
    pub(crate) fn sampled_out(&self, seqs: impl ExactSizeIterator<Item = u64>) {
        self.finish(&self.counters.sampled_out, seqs, false);
    }

    /// The item at `seq` waits for its trace's sampling decision: a flush
    /// does not wait for it, though it stays pending until decided.
    pub(crate) fn held_back(&self, seq: u64) {
        self.progress().done.done(seq);
        self.wake();
    }

    /// The repeat at `seq`, folded into a held event.
    pub(crate) fn suppressed(&self, seq: u64) {
        self.finish(&self.counters.suppressed, std::iter::once(seq), false);
    }

    /// The concurrency limit changed.
    pub(crate) fn concurrency_limit(&self, limit: usize) {
        let limit = limit as u64;
        self.counters
            .concurrency_limit
            .store(limit, Ordering::Relaxed);
    }

    pub(crate) fn retried(&self) {
        self.counters.retried.fetch_add(1, Ordering::Relaxed);
    }

    /// A request failed or will be retried because of `cause`: errors and
    /// the exit line say so from now on.
    pub(crate) fn trouble(&self, cure: Cure, cause: String) {
        self.progress().trouble = Some(Trouble { cure, cause });
    }

    /// Why requests last failed, in words.
    fn cause(&self) -> Option<String> {
        self.progress().trouble.as_ref().map(|t| t.cause.clone())
    }

    /// `Ok` when there are no `losses`, else the error with the last cause.
    pub(crate) fn result(&self, losses: Losses) -> Result<(), Error> {
        losses.result(|| self.cause())
    }

    /// Everything lost so far, with `dropped` items dropped from a full
    /// queue before the caller began.
    fn losses(&self, dropped: u64) -> Losses {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Losses {
            failed: load(&self.counters.failed),
            evicted: load(&self.counters.evicted),
            dropped,
        }
    }

    /// What was lost since a flush or shutdown last reported losses, now
    /// reported: each loss is reported by the first flush that returns
    /// after it.
    pub(crate) fn new_losses(&self, dropped: u64) -> Losses {
        let now = self.losses(dropped);
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        let new = Losses {
            failed: now.failed.saturating_sub(reported.failed),
            evicted: now.evicted.saturating_sub(reported.evicted),
            dropped: now.dropped.saturating_sub(reported.dropped),
        };
        *reported = Losses {
            failed: reported.failed.max(now.failed),
            evicted: reported.evicted.max(now.evicted),
            dropped: reported.dropped.max(now.dropped),
        };
        new
    }

    /// Everything lost so far, as [`losses`](Self::losses), now reported.
    pub(crate) fn all_losses(&self, dropped: u64) -> Losses {
        self.new_losses(dropped);
        self.losses(dropped)
    }

    /// The delivery thread panicked: every wait ends now, with `why`.
    pub(crate) fn crashed(&self, why: String) {
        self.progress().crashed = Some(why);
        self.stop();
    }

    /// Called by the worker as its last act.
    pub(crate) fn stop(&self) {
        self.progress().stopped = true;
        self.wake();
    }

    /// Waits until `done` holds or `timeout` passes; returns the progress.
    pub(crate) fn wait(
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

/// `timeout` from now, or about a century when that cannot be told.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}
