//! Checks whether your jKool endpoint keeps every item of a batched body,
//! before you switch from one object per request (the default, what
//! every jKool client sends) to `Framing::Lines` or `Framing::Array`.
//!
//! ```text
//! JKOOL_TOKEN=... cargo run --example check_batching   # JKOOL_URL to pick the endpoint
//! cargo run --example check_batching                   # no token: a local collector, to see the run
//! ```
//!
//! For each framing it sends three events in one flush, each marked with a
//! text and a correlator of its own for that framing, and prints the JKQL
//! query to run in XRay for each marker and how many events it must show.
//! jKool answers `202 Accepted` before it reads a body, so only XRay can
//! tell whether a batch was kept whole: switch only when each query shows
//! all three events.

mod common;

use std::process::ExitCode;
use std::time::Duration;

use tracing_jkool::{Framing, JKoolLayer};
use tracing_jkool_collector::Collector;
use tracing_subscriber::prelude::*;

/// Events sent in each framing.
const EVENTS: u64 = 3;

fn main() -> ExitCode {
    common::report(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Without a token, a collector in this process stands in for jKool.
    let local = match std::env::var_os("JKOOL_TOKEN") {
        Some(_) => None,
        None => Some(Collector::start()?),
    };
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let mut markers = Vec::new();
    for framing in [Framing::Object, Framing::Lines, Framing::Array] {
        let marker = format!("tracing-jkool-check-{framing}-{}", &run_id[..12]);
        let builder = match &local {
            Some(collector) => JKoolLayer::builder("local-token").url(collector.url()),
            None => JKoolLayer::builder("").with_env()?,
        };
        // A long flush interval: the three go together, at the shutdown.
        let layer = builder
            .framing(framing)
            .flush_interval(Duration::from_secs(60))
            .build()?;
        let handle = layer.handle();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            for n in 1..=EVENTS {
                tracing::info!(jkool.corr_id = %marker, n, "{marker}: event {n} of {EVENTS}");
            }
        });
        let outcome = match handle.shutdown(Duration::from_secs(15)) {
            Ok(()) => "all accepted".to_owned(),
            Err(err) => err.to_string(),
        };
        let stats = handle.stats();
        println!(
            "{framing:?}: {} of {EVENTS} events accepted in {} request(s): {outcome}",
            stats.sent, stats.batches
        );
        markers.push((framing, marker));
    }
    println!("\nIn XRay, run each query; each must show {EVENTS} events:\n");
    for (framing, marker) in &markers {
        println!("  {framing:?}: get events where message contains \"{marker}\"");
    }
    println!(
        "\nObject is what every jKool client sends. Switch to Lines or Array \
         (Builder::framing, JKOOL_FRAMING) only if its query shows all {EVENTS}."
    );
    if let Some(collector) = local {
        println!(
            "\nNo JKOOL_TOKEN: the local collector at {} received:",
            collector.url()
        );
        let items = collector.items();
        for (framing, marker) in &markers {
            let found = (items.iter())
                .filter(|item| {
                    item["msg-text"]
                        .as_str()
                        .is_some_and(|t| t.contains(marker))
                })
                .count();
            println!("  {framing:?}: {found} events");
        }
    }
    Ok(())
}
