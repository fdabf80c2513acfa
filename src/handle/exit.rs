//! The last-chance flush when the process exits normally without a
//! `shutdown` (returning from `main`, `std::process::exit`): registered
//! once with the C library's `atexit`, it flushes every pipeline still
//! running, each within its own deadline, and says on stderr what is still
//! undelivered and how to keep it. The delivery threads still run while
//! exit handlers do; the handler never unwinds into the C library.

use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use super::flush::Ticket;
use super::{JKoolHandle, WeakHandle};
use crate::handle::stats::{Cure, Shared};
use crate::Error;

/// A pipeline to flush at exit. Its counters are held strongly: once the
/// layer and every handle are dropped (a `set_default` guard, a dropped
/// `Dispatch`), its delivery thread still sends what was queued, and the
/// exit waits for that too.
struct Pipeline {
    handle: WeakHandle,
    shared: Arc<Shared>,
    timeout: Duration,
}

/// The pipelines to flush at exit.
static PIPELINES: Mutex<Vec<Pipeline>> = Mutex::new(Vec::new());

static REGISTER: Once = Once::new();

/// Flushes `handle`'s pipeline, within `timeout`, if the process exits
/// before its `shutdown`; a zero `timeout` does nothing.
pub(crate) fn flush_at_exit(handle: &JKoolHandle, timeout: Duration) {
    if timeout.is_zero() {
        return;
    }
    let mut pipelines = PIPELINES.lock().unwrap_or_else(|e| e.into_inner());
    // What stopped has nothing left to send.
    pipelines.retain(|p| !p.shared.progress().stopped);
    pipelines.push(Pipeline {
        handle: handle.downgrade(),
        shared: handle.shared_arc(),
        timeout,
    });
    drop(pipelines);
    REGISTER.call_once(register);
}
#[cfg(unix)]
fn register() {
    extern "C" fn at_exit() {
        let _ = std::panic::catch_unwind(flush_all);
    }
    // SAFETY: `at_exit` is a plain function that neither unwinds (the panic
    // is caught) nor returns anything.
    unsafe {
        libc::atexit(at_exit);
    }
}

/// Elsewhere there is no exit handler: `shutdown` is the only way.
#[cfg(not(unix))]
fn register() {}

/// Flushes every pipeline still running, and says what did not arrive.
/// The exit waits for the longest deadline, not their sum: each pipeline
/// has its own delivery thread, and all were asked at once.
fn flush_all() {
    // Another thread registering a pipeline as the process exits holds
    // the lock: skip rather than hang the exit.
    let pipelines = match PIPELINES.try_lock() {
        Ok(mut pipelines) => std::mem::take(&mut *pipelines),
        Err(std::sync::TryLockError::Poisoned(poisoned)) => {
            std::mem::take(&mut *poisoned.into_inner())
        }
        Err(std::sync::TryLockError::WouldBlock) => return,
    };
    // What panicked and waits to be told caught from fatal goes first.
    super::panics::settle_at_exit();
    let started = Instant::now();
    let mut running = Vec::new();
    for pipeline in pipelines {
        let handle = pipeline.handle.upgrade();
        // After `shutdown` there is nothing to do, and a delivery thread
        // that stopped said what it could not deliver.
        if handle.as_ref().is_some_and(JKoolHandle::is_closed) || pipeline.shared.progress().stopped
        {
            continue;
        }
        if let Some(handle) = &handle {
            // As `shutdown` does: the spans still open (a
            // `process::exit` inside them) go out cut short, so that
            // what they hold has its parents.
            handle.run_before_shutdown();
            handle.start_flush();
        }
        let begun = queued(&pipeline.shared);
        running.push((pipeline, handle, begun));
    }
    for (pipeline, handle, begun) in running {
        let left = pipeline.timeout.saturating_sub(started.elapsed());
        let result = match handle {
            Some(handle) => handle.flush(left),
            // Dropped: its delivery thread sends what was queued, then stops.
            None => dropped_pipeline(&pipeline.shared, left),
        };
        if let Err(err) = result {
            // A crash said so as it happened; nothing here would cure it.
            let trouble = pipeline.shared.progress().trouble.as_ref().map(|t| t.cure);
            let cure = match (&err, trouble) {
                (Error::Timeout { .. }, _) | (_, Some(_)) => cure(trouble),
                // A crash said so as it happened; losses with no failing
                // request (a full queue) have no cure here.
                _ => "",
            };
            crate::handle::notices::stderr(format_args!(
                "exiting without shutdown: {}.{}{cure}",
                waited_since(err, started),
                if cure.is_empty() { "" } else { " " }
            ));
        }
        // Another thread still emitting: what it queued after the exit
        // began is not waited for, but counted.
        let late = {
            let progress = pipeline.shared.progress();
            let now = queued(&pipeline.shared);
            progress.done.not_done_below(now) - progress.done.not_done_below(begun)
        };
        if late > 0 {
            crate::handle::notices::stderr(format_args!(
                "exiting without shutdown: {late} item(s) queued after the exit began were not \
                 waited for (a thread still emitting as the process exits)."
            ));
        }
    }
}

/// How many items the pipeline ever queued.
fn queued(shared: &Shared) -> u64 {
    shared
        .counters
        .queued
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// Waits, at most `timeout`, for a pipeline whose layer and handles are
/// gone to deliver what it holds. Once stopped, its delivery thread says
/// itself what it could not deliver.
fn dropped_pipeline(shared: &Shared, timeout: Duration) -> Result<(), Error> {
    let ticket = Ticket {
        started: Instant::now(),
        target: queued(shared),
        abandoned_before: 0,
    };
    let progress = shared.wait(timeout, |p| p.stopped);
    if progress.stopped {
        return Ok(());
    }
    ticket.result(&progress, false)
}

/// The exit's whole wait, not the share of it left to the last pipeline.
fn waited_since(err: Error, started: Instant) -> Error {
    match err {
        Error::Timeout { pending, cause, .. } => Error::Timeout {
            pending,
            waited: started.elapsed(),
            cause,
        },
        other => other,
    }
}

/// What would have kept the items, from why their requests failed.
fn cure(trouble: Option<Cure>) -> &'static str {
    match trouble {
        Some(Cure::CheckToken) => "Check the access token: jKool refused it",
        Some(Cure::CheckUrl) => {
            "Check the URL (JKOOL_URL) and that jKool can be reached from this host"
        }
        Some(Cure::Wait) | None => {
            "To wait longer, call JKoolHandle::shutdown with a longer deadline before main \
             returns, or keep its guard alive (`let _guard = handle.shutdown_guard(..)`, not \
             `let _ = ...`)"
        }
    }
}
