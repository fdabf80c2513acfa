//! The last-chance flush when the process exits normally without a
//! `shutdown` (returning from `main`, `std::process::exit`): registered
//! once with the C library's `atexit`, it flushes every pipeline still
//! running, each within its own deadline, and says on stderr what is still
//! undelivered and how to keep it. The delivery threads still run while
//! exit handlers do; the handler never unwinds into the C library.

use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use super::{JKoolHandle, WeakHandle};

/// The pipelines to flush at exit, with their deadlines.
static PIPELINES: Mutex<Vec<(WeakHandle, Duration)>> = Mutex::new(Vec::new());

static REGISTER: Once = Once::new();

/// Flushes `handle`'s pipeline, within `timeout`, if the process exits
/// before its `shutdown`; a zero `timeout` does nothing.
pub(crate) fn flush_at_exit(handle: &JKoolHandle, timeout: Duration) {
    if timeout.is_zero() {
        return;
    }
    let mut pipelines = PIPELINES.lock().unwrap_or_else(|e| e.into_inner());
    pipelines.retain(|(pipeline, _)| pipeline.upgrade().is_some());
    pipelines.push((handle.downgrade(), timeout));
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
    let started = Instant::now();
    let running: Vec<(JKoolHandle, Duration)> = (pipelines.into_iter())
        .filter_map(|(pipeline, timeout)| Some((pipeline.upgrade()?, timeout)))
        // After `shutdown` there is nothing to do.
        .filter(|(handle, _)| !handle.is_closed())
        .collect();
    for (handle, _) in &running {
        handle.start_flush();
    }
    for (handle, timeout) in running {
        let left = timeout.saturating_sub(started.elapsed());
        if let Err(err) = handle.flush(left) {
            crate::handle::notices::stderr(format_args!(
                "exiting without shutdown: {err}. Call JKoolHandle::shutdown before main \
                 returns, or keep its guard alive (`let _guard = handle.shutdown_guard(..)`, \
                 not `let _ = ...`)"
            ));
        }
    }
}
