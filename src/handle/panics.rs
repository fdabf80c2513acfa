//! Panic capture (`Builder::capture_panics`): one panic hook per process,
//! chained to the one installed before. For each pipeline capturing
//! panics, the hook builds one event inside the span the panic unwinds
//! from, and remembers its message for the spans the unwinding closes
//! (they end with status `EXCEPTION`).
//!
//! Whether the panic is caught is known only later, so the event waits,
//! one per thread and pipeline, until the thread shows it: a layer
//! callback or a handle call on that thread outside unwinding, or its next
//! panic, means it went on (caught by `catch_unwind`, or by tokio in a
//! task): the event is sent as `ERROR` with `caught = true`. The thread's
//! end, or the process's exit on that thread, means the panic ended it: it
//! is sent as `FATAL` with `caught = false`. A `shutdown` sends what waits
//! for its pipeline (as caught, unless the calling thread is unwinding).
//! Where panics abort, the event is `FATAL` at once and what is queued is
//! flushed first. The hook never waits otherwise, and a panic the crate
//! catches itself (a field's panicking `Debug`) is not reported.

use std::cell::{Cell, RefCell};
use std::panic::PanicHookInfo;
use std::sync::{Mutex, MutexGuard, Once, PoisonError};
use std::time::Duration;

use super::{JKoolHandle, WeakHandle};
use crate::item::codes::Severity;
use crate::item::event::JKoolEvent;
use crate::item::model::Item;
use crate::item::thread::thread_number;

/// How long a panic that ends the process waits for what is queued.
const FLUSH_BEFORE_THE_END: Duration = Duration::from_secs(2);

thread_local! {
    /// The message of the panic this thread is unwinding from.
    static UNWINDING: RefCell<Option<Box<str>>> = const { RefCell::new(None) };
    /// Whether an event of this thread's waits in [`WAITING`].
    static WAITS_HERE: Cell<bool> = const { Cell::new(false) };
    /// Sends, at the thread's end, what still waits as fatal.
    static AT_THREAD_END: ThreadEnd = const { ThreadEnd };
}

/// The pipelines that capture panics, held weakly: a dropped one is
/// skipped and forgotten at the next registration.
static PIPELINES: Mutex<Vec<WeakHandle>> = Mutex::new(Vec::new());

/// The hook is installed once per process, whatever the pipelines.
static INSTALLED: Once = Once::new();

/// A panic's event, waiting to learn whether the panic was caught: at most
/// one per thread and pipeline, so at most threads x pipelines in all.
struct Waiting {
    thread: u64,
    pipeline: WeakHandle,
    event: JKoolEvent,
}

static WAITING: Mutex<Vec<Waiting>> = Mutex::new(Vec::new());

/// Registers `handle`'s pipeline with the process's panic hook, installed
/// in front of the hook there is then on the first call. With no pipeline
/// left, the hook only calls the one it found.
pub(crate) fn capture_panics(handle: &JKoolHandle) {
    let mut pipelines = PIPELINES.lock().unwrap_or_else(PoisonError::into_inner);
    pipelines.retain(|pipeline| pipeline.upgrade().is_some());
    pipelines.push(handle.downgrade());
    drop(pipelines);
    handle.before_shutdown(Box::new(settle_for_shutdown));
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // The crate's own threads send nothing, as for their events;
            // nor does a panic the crate itself catches.
            use crate::item::thread::{in_delivery_thread, in_own_catch};
            if !in_delivery_thread() && !in_own_catch() {
                // This thread went on after its last panic: it was caught.
                settle_here(Outcome::Caught);
                let pipelines = live_pipelines();
                if !pipelines.is_empty() {
                    report(&pipelines, info);
                }
            }
            previous(info);
        }));
    });
}

/// The pipelines still alive, taken out of the lock before any is used.
fn live_pipelines() -> Vec<JKoolHandle> {
    let pipelines = PIPELINES.lock().unwrap_or_else(PoisonError::into_inner);
    pipelines.iter().filter_map(WeakHandle::upgrade).collect()
}

/// Called by the layer and the handle on the application's threads: a
/// thread that is not unwinding went on after its panic, which was
/// therefore caught. Costs one thread-local read when nothing waits.
#[inline]
pub(crate) fn went_on() {
    if WAITS_HERE.get() && !std::thread::panicking() {
        settle_here(Outcome::Caught);
    }
}

/// At the process's exit: the exiting thread's panic ended it; the other
/// threads lived on after theirs.
pub(crate) fn settle_at_exit() {
    settle_here(Outcome::Fatal);
    settle(|_| true, Outcome::Caught);
}

/// Before `handle`'s pipeline shuts down: what waits for it goes now, the
/// calling thread's as fatal only while it unwinds.
fn settle_for_shutdown(handle: &JKoolHandle) {
    let here = thread_number();
    if std::thread::panicking() {
        settle(
            |w| w.thread == here && w.pipeline.is(handle),
            Outcome::Fatal,
        );
    }
    settle(|w| w.pipeline.is(handle), Outcome::Caught);
}

