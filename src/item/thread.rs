//! Which thread an item comes from: a small stable number for `tid`, and
//! whether it is one of the crate's own delivery threads, whose events the
//! layer must ignore so that its HTTP stack never feeds back into it.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    static DELIVERY_THREAD: Cell<bool> = const { Cell::new(false) };
    static TID: u64 = NEXT_TID.fetch_add(1, Ordering::Relaxed);
    /// How deep the current thread is in the crate's own `catch_unwind`s.
    static CATCHING: Cell<u32> = const { Cell::new(0) };
}
static NEXT_TID: AtomicU64 = AtomicU64::new(1);

/// Marks the current thread as one of the crate's delivery threads.
pub(crate) fn mark_delivery_thread() {
    DELIVERY_THREAD.with(|flag| flag.set(true));
}

/// Whether the current thread is one of the crate's delivery threads.
pub(crate) fn in_delivery_thread() -> bool {
    DELIVERY_THREAD.with(Cell::get)
}

/// A small number for the current thread, stable for its life: std offers
/// no portable integer thread id.
pub(crate) fn thread_number() -> u64 {
    TID.with(|tid| *tid)
}

/// Runs `f`, catching a panic in it, as a place the crate itself catches
/// panics (a panicking `Debug` of a field): `capture_panics` does not
/// report what unwinds only this far.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    CATCHING.with(|depth| depth.set(depth.get() + 1));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|depth| depth.set(depth.get() - 1));
    caught
}

/// Whether a panic now would be caught by the crate itself ([`catch`]).
pub(crate) fn in_own_catch() -> bool {
    CATCHING.with(Cell::get) > 0
}
