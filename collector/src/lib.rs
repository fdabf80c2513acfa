//! A mock jKool collector: an HTTP/1.1 server on `127.0.0.1` that records
//! what it receives, for tests, examples and local development.
//!
//! As a program, `cargo install --locked --path collector` (from the
//! repository's root: the crate is not on crates.io yet) gives
//! `jkool-collector`, which runs one until Ctrl-C and prints the
//! `JKOOL_URL` to point an application at and the web view's URL
//! (`jkool-collector --help` for its options). As a library, it is a test
//! helper for code that streams to jKool, e.g. through
//! [tracing-jkool](https://docs.rs/tracing-jkool).
//!
//! # Testing your own code
//!
//! Start a collector, point the layer at [`Collector::url`], run the code,
//! flush, and look at [`Collector::received`]: typed [`Activity`]s and
//! [`Event`]s with their properties, found by name, with their children.
//!
//! ```
//! use std::time::Duration;
//! use tracing_jkool_collector::{Collector, PropertyValue};
//! use tracing_subscriber::prelude::*;
//!
//! #[tracing::instrument]
//! fn checkout(order: u64) {
//!     tracing::info!(amount = 42, "paid");
//! }
//!
//! let collector = Collector::start()?;
//! let layer = tracing_jkool::JKoolLayer::builder("any-token").url(collector.url()).build()?;
//! let jkool = layer.handle();
//! tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || checkout(5));
//! jkool.flush(Duration::from_secs(10))?;
//!
//! let received = collector.received();
//! let span = received.activity("checkout");
//! assert_eq!(span.property("order"), Some(&PropertyValue::Long(5)));
//! let paid = received.event("paid");
//! assert_eq!(received.children(span).events, [paid]);
//! assert_eq!(paid.property("amount"), Some(&PropertyValue::Long(42)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Collector::render_tree`] draws what arrived as a tree, one line per
//! item: print it when an assertion fails. To compare the whole tree with a
//! string or a stored snapshot (`insta::assert_snapshot!`), take
//! [`Received::stable_tree`], which leaves out what changes from run to run
//! (durations, trace ids); for the example above it is
//!
//! ```text
//! ▶ checkout  END  corrid=<trace-id>
//! ├─ ◆ checkout (my_crate)  order=5 busy=<age.usec> idle=<age.usec>
//! └─ • INFO  paid  corrid=<trace-id>
//!    └─ ◆ my_crate (my_crate)  amount=42
//! ```
//!
//! # The server
//!
//! It runs on its own thread with its own single-threaded tokio runtime, so
//! it works from plain `#[test]`s as well as from inside `#[tokio::test]` of
//! either flavour. It accepts `POST` on any path with a body holding one JSON
//! object, a JSON array of objects, or newline-delimited JSON objects.
//!
//! For delivery tests it can misbehave on command: [`Collector::inject`]
//! queues [`Fault`]s (error statuses with or without `Retry-After`, delays,
//! connection resets, redirects) that the next requests get in order, and
//! the builder can cap the body size ([`CollectorBuilder::max_body`]),
//! refuse batches ([`CollectorBuilder::single_objects_only`]) or batches
//! holding one bad item ([`CollectorBuilder::reject_items_containing`]), and
//! stand far away ([`CollectorBuilder::latency`]).
//!
//! It also serves a web view of what it received, for a person with a
//! browser: open [`Collector::url`] (see [`Collector::view_url`]). The page
//! lists the root activities newest first, draws a trace as a waterfall and
//! shows every key of an item; it polls the JSON of `GET /api/roots` and
//! `GET /api/trace/<tracking-id>`. It is built into the binary and loads
//! nothing from elsewhere.
//!
//! Each request is answered by the first rule that applies:
//! 0. a `GET` of the web view (`/`, `/index.html`, `/ui/...`, `/api/...`):
//!    the page or its JSON, with no fault drawn, no token asked and no
//!    entry in [`Collector::requests`];
//! 1. a queued fault, taken from the script in arrival order, one per
//!    request (a [`Fault::Delay`] waits, then goes on to the next rules);
//! 2. not `POST`: `405`;
//! 3. token required and missing or wrong: `401`;
//! 4. body longer than the maximum: `413`;
//! 5. body not one object, an array of objects or NDJSON objects: `400`;
//! 6. single objects only and more than one item: the configured status;
//! 7. an item whose JSON contains a rejected string: the status configured
//!    for the first such string, and none of the body's items are kept;
//! 8. otherwise `200`, and the items are kept.
//!
//! With a [`latency`](CollectorBuilder::latency), every answer (a fault's
//! included) then waits that long before it is sent.
//!
//! ```
//! use std::time::Duration;
//! use tracing_jkool_collector::Collector;
//!
//! let collector = Collector::builder().token("test-token").start()?;
//! println!("point the layer at {}", collector.url());
//! // ... run the code under test, then:
//! let items = collector.wait_for_items(0, Duration::from_millis(10));
//! assert!(items.is_empty());
//! println!("{}", collector.render_tree());
//! # Ok::<(), std::io::Error>(())
//! ```
#![deny(missing_docs)]
#![warn(missing_debug_implementations)]

