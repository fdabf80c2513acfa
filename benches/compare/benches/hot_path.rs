//! The cost per operation on the emitting thread, for four workloads and
//! every contender; see README.md.
//!
//! ```text
//! cd benches/compare && cargo bench --bench hot_path
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::Criterion;
use tracing::{debug, info, info_span, Level};
use tracing_jkool_compare::{Contender, Running, CHUNK, MAX_LEVEL};

#[derive(Debug, Clone, Copy)]
enum Workload {
    /// `info!(order_no = 5, amount = 12.5, "order processed")` outside any span.
    Event,
    /// The same event inside an entered span with 2 fields.
    EventInSpan,
    /// A span's whole life: create with 2 fields, enter, exit, close.
    SpanLife,
    /// A `debug!` event when the level is INFO.
    DisabledDebug,
}

impl Workload {
    const ALL: [Workload; 4] = [
        Workload::Event,
        Workload::EventInSpan,
        Workload::SpanLife,
        Workload::DisabledDebug,
    ];

    fn name(self) -> &'static str {
        match self {
            Workload::Event => "a_event",
            Workload::EventInSpan => "b_event_in_span",
            Workload::SpanLife => "c_span_life",
            Workload::DisabledDebug => "d_disabled_debug",
        }
    }
}

/// Runs `iters` operations of `workload` under `running` and times them.
/// For the contenders with a queue (tracing-jkool, the reference channel)
/// the operations run in chunks of at most `CHUNK`, each started with the
/// queue drained; only the chunks are timed.
fn measure(running: &Running, workload: Workload, iters: u64) -> Duration {
    if !running.has_queue() {
        return measure_chunk(running, workload, iters);
    }
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        running.settle();
        total += measure_chunk(running, workload, n);
        left -= n;
    }
    total
}

fn measure_chunk(running: &Running, workload: Workload, iters: u64) -> Duration {
    if let Some(channel) = &running.channel {
        // The reference: one owned struct on a bounded channel per item.
        let start = Instant::now();
        match workload {
            Workload::Event | Workload::EventInSpan | Workload::SpanLife => {
                for _ in 0..iters {
                    channel.send(black_box(5), black_box(12.5));
                }
            }
            Workload::DisabledDebug => {
                for _ in 0..iters {
                    if black_box(Level::DEBUG) <= MAX_LEVEL {
                        channel.send(black_box(5), black_box(12.5));
                    }
                }
            }
        }
        return start.elapsed();
    }
    let dispatch = running.dispatch.as_ref().expect("a tracing contender");
    tracing::dispatcher::with_default(dispatch, || match workload {
        Workload::Event => {
            let start = Instant::now();
            for _ in 0..iters {
                info!(order_no = 5, amount = 12.5, "order processed");
            }
            start.elapsed()
        }
        Workload::EventInSpan => {
            let span = info_span!("checkout", customer = "c-17", cart_items = 3);
            let _entered = span.enter();
            let start = Instant::now();
            for _ in 0..iters {
                info!(order_no = 5, amount = 12.5, "order processed");
            }
            start.elapsed()
        }
        Workload::SpanLife => {
            let start = Instant::now();
            for _ in 0..iters {
                let span = info_span!("checkout", customer = "c-17", cart_items = 3);
                let entered = span.enter();
                drop(entered);
                drop(span);
            }
            start.elapsed()
        }
        Workload::DisabledDebug => {
            let start = Instant::now();
            for _ in 0..iters {
                debug!(order_no = 5, amount = 12.5, "order processed");
            }
            start.elapsed()
        }
    })
}

fn main() {
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut ran = Vec::new();
    for workload in Workload::ALL {
        let mut group = criterion.benchmark_group(workload.name());
        for contender in Contender::ALL {
            // One contender alive at a time: tracing caches callsite
            // interest across every live dispatcher.
            let running = Running::start(contender)
                .unwrap_or_else(|e| panic!("starting {}: {e}", contender.name()));
            let mut ops = 0u64;
            group.bench_function(contender.name(), |b| {
                b.iter_custom(|iters| {
                    ops += iters;
                    measure(&running, workload, iters)
                })
            });
            let report = running.finish(ops);
            if ops > 0 {
                println!("    [{}/{}] {report}", workload.name(), contender.name());
                ran.push((workload, contender));
            }
        }
        group.finish();
    }
    criterion.final_summary();
    summary(&ran);
}

/// Where criterion writes its estimates (as criterion finds it, less the
/// `cargo metadata` step).
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        PathBuf::from(home)
    } else if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        PathBuf::from(target).join("criterion")
    } else {
        PathBuf::from("target/criterion")
    }
}

fn median_ns(workload: Workload, contender: Contender) -> Option<f64> {
    let path = criterion_home()
        .join(workload.name())
        .join(contender.name())
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

/// Markdown tables: medians, and ratios to the channel and to the registry.
fn summary(ran: &[(Workload, Contender)]) {
    let workloads: Vec<Workload> = Workload::ALL
        .into_iter()
        .filter(|w| ran.iter().any(|(rw, _)| rw.name() == w.name()))
        .collect();
    if workloads.is_empty() {
        return;
    }
    let get = |w: Workload, c: Contender| {
        ran.iter()
            .any(|&(rw, rc)| rw.name() == w.name() && rc == c)
            .then(|| median_ns(w, c))
            .flatten()
    };
    let header = |title: &str| {
        let mut line = format!("| {title} |");
        let mut rule = String::from("|---|");
        for w in &workloads {
            line.push_str(&format!(" {} |", w.name()));
            rule.push_str("---:|");
        }
        println!("{line}\n{rule}");
    };
    let table = |title: &str, cell: &dyn Fn(Workload, Contender) -> Option<String>| {
        println!();
        header(title);
        for c in Contender::ALL {
            let mut line = format!("| {} |", c.name());
            for &w in &workloads {
                line.push_str(&format!(" {} |", cell(w, c).unwrap_or_else(|| "-".into())));
            }
            println!("{line}");
        }
    };
    println!("\n## Hot path: median time per operation on the emitting thread");
    table("median", &|w, c| get(w, c).map(|ns| format!("{ns:.1} ns")));
    println!("\nRatio to the reference channel (`channel` = 1):");
    table("÷ channel", &|w, c| {
        Some(format!("{:.2}×", get(w, c)? / get(w, Contender::Channel)?))
    });
    println!("\nRatio to the registry floor (`registry` = 1):");
    table("÷ registry", &|w, c| {
        Some(format!("{:.2}×", get(w, c)? / get(w, Contender::Registry)?))
    });
}
