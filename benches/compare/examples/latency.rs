//! Throughput and delay at real network latency, for each framing: the
//! highest steady rate of events that tracing-jkool delivers with nothing
//! dropped, evicted or failed and every event at the collector within
//! 1.5 s of its emission, with default settings otherwise, against the
//! workspace's collector answering each request after 20, 50 and 100 ms
//! (a stand-in for jKool's round trip); then the slowest event at a low
//! rate (100 events/s at 50 ms).
//!
//! ```text
//! cd benches/compare && cargo run --release --example latency [object|lines|array]... [proxy]
//! cd benches/compare && cargo run --release --example latency spike
//! cd benches/compare && cargo run --release --example latency busy
//! ```
//!
//! With `proxy`, the round trip is network delay instead: the collector
//! answers at once, behind a proxy that holds every chunk half the round
//! trip each way ([`DelayProxy`](tracing_jkool_compare::DelayProxy)), so
//! that requests written back to back on one connection are not made to
//! wait for each other as a server's think time makes them.
//!
//! With `spike`, one run instead: 2,000 events/s through the delay proxy
//! for 18 s, the round trip 20 ms, then 2 s for 10 s, then 20 ms again;
//! it prints what was lost, the arrivals per second while the round trip
//! was 2 s (they keep up with emission when the limit grows with the
//! round trip), and the highest concurrency limit.
//!
//! With `busy`, one run beside two processes that spin on the 2 cores:
//! 2,000 events/s for 5 s through the delay proxy at a 20 ms round trip,
//! then a flush of at most 10 s; it prints what arrived and how long after
//! the last emission.
//!
//! Each RTT tries rising rates, 4 s each, from one emitting thread paced
//! in 1 ms ticks, and stops at the first rate that loses anything or is
//! late. An event's delay is from its `time-usec` to the arrival of the
//! request that carried it. Nothing is sent anywhere but 127.0.0.1.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tracing::info;
use tracing_jkool::{Framing, JKoolLayer};
use tracing_jkool_collector::Collector;
use tracing_subscriber::prelude::*;

const RUN: Duration = Duration::from_secs(4);
const ON_TIME: Duration = Duration::from_millis(1_500);

/// What one run saw.
struct Run {
    emitted: u64,
    sent: u64,
    lost: u64,
    slowest: Duration,
    peak_in_flight: usize,
}

/// Emits `rate` events/s for `length` against a collector with `rtt`.
fn run(framing: Framing, rtt: Duration, proxy: bool, rate: u64, length: Duration) -> Run {
    let think = if proxy { Duration::ZERO } else { rtt };
    let collector = Collector::builder()
        .latency(think)
        .keep_bodies(true)
        .start()
        .expect("collector on 127.0.0.1");
    let delay = proxy.then(|| {
        tracing_jkool_compare::DelayProxy::start(&collector.url(), rtt / 2).expect("proxy")
    });
    let url = delay.as_ref().map_or_else(|| collector.url(), |d| d.url());
    let layer = JKoolLayer::builder("bench")
        .url(url)
        .framing(framing)
        .build()
        .expect("layer");
    let handle = layer.handle();
    let subscriber = tracing_subscriber::registry().with(layer);
    let start = Instant::now();
    let start_wall = SystemTime::now();
    let mut emitted = 0u64;
    tracing::subscriber::with_default(subscriber, || {
        for tick in 0..length.as_millis() as u64 {
            tick_at(start, tick, rate, &mut emitted);
        }
    });
    let (stats, lost) = finish(&handle);
    let slowest = slowest(&collector, start, start_wall);
    let peak_in_flight = collector.peak_in_flight();
    collector.shutdown();
    Run {
        emitted,
        sent: stats.sent,
        lost,
        slowest,
        peak_in_flight,
    }
}

/// Millisecond `tick` of a run at `rate` events/s begun at `start`: emits
/// what is due by its end, spread evenly (`rate` need not be a multiple of
/// 1,000), then sleeps until it ends.
fn tick_at(start: Instant, tick: u64, rate: u64, emitted: &mut u64) {
    let due = rate * (tick + 1) / 1000;
    while *emitted < due {
        info!(order_no = *emitted, amount = 12.5, "order processed");
        *emitted += 1;
    }
    let next = start + Duration::from_millis(tick + 1);
    if let Some(wait) = next.checked_duration_since(Instant::now()) {
        std::thread::sleep(wait);
    }
}

/// Flushes and shuts down; the stats, and what was lost (dropped, evicted,
/// failed, or a flush that did not end).
fn finish(handle: &tracing_jkool::JKoolHandle) -> (tracing_jkool::Stats, u64) {
    let flushed = handle.flush(Duration::from_secs(30));
    let stats = handle.stats();
    let lost = stats.dropped + stats.evicted + stats.failed + u64::from(flushed.is_err());
    let _ = handle.shutdown(Duration::from_secs(5));
    (stats, lost)
}

/// The longest time from an event's `time-usec` to the arrival of the
/// request that carried it.
fn slowest(collector: &Collector, start: Instant, start_wall: SystemTime) -> Duration {
    let since_epoch = |wall: SystemTime| wall.duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut slowest = Duration::ZERO;
    for request in collector.requests() {
        let Some(body) = &request.body else { continue };
        let arrived = since_epoch(start_wall) + request.at.duration_since(start);
        let items: Vec<serde_json::Value> = match serde_json::from_slice(body) {
            Ok(serde_json::Value::Array(items)) => items,
            _ => (body.split(|b| *b == b'\n'))
                .filter_map(|line| serde_json::from_slice(line).ok())
                .collect(),
        };
        for item in items {
            let Some(usec) = item["time-usec"].as_u64() else {
                continue;
            };
            let delay = arrived.saturating_sub(Duration::from_micros(usec));
            slowest = slowest.max(delay);
        }
    }
    slowest
}

