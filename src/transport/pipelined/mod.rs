//! Requests of one object each over kept-alive HTTP/1.1 connections of
//! our own, pipelined: written back to back without waiting, the answers
//! read in order (see [`connection`]). A few connections, more only when
//! each one's window is full; a server that answers one request at a time
//! on a connection (or closes it after each answer) gets one request at a
//! time on each, and as many connections as requests may be in flight.
//!
//! For plain `http://` without a proxy; TLS, proxies and batched bodies go
//! through reqwest.

mod answer;
mod connection;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::Url;
use tokio::sync::mpsc;
use tokio::time::Duration;

use crate::item::model::Kind;
use crate::transport::{ClientOptions, Endpoints, Outcome};
pub(crate) use connection::Answered;
use connection::{Job, State};

/// Requests written and not answered on one connection before another
/// connection opens: at 50 ms, 1,024 are 20,000 requests a second.
pub(crate) const WINDOW: usize = 1024;

/// A new connection's window, which grows by one with each answer that
/// shows the server pipelines (one that came sooner than its turn behind
/// the requests ahead of it), up to [`WINDOW`]: as TCP's congestion window
/// grows, it doubles each round trip. A server that answers one request
/// at a time gets no more than this on one connection until a window
/// reaches twice it (then every window is [`WINDOW`]).
pub(crate) const FIRST_WINDOW: usize = 8;

/// The most connections while the server pipelines.
pub(crate) const MAX_CONNECTIONS: usize = 4;

/// The most connections while the server answers one request at a time
/// on each: as many as reqwest's requests in flight by default.
const MAX_SERIAL_CONNECTIONS: usize = crate::DEFAULT_MAX_CONCURRENT_REQUESTS;

/// The most connections looked at for room for one request: past them,
/// a new one opens or the next one takes it, so that a request costs the
/// same with 256 connections as with 4.
const LOOK_AT: usize = 8;

/// Where the connections go and how they behave, shared by all.
#[derive(Debug)]
pub(crate) struct Target {
    /// `host:port`, to connect to and to name in messages.
    pub address: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// The server answers one request at a time on a connection.
    serial: AtomicBool,
    /// Something about the server's answers was said on stderr.
    said: AtomicBool,
    /// A connection's answers showed that the server pipelines: every
    /// connection's window is [`WINDOW`], and timing alone no longer takes
    /// the server for one that answers one at a time.
    pipelines: AtomicBool,
}

impl Target {
    /// Whether the server answers one request at a time on a connection.
    fn is_serial(&self) -> bool {
        self.serial.load(Ordering::Relaxed)
    }

    /// From now on, one request at a time on each connection; said once.
    fn serial(&self, why: &str) {
        if !self.serial.swap(true, Ordering::Relaxed) {
            self.say_once(&format!(
                "jKool at {} {why}: sending one request at a time on each connection",
                self.address
            ));
        }
    }

    /// Says `line` on stderr, once for all connections.
    fn say_once(&self, line: &str) {
        if !self.said.swap(true, Ordering::Relaxed) {
            crate::handle::notices::stderr(format_args!("{line}"));
        }
    }
}

/// A connection the transport may give requests to.
#[derive(Debug)]
struct Open {
    jobs: mpsc::UnboundedSender<Job>,
    state: Arc<State>,
}

/// The pipelined transport: its connections, every request's head, and
/// the answers of all connections, in one channel.
#[derive(Debug)]
pub(crate) struct Pipelined {
    target: Arc<Target>,
    answers: mpsc::UnboundedSender<Answered>,
    answered: mpsc::UnboundedReceiver<Answered>,
    /// Each kind's request line and headers, up to `content-length: `.
    heads: [Arc<[u8]>; 2],
    open: Vec<Open>,
    /// Where the next search for a connection with room begins.
    next: usize,
    /// The most connections while the server answers one at a time.
    max_serial: usize,
}

