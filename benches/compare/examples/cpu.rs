//! CPU time (user + system) per delivered event, for each framing: the
//! process's own time, marginal between 20,000 and 60,000 events, so that
//! start-up and shutdown cancel out, as the comparison with JESL (meshIQ's
//! Java sink) was measured. Events come from a tight loop with
//! `lossy(false)`, so none is dropped; the loopback sink that answers runs
//! in a process of its own and is not counted.
//!
//! ```text
//! cd benches/compare && cargo run --release --example cpu [object|lines|array]...
//! ```

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tracing::info;
use tracing_jkool::{Framing, JKoolLayer};
use tracing_jkool_compare::DiscardSink;
use tracing_subscriber::prelude::*;

/// The process's user and system time so far.
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` fills the struct it is given and nothing else.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// CPU time to build a pipeline, send `n` events and shut down.
fn run(url: &str, framing: Framing, n: u64) -> Result<Duration, Box<dyn std::error::Error>> {
    let before = cpu_time();
    let layer = JKoolLayer::builder("cpu-bench")
        .url(url)
        .framing(framing)
        .lossy(false)
        .build()?;
    let handle = layer.handle();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        for order_no in 0..n {
            info!(order_no, amount = 12.5, "order processed");
        }
    });
    handle.shutdown(Duration::from_secs(120))?;
    let stats = handle.stats();
    if stats.sent != n {
        return Err(format!("{} of {n} delivered: {stats:?}", stats.sent).into());
    }
    Ok(cpu_time() - before)
}

/// The sink, in a child process: this program with the argument `sink`.
fn start_sink() -> Result<(Child, String), Box<dyn std::error::Error>> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("sink")
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
    Ok((child, line.trim().to_owned()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("sink") {
        // Until the parent kills it.
        DiscardSink::serve_for_another_process()?;
    }
    let framings: Vec<Framing> = if args.is_empty() {
        vec![Framing::Object, Framing::Lines]
    } else {
        args.iter().map(|a| a.parse()).collect::<Result<_, _>>()?
    };
    let (mut sink, url) = start_sink()?;
    println!("| framing | CPU per event (user+sys, 20,000 to 60,000) |");
    println!("|---|---:|");
    for framing in framings {
        let small = run(&url, framing, 20_000);
        let large = run(&url, framing, 60_000);
        match (small, large) {
            (Ok(small), Ok(large)) => {
                let per = large.saturating_sub(small).as_secs_f64() / 40_000.0;
                println!(
                    "| {framing} | {:.1} µs ({small:.2?} for 20,000, {large:.2?} for 60,000) |",
                    per * 1e6
                );
            }
            (Err(err), _) | (_, Err(err)) => eprintln!("{framing}: {err}"),
        }
    }
    let _ = sink.kill();
    Ok(())
}
