//! Throughput at real network latency: the highest steady rate of events
//! that tracing-jkool delivers with nothing dropped, evicted or failed,
//! with default settings, against the workspace's collector answering each
//! request after 0, 20, 50 and 100 ms (a stand-in for jKool's round trip).
//!
//! ```text
//! cd benches/compare && cargo run --release --example latency
//! ```
//!
//! Each RTT tries rising rates, 4 s each, from one emitting thread paced
//! in 1 ms ticks, and stops at the first rate that loses anything. Nothing
//! is sent anywhere but 127.0.0.1.

use std::time::{Duration, Instant};

use tracing::info;
use tracing_jkool::JKoolLayer;
use tracing_jkool_collector::Collector;
use tracing_subscriber::prelude::*;

const RATES: [u64; 7] = [5_000, 10_000, 20_000, 50_000, 100_000, 150_000, 200_000];
const RUN: Duration = Duration::from_secs(4);

/// Emits `rate` events/s for [`RUN`] against a collector with `rtt`;
/// returns (emitted, delivered, lost, seconds to flush after the run).
fn run(rtt: Duration, rate: u64) -> (u64, u64, u64, f64) {
    let collector = Collector::builder()
        .latency(rtt)
        .start()
        .expect("collector on 127.0.0.1");
    let layer = JKoolLayer::builder("bench")
        .url(collector.url())
        .build()
        .expect("layer");
    let handle = layer.handle();
    let subscriber = tracing_subscriber::registry().with(layer);
    let per_tick = rate / 1000;
    let start = Instant::now();
    let mut emitted = 0u64;
    tracing::subscriber::with_default(subscriber, || {
        for tick in 0..RUN.as_millis() as u64 {
            for _ in 0..per_tick {
                info!(order_no = emitted, amount = 12.5, "order processed");
                emitted += 1;
            }
            let next = start + Duration::from_millis(tick + 1);
            if let Some(wait) = next.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    });
    let ended = Instant::now();
    let flushed = handle.flush(Duration::from_secs(30));
    let flush_secs = ended.elapsed().as_secs_f64();
    let stats = handle.stats();
    let lost = stats.dropped + stats.evicted + stats.failed + u64::from(flushed.is_err());
    let _ = handle.shutdown(Duration::from_secs(5));
    collector.shutdown();
    (emitted, stats.sent, lost, flush_secs)
}

fn main() {
    println!("| RTT | highest steady rate with nothing lost | delivered in that run | flush after the run |");
    println!("|---:|---:|---:|---:|");
    for rtt_ms in [0, 20, 50, 100] {
        let rtt = Duration::from_millis(rtt_ms);
        let mut best = None;
        for rate in RATES {
            let (emitted, sent, lost, flush) = run(rtt, rate);
            eprintln!("rtt {rtt_ms} ms, {rate}/s: emitted {emitted}, sent {sent}, lost {lost}, flush {flush:.2} s");
            if lost > 0 || sent != emitted {
                break;
            }
            best = Some((rate, sent, flush));
        }
        match best {
            Some((rate, sent, flush)) => {
                println!("| {rtt_ms} ms | {rate} events/s | {sent} of {sent} | {flush:.2} s |")
            }
            None => println!("| {rtt_ms} ms | below {} events/s | | |", RATES[0]),
        }
    }
}
