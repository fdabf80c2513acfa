//! Everything the old Python handler could say, said from Rust: snapshots
//! from dotted fields, categories, units, errors, busy and idle time, and
//! fully specified events through the handle.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tracing::{info, info_span, instrument};
use tracing_jkool::{CompCode, EventType, JKoolEvent, Property, Severity, Snapshot, ValueType};

/// The snapshot called `name` in an item.
fn snapshot<'a>(item: &'a Value, name: &str) -> &'a Value {
    item["snapshots"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no snapshot {name} in {item:#}"))
}

#[test]
fn dotted_fields_group_into_named_snapshots() {
    let collector = collector();
    let builder = builder(&collector).snapshot_category("payment", "Order");
    let items = run(&collector, builder, || {
        info!(
            payment.order_no = 5,
            payment.amount = 12.5,
            customer = "ann",
            "order processed"
        );
    });
    let event = find(&items, "msg-text", "order processed");
    let snapshots = event["snapshots"].as_array().unwrap();
    assert_eq!(snapshots.len(), 2, "{event:#}");
    let payment = snapshot(event, "payment");
    assert_eq!(payment["category"], "Order");
    assert_eq!(payment["type"], "SNAPSHOT");
    assert_eq!(payment["parent-id"], event["tracking-id"]);
    assert_eq!(
        payment["properties"],
        json!([
            {"name": "order_no", "type": "long", "value": 5},
            {"name": "amount", "type": "double", "value": 12.5},
        ])
    );
    // Undotted fields stay in the default snapshot, named after the item,
    // with the target as its category.
    let default = snapshot(event, "fidelity");
    assert_eq!(default["category"], "fidelity");
    assert_eq!(
        default["properties"],
        json!([{"name": "customer", "type": "string", "value": "ann"}])
    );
}

#[test]
fn spans_group_dotted_fields_into_snapshots_too() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let _s = info_span!("checkout", cart.items = 3, cart.total = 20.0).entered();
    });
    let activity = find(&items, "operation", "checkout");
    let cart = snapshot(activity, "cart");
    assert_eq!(cart["category"], "fidelity");
    assert_eq!(
        cart["properties"][0],
        json!({"name": "items", "type": "long", "value": 3})
    );
    assert_eq!(
        cart["properties"][1],
        json!({"name": "total", "type": "double", "value": 20.0})
    );
}

#[test]
fn units_attach_to_fields_by_name() {
    let collector = collector();
    let builder = builder(&collector)
        .unit("payment.amount", ValueType::CurrencyUsd)
        .unit("latency_ms", ValueType::AgeMsec)
        .unit("size", ValueType::Custom("size.kib"));
    let items = run(&collector, builder, || {
        info!(
            payment.amount = 12.5,
            latency_ms = 3,
            size = 7,
            plain = 1,
            "paid"
        );
    });
    let event = find(&items, "msg-text", "paid");
    assert_eq!(
        snapshot(event, "payment")["properties"][0]["value-type"],
        "currency.usd"
    );
    assert_eq!(property(event, "latency_ms")["value-type"], "age.msec");
    assert_eq!(property(event, "size")["value-type"], "size.kib");
    assert!(property(event, "plain").get("value-type").is_none());
}

#[test]
fn spans_report_busy_and_idle_time_in_microseconds() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let span = info_span!("work");
        span.in_scope(|| std::thread::sleep(Duration::from_millis(20)));
        std::thread::sleep(Duration::from_millis(30));
        span.in_scope(|| std::thread::sleep(Duration::from_millis(20)));
    });
    let work = find(&items, "operation", "work");
    let busy = property(work, "busy");
    let idle = property(work, "idle");
    assert_eq!(busy["value-type"], "age.usec");
    assert_eq!(idle["value-type"], "age.usec");
    assert!(busy["value"].as_u64().unwrap() >= 40_000, "{busy}");
    assert!(idle["value"].as_u64().unwrap() >= 30_000, "{idle}");
    assert_eq!(work["wait-time-usec"], idle["value"]);
    let elapsed = work["elapsed-time-usec"].as_u64().unwrap();
    assert!(busy["value"].as_u64().unwrap() + idle["value"].as_u64().unwrap() <= elapsed + 1_000);
}

#[derive(Debug)]
struct Declined(std::io::Error);

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}

impl std::error::Error for Declined {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn declined() -> Declined {
    Declined(std::io::Error::other("gateway timeout"))
}

#[test]
fn an_error_field_becomes_the_exception_with_its_whole_chain() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let _pay = info_span!("pay").entered();
        let err = declined();
        tracing::warn!(
            error = &err as &(dyn std::error::Error + 'static),
            "payment failed"
        );
    });
    let event = find(&items, "msg-text", "payment failed");
    assert_eq!(event["exception"], "card declined: gateway timeout");
    assert_eq!(event["comp-code"], "ERROR");
    assert_eq!(event["severity"], "WARNING");
    assert!(
        event.get("snapshots").is_none(),
        "`error` is not a property too"
    );
    let pay = find(&items, "operation", "pay");
    assert_eq!(pay["status"], "EXCEPTION");
}

#[instrument(err)]
fn charge(amount: u32) -> Result<u32, Declined> {
    if amount > 100 {
        return Err(declined());
    }
    Ok(amount)
}

#[instrument(ret)]
fn total(a: u32, b: u32) -> u32 {
    a + b
}

