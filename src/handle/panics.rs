//! Panic capture (`Builder::capture_panics`): a panic hook, chained to the
//! one installed before, that sends the panic as one `FATAL` event inside
//! the span it unwinds from, and remembers its message for the spans the
//! unwinding closes (they end with status `EXCEPTION`). Where panics abort,
//! what is queued is flushed first; a panic that ends `main` is flushed by
//! the exit flush, so the hook never blocks a thread that may go on (a
//! panic caught by `catch_unwind`). A panic the crate catches itself (a
//! field's panicking `Debug`) is not reported.

use std::cell::RefCell;
use std::panic::PanicHookInfo;
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

/// Installs the hook for `handle`'s pipeline, in front of the hook there
/// is now. The hook holds the pipeline weakly: it does not keep it alive.
pub(crate) fn capture_panics(handle: &JKoolHandle) {
    let pipeline = handle.downgrade();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // The crate's own threads send nothing, as for their events; nor
        // does a panic the crate itself catches.
        use crate::item::thread::{in_delivery_thread, in_own_catch};
        if !in_delivery_thread() && !in_own_catch() {
            report(&pipeline, info);
        }
        previous(info);
    }));
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

fn report(pipeline: &WeakHandle, info: &PanicHookInfo<'_>) {
    let Some(handle) = pipeline.upgrade() else {
        return;
    };
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