mod body;
mod builder;
mod fault;
mod index;
mod received;
mod record;
mod request;
mod server;
mod shared;
mod tree;
mod web;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::oneshot;

pub use builder::CollectorBuilder;
pub use fault::Fault;
pub use received::{Activity, Children, Event, Property, PropertyValue, Received, Snapshot};
pub use tree::render_tree;

use body::parse_all;
use fault::Planned;
use shared::Shared;

/// Larger bodies are answered `413` unless [`CollectorBuilder::max_body`]
/// says otherwise, so a runaway client cannot exhaust memory in a test.
const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

/// Shown instead of a token in `Debug` output and in recorded headers.
const REDACTED: &str = "<redacted>";

/// A running mock collector. Dropping it (or calling
/// [`shutdown`](Collector::shutdown)) stops the server and joins its thread.
pub struct Collector {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// One HTTP request the collector answered, as logged by
/// [`Collector::requests`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedRequest {
    /// HTTP method, e.g. `"POST"`.
    pub method: String,
    /// Request path (without the query string), e.g. `"/event"`.
    pub path: String,
    /// Headers in arrival order, names lower-cased. The values of
    /// `x-api-key`, `token` and `authorization` are replaced by
    /// `"<redacted>"` so a log or a failing assertion never shows a secret.
    pub headers: Vec<(String, String)>,
    /// Number of items accepted from this request (0 unless `status` is 200).
    pub items: usize,
    /// HTTP status the collector answered: for a [`Fault::Delay`] the one
    /// answered after the wait (even if the client had given up), `0` for a
    /// [`Fault::Reset`].
    pub status: u16,
    /// When the request arrived (its head was read), e.g. to check the gap
    /// a client left between retries.
    pub at: Instant,
    /// The body as sent, with [`CollectorBuilder::keep_bodies`]; `None`
    /// without it, and for a reset.
    pub body: Option<Vec<u8>>,
}

impl ReceivedRequest {
    /// The first value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Collector {
    /// A builder to set a required token or a fixed port.
    ///
    /// ```no_run
    /// let collector = tracing_jkool_collector::Collector::builder()
    ///     .token("secret")
    ///     .port(8085)
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> CollectorBuilder {
        CollectorBuilder::default()
    }

    /// Starts a collector on a port chosen by the OS that accepts any token.
    /// Same as `Collector::builder().start()`.
    pub fn start() -> std::io::Result<Collector> {
        Self::builder().start()
    }

    /// Base URL of the collector, e.g. `"http://127.0.0.1:41234"`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// URL of the web view of the received items, e.g.
    /// `"http://127.0.0.1:41234/"`: open it in a browser.
    pub fn view_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Address the collector listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every item received so far, in arrival order, as raw JSON.
    pub fn items(&self) -> Vec<Value> {
        let raw = self.shared.lock().items.clone();
        parse_all(&raw)
    }