#[test]
fn instrument_err_and_ret_work_as_users_expect() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let _ = charge(500);
        let _ = charge(5);
        total(2, 3);
    });
    let charges: Vec<&Value> = items
        .iter()
        .filter(|i| i["operation"] == "charge")
        .collect();
    assert_eq!(charges.len(), 2);
    let failed = charges
        .iter()
        .find(|c| property(c, "amount")["value"] == 500)
        .unwrap();
    let fine = charges
        .iter()
        .find(|c| property(c, "amount")["value"] == 5)
        .unwrap();
    assert_eq!(failed["status"], "EXCEPTION");
    assert_eq!(failed["exception"], "card declined", "on the activity too");
    assert_eq!(fine["status"], "END");
    let error = items
        .iter()
        .find(|i| i["type"] == "EVENT" && i["parent-id"] == failed["tracking-id"])
        .unwrap();
    // `#[instrument(err)]` records the error with Display, and no message.
    assert_eq!(error["exception"], "card declined");
    assert_eq!(error["msg-text"], "card declined");
    assert_eq!(error["severity"], "ERROR");
    let total = find(&items, "operation", "total");
    let ret = items
        .iter()
        .find(|i| i["type"] == "EVENT" && i["parent-id"] == total["tracking-id"])
        .unwrap();
    assert_eq!(property(ret, "return")["value"], "5");
}

#[test]
fn a_fully_specified_event_keeps_every_field() {
    let collector = collector();
    let (_dispatch, handle) = dispatch(builder(&collector));
    let event = JKoolEvent::new("Order Processed Successfully")
        .event_type(EventType::Send)
        .tracking_id("evt-1")
        .parent_id("act-1")
        .corr_id("order-5")
        .corr_id("batch-9")
        .time_usec(1_700_000_000_000_000)
        .start_time_usec(1_699_999_999_000_000)
        .end_time_usec(1_700_000_000_000_000)
        .elapsed_time_usec(1_000_000)
        .wait_time_usec(250)
        .exception("none")
        .resource("orders-queue")
        .source_url("https://shop.example/orders")
        .source_fqn("APPL=Shop#SERVER=web1")
        .severity(Severity::Notice)
        .pid(42)
        .tid(7)
        .comp_code(CompCode::Warning)
        .reason_code(17)
        .location("Atlanta, Ga")
        .operation("ProcessOrder")
        .user("ann")
        .msg_size(123)
        .encoding("none")
        .charset("UTF-8")
        .mime_type("text/plain")
        .msg_age_usec(5)
        .msg_tag("tag-1")
        .property("region", "EU")
        .with(Property::new("fee", 1.5).unit(ValueType::CurrencyEur))
        .snapshot(
            Snapshot::new("Payment")
                .category("Order")
                .property("order-no", "5"),
        );
    handle.send(event);
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    assert_eq!(items.len(), 1);
    let sent = &items[0];
    let expected = json!({
        "type": "SEND", "tracking-id": "evt-1", "parent-id": "act-1", "corrid": ["order-5", "batch-9"],
        "time-usec": 1_700_000_000_000_000_i64, "start-time-usec": 1_699_999_999_000_000_i64,
        "end-time-usec": 1_700_000_000_000_000_i64, "elapsed-time-usec": 1_000_000,
        "wait-time-usec": 250, "exception": "none", "resource": "orders-queue",
        "source-url": "https://shop.example/orders", "source-fqn": "APPL=Shop#SERVER=web1",
        "severity": "NOTICE", "pid": 42, "tid": 7, "comp-code": "WARNING", "reason-code": 17,
        "location": "Atlanta, Ga", "operation": "ProcessOrder", "user": "ann",
        "msg-text": "Order Processed Successfully", "msg-size": 123, "encoding": "none",
        "charset": "UTF-8", "mime-type": "text/plain", "msg-age-usec": 5, "msg-tag": "tag-1",
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&sent[key], value, "{key}");
    }
    assert_eq!(
        sent["properties"][0],
        json!({"name": "region", "type": "string", "value": "EU"})
    );
    assert_eq!(sent["properties"][1]["value-type"], "currency.eur");
    let payment = &sent["snapshots"][0];
    assert_eq!(
        payment["parent-id"], "evt-1",
        "the snapshot follows the new tracking id"
    );
    assert_eq!(payment["category"], "Order");
    assert_eq!(
        payment["properties"][0],
        json!({"name": "order-no", "type": "string", "value": "5"})
    );
}

#[test]
fn each_event_gets_its_own_id_and_time_unlike_the_old_handler() {
    let collector = collector();
    let (_dispatch, handle) = dispatch(builder(&collector).source_fqn("APPL=Seed"));
    handle.send(JKoolEvent::new("first"));
    std::thread::sleep(Duration::from_millis(2));
    handle.send(JKoolEvent::new("second"));
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    assert_eq!(items.len(), 2);
    assert_ne!(items[0]["tracking-id"], items[1]["tracking-id"]);
    assert!(items[0]["time-usec"].as_i64() < items[1]["time-usec"].as_i64());
    for item in &items {
        assert_eq!(item["source-fqn"], "APPL=Seed", "the layer's default");
        assert_eq!(item["type"], "EVENT");
        assert_eq!(item["severity"], "INFO");
        assert_eq!(item["pid"], std::process::id());
    }
}
