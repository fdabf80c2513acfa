//! Panic capture (`Builder::capture_panics`): one panic hook per process,
//! chained to the one installed before, that sends, for each pipeline
//! capturing panics, the panic as one `FATAL` event inside
//! the span it unwinds from, and remembers its message for the spans the
//! unwinding closes (they end with status `EXCEPTION`). Where panics abort,
//! what is queued is flushed first; a panic that ends `main` is flushed by
//! the exit flush, so the hook never blocks a thread that may go on (a
//! panic caught by `catch_unwind`). A panic the crate catches itself (a
//! field's panicking `Debug`) is not reported.

use std::cell::RefCell;
use std::panic::PanicHookInfo;
use std::sync::{Mutex, Once, PoisonError};
use std::time::Duration;

use super::{JKoolHandle, WeakHandle};
use crate::item::codes::Severity;
use crate::item::event::JKoolEvent;

/// How long a panic that ends the process waits for what is queued.
const FLUSH_BEFORE_THE_END: Duration = Duration::from_secs(2);

thread_local! {
    /// The message of the panic this thread is unwinding from.
    static UNWINDING: RefCell<Option<Box<str>>> = const { RefCell::new(None) };
}

/// The pipelines that capture panics, held weakly: a dropped one is
/// skipped and forgotten at the next registration.
static PIPELINES: Mutex<Vec<WeakHandle>> = Mutex::new(Vec::new());

/// The hook is installed once per process, whatever the pipelines.
static INSTALLED: Once = Once::new();

/// Registers `handle`'s pipeline with the process's panic hook, installed
/// in front of the hook there is then on the first call. With no pipeline
/// left, the hook only calls the one it found.
pub(crate) fn capture_panics(handle: &JKoolHandle) {
    let mut pipelines = PIPELINES.lock().unwrap_or_else(PoisonError::into_inner);
    pipelines.retain(|pipeline| pipeline.upgrade().is_some());
    pipelines.push(handle.downgrade());
    drop(pipelines);
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // The crate's own threads send nothing, as for their events;
            // nor does a panic the crate itself catches.
            use crate::item::thread::{in_delivery_thread, in_own_catch};
            if !in_delivery_thread() && !in_own_catch() {
                for handle in live_pipelines() {
                    report(&handle, info);
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

fn report(handle: &JKoolHandle, info: &PanicHookInfo<'_>) {
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
    handle.send(event);
    if cfg!(panic = "abort") {
        // The process ends with this panic: what is queued goes first.
        let _ = handle.flush(FLUSH_BEFORE_THE_END);
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
