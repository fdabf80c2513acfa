//! The user's handle on the delivery pipeline: flush, shutdown, statistics,
//! and what the application sends by hand (`send`). Called from any
//! application thread; it waits for the delivery thread only in `flush`
//! and `shutdown`, never on the hot path. The counters both threads share
//! live here (`stats.rs`), and so do the stderr notices (`notices.rs`).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::control::Controls;
use crate::handle::stats::{deadline_after, Counters, Progress, Shared, Stats, Ticket};
use crate::item::model::Item;
use crate::spans::OpenSpans;
use crate::Error;

mod control;
mod exit;
mod guard;
pub(crate) mod notices;
pub(crate) mod panics;
mod periodic;
pub(crate) mod send;
pub(crate) mod stats;
mod watermark;

pub(crate) use exit::flush_at_exit;
pub use guard::ShutdownGuard;
pub(crate) use panics::{capture_panics, panic_message, unwinding};
pub(crate) use watermark::Watermark;

/// Requests from a handle to the worker.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send everything queued now, without waiting for a batch to fill:
    /// the first `queued` items ever queued, wherever they are.
    Flush { queued: u64 },
    /// Send everything queued, giving up on what is left at `give_up_at`,
    /// then stop.
    Shutdown { give_up_at: Instant },
    /// Panic on the delivery thread, as a bug there would.
    #[cfg(test)]
    Panic,
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
    /// The delivery thread's runtime, where async waits run.
    runtime: tokio::runtime::Handle,
    /// What `shutdown` runs first, in the order registered: the periodic
    /// reports' last reports, then the layer's spans still open.
    before_shutdown: Mutex<Vec<ShutdownHook>>,
    /// Set by the layer: its open spans, where `send` finds the current
    /// span's tracking id and correlators.
    open: OnceLock<Arc<OpenSpans>>,
    /// Set by the layer: the subscriber whose spans its table holds.
    home: OnceLock<crate::handle::send::Home>,
    /// With `lossy(false)`: how long an item waits for room in a full
    /// queue on the thread that emits it.
    block: Option<Duration>,
    /// The level and sampler, which `set_level` and `set_sampler` change.
    controls: Arc<Controls>,
}