/// The `spike` run: see the module's docs.
fn spike() {
    const RATE: u64 = 2_000;
    let phases = [(20, 3_000), (2_000, 10_000), (20, 5_000)];
    let collector = Collector::builder()
        .keep_bodies(true)
        .start()
        .expect("collector on 127.0.0.1");
    let delay =
        tracing_jkool_compare::DelayProxy::start(&collector.url(), Duration::from_millis(10))
            .expect("proxy");
    let layer = JKoolLayer::builder("bench")
        .url(delay.url())
        .build()
        .expect("layer");
    let handle = layer.handle();
    let subscriber = tracing_subscriber::registry().with(layer);
    let start = Instant::now();
    let start_wall = SystemTime::now();
    let mut emitted = 0u64;
    let mut peak_limit = 0;
    tracing::subscriber::with_default(subscriber, || {
        let mut tick = 0u64;
        for (rtt_ms, length_ms) in phases {
            delay.set_delay(Duration::from_millis(rtt_ms / 2));
            for _ in 0..length_ms {
                peak_limit = peak_limit.max(handle.stats().concurrency_limit);
                tick_at(start, tick, RATE, &mut emitted);
                tick += 1;
            }
        }
    });
    let (stats, lost) = finish(&handle);
    // Arrivals in the spike's last 8 s: its first 2 s are one round trip.
    let (from, to) = (Duration::from_secs(5), Duration::from_secs(13));
    let arrived = collector
        .requests()
        .iter()
        .filter(|r| (from..to).contains(&r.at.duration_since(start)))
        .count();
    let per_second = arrived as f64 / (to - from).as_secs_f64();
    let slowest = slowest(&collector, start, start_wall);
    collector.shutdown();
    println!("| emitted | sent | lost | arrivals/s while the round trip was 2 s | slowest event | highest limit |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {emitted} | {} | {lost} | {per_second:.0} | {} ms | {peak_limit} |",
        stats.sent,
        slowest.as_millis()
    );
}

/// The `busy` run: see the module's docs.
fn busy() {
    let exe = std::env::current_exe().expect("this program");
    let mut spinners: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(&exe)
                .arg("spin")
                .spawn()
                .expect("a spinning process")
        })
        .collect();
    let r = run(
        Framing::Object,
        Duration::from_millis(20),
        true,
        2_000,
        Duration::from_secs(5),
    );
    for spinner in &mut spinners {
        let _ = spinner.kill();
        let _ = spinner.wait();
    }
    println!("| emitted | sent | lost | slowest event |");
    println!("|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {} | {} ms |",
        r.emitted,
        r.sent,
        r.lost,
        r.slowest.as_millis()
    );
}

fn main() {
    if std::env::args().any(|a| a == "spin") {
        // A busy loop for `busy`, until killed.
        let mut x = 0u64;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
    if std::env::args().any(|a| a == "busy") {
        return busy();
    }
    if std::env::args().any(|a| a == "spike") {
        return spike();
    }
    let proxy = std::env::args().any(|a| a == "proxy");
    let framings: Vec<Framing> = std::env::args()
        .skip(1)
        .filter(|a| a != "proxy")
        .map(|name| name.parse().expect("object, lines or array"))
        .collect();
    let framings = match framings.is_empty() {
        true => vec![Framing::Object, Framing::Lines, Framing::Array],
        false => framings,
    };
    println!(
        "| framing | RTT | highest steady rate, nothing lost, all within 1.5 s | slowest event | peak requests in flight |"
    );
    println!("|---|---:|---:|---:|---:|");
    for &framing in &framings {
        let rates: &[u64] = match framing {
            Framing::Object => &[1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000],
            _ => &[5_000, 10_000, 20_000, 50_000, 100_000, 200_000],
        };
        for rtt_ms in [20, 50, 100] {
            let rtt = Duration::from_millis(rtt_ms);
            let mut best = None;
            for &rate in rates {
                let r = run(framing, rtt, proxy, rate, RUN);
                eprintln!(
                    "{framing:?}, rtt {rtt_ms} ms, {rate}/s: emitted {}, sent {}, lost {}, slowest {:?}, peak in flight {}",
                    r.emitted, r.sent, r.lost, r.slowest, r.peak_in_flight
                );
                if r.lost > 0 || r.sent != r.emitted || r.slowest > ON_TIME {
                    break;
                }
                best = Some((rate, r));
            }
            match best {
                Some((rate, r)) => println!(
                    "| {framing:?} | {rtt_ms} ms | {rate} events/s | {} ms | {} |",
                    r.slowest.as_millis(),
                    r.peak_in_flight
                ),
                None => println!(
                    "| {framing:?} | {rtt_ms} ms | below {} events/s | | |",
                    rates[0]
                ),
            }
        }
        let low = run(framing, Duration::from_millis(50), proxy, 100, RUN);
        println!(
            "| {framing:?} | 50 ms | 100 events/s (low rate) | {} ms | {} |",
            low.slowest.as_millis(),
            low.peak_in_flight
        );
    }
}
