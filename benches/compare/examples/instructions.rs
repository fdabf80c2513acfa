//! Instructions per operation, counted by callgrind: unlike wall-clock time
//! on a shared 2-core machine, the same every run. `instructions.sh` runs
//! it; see README.md.
//!
//! ```text
//! instructions sink                          # a discarding HTTP sink; prints its URL
//! instructions CONTENDER WORKLOAD N          # N operations under one contender
//! ```
//!
//! CONTENDER is one of the ids in README.md (`registry`, `fmt_json`,
//! `non_blocking`, `loki`, `otel`, `jkool`, ...); WORKLOAD is `a`, `b`, `c`
//! or `d`. With `DISCARD_URL` set, the contenders that send over HTTP send
//! to that sink, in its own process, so that its work is not counted. The
//! `run_*` functions hold the emitting thread's operations: callgrind's
//! `--toggle-collect='instructions::run_*'` counts them alone.

use std::hint::black_box;

use tracing::{debug, info, info_span};
use tracing_jkool_compare::{Contender, DiscardSink, Running};

#[inline(never)]
fn run_a_event(n: u64) {
    for _ in 0..n {
        info!(order_no = 5, amount = 12.5, "order processed");
    }
}

#[inline(never)]
fn run_b_event_in_span(n: u64) {
    let span = info_span!("checkout", customer = "c-17", cart_items = 3);
    let _entered = span.enter();
    for _ in 0..n {
        info!(order_no = 5, amount = 12.5, "order processed");
    }
}

#[inline(never)]
fn run_c_span_life(n: u64) {
    for _ in 0..n {
        let span = info_span!("checkout", customer = "c-17", cart_items = 3);
        let _entered = black_box(span.enter());
    }
}

#[inline(never)]
fn run_d_disabled_debug(n: u64) {
    for _ in 0..n {
        debug!(order_no = 5, amount = 12.5, "order processed");
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("sink") {
        // Serves until the driver kills it.
        DiscardSink::serve_for_another_process()?;
    }
    let [contender, workload, n] = &args[..] else {
        return Err("usage: instructions CONTENDER WORKLOAD N | instructions sink".into());
    };
    let contender = Contender::ALL
        .into_iter()
        .find(|c| c.name() == contender)
        .ok_or("unknown contender")?;
    let run = match workload.as_str() {
        "a" => run_a_event,
        "b" => run_b_event_in_span,
        "c" => run_c_span_life,
        "d" => run_d_disabled_debug,
        _ => return Err("WORKLOAD is a, b, c or d".into()),
    };
    let n: u64 = n.parse()?;
    let running = Running::start(contender)?;
    match &running.dispatch {
        Some(dispatch) => tracing::dispatcher::with_default(dispatch, || run(n)),
        None => return Err("the channel contender has no tracing workload".into()),
    }
    eprintln!("{}", running.finish(n));
    Ok(())
}
