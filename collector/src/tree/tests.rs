use serde_json::{json, Value};

use super::line::duration;
use super::render_tree;

fn activity(id: &str, parent: Option<&str>, op: &str, start: i64) -> Value {
    let mut item = json!({
        "type": "ACTIVITY", "tracking-id": id, "operation": op,
        "start-time-usec": start, "elapsed-time-usec": 1500, "status": "END",
    });
    if let Some(parent) = parent {
        item["parent-id"] = json!(parent);
    }
    item
}

#[test]
fn durations_pick_a_readable_unit() {
    assert_eq!(duration(0), "0 µs");
    assert_eq!(duration(999), "999 µs");
    assert_eq!(duration(1_234), "1.234 ms");
    assert_eq!(duration(2_500_000), "2.500 s");
    assert_eq!(duration(125_500_000), "2 min 5.5 s");
    assert_eq!(duration(-1_234), "-1.234 ms");
    assert!(duration(i64::MIN).starts_with('-'));
}

#[test]
fn empty_input_says_so() {
    assert_eq!(render_tree(&[]), "(no items)\n");
}

#[test]
fn siblings_are_ordered_by_start_time_not_arrival() {
    let items = [
        activity("root", None, "root", 0),
        activity("b", Some("root"), "second", 20),
        activity("a", Some("root"), "first", 10),
    ];
    let out = render_tree(&items);
    let first = out.find("first").unwrap();
    let second = out.find("second").unwrap();
    assert!(first < second, "{out}");
    assert!(out.contains("├─ ▶ first"), "{out}");
    assert!(out.contains("└─ ▶ second"), "{out}");
}

#[test]
fn unknown_parent_makes_a_root_and_says_so() {
    let out = render_tree(&[activity("x", Some("gone"), "orphan", 0)]);
    assert!(out.starts_with("▶ orphan"), "{out}");
    assert!(out.contains("(parent gone not received)"), "{out}");
}

#[test]
fn self_parent_is_drawn_once() {
    let out = render_tree(&[activity("x", Some("x"), "me", 0)]);
    assert_eq!(out.matches("▶ me").count(), 1, "{out}");
    assert!(out.contains("↻ back to me"), "{out}");
}

#[test]
fn every_member_of_a_cycle_and_its_children_is_shown_once() {
    let items = [
        json!({"type": "EVENT", "parent-id": "b", "msg-text": "below the cycle"}),
        activity("a", Some("b"), "op-a", 0),
        activity("b", Some("a"), "op-b", 0),
    ];
    let out = render_tree(&items);
    assert_eq!(out.matches("▶ op-a").count(), 1, "{out}");
    assert_eq!(out.matches("▶ op-b").count(), 1, "{out}");
    assert_eq!(out.matches("↻ back to op-").count(), 1, "{out}");
    assert_eq!(out.matches("below the cycle").count(), 1, "{out}");
    assert!(out.contains("(in a parent-id cycle)"), "{out}");
}

#[test]
fn a_very_deep_chain_is_cut_not_overflowing() {
    let mut items = vec![activity("0", None, "level-0", 0)];
    for i in 1..5_000 {
        let (id, parent) = (i.to_string(), (i - 1).to_string());
        items.push(activity(&id, Some(&parent), &format!("level-{i}"), 0));
    }
    let out = render_tree(&items);
    assert!(out.contains("level-64"), "{out}");
    assert!(!out.contains("level-65 "), "{out}");
    assert!(out.contains("… 4935 more item(s) nested deeper than 64 levels"));
}

#[test]
fn odd_values_do_not_panic() {
    let items = [
        json!({}),
        json!(null),
        json!("just a string"),
        json!({"type": 5, "tracking-id": 7, "parent-id": [1], "operation": {"x": 1}}),
        json!({"type": "ACTIVITY", "elapsed-time-usec": "oops", "snapshots": "no",
               "properties": [1, {"value": null}, {"name": "n"}], "corrid": [1, "c1"]}),
        json!({"type": "ACTIVITY", "start-time-usec": 1e300, "end-time-usec": -1e300}),
        json!({"type": "ACTIVITY", "start-time-usec": i64::MIN, "end-time-usec": i64::MAX}),
        json!({"type": "event", "msg-text": "multi\nline\u{1b}", "severity": "INFO"}),
        json!({"type": "SNAPSHOT", "properties": {"not": "a list"}}),
    ];
    let out = render_tree(&items);
    assert_eq!(out.lines().count(), items.len(), "{out}");
    assert!(
        out.contains("? not a JSON object: \"just a string\""),
        "{out}"
    );
    assert!(out.contains("duration ?"), "{out}");
    assert!(out.contains("corrid=c1  ?=? ?=null n=?"), "{out}");
    assert!(out.contains("multi\\nline\\u{1b}"), "{out}");
}

#[test]
fn properties_snapshots_and_event_kinds_are_shown() {
    let items = [json!({
        "type": "CALL", "severity": "WARNING", "msg-text": "slow",
        "exception": "timed out", "corrid": ["t1", "t2"],
        "properties": [
            {"name": "host", "type": "string", "value": "db1"},
            {"name": "rows", "type": "long", "value": "3"},
            {"name": "ok", "value": true},
        ],
        "snapshots": [{"name": "pool", "category": "db",
                       "properties": [{"name": "idle", "type": "int", "value": 2}]}],
    })];
    let out = render_tree(&items);
    assert_eq!(
        out,
        "• [CALL] WARNING  slow  exception=\"timed out\"  corrid=t1,t2  \
         host=\"db1\" rows=3 ok=true\n└─ ◆ pool (db)  idle=2\n"
    );
}

#[test]
fn long_text_is_cut() {
    let long = "x".repeat(1_000);
    let out = render_tree(&[json!({"type": "EVENT", "msg-text": long, "severity": "INFO"})]);
    assert!(out.len() < 300, "{out}");
    assert!(out.contains("x…"), "{out}");
}
