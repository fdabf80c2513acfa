//! What crosses the queue from the application's thread to the delivery
//! thread: activities and events, their snapshots and typed properties,
//! and jKool's enumerated words. Plain data: it calls no other stage.

pub(crate) mod clock;
pub(crate) mod codes;
pub(crate) mod event;
pub(crate) mod fields;
pub(crate) mod hashing;
pub(crate) mod key;
pub(crate) mod model;
pub(crate) mod sampler;
pub(crate) mod snapshot;
pub(crate) mod source;
pub(crate) mod thread;
pub(crate) mod trace_id;
pub(crate) mod value;
