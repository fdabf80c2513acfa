//! Instructions per operation on the emitting thread, counted by callgrind:
//! unlike wall-clock time on a shared 2-core machine, the same every run.
//!
//! ```text
//! cargo build --release --example instructions
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out --collect-atstart=no \
//!     --toggle-collect='instructions::run_*' target/release/examples/instructions
//! callgrind_annotate /tmp/cg.out | grep 'instructions::run_'
//! ```
//! Each `run_*` function performs `N` operations: divide its inclusive
//! count by `N`.

use std::hint::black_box;
use std::time::Duration;

use tracing::{debug, info, info_span, Dispatch};
use tracing_jkool::JKoolLayer;
use tracing_subscriber::prelude::*;

const N: u64 = 20_000;

#[inline(never)]
fn run_a_event() {
    for _ in 0..N {
        info!(order_no = 5, amount = 12.5, "order processed");
    }
}

#[inline(never)]
fn run_b_event_in_span() {
    let span = info_span!("request", method = "GET", path = "/orders");
    let _entered = span.enter();
    for _ in 0..N {
        info!(order_no = 5, amount = 12.5, "order processed");
    }
}

#[inline(never)]
fn run_c_span_life() {
    for i in 0..N {
        let span = info_span!("request", method = "GET", id = i);
        let _entered = black_box(span.enter());
    }
}

#[inline(never)]
fn run_d_disabled_debug() {
    for _ in 0..N {
        debug!(order_no = 5, amount = 12.5, "order processed");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let layer = JKoolLayer::builder("token")
        .url("file:///dev/null")
        .queue_capacity(4 * N as usize)
        .retry_buffer(4 * N as usize)
        .build()?;
    let handle = layer.handle();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        // Warm up callsites and the queue's blocks (not counted: the name
        // does not match `run_*`).
        for _ in 0..N {
            info!(order_no = 5, amount = 12.5, "order processed");
        }
        handle.flush(Duration::from_secs(60)).ok();
        for run in [run_a_event, run_b_event_in_span, run_c_span_life, run_d_disabled_debug] {
            run();
            handle.flush(Duration::from_secs(60)).ok();
        }
    });
    println!("{:?}", handle.stats());
    Ok(())
}
