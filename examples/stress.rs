//! A stress run: 1,000,000 events from 4 threads while the collector is
//! down, then the collector comes back and the capped remainder is
//! delivered. Prints peak memory, the slowest single emit and the counters.
//!
//! ```text
//! cargo run --release --example stress
//! ```

mod common;

use std::time::{Duration, Instant};

use tracing::info;
use tracing_jkool::JKoolLayer;
use tracing_jkool_collector::Collector;
use tracing_subscriber::prelude::*;

const THREADS: usize = 4;
const PER_THREAD: usize = 250_000;

/// Peak resident memory of this process in KiB (Linux), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> std::process::ExitCode {
    common::report(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // A port with nothing on it: the collector is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let layer = JKoolLayer::builder("stress-token")
        .url(format!("http://127.0.0.1:{port}"))
        .queue_capacity(10_000)
        .retry_buffer(10_000)
        .max_retry_wait(Duration::from_millis(500))
        .build()?;
    let jkool = layer.handle();
    tracing_subscriber::registry().with(layer).init();
    println!("rss before: {} KiB", peak_rss_kib().unwrap_or(0));

    let started = Instant::now();
    let slowest = std::thread::scope(|s| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let mut slowest = Duration::ZERO;
                    for i in 0..PER_THREAD {
                        let at = Instant::now();
                        info!(thread = t, i, amount = 12.5, "order processed");
                        slowest = slowest.max(at.elapsed());
                    }
                    slowest
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().unwrap_or_default())
            .max()
            .unwrap_or_default()
    });
    let elapsed = started.elapsed();
    let total = THREADS * PER_THREAD;
    println!(
        "emitted {total} events from {THREADS} threads in {elapsed:.2?} ({:.0} ns/event/thread)",
        elapsed.as_nanos() as f64 * THREADS as f64 / total as f64
    );
    println!("slowest single emit: {slowest:?}");
    println!(
        "peak rss during the outage: {} KiB",
        peak_rss_kib().unwrap_or(0)
    );
    println!("during the outage: {:?}", jkool.stats());

    let collector = Collector::builder()
        .token("stress-token")
        .port(port)
        .start()?;
    let flushed = jkool.flush(Duration::from_secs(60));
    let stats = jkool.stats();
    println!("collector back: flush {flushed:?}");
    println!("after delivery: {stats:?}");
    println!(
        "delivered {} items; sent + dropped + failed = {} of {total}",
        collector.items().len(),
        stats.sent + stats.dropped + stats.failed
    );
    println!("peak rss overall: {} KiB", peak_rss_kib().unwrap_or(0));
    Ok(())
}
