//! Streams [`tracing`] spans and events to jKool (meshIQ XRay).
//!
//! [`JKoolLayer`] is a [`tracing_subscriber::Layer`]: spans become jKool
//! *activities*, correlated through `parent-id`; events become jKool
//! *events*; fields become typed *snapshot properties*. Fields named
//! `jkool.*` set jKool's own fields (`jkool.corr_id`, `jkool.user`, ...).
//! The application's thread only builds an item and puts it on a bounded
//! queue; a background thread serializes and POSTs it: one JSON object per
//! request by default, as every jKool client sends ([`Framing`]), with as
//! many requests in flight as the round trip needs.
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
//! // Its error says what did not arrive, and why (each cause in turn).
//! if let Err(err) = jkool.shutdown(Duration::from_secs(5)) {
//!     let mut text = err.to_string();
//!     let mut cause = std::error::Error::source(&err);
//!     while let Some(source) = cause {
//!         text = format!("{text}: {source}");
//!         cause = source.source();
//!     }
//!     eprintln!("jKool: {text}");
//! }
//! ```
//!
//! # What happens at exit
//!
//! Items wait in memory until the delivery thread sends them. When the
//! process exits normally without a `shutdown` (it returns from `main`, or
//! calls `std::process::exit`), a last-chance flush sends what is queued
//! for up to 2 s (on Unix; [`Builder::exit_flush`]) and says on stderr how
//! many items did not arrive. To be sure, call [`JKoolHandle::shutdown`]
//! (or hold the guard of [`JKoolHandle::shutdown_guard`]) at the end of
//! `main`: it sends the spans still open, delivers what is queued by its
//! deadline, and its error says what did not arrive. In async code,
//! [`JKoolHandle::shutdown_async`] does not block a runtime worker.
//!
//! # Delivery guarantees
//!
//! - The application's thread never blocks, waits or does I/O: a full queue
//!   drops the item and counts it ([`Stats::dropped`]).
//! - Everything queued is sent, or counted: [`Stats::evicted`] (the oldest,
//!   to bound memory while jKool is down) or [`Stats::failed`] (refused by
//!   jKool, or given up at a deadline). A refused item costs only itself.
//! - Connection errors, timeouts, 408, 429 and 5xx are retried with backoff;
//!   memory stays bounded however long jKool is away.
//! - With [`Builder::spool_dir`], what cannot be delivered now goes to disk
//!   instead of being evicted, survives a crash or `kill -9`, and is
//!   delivered (at least once, oldest first) when jKool is back, by this
//!   process or the next one on the directory.
//! - With [`Builder::max_concurrent_requests`]`(1)` each kind arrives in the
//!   order it was emitted; by default several bodies travel at once.
//! - The crate's own HTTP stack never feeds its events back into the layer.
//! - Fields with sensitive names ([`SENSITIVE_FIELDS`]: `password`,
//!   `db_password`, `api_key`, `Authorization`, ...) are sent as
//!   `"[redacted]"`, by the delivery thread; see the builder's
//!   [privacy](Builder#privacy) settings.
//!
//! # `jkool.*` fields
//!
//! Fields named `jkool.*` set jKool's own keys instead of becoming
//! properties, as tracing-opentelemetry's `otel.*` fields do:
//!
//! | field | jKool key |
//! |---|---|
//! | `jkool.corr_id` | adds to `corrid`; a span's correlators reach every item inside it |
//! | `jkool.tracking_id` | `tracking-id` |
//! | `jkool.operation` | `operation` (default: the span's or event's name) |
//! | `jkool.source_fqn` | `source-fqn` |
//! | `jkool.location`, `jkool.resource`, `jkool.user` | `location`, `resource`, `user` |
//! | `jkool.comp_code`, `jkool.reason_code` | `comp-code`, `reason-code` |
//! | `jkool.exception` | `exception`; on a span, `status` EXCEPTION |
//! | `jkool.msg_tag` | `msg-tag` |
//!
//! ```no_run
//! tracing::info!(jkool.corr_id = "order-5", jkool.user = "ann", amount = 12.5, "paid");
//! ```
//!
//! # Correlation across services
//!
//! Every root span gets a trace id, which the spans inside inherit; every
//! activity and event inside carries it in `corrid` as 32 lowercase hex
//! digits, before its `jkool.corr_id` values. [`propagation::inject`] and
//! [`propagation::extract`] carry it between services in the W3C
//! `traceparent` and `tracestate` headers, and
//! [`propagation::JKoolSpanExt::set_parent_context`] continues a remote
//! trace; the continuing activity records the caller's span id in its
//! property `parent_span_id`. `Span::follows_from` adds the followed
//! span's correlators to the span's, and [`JKoolHandle::send`] inside a
//! span gets the span's `parent-id` and correlators.
//! [`Builder::field_as`] maps ordinary fields such as `request_id` to jKool
//! keys, and [`Builder::inherit_span_fields`] puts span fields on events.
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `gzip` | `Builder::gzip`: gzip request bodies |
//! | `native-roots` | trusts the operating system's certificate store as well as the bundled public roots |
//! | `metrics` | `JKoolHandle::metrics_recorder`: the [`metrics`](https://docs.rs/metrics) facade's counters, gauges and histograms, sent as typed properties |
//! | `opentelemetry` | trace ids from a tracing-opentelemetry layer in the same subscriber (OpenTelemetry 0.31, tracing-opentelemetry 0.32) |
//!
//! The mock jKool collector that the tests and examples use is the
//! workspace crate `tracing-jkool-collector`.
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]
// On docs.rs, items behind a feature (`gzip`) say so. `doc_auto_cfg` was
// folded into `doc_cfg` (nightly 1.92), which now does it by itself.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The stages, in the order items flow through them: configured, captured
// on the application's thread, queued as items, delivered (written as
// JSON, sent, spooled) on the crate's own thread; the handle controls and
// observes.
mod capture;
mod config;
mod control;
mod delivery;
mod error;
mod handle;
mod item;
mod metrics;
pub mod propagation;
mod spans;
mod spool;
mod transport;
mod wire;

#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzzing;

pub use capture::keys::{InheritFields, JKoolKey};
pub use capture::layer::JKoolLayer;
pub use config::builder::{
    Builder, DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_MAX_PIPELINED_REQUESTS, DEFAULT_URL,
};
pub use delivery::settings::{Framing, UnknownFraming};
pub use error::Error;
pub use handle::stats::Stats;
pub use handle::{JKoolHandle, ShutdownGuard};
pub use item::codes::{CompCode, EventType, Severity};
pub use item::event::JKoolEvent;
pub use item::sampler::Sampler;
pub use item::snapshot::{Property, Snapshot};
pub use item::value::{Text, UnknownValueType, Value, ValueType};
#[cfg(feature = "metrics")]
pub use metrics::JKoolRecorder;
pub use spool::{FsyncPolicy, SpoolFull};
pub use wire::redact::SENSITIVE_FIELDS;

/// The README's examples, compiled as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
