//! Shared pieces of the comparison benchmarks: the contenders, a local HTTP
//! sink that discards what it receives, an OpenTelemetry exporter that
//! discards, and the plain-channel reference.
//!
//! Everything listens on and sends to 127.0.0.1 only.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter,
};
use tracing::{Dispatch, Level};
use tracing_jkool::{JKoolHandle, JKoolLayer};
use tracing_jkool_collector::Collector;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

/// Queue capacity given to tracing-jkool and to the reference channel in
/// the hot-path benchmarks: large, so they measure the hot path, not drops.
pub const BIG_QUEUE: usize = 1_000_000;

/// Operations timed between two [`Running::settle`] calls; well under
/// [`BIG_QUEUE`].
pub const CHUNK: u64 = 100_000;

/// A queue this short counts as drained: less than tracing-jkool's
/// `retry_buffer` (10,000), so a final `flush` never has to drop.
pub const SETTLED: u64 = 1_000;

/// The level every contender that has one is configured with.
pub const MAX_LEVEL: Level = Level::INFO;

// ---------------------------------------------------------------------------
// A local HTTP sink
// ---------------------------------------------------------------------------

/// An HTTP/1.1 server on 127.0.0.1 that reads every request, throws the
/// body away and answers `204 No Content`. It counts requests and body
/// bytes. Unlike the crate's [`Collector`] it keeps nothing, so millions of
/// items from a benchmark cost it neither memory nor JSON parsing.
pub struct DiscardSink {
    addr: SocketAddr,
    counts: Arc<SinkCounts>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct SinkCounts {
    requests: AtomicU64,
    body_bytes: AtomicU64,
}

impl DiscardSink {
    /// Starts the sink on a port chosen by the OS; or, when `DISCARD_URL`
    /// names a sink already running in another process (as the
    /// instruction counts use, so that the sink's own work is not counted),
    /// stands for that one and counts nothing.
    pub fn start() -> std::io::Result<Self> {
        if let Ok(url) = std::env::var("DISCARD_URL") {
            let addr = url
                .trim_start_matches("http://")
                .parse()
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            return Ok(DiscardSink {
                addr,
                counts: Arc::default(),
                stop: Arc::new(AtomicBool::new(true)),
                accept: None,
            });
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(SinkCounts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let counts = counts.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("discard-sink".into())
                .spawn(move || {
                    for conn in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(conn) = conn else { continue };
                        let counts = counts.clone();
                        let _ = std::thread::Builder::new()
                            .name("discard-sink-conn".into())
                            .spawn(move || {
                                let _ = serve(conn, &counts);
                            });
                    }
                })?
        };
        Ok(DiscardSink {
            addr,
            counts,
            stop,
            accept: Some(accept),
        })
    }

    /// A sink for another process, as `instructions sink` and `cpu sink`
    /// run one, so that its work is not counted: prints its URL on
    /// stdout, then serves until the process is killed.
    pub fn serve_for_another_process() -> std::io::Result<std::convert::Infallible> {
        let sink = DiscardSink::start()?;
        println!("{}", sink.url());
        loop {
            std::thread::park();
        }
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.counts.requests.load(Ordering::Relaxed)
    }

    /// Body bytes received so far.
    pub fn body_bytes(&self) -> u64 {
        self.counts.body_bytes.load(Ordering::Relaxed)
    }
}

impl Drop for DiscardSink {
    fn drop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return; // another process's sink
        };
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        let _ = accept.join();
    }
}

/// Serves one keep-alive connection until the client closes it.
fn serve(conn: TcpStream, counts: &SinkCounts) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::with_capacity(64 * 1024, conn);
    let mut line = String::new();
    let mut scratch = vec![0u8; 64 * 1024];
    loop {
        // Request line; end of stream means the client closed.
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line.trim().is_empty() {
            continue;
        }
        let mut content_length = 0u64;
        let mut chunked = false;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("transfer-encoding")
                    && value.to_ascii_lowercase().contains("chunked")
                {
                    chunked = true;
                }
            }
        }
        let body = if chunked {
            discard_chunked(&mut reader, &mut line, &mut scratch)?
        } else {
            discard_exact(&mut reader, content_length, &mut scratch)?;
            content_length
        };
        counts.requests.fetch_add(1, Ordering::Relaxed);
        counts.body_bytes.fetch_add(body, Ordering::Relaxed);
        writer.write_all(b"HTTP/1.1 204 No Content\r\n\r\n")?;
    }
}

