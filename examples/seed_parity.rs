//! Every example of the old Python handler's README, restated in Rust.
//!
//! ```text
//! cargo run --example seed_parity                  # local collector, prints the JSON it received
//! JKOOL_TOKEN=... cargo run --example seed_parity  # to jKool
//! ```
//!
//! `tests/seed_parity.rs` runs these same functions and asserts the JSON.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing_jkool::{JKoolEvent, JKoolHandle, Snapshot};

/// The source used by the Python README's examples.
pub const SOURCE_FQN: &str =
    "APPL=PythonStreaming#SERVER=PythonServer100#NETADDR=11.0.0.2#DATACENTER=DC1#GEOADDR=52.52437,13.41053";

/// `logger.error("Test log")` through a `jKoolHandler`: any tracing event.
pub fn plain_log_call() {
    tracing::error!("Test log");
}

/// `streaming.logEvent(logger, "This is an example", sourcefqn)`.
pub fn event_with_source_fqn() {
    tracing::info!(jkool.source_fqn = SOURCE_FQN, "This is an example");
}

/// `logEvent(logger, "This is an example", sourcefqn, time_usec=...,
/// corr_id="your-correlator-id", location="Atlanta, Ga")`: with tracing
/// fields, the time is the moment of the call; to set a time, use a
/// [`JKoolEvent`].
pub fn event_with_time_correlator_and_location(jkool: &JKoolHandle) {
    tracing::info!(
        jkool.source_fqn = SOURCE_FQN,
        jkool.corr_id = "your-correlator-id",
        jkool.location = "Atlanta, Ga",
        "This is an example"
    );
    let time_usec = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    jkool.send(
        JKoolEvent::new("This is an example")
            .source_fqn(SOURCE_FQN)
            .time_usec(time_usec)
            .corr_id("your-correlator-id")
            .location("Atlanta, Ga"),
    );
}

/// `Snapshot("Payment", category="Order")` with `order-no` and
/// `order-amount`, attached to the event `Order Processed Succesfully`: the
/// snapshot's `parent-id` joins it to the event's tracking id.
pub fn order_snapshot(jkool: &JKoolHandle, order_no: &str, order_amount: i64) {
    let payment = Snapshot::new("Payment")
        .category("Order")
        .property("order-no", order_no)
        .property("order-amount", order_amount);
    jkool.send(
        JKoolEvent::new("Order Processed Succesfully")
            .source_fqn(SOURCE_FQN)
            .snapshot(payment),
    );
    // The same from ordinary tracing code: dotted fields make the snapshot
    // (with `.snapshot_category("Payment", "Order")` on the builder).
    tracing::info!(
        jkool.source_fqn = SOURCE_FQN,
        Payment.order_no = order_no,
        Payment.order_amount = order_amount,
        "Order Processed Succesfully"
    );
}

#[allow(dead_code)] // tests/seed_parity.rs includes this file for its functions
fn main() -> std::process::ExitCode {
    common::report(run())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    use tracing_subscriber::prelude::*;

    let collector = match std::env::var("JKOOL_TOKEN") {
        Ok(_) => None,
        Err(_) => Some(tracing_jkool_collector::Collector::start()?),
    };
    let builder = match &collector {
        Some(collector) => tracing_jkool::JKoolLayer::builder("local-token").url(collector.url()),
        None => tracing_jkool::JKoolLayer::builder(std::env::var("JKOOL_TOKEN")?),
    };
    let layer = builder.snapshot_category("Payment", "Order").build()?;
    let jkool = layer.handle();
    tracing_subscriber::registry().with(layer).init();

    plain_log_call();
    event_with_source_fqn();
    event_with_time_correlator_and_location(&jkool);
    order_snapshot(&jkool, "5", 150);

    jkool.shutdown(Duration::from_secs(5))?;
    if let Some(collector) = collector {
        for item in collector.items() {
            println!("{}", serde_json::to_string_pretty(&item)?);
        }
    }
    Ok(())
}