/// What `shutdown` runs, once, before the worker stops.
pub(crate) type ShutdownHook = Box<dyn FnMut(&JKoolHandle) + Send>;

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
        runtime: tokio::runtime::Handle,
        block: Option<Duration>,
        controls: Arc<Controls>,
    ) -> Self {
        JKoolHandle {
            inner: Arc::new(Inner {
                shared,
                items,
                control,
                thread: Mutex::new(Some(thread)),
                runtime,
                before_shutdown: Mutex::new(Vec::new()),
                open: OnceLock::new(),
                home: OnceLock::new(),
                block,
                controls,
            }),
        }
    }

    /// Registers what the first `shutdown` runs before the worker stops,
    /// after what was registered before.
    pub(crate) fn before_shutdown(&self, hook: ShutdownHook) {
        self.hooks().push(hook);
    }

    /// Registers the layer's open spans; only the first call counts.
    pub(crate) fn set_open_spans(&self, open: Arc<OpenSpans>) {
        let _ = self.inner.open.set(open);
    }

    /// The open-span table of the layer this handle belongs to, once set.
    pub(crate) fn open_spans(&self) -> Option<&Arc<OpenSpans>> {
        self.inner.open.get()
    }

    pub(crate) fn home(&self) -> &OnceLock<crate::handle::send::Home> {
        &self.inner.home
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    pub(crate) fn shared_arc(&self) -> Arc<Shared> {
        Arc::clone(&self.inner.shared)
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.inner.shared.counters
    }

    /// Puts an item on the queue without waiting; a full queue, or a
    /// stopped pipeline, drops it and counts it. With `lossy(false)`, a
    /// full queue makes the emitting thread wait for room, up to
    /// `max_block`, unless it is one of the crate's own threads or inside
    /// one of the crate's own callbacks (a field's `Debug`).
    pub(crate) fn enqueue(&self, item: Item) {
        // A slot first, then the item into it: `try_send` moves the item
        // once more on its way to the queue.
        let mut reserved = self.inner.items.try_reserve();
        if let (Err(mpsc::error::TrySendError::Full(())), Some(block)) =
            (&reserved, self.inner.block)
        {
            if !crate::item::thread::in_delivery_thread() && !crate::item::thread::in_own_catch() {
                reserved = self.wait_for_room(block);
            }
        }
        match reserved {
            Ok(permit) => {
                // Counted before it is sent: an item a flush counts may
                // be behind one it does not, never the other way round, so
                // the first `queued` items taken hold every item queued
                // before the flush began.
                self.counters().queued.fetch_add(1, Ordering::Relaxed);
                permit.send(item);
            }
            Err(_) => {
                self.counters().dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits on this thread for a slot in the full queue, for at most
    /// `block`: short sleeps that grow to a millisecond, never a lock.
    fn wait_for_room(
        &self,
        block: Duration,
    ) -> Result<mpsc::Permit<'_, Item>, mpsc::error::TrySendError<()>> {
        let deadline = Instant::now() + block;
        let mut pause = Duration::from_micros(20);
        loop {
            std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
            let reserved = self.inner.items.try_reserve();
            if !matches!(reserved, Err(mpsc::error::TrySendError::Full(())))
                || Instant::now() >= deadline
            {
                return reserved;
            }
            pause = (pause * 2).min(Duration::from_millis(1));
        }
    }

    /// A reference that does not keep the pipeline alive: the periodic
    /// metrics tasks hold one, so that dropping every handle still closes
    /// the queue.
    pub(crate) fn downgrade(&self) -> WeakHandle {
        WeakHandle(Arc::downgrade(&self.inner))
    }

    /// Whether the delivery thread stopped taking items (shutdown began,
    /// or it stopped): what is enqueued now would only count as dropped.
    pub(crate) fn is_closed(&self) -> bool {
        self.inner.items.is_closed()
    }

    /// The delivery thread's runtime.
    pub(crate) fn runtime(&self) -> &tokio::runtime::Handle {
        &self.inner.runtime
    }

    /// The delivery counters so far.
    ///
    /// ```no_run
    /// let jkool = tracing_jkool::JKoolLayer::new("my-access-token").handle();
    /// let stats = jkool.stats();
    /// if stats.dropped + stats.evicted + stats.failed > 0 {
    ///     eprintln!("jKool lost items: {stats:?}");
    /// }
    /// ```
    pub fn stats(&self) -> Stats {
        let finished = self.inner.shared.progress().finished;
        self.counters().stats(finished)
    }

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
        self.run_before_shutdown();
        let dropped = self.counters().dropped.load(Ordering::Relaxed);
        let ticket = self.begin(|_| Command::Shutdown {
            give_up_at: deadline_after(timeout),
        });
        let wait = timeout.saturating_add(SHUTDOWN_GRACE);
        let progress = self.inner.shared.wait(wait, |p| p.stopped);
        let result = ticket.result(&progress, progress.stopped);
        drop(progress);
        self.join_if_stopped();
        result.and_then(|()| {
            self.inner
                .shared
                .result(self.inner.shared.all_losses(dropped))
        })
    }

    /// [`shutdown`](Self::shutdown) for async code: awaits instead of
    /// blocking the thread.
    ///
    /// # Errors
    /// As [`shutdown`](Self::shutdown).
    pub async fn shutdown_async(&self, timeout: Duration) -> Result<(), Error> {
        self.run_before_shutdown();
        let dropped = self.counters().dropped.load(Ordering::Relaxed);
        let ticket = self.begin(|_| Command::Shutdown {
            give_up_at: deadline_after(timeout),
        });
        self.wait_async(timeout.saturating_add(SHUTDOWN_GRACE), |p| p.stopped)
            .await;
        let progress = self.inner.shared.progress();
        let result = ticket.result(&progress, progress.stopped);
        drop(progress);
        // The thread signalled its end: joining does not wait.
        self.join_if_stopped();
        result.and_then(|()| {
            self.inner
                .shared
                .result(self.inner.shared.all_losses(dropped))
        })
    }

    fn hooks(&self) -> std::sync::MutexGuard<'_, Vec<ShutdownHook>> {
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

/// A [`JKoolHandle`] that does not keep the pipeline alive.
#[derive(Debug, Clone)]
pub(crate) struct WeakHandle(Weak<Inner>);

impl WeakHandle {
    /// The handle, while the layer or any handle still exists.
    pub(crate) fn upgrade(&self) -> Option<JKoolHandle> {
        self.0.upgrade().map(|inner| JKoolHandle { inner })
    }

    /// Whether this is `handle`'s pipeline.
    pub(crate) fn is(&self, handle: &JKoolHandle) -> bool {
        std::ptr::eq(self.0.as_ptr(), Arc::as_ptr(&handle.inner))
    }
}
