//! The old Python handler's README examples, as `examples/seed_parity.rs`
//! restates them, checked against the JSON the collector received.

mod common;

#[path = "../examples/seed_parity.rs"]
mod seed;

use common::*;
use serde_json::{json, Value};

fn run_seed(f: impl FnOnce(&tracing_jkool::JKoolHandle)) -> Vec<Value> {
    let collector = collector();
    let builder = builder(&collector).snapshot_category("Payment", "Order");
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || f(&handle));
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    items.iter().for_each(assert_contract);
    items
}

#[test]
fn the_plain_log_call_is_an_event_named_after_its_logger() {
    let items = run_seed(|_| seed::plain_log_call());
    assert_eq!(items.len(), 1);
    let event = &items[0];
    assert_eq!(event["type"], "EVENT");
    assert_eq!(event["msg-text"], "Test log");
    assert_eq!(event["severity"], "ERROR");
    assert_eq!(event["operation"], "seed_parity::seed");
}

#[test]
fn the_event_with_a_source_fqn_carries_it() {
    let items = run_seed(|_| seed::event_with_source_fqn());
    assert_eq!(items[0]["source-fqn"], seed::SOURCE_FQN);
    assert_eq!(items[0]["msg-text"], "This is an example");
}

#[test]
fn the_event_with_time_correlator_and_location_carries_them() {
    let items = run_seed(seed::event_with_time_correlator_and_location);
    assert_eq!(items.len(), 2);
    for event in &items {
        assert_eq!(event["corrid"], json!(["your-correlator-id"]));
        assert_eq!(event["location"], "Atlanta, Ga");
        assert_eq!(event["source-fqn"], seed::SOURCE_FQN);
        assert_eq!(event["msg-text"], "This is an example");
    }
    assert_ne!(items[0]["tracking-id"], items[1]["tracking-id"]);
}

#[test]
fn the_order_snapshot_joins_its_event_through_the_tracking_id() {
    let items = run_seed(|jkool| seed::order_snapshot(jkool, "5", 150));
    assert_eq!(items.len(), 2);
    for event in &items {
        assert_eq!(event["msg-text"], "Order Processed Succesfully");
        let payment = &event["snapshots"][0];
        assert_eq!(payment["name"], "Payment");
        assert_eq!(payment["category"], "Order");
        assert_eq!(payment["type"], "SNAPSHOT");
        assert_eq!(payment["parent-id"], event["tracking-id"]);
        assert!(payment["time-usec"].as_i64().unwrap() > 0);
        let properties = payment["properties"].as_array().unwrap();
        assert_eq!(properties[0]["type"], "string");
        assert_eq!(properties[0]["value"], "5");
        assert_eq!(properties[1]["type"], "long");
        assert_eq!(properties[1]["value"], 150);
    }
    assert_eq!(
        items[0]["snapshots"][0]["properties"][0]["name"],
        "order-no"
    );
    assert_eq!(
        items[1]["snapshots"][0]["properties"][0]["name"],
        "order_no"
    );
}
