//! A stress run: 1,000,000 events from 4 threads while the collector is
//! down, then the collector comes back and the capped remainder is
//! delivered. Prints peak memory, the slowest single emit and the counters.
//!
//! ```text
//! cargo run --release --example stress
//! ```
//!
//! With `--spool`, the same million go through a disk spool during an
//! outage of `--outage-secs` (default 10), emitted at `--rate` events per
//! second (default 100,000; `--rate 0` for as fast as the threads go), and
//! none is lost: it prints the disk used and the time to drain.
//!
//! ```text
//! cargo run --release --example stress -- --spool --outage-secs 10 --rate 100000
//! ```
//!
//! `--fsync-never` and `--fsync-every-batch` change the spool's fsync
//! policy (default: every second). `--queue N` sets the queue's capacity (default 10,000): with
//! `--rate 0 --queue 1000000`, nothing is dropped and the line "spooled
//! ... items/s" is the delivery thread's own pace (serializing and
//! spooling).

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tracing::info;
use tracing_jkool::{FsyncPolicy, JKoolLayer};
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

/// The command line: `--spool`, `--outage-secs N`, `--rate N`.
struct Args {
    spool: bool,
    fsync: FsyncPolicy,
    queue: usize,
    outage: Duration,
    rate: u64,
}

fn args() -> Result<Args, Box<dyn std::error::Error>> {
    let mut args = Args {
        spool: false,
        fsync: FsyncPolicy::Interval(Duration::from_secs(1)),
        queue: 10_000,
        outage: Duration::from_secs(10),
        rate: 100_000,
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        let mut number = || -> Result<u64, Box<dyn std::error::Error>> {
            Ok(words.next().ok_or("a number")?.parse()?)
        };
        match word.as_str() {
            "--spool" => args.spool = true,
            "--outage-secs" => args.outage = Duration::from_secs(number()?),
            "--rate" => args.rate = number()?,
            "--queue" => args.queue = number()? as usize,
            "--fsync-never" => args.fsync = FsyncPolicy::Never,
            "--fsync-every-batch" => args.fsync = FsyncPolicy::EveryWrite,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(args)
}

fn main() -> std::process::ExitCode {
    common::report(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args = args()?;
    // A port with nothing on it: the collector is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let spool_dir =
        std::env::temp_dir().join(format!("tracing-jkool-stress-{}", std::process::id()));
    let mut builder = JKoolLayer::builder("stress-token")
        .url(format!("http://127.0.0.1:{port}"))
        .queue_capacity(args.queue)
        .retry_buffer(10_000)
        .max_retry_wait(Duration::from_millis(500));
    if args.spool {
        builder = builder.spool_dir(&spool_dir).spool_fsync(args.fsync);
    }
    let layer = builder.build()?;
    let jkool = layer.handle();
    tracing_subscriber::registry().with(layer).init();
    println!("rss before: {} KiB", peak_rss_kib().unwrap_or(0));

    // The largest spool seen, sampled.
    let done = AtomicBool::new(false);
    let peak_disk = AtomicU64::new(0);
    let started = Instant::now();
    let slowest = std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..100_000 {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                peak_disk.fetch_max(jkool.stats().spool_bytes, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let per_thread_rate =
            (args.spool && args.rate > 0).then(|| args.rate as f64 / THREADS as f64);
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let mut slowest = Duration::ZERO;
                    for i in 0..PER_THREAD {
                        if let (Some(rate), 0) = (per_thread_rate, i % 100) {
                            let due = started + Duration::from_secs_f64(i as f64 / rate);
                            std::thread::sleep(due.saturating_duration_since(Instant::now()));
                        }
                        let at = Instant::now();
                        info!(thread = t, i, amount = 12.5, "order processed");
                        slowest = slowest.max(at.elapsed());
                    }
                    slowest
                })
            })
            .collect();
        let slowest = threads
            .into_iter()
            .map(|t| t.join().unwrap_or_default())
            .max()
            .unwrap_or_default();
        let emitted = started.elapsed();
        let total = THREADS * PER_THREAD;
        println!(
            "emitted {total} events from {THREADS} threads in {emitted:.2?} ({:.0} ns/event/thread)",
            emitted.as_nanos() as f64 * THREADS as f64 / total as f64
        );
        if args.spool {
            // How fast the delivery thread spools: until all are on disk.
            for _ in 0..60_000 {
                if jkool.stats().spooled + jkool.stats().dropped >= total as u64 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let spooled = jkool.stats().spooled;
            println!(
                "spooled {spooled} items in {:.2?} ({:.0} items/s)",
                started.elapsed(),
                spooled as f64 / started.elapsed().as_secs_f64()
            );
            // The outage lasts its whole length, however fast the emit.
            std::thread::sleep(args.outage.saturating_sub(started.elapsed()));
        }
        done.store(true, Ordering::Relaxed);
        slowest
    });
    let total = THREADS * PER_THREAD;
    println!("slowest single emit: {slowest:?}");
    println!(
        "peak rss during the outage: {} KiB",
        peak_rss_kib().unwrap_or(0)
    );
    let outage = jkool.stats();
    println!("during the outage ({:.1?}): {outage:?}", started.elapsed());
    if args.spool {
        println!(
            "spool: {} items written, peak {:.1} MiB on disk",
            outage.spooled,
            peak_disk.load(Ordering::Relaxed) as f64 / (1 << 20) as f64
        );
    }

    let collector = Collector::builder()
        .token("stress-token")
        .port(port)
        .start()?;
    let back = Instant::now();
    let flushed = jkool.flush(Duration::from_secs(300));
    let drained = back.elapsed();
    let stats = jkool.stats();
    println!("collector back: flush {flushed:?} after {drained:.2?}");
    println!("after delivery: {stats:?}");
    let lost = stats.dropped + stats.evicted + stats.failed;
    println!(
        "delivered {} items; sent + dropped + evicted + failed = {} of {total}; lost {lost}",
        collector.items().len(),
        stats.sent + lost,
    );
    println!("peak rss overall: {} KiB", peak_rss_kib().unwrap_or(0));
    jkool.shutdown(Duration::from_secs(10)).ok();
    if args.spool {
        println!(
            "drained {} items from the spool in {drained:.2?} ({:.0} items/s)",
            stats.sent,
            stats.sent as f64 / drained.as_secs_f64()
        );
        let _ = std::fs::remove_dir_all(&spool_dir);
    }
    Ok(())
}
