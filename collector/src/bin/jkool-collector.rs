//! `jkool-collector`: runs the mock jKool collector until Ctrl-C.

use std::error::Error;
use std::fs::OpenOptions;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use tracing_jkool_collector::Collector;

/// A mock jKool (meshIQ XRay) collector, for local development and tests.
///
/// It listens on 127.0.0.1 (unless --bind says otherwise), keeps every item
/// POSTed to it (one JSON object, a JSON array of objects, or NDJSON, on any
/// path such as /event or /activity), and serves a web view of them at /.
/// It prints the JKOOL_URL to point an application at, then runs until
/// Ctrl-C (or SIGTERM). Items are kept in memory only, unless --record.
#[derive(Debug, Parser)]
#[command(
    name = "jkool-collector",
    version,
    about,
    long_about,
    after_help = "Example:\n  jkool-collector --port 8085 --record items.ndjson\n  \
                  JKOOL_URL=http://127.0.0.1:8085 JKOOL_TOKEN=any ./my-app"
)]
struct Args {
    /// Port to listen on. The default is fixed, so JKOOL_URL stays the same
    /// across restarts; 0 lets the OS pick a free one.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    port: u16,

    /// Accept only requests whose X-API-Key or token header is TOKEN (others
    /// get 401). Without it, any token, or none, is accepted.
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,

    /// Delay every answer by this many milliseconds (an integer, optionally
    /// followed by "ms", e.g. 50 or 50ms), as a distant collector would.
    #[arg(long, value_name = "MS", value_parser = parse_millis, default_value = "0")]
    latency: Duration,

    /// Append every received item to FILE, one JSON object per line
    /// (created if needed, never truncated).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,

    /// Address to listen on: an IP address or a host name (localhost is
    /// 127.0.0.1; a name with several addresses listens on its first IPv4
    /// one). Anything but a loopback address (127.0.0.1, ::1) lets other
    /// machines send, and see the web view, which has no login.
    #[arg(long, value_name = "ADDR", value_parser = resolve_host,
          default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,
}

/// The port `--port` defaults to: the same JKOOL_URL after every restart.
const DEFAULT_PORT: u16 = 47031;

/// An IP address (`::1` or `[::1]` too), or a host name resolved by the
/// system (`localhost`): its first IPv4 address, else its first address.
fn resolve_host(text: &str) -> Result<IpAddr, String> {
    let host = text.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    let addrs: Vec<IpAddr> = (host, 0)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host:?}: {}", chain(&e)))?
        .map(|addr| addr.ip())
        .collect();
    addrs
        .iter()
        .find(|ip| ip.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{host:?} has no address"))
}

/// `50` or `50ms`: milliseconds.
fn parse_millis(text: &str) -> Result<Duration, String> {
    let digits = text.trim().strip_suffix("ms").unwrap_or(text).trim();
    digits
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("{text:?} is not a whole number of milliseconds (e.g. 50 or 50ms)"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("jkool-collector: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `error` and each of its sources, joined by ": ". A source whose text the
/// message already holds (an `io::Error` made with `format!("...: {e}")`)
/// is not repeated.
fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Why [`CollectorBuilder::start`](tracing_jkool_collector::CollectorBuilder::start)
/// failed, told in terms of the flags to change.
fn start_error(args: &Args, error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::AddrInUse => format!("port {} is in use; try --port 0", args.port),
        io::ErrorKind::AddrNotAvailable => format!("--bind {}: {}", args.bind, chain(error)),
        io::ErrorKind::PermissionDenied => format!("--port {}: {}", args.port, chain(error)),
        _ => format!(
            "cannot start on {}: {}",
            SocketAddr::new(args.bind, args.port),
            chain(error)
        ),
    }
}

fn run(args: Args) -> Result<(), String> {
    if let Some(path) = &args.record {
        // Opened here first, as the collector opens it (created if needed,
        // appended to), so that an error names the flag rather than the
        // library's `record_to`.
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("--record {}: {}", path.display(), chain(&e)))?;
    }
    let mut builder = Collector::builder()
        .bind(args.bind)
        .port(args.port)
        .latency(args.latency);
    if let Some(token) = &args.token {
        builder = builder.token(token.clone());
    }
    if let Some(path) = &args.record {
        builder = builder.record_to(path.clone());
    }
    // Waiting for a signal needs a runtime; the collector runs its own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot wait for Ctrl-C: {}", chain(&e)))?;
    let collector = builder.start().map_err(|e| start_error(&args, &e))?;

    let local = reachable(collector.addr());
    println!("mock jKool collector listening on {}", collector.addr());
    println!("point an application at it: JKOOL_URL=http://{local}");
    println!("web view: http://{local}/");
    match &args.token {
        Some(_) => println!("token: required (X-API-Key or token header)"),
        None => println!("token: any"),
    }
    if let Some(path) = &args.record {
        println!("recording items to {}", path.display());
    }
    if !args.bind.is_loopback() {
        eprintln!(
            "warning: listening on {}, not on loopback: other machines can send to it and \
             read everything it received in the web view, which has no login",
            args.bind
        );
    }
    println!("press Ctrl-C to stop");

    let signal = runtime.block_on(stop_signal());
    let items = collector.items().len();
    collector.shutdown();
    println!("stopped ({signal}); {items} item(s) received");
    Ok(())
}

/// The address to print for clients: a wildcard bind is reached locally on
/// loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => {
            (std::net::Ipv6Addr::LOCALHOST, addr.port()).into()
        }
        _ => addr,
    }
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM; names the one that came.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "Ctrl-C",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    match tokio::signal::ctrl_c().await {
        Ok(()) => "Ctrl-C",
        // No way to wait for Ctrl-C: the default handler ends the process
        // on it anyway, so wait forever.
        Err(_) => std::future::pending().await,
    }
}
