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
use crate::handle::stats::{Counters, Shared, Stats};
use crate::item::model::Item;
use crate::spans::OpenSpans;

mod control;
mod exit;
mod flush;
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
        let reserved = match self.inner.items.try_reserve() {
            Err(mpsc::error::TrySendError::Full(())) if self.inner.block.is_some() => {
                self.wait_for_room()
            }
            reserved => reserved,
        };
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

    /// With `lossy(false)`, the queue full: waits on this thread for a
    /// slot, for at most `max_block`, in short sleeps that grow to a
    /// millisecond, never a lock; not on the crate's own threads, nor
    /// inside its own callbacks. Out of line: the hot path stays as short
    /// as without it.
    #[cold]
    #[inline(never)]
    fn wait_for_room(&self) -> Result<mpsc::Permit<'_, Item>, mpsc::error::TrySendError<()>> {
        let full = Err(mpsc::error::TrySendError::Full(()));
        let Some(block) = self.inner.block else {
            return full;
        };
        use crate::item::thread::{in_delivery_thread, in_own_catch};
        if in_delivery_thread() || in_own_catch() {
            return full;
        }
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
