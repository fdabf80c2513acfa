//! Streams [`tracing`] spans and events to jKool (meshIQ XRay).
//!
//! [`JKoolLayer`] is a [`tracing_subscriber::Layer`]: spans become jKool
//! *activities*, correlated through `parent-id`; events become jKool
//! *events*; fields become typed *snapshot properties*. Fields named
//! `jkool.*` set jKool's own fields (`jkool.corr_id`, `jkool.user`, ...).
//! The application's thread only builds an item and puts it on a bounded
//! queue; a background thread batches, serializes and POSTs it.
//!
//! ```no_run
//! use std::time::Duration;
//! use tracing_subscriber::prelude::*;
//!
//! #[tracing::instrument]
//! fn process(order_no: u64) {
//!     tracing::info!(amount = 12.5, "order processed");
//! }
//!
//! let layer = tracing_jkool::JKoolLayer::new("my-access-token");
//! let jkool = layer.handle();
//! tracing_subscriber::registry().with(layer).init();
//!
//! process(5);
//!
//! jkool.shutdown(Duration::from_secs(5)).ok();
//! ```
#![deny(missing_docs)]
// On docs.rs, items behind a feature (`gzip`) say so. `doc_auto_cfg` was
// folded into `doc_cfg` (nightly 1.92), which now does it by itself.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backlog;
mod builder;
mod capture;
mod clock;
mod dedupe;
mod delivery;
mod destination;
mod env;
mod error;
mod event;
mod fields;
mod handle;
mod layer;
mod model;
mod pipeline;
mod report;
mod retry;
mod secret;
mod shared;
mod snapshot;
mod source;
mod thread;
mod transport;
mod value;
mod wire;
mod worker;

#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzzing;

pub use builder::{Builder, DEFAULT_URL};
pub use error::Error;
pub use event::{CompCode, EventType, JKoolEvent, Severity};
pub use handle::{JKoolHandle, ShutdownGuard};
pub use layer::JKoolLayer;
pub use shared::Stats;
pub use snapshot::{Property, Snapshot};
pub use value::{UnknownValueType, Value, ValueType};

/// The README's examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