fn discard_exact(reader: &mut impl Read, mut n: u64, scratch: &mut [u8]) -> std::io::Result<()> {
    while n > 0 {
        let want = scratch.len().min(n as usize);
        let got = reader.read(&mut scratch[..want])?;
        if got == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        n -= got as u64;
    }
    Ok(())
}

fn discard_chunked(
    reader: &mut BufReader<TcpStream>,
    line: &mut String,
    scratch: &mut [u8],
) -> std::io::Result<u64> {
    let mut total = 0;
    loop {
        line.clear();
        reader.read_line(line)?;
        let size = line.trim().split(';').next().unwrap_or("0");
        let size = u64::from_str_radix(size, 16).unwrap_or(0);
        if size == 0 {
            // Trailers, up to the empty line.
            loop {
                line.clear();
                if reader.read_line(line)? == 0 || line.trim().is_empty() {
                    return Ok(total);
                }
            }
        }
        discard_exact(reader, size, scratch)?;
        total += size;
        line.clear();
        reader.read_line(line)?; // CRLF after the chunk
    }
}

// ---------------------------------------------------------------------------
// OpenTelemetry: an exporter that discards
// ---------------------------------------------------------------------------

/// A [`SpanExporter`] that drops every batch and counts the spans.
#[derive(Debug, Clone, Default)]
pub struct NullExporter {
    spans: Arc<AtomicU64>,
}

impl NullExporter {
    /// Spans exported (and discarded) so far.
    pub fn spans(&self) -> u64 {
        self.spans.load(Ordering::Relaxed)
    }
}

impl SpanExporter for NullExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.spans.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The reference: a struct on a bounded channel
// ---------------------------------------------------------------------------

/// What the reference sends: a String and three numbers.
#[derive(Debug)]
pub struct Order {
    /// The message.
    pub message: String,
    /// A number.
    pub order_no: u64,
    /// Another.
    pub amount: f64,
    /// And a third.
    pub line: u32,
}

/// A bounded tokio mpsc channel drained by its own thread.
pub struct RefChannel {
    tx: tokio::sync::mpsc::Sender<Order>,
    failed: AtomicU64,
    drainer: Option<JoinHandle<u64>>,
}

impl RefChannel {
    /// A channel of `capacity` and its draining thread, which waits in
    /// `blocking_recv`.
    pub fn start(capacity: usize) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Order>(capacity);
        let drainer = std::thread::Builder::new()
            .name("ref-drain".into())
            .spawn(move || {
                let mut n = 0u64;
                while let Some(order) = rx.blocking_recv() {
                    std::hint::black_box(order);
                    n += 1;
                }
                n
            })
            .expect("spawn the draining thread");
        RefChannel {
            tx,
            failed: AtomicU64::new(0),
            drainer: Some(drainer),
        }
    }

    /// Builds an [`Order`] and `try_send`s it; counts a full channel.
    #[inline]
    pub fn send(&self, order_no: u64, amount: f64) {
        let order = Order {
            message: String::from("order processed"),
            order_no,
            amount,
            line: line!(),
        };
        if self.tx.try_send(order).is_err() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Items waiting in the channel.
    pub fn len(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Whether the channel is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Closes the channel, waits for the drainer; returns (received, failed).
    pub fn finish(mut self) -> (u64, u64) {
        let failed = self.failed.load(Ordering::Relaxed);
        let drainer = self.drainer.take();
        drop(self);
        let received = drainer.map(|d| d.join().unwrap_or(0)).unwrap_or(0);
        (received, failed)
    }
}

// ---------------------------------------------------------------------------
// The contenders
// ---------------------------------------------------------------------------

/// Who is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    /// `tracing_subscriber::registry()` with no layer: the floor.
    Registry,
    /// The fmt layer in JSON, writing to `std::io::sink()` on the emitting
    /// thread.
    FmtJson,
    /// The fmt JSON layer writing through tracing-appender's `non_blocking`
    /// to `std::io::sink()`.
    NonBlocking,
    /// tracing-loki, its background task on a tokio runtime, posting to a
    /// [`DiscardSink`].
    Loki,
    /// tracing-opentelemetry with the SDK's batch span processor and
    /// [`NullExporter`].
    Otel,
    /// tracing-jkool with `.level(INFO)`, posting to a [`DiscardSink`] (or to
    /// the crate's [`Collector`] when `JKOOL_SINK=collector`).
    JKool,
    /// The same, with a `LevelFilter::INFO` per-layer filter as well, like
    /// the other contenders (an extra, not in the list).
    JKoolFiltered,
    /// No tracing: a struct `try_send` on a bounded tokio channel that
    /// another thread drains.
    Channel,
}