    /// Every request answered so far, in arrival order, including rejected,
    /// faulted and reset ones. A request still being handled (a delayed one,
    /// say) joins the log, at its arrival place, once answered.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The next `times` requests get `fault`, in order after faults queued
    /// before (a FIFO script). Each request takes one fault atomically, in
    /// arrival order, so two concurrent requests never get the same one.
    /// A fault applies before any other check, the token check included.
    ///
    /// ```
    /// use tracing_jkool_collector::{Collector, Fault};
    ///
    /// let collector = Collector::builder().token("t").start()?;
    /// // Two outages, then a rate limit; the fourth request is judged normally.
    /// collector.inject(Fault::status(503), 2);
    /// collector.inject(Fault::retry_after(429, "1"), 1);
    /// assert_eq!(collector.faults_pending(), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// If `fault` cannot be sent: a status outside `200..=999`, or a
    /// `Retry-After` or `Location` value that is not a valid header value.
    pub fn inject(&self, fault: Fault, times: usize) {
        match Planned::new(fault) {
            Ok(planned) => self.shared.lock().faults.push(planned, times),
            Err(msg) => panic!("Collector::inject: {msg}"),
        }
    }

    /// Changes the [latency](CollectorBuilder::latency) of every answer
    /// from now on, as a network path that gets slower or faster would.
    ///
    /// ```
    /// # let collector = tracing_jkool_collector::Collector::start()?;
    /// collector.set_latency(std::time::Duration::from_millis(500));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_latency(&self, latency: Duration) {
        self.shared.set_latency(latency);
    }

    /// The most requests that were being handled at once so far (from
    /// arrival to answer, latency included): how many a client had in
    /// flight at its peak.
    ///
    /// ```
    /// # let collector = tracing_jkool_collector::Collector::start()?;
    /// assert_eq!(collector.peak_in_flight(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peak_in_flight(&self) -> usize {
        self.shared.peak_in_flight()
    }

    /// Requests still to be answered with a fault.
    ///
    /// ```
    /// # let collector = tracing_jkool_collector::Collector::start()?;
    /// assert_eq!(collector.faults_pending(), 0);
    /// collector.inject(tracing_jkool_collector::Fault::Reset, 2);
    /// assert_eq!(collector.faults_pending(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn faults_pending(&self) -> usize {
        self.shared.lock().faults.pending()
    }

    /// Waits until at least `n` items have arrived, or until `timeout`
    /// passes, and returns all items received by then (possibly fewer than
    /// `n`).
    ///
    /// This blocks the calling thread: from a current-thread
    /// `#[tokio::test]`, finish sending (await it) before waiting, or wait
    /// through `tokio::task::spawn_blocking`.
    ///
    /// ```no_run
    /// # let collector = tracing_jkool_collector::Collector::start()?;
    /// let items = collector.wait_for_items(2, std::time::Duration::from_secs(5));
    /// assert_eq!(items.len(), 2, "{}", tracing_jkool_collector::render_tree(&items));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wait_for_items(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.items.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .shared
                .arrived
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let raw = state.items.clone();
        drop(state);
        parse_all(&raw)
    }

    /// The received items as a human-readable activity tree; see
    /// [`render_tree`]. Print it when an assertion fails, or compare it
    /// with a string or a stored snapshot (e.g.
    /// `insta::assert_snapshot!(collector.render_tree())`).
    pub fn render_tree(&self) -> String {
        render_tree(&self.items())
    }

    /// Every item received so far, read into typed activities, events and
    /// snapshots, with lookups by name and by parent; see [`Received`].
    ///
    /// ```
    /// # let collector = tracing_jkool_collector::Collector::start()?;
    /// let received = collector.received();
    /// assert!(received.activities.is_empty() && received.events.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn received(&self) -> Received {
        Received::from_items(self.items())
    }

    /// Stops the server and waits for its thread. Dropping the collector
    /// does the same.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // An error only means the server loop has already ended.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread already printed its message;
            // re-raising it from a destructor could abort the process.
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for Collector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Collector")
            .field("addr", &self.addr)
            .field(
                "token",
                &self.shared.settings.token.as_ref().map(|_| REDACTED),
            )
            .field("items", &state.items.len())
            .field("requests", &state.requests.len())
            .field("faults_pending", &state.faults.pending())
            .finish()
    }
}
