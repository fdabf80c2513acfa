//! The typed views, read from items as the collector keeps them.

use super::*;
use serde_json::json;

#[test]
fn links_children_and_parents_in_time_order() {
    let received = Received::new(&[
        json!({"type": "EVENT", "tracking-id": "e2", "parent-id": "a", "time-usec": 30, "msg-text": "late"}),
        json!({"type": "EVENT", "tracking-id": "e1", "parent-id": "a", "time-usec": 10, "msg-text": "early"}),
        json!({"type": "ACTIVITY", "tracking-id": "b", "parent-id": "a", "operation": "inner",
               "start-time-usec": 20, "end-time-usec": 25}),
        json!({"type": "ACTIVITY", "tracking-id": "a", "operation": "outer", "start-time-usec": 5,
               "elapsed-time-usec": 40}),
        json!({"type": "ACTIVITY", "tracking-id": "o", "parent-id": "gone", "operation": "orphan"}),
        json!({"type": "SNAPSHOT", "name": "cpu", "parent-id": "a",
               "properties": [{"name": "load", "type": "double", "value": "0.5"}]}),
        json!([1, 2]),
    ]);
    assert_eq!(received.len(), 7);
    let outer = received.activity("outer");
    let kids = received.children(outer);
    let messages: Vec<_> = kids.events.iter().map(|e| e.message.as_deref()).collect();
    assert_eq!(messages, [Some("early"), Some("late")]);
    assert_eq!(kids.activities, [received.activity("inner")]);
    assert_eq!(
        kids.snapshots[0].property("load"),
        Some(&PropertyValue::Double(0.5))
    );
    assert_eq!(received.activity("inner").elapsed_usec, Some(5));
    assert_eq!(outer.elapsed_usec, Some(40));
    let roots: Vec<_> = received.roots().iter().map(|a| &a.operation).collect();
    assert_eq!(roots, ["outer", "orphan"]);
    assert_eq!(
        received.parent(received.event("late").parent_id.as_deref()),
        Some(outer)
    );
    assert!(received.parent(outer.parent_id.as_deref()).is_none());
    assert!(received.find_activity("nope").is_none());
    assert!(received.find_event("nope").is_none());
    assert!(received.tree().contains("▶ outer  40 µs"));
    assert!(received.stable_tree().starts_with("▶ outer\n"));
}

#[test]
fn a_stable_tree_hides_durations_trace_ids_and_times() {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let items = [
        json!({"type": "ACTIVITY", "operation": "op", "elapsed-time-usec": 7,
        "corrid": [trace, "o-1"], "snapshots": [{"name": "s", "properties": [
            {"name": "busy", "type": "long", "value": 48, "value-type": "age.usec"},
            {"name": "at", "type": "long", "value": 1, "value-type": "timestamp"},
            {"name": "n", "type": "long", "value": 2, "value-type": "counter"}]}]}),
    ];
    let received = Received::new(&items);
    assert_eq!(
        received.stable_tree(),
        "▶ op  corrid=<trace-id>,o-1\n└─ ◆ s  busy=<age.usec> at=<timestamp> n=2\n"
    );
    assert_eq!(
        received.tree(),
        format!("▶ op  7 µs  corrid={trace},o-1\n└─ ◆ s  busy=48 at=1 n=2\n")
    );
}

#[test]
fn reads_properties_in_their_declared_type() {
    let received = Received::new(&[json!({
        "msg-text": "typed", "corr-id": "c-1",
        "snapshots": [{"name": "fields", "properties": [
            {"name": "n", "type": "long", "value": "7"},
            {"name": "m", "type": "long", "value": 8},
            {"name": "f", "type": "double", "value": 1.5},
            {"name": "b", "type": "boolean", "value": "true"},
            {"name": "s", "type": "string", "value": "x", "value-type": "id"},
            {"name": "bad", "type": "long", "value": "seven"},
            {"name": "raw", "value": [1]},
            {"name": "none"},
        ]}],
    })]);
    let event = received.event("typed");
    assert_eq!(event.kind, "EVENT");
    assert_eq!(event.correlators, ["c-1"]);
    let value = |name| event.property(name).cloned();
    assert_eq!(value("n"), Some(PropertyValue::Long(7)));
    assert_eq!(value("m"), Some(PropertyValue::Long(8)));
    assert_eq!(value("f").and_then(|v| v.as_f64()), Some(1.5));
    assert_eq!(value("b").and_then(|v| v.as_bool()), Some(true));
    assert_eq!(
        value("s").as_ref().and_then(PropertyValue::as_str),
        Some("x")
    );
    assert_eq!(value("bad"), Some(PropertyValue::Text("seven".into())));
    assert_eq!(value("raw"), Some(PropertyValue::Other(json!([1]))));
    assert_eq!(value("none"), Some(PropertyValue::Other(Value::Null)));
    assert_eq!(value("missing"), None);
    assert_eq!(
        event.snapshots[0].properties[4].value_type.as_deref(),
        Some("id")
    );
}

#[test]
#[should_panic(expected = "no activity with operation \"missing\"")]
fn a_missing_activity_panics_with_the_tree() {
    Received::new(&[json!({"type": "EVENT", "msg-text": "only"})]).activity("missing");
}