impl Contender {
    /// All of them, in the order they are run and printed.
    pub const ALL: [Contender; 8] = [
        Contender::Registry,
        Contender::FmtJson,
        Contender::NonBlocking,
        Contender::Loki,
        Contender::Otel,
        Contender::JKool,
        Contender::JKoolFiltered,
        Contender::Channel,
    ];

    /// The benchmark id.
    pub fn name(self) -> &'static str {
        match self {
            Contender::Registry => "registry",
            Contender::FmtJson => "fmt_json",
            Contender::NonBlocking => "non_blocking",
            Contender::Loki => "loki",
            Contender::Otel => "otel",
            Contender::JKool => "jkool",
            Contender::JKoolFiltered => "jkool_filtered",
            Contender::Channel => "channel",
        }
    }
}

/// A contender set up and running: its dispatcher (none for the channel)
/// and what to do afterwards.
pub struct Running {
    /// The subscriber to run the workload under; `None` for the channel.
    pub dispatch: Option<Dispatch>,
    /// The reference channel, for [`Contender::Channel`].
    pub channel: Option<RefChannel>,
    teardown: Teardown,
}

enum Teardown {
    Nothing,
    NonBlocking {
        guard: tracing_appender::non_blocking::WorkerGuard,
        errors: tracing_appender::non_blocking::ErrorCounter,
    },
    Loki {
        runtime: tokio::runtime::Runtime,
        controller: tracing_loki::BackgroundTaskController,
        task: tokio::task::JoinHandle<()>,
        sink: DiscardSink,
    },
    Otel {
        provider: SdkTracerProvider,
        exporter: NullExporter,
    },
    JKool {
        handle: JKoolHandle,
        sink: JKoolSink,
    },
}

/// Where tracing-jkool sends in the hot-path benchmarks.
pub enum JKoolSink {
    /// The discarding sink (the default).
    Discard(DiscardSink),
    /// The crate's collector, which keeps and parses every item.
    Collector(Collector),
}

impl JKoolSink {
    fn start() -> std::io::Result<Self> {
        if std::env::var("JKOOL_SINK").as_deref() == Ok("collector") {
            Ok(JKoolSink::Collector(Collector::start()?))
        } else {
            Ok(JKoolSink::Discard(DiscardSink::start()?))
        }
    }

    fn url(&self) -> String {
        match self {
            JKoolSink::Discard(sink) => sink.url(),
            JKoolSink::Collector(collector) => collector.url(),
        }
    }
}

