//! Measurements in jKool: process metrics, the pipeline's own health, and
//! the `metrics` facade's counters, gauges and histograms.
//!
//! ```text
//! cargo run --example metrics   # to a local collector; prints the reports it received
//! ```

mod common;

use std::time::Duration;

use serde_json::Value;
use tracing_jkool::JKoolLayer;
use tracing_jkool_collector::Collector;
use tracing_subscriber::prelude::*;

fn main() -> std::process::ExitCode {
    common::report(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let collector = Collector::start()?;
    let every = Duration::from_millis(300);
    let layer = JKoolLayer::builder("local-token")
        .url(collector.url())
        .process_metrics(every)
        .self_metrics(every)
        .build()?;
    let jkool = layer.handle();
    tracing_subscriber::registry().with(layer).init();
    metrics::set_global_recorder(jkool.metrics_recorder(every))?;

    metrics::describe_histogram!(
        "order.latency",
        metrics::Unit::Milliseconds,
        "time to place"
    );
    // Bounded: 20 orders, 20 ms apart.
    for order_no in 0..20u32 {
        let region = if order_no % 3 == 0 { "us" } else { "eu" };
        metrics::counter!("orders", "region" => region).increment(1);
        metrics::gauge!("cart.items").set(f64::from(order_no % 7));
        metrics::histogram!("order.latency").record(f64::from(5 + order_no * 3 % 17));
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(250));

    jkool.shutdown(Duration::from_secs(5))?;
    println!("The local collector at {} received:\n", collector.url());
    for item in collector.items() {
        print_report(&item);
    }
    Ok(())
}

/// One report: its operation, then each snapshot's properties with their
/// data types and units.
fn print_report(item: &Value) {
    println!(
        "{} ({})",
        item["operation"].as_str().unwrap_or("-"),
        item["type"]
    );
    for snapshot in item["snapshots"].as_array().into_iter().flatten() {
        println!("  {} [{}]", snapshot["name"], snapshot["category"]);
        for p in snapshot["properties"].as_array().into_iter().flatten() {
            let unit = p["value-type"].as_str().unwrap_or("-");
            println!("    {} = {} ({}, {unit})", p["name"], p["value"], p["type"]);
        }
    }
}
