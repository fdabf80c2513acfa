//! End to end: events per second delivered over HTTP to the crate's local
//! collector on 127.0.0.1, bytes per event on the wire, and whether a steady
//! 50,000 events/s drops anything. Prints markdown tables.
//!
//! ```text
//! cd benches/compare && cargo bench --bench end_to_end
//! ```
//!
//! `E2E_EVENTS` sets the events per throughput run (default 100,000; batch
//! size 1 gets a fifth of it); `E2E_RATE` and `E2E_SECONDS` the steady run
//! (default 50,000/s for 3 s); `E2E_REPEATS` how often each drain-then-flush
//! run is repeated (default 3; the run with the median time is shown);
//! `E2E_SINK=discard` makes the throughput runs post to a server that reads
//! each request and throws it away, instead of the collector, which checks
//! and keeps every item: the delivery thread's own rate.

use std::time::{Duration, Instant};

use tracing::{info, Dispatch};
use tracing_jkool::{Framing, JKoolLayer};
use tracing_jkool_collector::Collector;
use tracing_jkool_compare::DiscardSink;
use tracing_subscriber::prelude::*;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Emits `per_thread` events from each of `threads` threads under
/// `dispatch`, as fast as they can.
fn emit(dispatch: &Dispatch, threads: usize, per_thread: u64) {
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                tracing::dispatcher::with_default(dispatch, || {
                    for i in 0..per_thread {
                        info!(order_no = i, thread = t, amount = 12.5, "order processed");
                    }
                })
            });
        }
    });
}

/// How the throughput run waits for delivery once the events are emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// `flush` at once, as the issue asks.
    FlushAtOnce,
    /// Poll `stats()` until the backlog (`pending`) is under 1,000
    /// items (or a batch, if larger), then `flush`: the backlog goes out
    /// by itself first, and the flush sends only its last, partial batch.
    DrainThenFlush,
}

struct Throughput {
    threads: usize,
    batch: usize,
    events: u64,
    emit: Duration,
    total: Duration,
    received: usize,
    sent: u64,
    dropped: u64,
    failed: u64,
    batches: u64,
    bytes: u64,
}

/// Where the throughput runs post (`E2E_SINK`).
enum Sink {
    Collector(Collector),
    Discard(DiscardSink),
}

impl Sink {
    fn start() -> Result<Sink, BoxError> {
        Ok(match std::env::var("E2E_SINK").as_deref() {
            Ok("discard") => Sink::Discard(DiscardSink::start()?),
            _ => Sink::Collector(Collector::start()?),
        })
    }

    fn url(&self) -> String {
        match self {
            Sink::Collector(collector) => collector.url(),
            Sink::Discard(sink) => sink.url(),
        }
    }

    /// The items received: the collector's count, or what the layer counts
    /// as sent (answered 2xx) when the server keeps nothing to count.
    fn received(&self, events: usize, sent: u64) -> usize {
        match self {
            Sink::Collector(collector) => collector
                .wait_for_items(events, Duration::from_millis(500))
                .len(),
            Sink::Discard(_) => sent as usize,
        }
    }
}

fn throughput(
    threads: usize,
    batch: usize,
    events: u64,
    wait: Wait,
) -> Result<Throughput, BoxError> {
    let sink = Sink::start()?;
    let layer = JKoolLayer::builder("e2e-token")
        .url(sink.url())
        .framing(Framing::Array)
        .batch_size(batch)
        .queue_capacity(events as usize + 1_000)
        .build()?;
    let jkool = layer.handle();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let per_thread = events / threads as u64;
    let events = per_thread * threads as u64;

    let start = Instant::now();
    emit(&dispatch, threads, per_thread);
    let emitted = start.elapsed();
    if wait == Wait::DrainThenFlush {
        let deadline = Instant::now() + Duration::from_secs(300);
        // Fewer than a batch waits for the flush interval: not drained
        // further without the flush.
        let drained = 1_000.max(batch as u64);
        while jkool.stats().pending > drained && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let flushed = jkool.flush(Duration::from_secs(300));
    let total = start.elapsed();
    if let Err(e) = flushed {
        eprintln!("flush: {e}");
    }
    let received = sink.received(events as usize, jkool.stats().sent);
    let stats = jkool.stats();
    let _ = jkool.shutdown(Duration::from_secs(10));
    drop(dispatch);
    drop(sink);
    Ok(Throughput {
        threads,
        batch,
        events,
        emit: emitted,
        total,
        received,
        sent: stats.sent,
        dropped: stats.dropped,
        failed: stats.failed,
        batches: stats.batches,
        bytes: stats.bytes_sent,
    })
}

struct Steady {
    rate: u64,
    emitted: u64,
    elapsed: Duration,
    max_depth: u64,
    late_ticks: u64,
    dropped: u64,
    sent: u64,
    received: usize,
}

/// A steady `rate` events/s for `seconds` from one thread, default queue
/// capacity (10,000) and batch size (256), paced by a sleep-based scheduler
/// with 1 ms ticks.
fn steady(rate: u64, seconds: u64) -> Result<Steady, BoxError> {
    let collector = Collector::start()?;
    let layer = JKoolLayer::builder("e2e-token")
        .url(collector.url())
        .framing(Framing::Array)
        .queue_capacity(10_000)
        .batch_size(256)
        .build()?;
    let jkool = layer.handle();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let total = rate * seconds;
    let tick = Duration::from_millis(1);
    let mut emitted = 0u64;
    let mut max_depth = 0u64;
    let mut late_ticks = 0u64;
    let start = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        let mut next = start;
        while emitted < total {
            // Catch up to where the schedule says we should be.
            let due = ((start.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
            while emitted < due {
                info!(order_no = emitted, amount = 12.5, "order processed");
                emitted += 1;
            }
            max_depth = max_depth.max(jkool.stats().pending);
            next += tick;
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            } else {
                late_ticks += 1;
            }
        }
    });
    let elapsed = start.elapsed();
    let flushed = jkool.flush(Duration::from_secs(60));
    if let Err(e) = flushed {
        eprintln!("flush: {e}");
    }
    let received = collector
        .wait_for_items(total as usize, Duration::from_secs(5))
        .len();
    let stats = jkool.stats();
    let _ = jkool.shutdown(Duration::from_secs(10));
    drop(dispatch);
    drop(collector);
    Ok(Steady {
        rate,
        emitted,
        elapsed,
        max_depth,
        late_ticks,
        dropped: stats.dropped,
        sent: stats.sent,
        received,
    })
}