/// A level filter for the layers that have no level setting of their own.
fn info() -> LevelFilter {
    LevelFilter::from_level(MAX_LEVEL)
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Running {
    /// Sets `contender` up.
    pub fn start(contender: Contender) -> Result<Self, BoxError> {
        let registry = tracing_subscriber::registry();
        let mut channel = None;
        let (dispatch, teardown) = match contender {
            Contender::Registry => (Some(Dispatch::new(registry)), Teardown::Nothing),
            Contender::FmtJson => {
                let layer = tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::sink)
                    .with_filter(info());
                (Some(Dispatch::new(registry.with(layer))), Teardown::Nothing)
            }
            Contender::NonBlocking => {
                let (writer, guard) = tracing_appender::non_blocking(std::io::sink());
                let errors = writer.error_counter();
                let layer = tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(writer)
                    .with_filter(info());
                (
                    Some(Dispatch::new(registry.with(layer))),
                    Teardown::NonBlocking { guard, errors },
                )
            }
            Contender::Loki => {
                let sink = DiscardSink::start()?;
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("loki-rt")
                    .enable_all()
                    .build()?;
                let (layer, controller, task) = tracing_loki::builder()
                    .label("service", "bench")?
                    .build_controller_url(tracing_loki::url::Url::parse(&sink.url())?)?;
                let task = runtime.spawn(task);
                (
                    Some(Dispatch::new(registry.with(layer.with_filter(info())))),
                    Teardown::Loki {
                        runtime,
                        controller,
                        task,
                        sink,
                    },
                )
            }
            Contender::Otel => {
                let exporter = NullExporter::default();
                let processor = BatchSpanProcessor::builder(exporter.clone())
                    .with_batch_config(BatchConfigBuilder::default().build())
                    .build();
                let provider = SdkTracerProvider::builder()
                    .with_span_processor(processor)
                    .build();
                let tracer = provider.tracer("bench");
                let layer = tracing_opentelemetry::layer()
                    .with_tracer(tracer)
                    .with_filter(info());
                (
                    Some(Dispatch::new(registry.with(layer))),
                    Teardown::Otel { provider, exporter },
                )
            }
            Contender::JKool | Contender::JKoolFiltered => {
                let sink = JKoolSink::start()?;
                // JKOOL_FRAMING (object, lines, array) picks the framing;
                // the default is the library's.
                let framing = match std::env::var("JKOOL_FRAMING") {
                    Ok(name) => name.parse()?,
                    Err(_) => tracing_jkool::Framing::default(),
                };
                let mut builder = JKoolLayer::builder("bench-token")
                    .url(sink.url())
                    .framing(framing)
                    .level(MAX_LEVEL)
                    .queue_capacity(BIG_QUEUE);
                // JKOOL_SAMPLE_RATIO: with a sampler, at that ratio (0 leaves
                // every trace out), to compare what a left-out span costs.
                if let Ok(ratio) = std::env::var("JKOOL_SAMPLE_RATIO") {
                    let ratio: f64 = ratio.parse()?;
                    builder = builder.sampler(tracing_jkool::Sampler::ratio(ratio));
                }
                // JKOOL_SEND_SENSITIVE_FIELDS=1: redaction off (nothing
                // else is redacted), to compare what it costs.
                if std::env::var("JKOOL_SEND_SENSITIVE_FIELDS").as_deref() == Ok("1") {
                    builder = builder.send_sensitive_fields(true);
                }
                let layer = builder.build()?;
                let handle = layer.handle();
                let dispatch = if contender == Contender::JKoolFiltered {
                    Dispatch::new(registry.with(layer.with_filter(info())))
                } else {
                    Dispatch::new(registry.with(layer))
                };
                (Some(dispatch), Teardown::JKool { handle, sink })
            }
            Contender::Channel => {
                channel = Some(RefChannel::start(BIG_QUEUE));
                (None, Teardown::Nothing)
            }
        };
        Ok(Running {
            dispatch,
            channel,
            teardown,
        })
    }

    /// Whether [`settle`](Self::settle) has a queue to wait on: then a
    /// measurement is cut into chunks of [`CHUNK`] operations with the queue
    /// drained between them (outside the timed region), so every chunk finds
    /// room and measures the hot path, not drops.
    pub fn has_queue(&self) -> bool {
        self.channel.is_some() || matches!(self.teardown, Teardown::JKool { .. })
    }

    /// Waits (up to a minute) until the contender's queue is nearly empty:
    /// tracing-jkool's `pending` (queued, held or in flight) or the
    /// reference channel's length at most [`SETTLED`]. Does nothing for the
    /// others.
    pub fn settle(&self) {
        let depth = || -> u64 {
            if let Some(channel) = &self.channel {
                return channel.len() as u64;
            }
            match &self.teardown {
                Teardown::JKool { handle, .. } => handle.stats().pending,
                _ => 0,
            }
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while depth() > SETTLED && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Stops the contender's background work and says what became of the
    /// `ops` operations measured (emitted items, for those that send).
    pub fn finish(self, ops: u64) -> Report {
        let Running {
            dispatch,
            channel,
            teardown,
        } = self;
        drop(dispatch);
        let mut report = Report(format!("ops run (warm-up and measurement) {ops}"));
        if let Some(channel) = channel {
            let (received, failed) = channel.finish();
            report.add(format_args!(
                "received {received}, try_send failed {failed}"
            ));
        }
        match teardown {
            Teardown::Nothing => {}
            Teardown::NonBlocking { guard, errors } => {
                drop(guard); // flushes what is buffered
                report.add(format_args!("lines dropped {}", errors.dropped_lines()));
            }
            Teardown::Loki {
                runtime,
                controller,
                task,
                sink,
            } => {
                runtime.block_on(async {
                    controller.shutdown().await;
                    let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
                report.add(format_args!(
                    "sink got {} requests, {} body bytes (snappy protobuf; drops are not counted by tracing-loki)",
                    sink.requests(),
                    sink.body_bytes()
                ));
            }
            Teardown::Otel { provider, exporter } => {
                let _ = provider.force_flush();
                let _ = provider.shutdown();
                report.add(format_args!("spans exported {}", exporter.spans()));
            }
            Teardown::JKool { handle, sink } => {
                // Let the backlog go out by itself first: `flush` moves the
                // whole queue into the worker's retry buffer at once, and
                // drops what does not fit (see README.md).
                let settle_started = std::time::Instant::now();
                let deadline = settle_started + Duration::from_secs(120);
                while handle.stats().pending > SETTLED && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let started = std::time::Instant::now();
                let flushed = handle.flush(Duration::from_secs(120));
                let waited = started.elapsed();
                let s = handle.stats();
                report.add(format_args!(
                    "queued {}, sent {}, dropped {}, failed {}, batches {}, bytes {}; backlog flushed in {:.2?}{}",
                    s.queued,
                    s.sent,
                    s.dropped,
                    s.failed,
                    s.batches,
                    s.bytes_sent,
                    waited,
                    match flushed {
                        Ok(()) => String::new(),
                        Err(e) => format!(" (flush: {e})"),
                    }
                ));
                let _ = handle.shutdown(Duration::from_secs(10));
                if let JKoolSink::Discard(sink) = &sink {
                    report.add(format_args!("sink got {} requests", sink.requests()));
                }
                drop(sink);
            }
        }
        report
    }
}

/// What a contender did with the operations measured.
pub struct Report(String);

impl Report {
    fn add(&mut self, part: fmt::Arguments<'_>) {
        self.0.push_str("; ");
        self.0.push_str(&part.to_string());
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A TCP proxy on 127.0.0.1 that holds every chunk it relays for `delay`,
/// each way: a network round trip of twice `delay`. Unlike a server's think
/// time, it does not make requests on one connection wait for each other.
pub struct DelayProxy {
    addr: SocketAddr,
    /// The delay each way, in microseconds; changed by `set_delay`.
    delay: Arc<AtomicU64>,
}

impl DelayProxy {
    /// Starts relaying to `upstream` (`http://host:port`).
    pub fn start(upstream: &str, delay: Duration) -> std::io::Result<Self> {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(AtomicU64::new(delay.as_micros() as u64));
        let delay = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("delay-proxy".into())
            .spawn(move || {
                for client in listener.incoming() {
                    let Ok(client) = client else { continue };
                    let Ok(server) = TcpStream::connect(upstream) else {
                        continue;
                    };
                    let _ = (client.set_nodelay(true), server.set_nodelay(true));
                    for (from, to) in [(&client, &server), (&server, &client)] {
                        if let (Ok(from), Ok(to)) = (from.try_clone(), to.try_clone()) {
                            let delay = Arc::clone(&delay);
                            std::thread::spawn(move || relay(from, to, &delay));
                        }
                    }
                }
            })?;
        Ok(DelayProxy {
            addr,
            delay: shared,
        })
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on, holds each chunk read for `delay` each way; chunks
    /// still leave in the order they came.
    pub fn set_delay(&self, delay: Duration) {
        self.delay
            .store(delay.as_micros() as u64, Ordering::Relaxed);
    }
}

/// Copies `from` to `to`, each chunk `delay` after it was read.
fn relay(mut from: TcpStream, mut to: TcpStream, delay: &AtomicU64) {
    let (chunks, delayed) = std::sync::mpsc::channel::<(std::time::Instant, Vec<u8>)>();
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = from.read(&mut buf) {
                let hold = Duration::from_micros(delay.load(Ordering::Relaxed));
                if n == 0
                    || chunks
                        .send((std::time::Instant::now() + hold, buf[..n].to_vec()))
                        .is_err()
                {
                    break;
                }
            }
        });
        for (due, chunk) in delayed {
            if let Some(wait) = due.checked_duration_since(std::time::Instant::now()) {
                std::thread::sleep(wait);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
        let _ = reader.join();
    });
}
