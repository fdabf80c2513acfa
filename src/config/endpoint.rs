//! Where the layer sends: the URL and per-kind paths, the proxy, the TLS
//! roots and the timeouts.

use std::time::Duration;

use crate::transport::secret::Secret;
use crate::Builder;

/// # Where it sends
///
/// jKool's streaming endpoint by default; any URL that speaks its HTTP
/// (the local collector, a proxy), or a `file://` path of JSON lines.
///
/// ```
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .url("http://127.0.0.1:8080")
///     .connect_timeout(std::time::Duration::from_secs(2));
/// # drop(builder);
/// ```
impl Builder {
    /// The base URL; by default `JKOOL_URL` when that variable is set, else
    /// [`DEFAULT_URL`](crate::DEFAULT_URL). Items are posted to the base
    /// URL itself unless [`event_path`](Self::event_path) or
    /// [`activity_path`](Self::activity_path) say otherwise.
    ///
    /// A `file://` URL, such as `file:///var/log/app/jkool.jsonl`, appends
    /// each item to that file as one JSON line instead, from the delivery
    /// thread (for air-gapped hosts; send the file later with
    /// [`JKoolHandle::send_json`](crate::JKoolHandle::send_json), as
    /// `cargo run --example replay` does).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self.url_from_env = false;
        self
    }

    /// Whether requests of one object each ([`Framing::Object`](crate::Framing::Object),
    /// the default) go over kept-alive HTTP/1.1 connections of the
    /// crate's own, pipelined: written back to back, many per write,
    /// without waiting for answers, and the answers read in order, each
    /// acknowledging its request. On by default, for `http://` URLs
    /// without a proxy; `https://`, a proxy, batched framings, or `false`
    /// here send through reqwest, one request per connection at a time.
    ///
    /// At most 4 connections with up to 1,024 requests unanswered each (8 on a
    /// new connection, one more with each answer that shows the server
    /// pipelines, all 1,024 once one connection reached 16) and
    /// [`max_concurrent_requests`](Self::max_concurrent_requests) in all, and
    /// 64 KiB unwritten each; a server that answers one request at a time on a
    /// connection, or closes it after an answer, gets one request at a time on
    /// each of up to `max_concurrent_requests` connections, at most 256 (said
    /// once on stderr). An answer that cannot be read (a head over 64 KiB, a
    /// body over 1 MiB, not HTTP) closes its connection; what that connection
    /// left unanswered is sent again, as after any connection error.
    ///
    /// ```
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token").pipelining(false);
    /// # drop(builder);
    /// ```
    pub fn pipelining(mut self, yes: bool) -> Self {
        self.pipelining = yes;
        self
    }

    /// The path, under the base URL, that events are posted to: `/JESL/event`
    /// for older jKool deployments, `/event` for jKool's REST API.
    pub fn event_path(mut self, path: impl Into<String>) -> Self {
        self.event_path = Some(path.into());
        self
    }

    /// The path, under the base URL, that activities are posted to:
    /// `/JESL/activity` or `/activity`.
    pub fn activity_path(mut self, path: impl Into<String>) -> Self {
        self.activity_path = Some(path.into());
        self
    }

    /// How long a request may take, from connecting to the end of the
    /// answer; a slower one is retried. Default 15 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.client.request_timeout = timeout;
        self
    }

    /// How long connecting may take; default 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.client.connect_timeout = timeout;
        self
    }

    /// Sends through this HTTP(S) proxy, with credentials in the URL when
    /// it needs them: `http://user:password@proxy.example:3128`. Without
    /// it, the usual `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`
    /// variables are honoured. The credentials never show in `Debug`.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.client.proxy = Some(Secret::new(url.into()));
        self
    }

    /// Trusts this CA certificate (PEM) as well as the public roots, for
    /// private jKool deployments. Certificate and host name verification
    /// always stay on.
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.client.root_certificates.push(pem.into());
        self
    }
}
