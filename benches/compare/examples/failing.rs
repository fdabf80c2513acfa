//! Memory while jKool answers 500 to everything: 30,000 events at 5,000/s
//! from one thread, with default settings, against the workspace's
//! collector faulting every request. Prints the deepest `pending`
//! seen, the README's bound (queue + 64 + retry buffer), the process's
//! peak RSS and the counters. Linux only (RSS from /proc); nothing is sent
//! anywhere but 127.0.0.1.
//!
//! ```text
//! cd benches/compare && cargo run --release --example failing
//! ```

use std::time::{Duration, Instant};

use tracing::info;
use tracing_jkool::JKoolLayer;
use tracing_jkool_collector::{Collector, Fault};
use tracing_subscriber::prelude::*;

const EVENTS: u64 = 30_000;
const RATE: u64 = 5_000;

/// The process's peak resident set, in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let collector = Collector::start()?;
    collector.inject(Fault::status(500), usize::MAX);
    let layer = JKoolLayer::builder("bench").url(collector.url()).build()?;
    let handle = layer.handle();
    let subscriber = tracing_subscriber::registry().with(layer);
    println!("rss at start: {} KiB", peak_rss_kib().unwrap_or(0));
    let start = Instant::now();
    let mut deepest = 0;
    tracing::subscriber::with_default(subscriber, || {
        for n in 0..EVENTS {
            info!(n, amount = 12.5, "order processed");
            if n % (RATE / 100) == 0 {
                deepest = deepest.max(handle.stats().pending);
                let due = start + Duration::from_secs_f64(n as f64 / RATE as f64);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
        }
    });
    deepest = deepest.max(handle.stats().pending);
    let stats = handle.stats();
    println!(
        "deepest pending {deepest} (bound 10,000 + 64 + 10,000 = 20,064); peak rss {} KiB",
        peak_rss_kib().unwrap_or(0)
    );
    println!(
        "queued {}, dropped {}, evicted {}, retried {}, sent {}",
        stats.queued, stats.dropped, stats.evicted, stats.retried, stats.sent
    );
    let _ = handle.shutdown(Duration::from_millis(500));
    Ok(())
}