/// What became of a panic, as far as its thread shows.
#[derive(Clone, Copy)]
enum Outcome {
    Caught,
    Fatal,
}

/// Sends, as `outcome`, what waits for the current thread.
fn settle_here(outcome: Outcome) {
    let here = thread_number();
    settle(|w| w.thread == here, outcome);
}

/// Sends, as `outcome`, the waiting events that `which` picks.
fn settle(which: impl Fn(&Waiting) -> bool, outcome: Outcome) {
    let mut waiting = lock_waiting();
    let here = thread_number();
    if waiting.is_empty() {
        WAITS_HERE.set(false);
        return;
    }
    let (picked, kept): (Vec<Waiting>, Vec<Waiting>) =
        std::mem::take(&mut *waiting).into_iter().partition(which);
    *waiting = kept;
    // Only this thread's flag: another thread's is cleared when it looks.
    WAITS_HERE.set(waiting.iter().any(|w| w.thread == here));
    drop(waiting);
    for Waiting {
        pipeline, event, ..
    } in picked
    {
        if let Some(handle) = pipeline.upgrade() {
            handle.enqueue(Item::JKoolEvent(Box::new(settled(event, outcome))));
        }
    }
}

fn lock_waiting() -> MutexGuard<'static, Vec<Waiting>> {
    WAITING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The waiting event as what became of its panic.
fn settled(event: JKoolEvent, outcome: Outcome) -> JKoolEvent {
    match outcome {
        Outcome::Caught => event.severity(Severity::Error).property("caught", true),
        Outcome::Fatal => event.property("caught", false),
    }
}

/// Sends what still waits for the thread as it ends: its panic ended it
/// (or, caught, was its last word).
struct ThreadEnd;

impl Drop for ThreadEnd {
    fn drop(&mut self) {
        if WAITS_HERE.get() {
            settle_here(Outcome::Fatal);
        }
    }
}

/// The message of the panic the current thread is unwinding from, when
/// panics are captured: the spans it closes carry it as their exception.
pub(crate) fn unwinding() -> Option<Box<str>> {
    if !std::thread::panicking() {
        return None;
    }
    UNWINDING.with(|message| message.borrow().clone())
}

/// A panic's message, when its payload is text (as `panic!` makes it).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    (payload.downcast_ref::<&str>().copied())
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Builds the panic's event for each pipeline, in the span it unwinds
/// from there, and leaves it waiting; where panics abort, sends it at once.
fn report(pipelines: &[JKoolHandle], info: &PanicHookInfo<'_>) {
    let message = panic_message(info.payload()).unwrap_or("Box<dyn Any>");
    UNWINDING.with(|unwinding| *unwinding.borrow_mut() = Some(message.into()));
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("unnamed");
    let mut event = JKoolEvent::new(message)
        .operation("panic")
        .severity(Severity::Fatal)
        .exception(message)
        .property("thread", name);
    if let Some(at) = info.location() {
        event = event.location(format!("{}:{}", at.file(), at.line()));
    }
    // As the default hook: only when RUST_BACKTRACE asks for one.
    let backtrace = std::backtrace::Backtrace::capture();
    if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
        event = event.property("backtrace", backtrace.to_string());
    }
    for handle in pipelines {
        let mut event = event.clone();
        handle.fill_from_current_span(&mut event);
        if cfg!(panic = "abort") {
            // The process ends with this panic: what is queued goes first.
            let event = settled(event, Outcome::Fatal);
            handle.enqueue(Item::JKoolEvent(Box::new(event)));
            let _ = handle.flush(FLUSH_BEFORE_THE_END);
            continue;
        }
        lock_waiting().push(Waiting {
            thread: thread_number(),
            pipeline: handle.downgrade(),
            event,
        });
        WAITS_HERE.set(true);
        // A thread without a destructor slot left (its own end) has its
        // events sent by the exit or a shutdown instead.
        let _ = AT_THREAD_END.try_with(|_| ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelines_built_and_dropped_leave_one_hook_and_no_registrations() {
        for _ in 0..100 {
            let layer = crate::JKoolLayer::builder("token")
                .url("http://127.0.0.1:9")
                .capture_panics(true)
                .build()
                .expect("builds");
            let handle = layer.handle();
            drop(layer);
            handle.shutdown(Duration::ZERO).ok();
        }
        let kept = crate::JKoolLayer::builder("token")
            .url("http://127.0.0.1:9")
            .capture_panics(true)
            .build()
            .expect("builds");
        // Other tests may hold a pipeline of their own at this moment.
        let registered = PIPELINES.lock().map(|p| p.len()).unwrap_or_default();
        assert!(registered <= 4, "{registered} registrations");
        assert!(INSTALLED.is_completed());
        drop(kept);
    }
}
