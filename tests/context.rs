//! The context users expect on every item: trace ids, `follows_from`,
//! `handle.send` inside a span, span fields on events (`inherit_span_fields`)
//! and ordinary fields as jKool keys (`field_as`); and malformed
//! `traceparent` headers, which are ignored.

mod common;

use common::*;
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use tracing::{info, info_span};
use tracing_jkool::propagation::{self, JKoolSpanExt};
use tracing_jkool::{InheritFields, JKoolEvent, JKoolKey};

/// The item without what changes from run to run (times, ids, process and
/// thread), for exact comparisons; the ids are checked separately.
fn stable(item: &Value) -> Value {
    let mut item = item.clone();
    let volatile = [
        "tracking-id",
        "parent-id",
        "time-usec",
        "start-time-usec",
        "end-time-usec",
        "elapsed-time-usec",
        "wait-time-usec",
        "pid",
        "tid",
        "location",
    ];
    if let Some(map) = item.as_object_mut() {
        for key in volatile {
            map.remove(key);
        }
    }
    let snapshots = item.get_mut("snapshots").and_then(Value::as_array_mut);
    for snapshot in snapshots.into_iter().flatten() {
        if let Some(map) = snapshot.as_object_mut() {
            map.remove("time-usec");
            map.remove("parent-id");
        }
        // A span's busy and idle times vary.
        if let Some(properties) = snapshot["properties"].as_array_mut() {
            properties.retain(|p| p["name"] != "busy" && p["name"] != "idle");
        }
    }
    item
}

/// The 32 hex digits of a trace id.
fn is_trace_id(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn malformed_traceparent_headers_are_ignored() {
    let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let bad = [
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-001",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0X",
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ];
    for value in bad {
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", HeaderValue::from_static(value));
        headers.insert("tracestate", HeaderValue::from_static("a=b"));
        assert!(propagation::extract(&headers).is_none(), "{value}");
    }
    let mut headers = HeaderMap::new();
    assert!(propagation::extract(&headers).is_none(), "no header");
    headers.append("traceparent", HeaderValue::from_static(good));
    headers.append("tracestate", HeaderValue::from_static("a=b"));
    headers.append("tracestate", HeaderValue::from_static("c=d"));
    let cx = propagation::extract(&headers).expect("valid");
    assert_eq!(cx.tracestate(), Some("a=b,c=d"));
    headers.append("traceparent", HeaderValue::from_static(good));
    assert!(propagation::extract(&headers).is_none(), "two traceparents");
}

#[test]
fn every_item_in_a_trace_carries_its_id_and_events_outside_none() {
    let collector = collector();
    let mut headers = HeaderMap::new();
    let items = run(&collector, builder(&collector), || {
        info!("outside");
        propagation::inject(&mut headers);
        let root = info_span!("root", jkool.corr_id = "order-5");
        root.in_scope(|| {
            info_span!("child").in_scope(|| info!("inside"));
        });
    });
    assert!(headers.is_empty(), "nothing to inject outside a span");
    let outside = find(&items, "msg-text", "outside");
    assert!(outside.get("corrid").is_none(), "{outside:#}");
    let root = find(&items, "operation", "root");
    let trace = root["corrid"][0].clone();
    assert!(is_trace_id(&trace), "{root:#}");
    assert_eq!(root["corrid"], json!([trace, "order-5"]));
    assert_eq!(
        find(&items, "operation", "child")["corrid"],
        json!([trace, "order-5"])
    );
    assert_eq!(
        find(&items, "msg-text", "inside")["corrid"],
        json!([trace, "order-5"])
    );
}

#[test]
fn handle_send_inside_a_span_gets_its_parent_and_correlators() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector));
    let (tracking_id, trace_id) = tracing::dispatcher::with_default(&dispatch, || {
        let span = info_span!("order", jkool.corr_id = "order-5");
        let _entered = span.enter();
        handle.send(JKoolEvent::new("implicit"));
        handle.send(
            JKoolEvent::new("explicit")
                .parent_id("my-parent")
                .corr_id("mine"),
        );
        (span.tracking_id(), span.trace_id())
    });
    handle.send(JKoolEvent::new("outside"));
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    let tracking_id = tracking_id.expect("tracked");
    let trace_id = trace_id.expect("traced").to_string();
    let order = find(&items, "operation", "order");
    assert_eq!(order["tracking-id"], tracking_id.as_str());
    let implicit = find(&items, "msg-text", "implicit");
    assert_eq!(implicit["parent-id"], tracking_id.as_str());
    assert_eq!(implicit["corrid"], json!([trace_id, "order-5"]));
    let explicit = find(&items, "msg-text", "explicit");
    assert_eq!(explicit["parent-id"], "my-parent");
    assert_eq!(explicit["corrid"], json!(["mine"]));
    let outside = find(&items, "msg-text", "outside");
    assert!(outside.get("parent-id").is_none() && outside.get("corrid").is_none());
}

