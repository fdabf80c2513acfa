//! A mock jKool collector: an HTTP/1.1 server on `127.0.0.1` that records
//! what it receives, for tests, examples and local development.
//!
//! It runs on its own thread with its own single-threaded tokio runtime, so
//! it works from plain `#[test]`s as well as from inside `#[tokio::test]` of
//! either flavour. It accepts `POST` on any path with a body holding one JSON
//! object, a JSON array of objects, or newline-delimited JSON objects.
//!
//! ```
//! use std::time::Duration;
//! use tracing_jkool::collector::Collector;
//!
//! let collector = Collector::builder().token("test-token").start()?;
//! println!("point the layer at {}", collector.url());
//! // ... run the code under test, then:
//! let items = collector.wait_for_items(0, Duration::from_millis(10));
//! assert!(items.is_empty());
//! println!("{}", collector.render_tree());
//! # Ok::<(), std::io::Error>(())
//! ```

mod body;
mod server;
mod tree;

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::oneshot;

pub use tree::render_tree;

use server::Shared;

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

/// Configures a [`Collector`] before it starts; see [`Collector::builder`].
#[derive(Clone, Default)]
pub struct CollectorBuilder {
    token: Option<String>,
    port: u16,
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
    /// HTTP status the collector answered.
    pub status: u16,
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
    /// let collector = tracing_jkool::collector::Collector::builder()
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

    /// Address the collector listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every item received so far, in arrival order, as raw JSON.
    pub fn items(&self) -> Vec<Value> {
        self.shared.lock().items.clone()
    }

    /// Every request answered so far, in arrival order, including rejected
    /// ones.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.lock().requests.clone()
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
    /// # let collector = tracing_jkool::collector::Collector::start()?;
    /// let items = collector.wait_for_items(2, std::time::Duration::from_secs(5));
    /// assert_eq!(items.len(), 2, "{}", tracing_jkool::collector::render_tree(&items));
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
        state.items.clone()
    }

    /// The received items as a human-readable activity tree; see
    /// [`render_tree`].
    pub fn render_tree(&self) -> String {
        render_tree(&self.items())
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
            .field("token", &self.shared.token.as_ref().map(|_| REDACTED))
            .field("items", &state.items.len())
            .field("requests", &state.requests.len())
            .finish()
    }
}

impl CollectorBuilder {
    /// Requires every request to carry `X-API-Key: <token>` or
    /// `token: <token>`; others are answered `401`. Without it any token (or
    /// none) is accepted.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Port to listen on; `0` (the default) lets the OS pick a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Binds `127.0.0.1:<port>` and starts serving on a new thread. The
    /// collector accepts connections as soon as this returns.
    pub fn start(self) -> std::io::Result<Collector> {
        // Binding here, not on the server thread, makes a port clash an
        // error of `start` and `url()` valid right away.
        let listener = TcpListener::bind(("127.0.0.1", self.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(self.token));
        let (stop, stopped) = oneshot::channel();
        let thread = server::spawn(listener, Arc::clone(&shared), stopped)?;
        Ok(Collector {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl fmt::Debug for CollectorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CollectorBuilder")
            .field("token", &self.token.as_ref().map(|_| REDACTED))
            .field("port", &self.port)
            .finish()
    }
}
