//! The layer next to a console fmt layer, each with its own filter, and the
//! `log` crate's records brought in through tracing-log.
//!
//! ```text
//! cargo run --example filters          # to a local collector; prints what it received
//! RUST_LOG=debug cargo run --example filters
//! ```

mod common;

use std::time::Duration;

use tracing_jkool::JKoolLayer;
use tracing_jkool_collector::Collector;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::prelude::*;

fn main() -> std::process::ExitCode {
    common::report(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let collector = Collector::start()?;
    let jkool = JKoolLayer::builder("local-token")
        .url(collector.url())
        .level(tracing::Level::TRACE)
        .build()?;
    let handle = jkool.handle();

    tracing_subscriber::registry()
        // The console shows what RUST_LOG asks for (default: info).
        .with(tracing_subscriber::fmt::layer().with_filter(EnvFilter::from_default_env()))
        // jKool gets the shop's own events, and no HTTP-client noise.
        .with(jkool.with_filter(Targets::new().with_target("shop", tracing::Level::INFO)))
        // With tracing-subscriber's default `tracing-log` feature, `init`
        // also installs tracing-log's `LogTracer`: records of the `log`
        // crate become tracing events, for both layers. (Without it, call
        // `tracing_log::LogTracer::init()`.)
        .init();

    tracing::info!(target: "shop::orders", order_no = 5, "order placed");
    tracing::debug!(target: "shop::orders", "order details: only on the console with RUST_LOG=debug");
    tracing::info!(target: "hyper::client", "only on the console");
    log::warn!(target: "shop::legacy", "stock low, said through the log crate");

    handle.shutdown(Duration::from_secs(5))?;
    println!("\njKool received:\n{}", collector.render_tree());
    Ok(())
}