fn main() -> Result<(), BoxError> {
    // `cargo bench` passes `--bench`; a criterion-style filter is ignored.
    let events = env_u64("E2E_EVENTS", 100_000);
    let rate = env_u64("E2E_RATE", 50_000);
    let seconds = env_u64("E2E_SECONDS", 3);
    let run_started = Instant::now();

    let repeats = env_u64("E2E_REPEATS", 3).max(1);
    // (wait, the run with the median time, events/s of every run)
    let mut rows = Vec::new();
    for wait in [Wait::FlushAtOnce, Wait::DrainThenFlush] {
        // Flushing at once is shown once: it is there to show the drops.
        let runs = if wait == Wait::FlushAtOnce {
            1
        } else {
            repeats
        };
        for threads in [1, 2] {
            for batch in [1, 64, 256, 1024] {
                let n = if batch == 1 { events / 5 } else { events };
                let mut all = Vec::new();
                for _ in 0..runs {
                    let row = throughput(threads, batch, n, wait)?;
                    eprintln!(
                        "{wait:?}: threads {threads}, batch {batch}: {} events in {:.2?} ({} received, {} dropped)",
                        row.events, row.total, row.received, row.dropped
                    );
                    all.push(row);
                }
                all.sort_by_key(|r| r.total);
                let rates: Vec<f64> = all
                    .iter()
                    .map(|r| r.received as f64 / r.total.as_secs_f64())
                    .collect();
                let median = all.swap_remove(all.len() / 2);
                rows.push((wait, median, rates));
            }
        }
    }

    for wait in [Wait::FlushAtOnce, Wait::DrainThenFlush] {
        match wait {
            Wait::FlushAtOnce => println!(
                "\n## End to end: tracing-jkool → {} on 127.0.0.1 over HTTP; emit, then `flush` at once\n",
                match std::env::var("E2E_SINK").as_deref() {
                    Ok("discard") => "a discarding server (items received = sent)",
                    _ => "the crate's Collector",
                }
            ),
            Wait::DrainThenFlush => println!(
                "\n## End to end, emit, wait until the backlog is under 1,000 items, then `flush`\n"
            ),
        }
        println!(
            "| threads | batch size | events | emit time | until flush returned | events/s delivered | events/s, all runs | emit ns/event/thread | requests | bytes/event on the wire | collector items == events | dropped | failed |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|");
        for (_, r, rates) in rows.iter().filter(|(w, _, _)| *w == wait) {
            let all_rates = rates
                .iter()
                .map(|x| format!("{x:.0}"))
                .collect::<Vec<_>>()
                .join(", ");
            let delivered = r.received as f64 / r.total.as_secs_f64();
            let bytes_per = if r.sent > 0 {
                r.bytes as f64 / r.sent as f64
            } else {
                0.0
            };
            println!(
                "| {} | {} | {} | {:.1} ms | {:.1} ms | {:.0} | {} | {:.0} | {} | {:.0} | {} | {} | {} |",
                r.threads,
                r.batch,
                r.events,
                r.emit.as_secs_f64() * 1e3,
                r.total.as_secs_f64() * 1e3,
                delivered,
                all_rates,
                r.emit.as_nanos() as f64 * r.threads as f64 / r.events as f64,
                r.batches,
                bytes_per,
                if r.received as u64 == r.events {
                    "yes".to_owned()
                } else {
                    format!("**no: {}**", r.received)
                },
                r.dropped,
                r.failed,
            );
        }
    }
    println!(
        "\nevents/s delivered = items the collector received / time from the first emit until `flush` returned; \
         with several runs, the row is the run with the median time."
    );

    let s = steady(rate, seconds)?;
    println!(
        "\n## Steady rate: {} events/s for {} s, 1 thread, queue capacity 10,000, batch size 256\n",
        s.rate, seconds
    );
    println!("| figure | value |\n|---|---|");
    println!("| events emitted | {} |", s.emitted);
    println!(
        "| achieved rate | {:.0} events/s over {:.2?} |",
        s.emitted as f64 / s.elapsed.as_secs_f64(),
        s.elapsed
    );
    println!("| dropped | {} |", s.dropped);
    println!("| sent | {} |", s.sent);
    println!("| collector items | {} |", s.received);
    println!(
        "| highest queue depth seen (sampled every tick) | {} |",
        s.max_depth
    );
    println!("| ticks that started late (no sleep) | {} |", s.late_ticks);
    println!(
        "\nend-to-end run took {:.1} s",
        run_started.elapsed().as_secs_f64()
    );
    Ok(())
}