impl Pipelined {
    /// The transport for `endpoints`, when it can take them: plain
    /// `http://` to one host and port, no proxy.
    pub(crate) fn for_endpoints(
        endpoints: &Endpoints,
        headers: &HeaderMap,
        options: &ClientOptions,
        max_concurrent: usize,
    ) -> Option<Pipelined> {
        let address = |url: &Url| {
            Some(format!(
                "{}:{}",
                url.host_str()?,
                url.port_or_known_default()?
            ))
        };
        let (event, activity) = (&endpoints.event, &endpoints.activity);
        let plain = event.scheme() == "http" && activity.scheme() == "http";
        let same = address(event) == address(activity);
        if !plain || !same || options.proxy.is_some() || proxy_in_environment() {
            return None;
        }
        let (answers, answered) = mpsc::unbounded_channel();
        Some(Pipelined {
            answers,
            answered,
            target: Arc::new(Target {
                address: address(event)?,
                connect_timeout: options.connect_timeout,
                request_timeout: options.request_timeout,
                serial: AtomicBool::new(false),
                said: AtomicBool::new(false),
                pipelines: AtomicBool::new(false),
            }),
            heads: [head(event, headers), head(activity, headers)],
            open: Vec::new(),
            next: 0,
            max_serial: max_concurrent.clamp(1, MAX_SERIAL_CONNECTIONS),
        })
    }

    /// Gives request `id` to a connection; its answer comes from
    /// [`next_answer`](Self::next_answer).
    pub(crate) fn post(&mut self, id: u64, kind: Kind, body: Bytes) {
        let head = match kind {
            Kind::Event => Arc::clone(&self.heads[0]),
            Kind::Activity => Arc::clone(&self.heads[1]),
        };
        let mut job = Job { id, head, body };
        // Each try closes a connection or succeeds: bounded.
        for _ in 0..=self.open.len() + 1 {
            let open = self.pick();
            open.state.unanswered.fetch_add(1, Ordering::Relaxed);
            match open.jobs.send(job) {
                Ok(()) => return,
                Err(mpsc::error::SendError(back)) => {
                    open.state.unanswered.fetch_sub(1, Ordering::Relaxed);
                    open.state.closed.store(true, Ordering::Relaxed);
                    job = back;
                }
            }
        }
        let why = "no connection took the request".to_owned();
        let outcome = Outcome::Unavailable { after: None, why };
        let rtt = Duration::ZERO;
        let _ = self.answers.send(Answered { id, outcome, rtt });
    }

    /// The next answer of any connection.
    pub(crate) async fn next_answer(&mut self) -> Answered {
        match self.answered.recv().await {
            Some(answered) => answered,
            // The transport holds a sender: the channel never closes.
            None => std::future::pending().await,
        }
    }

    /// The connection for the next request: the first with room in its
    /// window from where the last search ended (closed ones forgotten on
    /// the way, at most [`LOOK_AT`] looked at), a new one while there may
    /// be more, or the next one.
    fn pick(&mut self) -> &Open {
        let serial = self.target.is_serial();
        let max = if serial {
            self.max_serial
        } else {
            MAX_CONNECTIONS
        };
        let busy = |o: &Open| o.state.unanswered.load(Ordering::Relaxed);
        let mut room = None;
        let mut looked = 0;
        while looked < self.open.len().min(LOOK_AT) {
            let i = (self.next + looked) % self.open.len();
            if self.open[i].state.closed.load(Ordering::Relaxed) {
                self.open.swap_remove(i);
                continue;
            }
            if busy(&self.open[i]) < self.open[i].state.window(&self.target) {
                room = Some(i);
                break;
            }
            looked += 1;
        }
        let index = match room {
            Some(i) => i,
            None if self.open.len() >= max => (self.next + 1) % self.open.len(),
            None => {
                let (jobs, receiver) = mpsc::unbounded_channel();
                let state = Arc::new(State::default());
                let target = Arc::clone(&self.target);
                let answers = self.answers.clone();
                tokio::spawn(connection::run(
                    target,
                    receiver,
                    Arc::clone(&state),
                    answers,
                ));
                self.open.push(Open { jobs, state });
                self.open.len() - 1
            }
        };
        self.next = index;
        &self.open[index]
    }
}

/// The request line and headers of a POST to `url`, up to the value of
/// `content-length`: those reqwest sends, in the same form.
fn head(url: &Url, headers: &HeaderMap) -> Arc<[u8]> {
    let mut head = Vec::new();
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    head.extend_from_slice(format!("POST {path} HTTP/1.1\r\n").as_bytes());
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => head.extend_from_slice(format!("host: {host}:{port}\r\n").as_bytes()),
        None => head.extend_from_slice(format!("host: {host}\r\n").as_bytes()),
    }
    for (name, value) in headers {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"accept: */*\r\ncontent-length: ");
    head.into()
}

/// Whether a proxy variable reqwest reads is set: then reqwest sends.
fn proxy_in_environment() -> bool {
    ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}
