//! Which thread an item comes from: a small stable number for `tid`, and
//! whether it is one of the crate's own delivery threads, whose events the
//! layer must ignore so that its HTTP stack never feeds back into it.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    static DELIVERY_THREAD: Cell<bool> = const { Cell::new(false) };
    static TID: u64 = NEXT_TID.fetch_add(1, Ordering::Relaxed);
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