#[test]
fn follows_from_adds_the_followed_spans_correlators() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let batch = info_span!("batch", jkool.corr_id = "batch-9");
        let job = info_span!(parent: None, "job");
        job.follows_from(&batch);
        job.in_scope(|| info!("working"));
    });
    let batch = find(&items, "operation", "batch");
    let job = find(&items, "operation", "job");
    let (batch_trace, job_trace) = (&batch["corrid"][0], &job["corrid"][0]);
    assert!(is_trace_id(batch_trace) && is_trace_id(job_trace));
    assert_ne!(batch_trace, job_trace);
    assert_eq!(batch["corrid"], json!([batch_trace, "batch-9"]));
    let linked = json!([job_trace, batch_trace, "batch-9"]);
    assert_eq!(job["corrid"], linked);
    assert_eq!(find(&items, "msg-text", "working")["corrid"], linked);
}

#[test]
fn field_as_maps_ordinary_fields_to_jkool_keys() {
    let collector = collector();
    let builder = builder(&collector)
        .field_as("request_id", JKoolKey::Correlator)
        .field_as("customer", JKoolKey::User)
        .field_as("queue", JKoolKey::Resource)
        .field_as("step", JKoolKey::Operation)
        .field_as("tag", JKoolKey::MsgTag)
        .field_as("failure", JKoolKey::Exception);
    let items = run(&collector, builder, || {
        info_span!("order", request_id = "r-7", customer = "ann", amount = 12).in_scope(|| {
            info!(
                queue = "payments",
                step = "Pay",
                tag = "t-1",
                failure = "retry",
                "paid"
            );
        });
    });
    let order = find(&items, "operation", "order");
    let trace = order["corrid"][0].clone();
    assert_eq!(
        stable(order),
        json!({
            "type": "ACTIVITY",
            "corrid": [trace, "r-7"],
            "source-fqn": "APPL=Tests#SERVER=ci",
            "operation": "order",
            "status": "END",
            "severity": "INFO",
            "comp-code": "SUCCESS",
            "resource": "context",
            "user": "ann",
            "snapshots": [{
                "name": "order",
                "category": "context",
                "type": "SNAPSHOT",
                "properties": [{"name": "amount", "type": "long", "value": 12}]
            }]
        })
    );
    let paid = find(&items, "msg-text", "paid");
    assert_eq!(paid["parent-id"], order["tracking-id"]);
    assert_eq!(
        stable(paid),
        json!({
            "type": "EVENT",
            "corrid": [trace, "r-7"],
            "source-fqn": "APPL=Tests#SERVER=ci",
            "operation": "Pay",
            "severity": "INFO",
            "comp-code": "SUCCESS",
            "msg-text": "paid",
            "resource": "payments",
            "exception": "retry",
            "msg-tag": "t-1"
        })
    );
}

#[test]
fn inherit_span_fields_puts_span_fields_on_events() {
    let collector = collector();
    let only = builder(&collector).inherit_span_fields(InheritFields::Only(vec![
        "request_id".into(),
        "region".into(),
    ]));
    let items = run(&collector, only, || {
        info_span!("outer", request_id = "r-1", region = "eu", secret = 1).in_scope(|| {
            info_span!("inner", request_id = "r-2").in_scope(|| info!(n = 1, "only"));
        });
    });
    let only = find(&items, "msg-text", "only");
    assert_eq!(
        stable(only)["snapshots"],
        json!([{
            "name": "context",
            "category": "context",
            "type": "SNAPSHOT",
            "properties": [
                {"name": "n", "type": "long", "value": 1},
                {"name": "request_id", "type": "string", "value": "r-2"},
                {"name": "region", "type": "string", "value": "eu"}
            ]
        }])
    );

    let collector = common::collector();
    let all = builder(&collector).inherit_span_fields(InheritFields::All);
    let items = run(&collector, all, || {
        info_span!("outer", request_id = "r-1", secret = 1).in_scope(|| {
            info!(request_id = "own", "all");
        });
    });
    let all = find(&items, "msg-text", "all");
    assert_eq!(
        stable(all)["snapshots"][0]["properties"],
        json!([
            {"name": "request_id", "type": "string", "value": "own"},
            // A sensitive name, redacted by default, inherited or not.
            {"name": "secret", "type": "string", "value": "[redacted]"}
        ])
    );
}
