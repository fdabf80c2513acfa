//! [`CollectorBuilder`]: how a [`Collector`] is configured and started.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::fault::answer_status;
use super::record::Recorder;
use super::shared::{Settings, Shared};
use super::{server, Collector, DEFAULT_MAX_BODY, REDACTED};

/// Configures a [`Collector`] before it starts; see [`Collector::builder`].
#[derive(Clone)]
pub struct CollectorBuilder {
    token: Option<String>,
    ip: IpAddr,
    port: u16,
    max_body: Option<usize>,
    single_objects: Option<u16>,
    latency: Duration,
    reject: Vec<(String, u16)>,
    keep_bodies: bool,
    record: Option<PathBuf>,
}

impl Default for CollectorBuilder {
    fn default() -> Self {
        CollectorBuilder {
            token: None,
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            max_body: None,
            single_objects: None,
            latency: Duration::ZERO,
            reject: Vec::new(),
            keep_bodies: false,
            record: None,
        }
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

    /// Address to listen on; `127.0.0.1` by default. Another address (e.g.
    /// `0.0.0.0`) lets other machines send, and also shows them the web
    /// view and [`Collector::items`](crate::Collector::items)' contents:
    /// the view has no login.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    ///
    /// let collector = tracing_jkool_collector::Collector::builder()
    ///     .bind(Ipv4Addr::LOCALHOST.into())
    ///     .start()?;
    /// assert!(collector.addr().ip().is_loopback());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(mut self, ip: IpAddr) -> Self {
        self.ip = ip;
        self
    }

    /// Appends every item the collector keeps (those of requests answered
    /// `200`) to the file at `path`, one JSON object per line (NDJSON), in
    /// arrival order; the file is created if needed and never truncated.
    /// An item is in the file by the time [`Collector::items`] has it.
    /// [`start`](Self::start) fails if the file cannot be opened; a later
    /// write error is reported once on stderr and the collector goes on.
    ///
    /// [`Collector::items`]: crate::Collector::items
    ///
    /// ```no_run
    /// let collector = tracing_jkool_collector::Collector::builder()
    ///     .record_to("received.ndjson")
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn record_to(mut self, path: impl Into<PathBuf>) -> Self {
        self.record = Some(path.into());
        self
    }

    /// Answers `413 Payload Too Large` to bodies longer than `bytes`
    /// (default 16 MiB). A longer body is still read and thrown away, so the
    /// client gets the answer rather than a reset.
    ///
    /// ```
    /// let collector = tracing_jkool_collector::Collector::builder()
    ///     .max_body(64 * 1024)
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = Some(bytes);
        self
    }

    /// Answers `status` (e.g. `400` or `415`) to any body that holds more
    /// than one item (a JSON array of 2 or more objects, or 2 or more NDJSON
    /// lines): an endpoint that accepts only single objects. A single object
    /// and a one-item array are still accepted. [`start`](Self::start)
    /// fails if `status` is outside `200..=999`.
    ///
    /// ```
    /// let collector = tracing_jkool_collector::Collector::builder()
    ///     .single_objects_only(400)
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn single_objects_only(mut self, status: u16) -> Self {
        self.single_objects = Some(status);
        self
    }

    /// Delays every answer by `latency`, as a collector 20 to 100 ms of
    /// round trip away would: the body is read and judged (and accepted
    /// items are kept) at once, then the answer waits. Requests wait in
    /// parallel, each on its own, so `n` requests in flight at once over `n`
    /// connections are all answered after about `latency`, not `n` times
    /// it. Adds to a [`Fault::Delay`](crate::Fault::Delay). Default: no delay.
    /// [`Collector::set_latency`](crate::Collector::set_latency) changes it
    /// while the collector runs.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let collector = tracing_jkool_collector::Collector::builder()
    ///     .latency(Duration::from_millis(50))
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Keeps each request's body, as sent (before any gunzip), in
    /// [`ReceivedRequest::body`](crate::ReceivedRequest::body), to check
    /// the exact bytes a client sends. Off by default: a long test would
    /// hold every body twice.
    ///
    /// ```
    /// let collector = tracing_jkool_collector::Collector::builder()
    ///     .keep_bodies(true)
    ///     .start()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn keep_bodies(mut self, keep: bool) -> Self {
        self.keep_bodies = keep;
        self
    }

    /// Answers `status` (e.g. `400`) to any body holding an item whose raw
    /// JSON text, as sent (after gunzip), contains `needle`, and keeps none
    /// of that body's items: one bad item inside a batch rejects the batch.
    /// Bodies without such an item are judged as usual. The needle is
    /// matched against the JSON text, so a quote or a non-ASCII character
    /// matches only as the client escaped it; an empty needle matches every
    /// item. Several calls add needles; the first one that matches (in call
    /// order) gives the status. [`start`](Self::start) fails if `status` is
    /// outside `200..=999`.
    ///
    /// ```
    /// let collector = tracing_jkool_collector::Collector::builder()
    ///     .reject_items_containing("poison", 400)
    ///     .start()?;
    /// // A batch of `{"msg-text": "ok"}` and `{"msg-text": "poison"}` is
    /// // answered 400 and neither item is kept.
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reject_items_containing(mut self, needle: impl Into<String>, status: u16) -> Self {
        self.reject.push((needle.into(), status));
        self
    }

    /// Binds `127.0.0.1:<port>` (or the [`bind`](Self::bind) address) and
    /// starts serving on a new thread. The collector accepts connections as
    /// soon as this returns.
    pub fn start(self) -> std::io::Result<Collector> {
        let single_objects = self
            .single_objects
            .map(answer_status)
            .transpose()
            .map_err(|msg| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("single_objects_only: {msg}"),
                )
            })?;
        let reject = self
            .reject
            .into_iter()
            .map(|(needle, status)| Ok((needle, answer_status(status)?)))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|msg| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("reject_items_containing: {msg}"),
                )
            })?;
        // Binding here, not on the server thread, makes a port clash an
        // error of `start` and `url()` valid right away.
        let record = self.record.as_deref().map(Recorder::open).transpose()?;
        let listener = TcpListener::bind((self.ip, self.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(
            Settings {
                token: self.token,
                max_body: self.max_body.unwrap_or(DEFAULT_MAX_BODY),
                single_objects,
                reject,
                keep_bodies: self.keep_bodies,
                record,
            },
            self.latency,
        ));
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
            .field("ip", &self.ip)
            .field("port", &self.port)
            .field("max_body", &self.max_body.unwrap_or(DEFAULT_MAX_BODY))
            .field("single_objects_only", &self.single_objects)
            .field("latency", &self.latency)
            .field("reject_items_containing", &self.reject)
            .field("keep_bodies", &self.keep_bodies)
            .field("record_to", &self.record)
            .finish()
    }
}
