//! Capture, on the application's thread: the layer's callbacks, the field
//! visitor and the `jkool.*` keys; the open spans they keep live in
//! [`spans`](crate::spans). What it builds
//! is an [`item`](crate::item) put on the queue; it never blocks, waits or
//! does I/O, and calls nothing of the delivery thread's.

pub(crate) mod callbacks;
pub(crate) mod keys;
pub(crate) mod layer;
#[cfg(feature = "opentelemetry")]
pub(crate) mod otel;
mod parents;
