use serde_json::{json, Value};

use super::{Index, Info, RootsQuery, TraceQuery};
use crate::body::RawItem;

fn build(items: &[Value]) -> (Index, Vec<RawItem>) {
    let mut index = Index::default();
    let mut raw = Vec::new();
    for item in items {
        index.add(Info::of(item));
        raw.push(serde_json::value::to_raw_value(item).unwrap());
    }
    (index, raw)
}

fn ids(page: &Value) -> Vec<&str> {
    page["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[test]
fn parents_arriving_late_adopt_their_children() {
    // Spans close inside out: the root activity arrives last.
    let (mut index, _) = build(&[
        json!({"tracking-id": "e1", "parent-id": "c", "severity": "ERROR", "msg-text": "boom"}),
        json!({"type": "ACTIVITY", "tracking-id": "c", "parent-id": "r", "status": "EXCEPTION"}),
        json!({"type": "ACTIVITY", "tracking-id": "other", "operation": "alone"}),
        json!({"type": "ACTIVITY", "tracking-id": "r", "operation": "checkout"}),
    ]);
    let page = index.roots(&RootsQuery::default());
    assert_eq!(ids(&page), ["r", "other"]);
    assert_eq!(page["roots"][0]["items"], 3);
    assert_eq!(
        page["roots"][0]["errors"], 1,
        "the ERROR event tells why its EXCEPTION activity failed: one failure"
    );
    assert_eq!(page["roots"][0]["max_severity"], "ERROR");
    let errors = RootsQuery {
        severity: 6,
        ..RootsQuery::default()
    };
    assert_eq!(ids(&index.roots(&errors)), ["r"]);
    let text = RootsQuery {
        text: "alo".into(),
        ..RootsQuery::default()
    };
    assert_eq!(ids(&index.roots(&text)), ["other"]);
}

#[test]
fn cursor_sends_only_changed_roots() {
    let (mut index, _) = build(&[json!({"tracking-id": "a"}), json!({"tracking-id": "b"})]);
    let first = index.roots(&RootsQuery::default());
    assert_eq!(first["cursor"], 2);
    let same = RootsQuery {
        after: Some(2),
        ..RootsQuery::default()
    };
    assert_eq!(index.roots(&same)["unchanged"], true);
    index.add(Info::of(&json!({"tracking-id": "a1", "parent-id": "a"})));
    let next = index.roots(&same);
    assert_eq!(ids(&next), ["b", "a"]);
    assert_eq!(next["roots"].as_array().unwrap().len(), 1);
    assert_eq!(next["roots"][0]["id"], "a");
    assert_eq!(next["roots"][0]["items"], 2);
}

#[test]
fn cycles_and_self_parents_stay_roots() {
    let (mut index, _) = build(&[
        json!({"tracking-id": "a", "parent-id": "b"}),
        json!({"tracking-id": "b", "parent-id": "a"}),
        json!({"tracking-id": "s", "parent-id": "s"}),
    ]);
    let page = index.roots(&RootsQuery::default());
    assert_eq!(ids(&page), ["s", "a"]);
    assert_eq!(page["roots"][1]["items"], 2);
    let trace = TraceQuery {
        reference: "b".into(),
        limit: 100,
    };
    let (_, raw) = build(&[]);
    let view = index.trace(&trace, &raw).unwrap();
    assert_eq!(view["root"], "a");
    assert_eq!(view["shown"], 2);
}

#[test]
fn trace_ids_join_trees_and_limit_cuts() {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut items = vec![
        json!({"type": "ACTIVITY", "tracking-id": "web", "corrid": [trace],
               "source-fqn": "APPL=Web#SERVER=a", "start-time-usec": 1}),
        json!({"type": "ACTIVITY", "tracking-id": "db", "corrid": [trace],
               "source-fqn": "APPL=Db#SERVER=b", "start-time-usec": 2}),
    ];
    for n in 0..10 {
        items.push(json!({"tracking-id": format!("e{n}"), "parent-id": "db", "time-usec": 3 + n}));
    }
    items.push(json!({"msg-text": "no id"}));
    let (mut index, raw) = build(&items);
    let query = TraceQuery {
        reference: "web".into(),
        limit: 5,
    };
    let view = index.trace(&query, &raw).unwrap();
    assert_eq!(view["groups"].as_array().unwrap().len(), 2);
    assert_eq!(view["groups"][1]["source"], "Db");
    assert_eq!(view["groups"][1]["joined"], true);
    assert_eq!(view["total"], 12);
    assert_eq!(view["shown"], 5);
    assert_eq!(view["truncated"], true);
    assert_eq!(view["items"][2]["depth"], 1);
    assert_eq!(view["items"][2]["parent"], "db");
    let anonymous = TraceQuery {
        reference: "#12".into(),
        limit: 5,
    };
    assert_eq!(index.trace(&anonymous, &raw).unwrap()["root"], "#12");
    let missing = TraceQuery {
        reference: "nope".into(),
        limit: 5,
    };
    assert!(index.trace(&missing, &raw).is_none());
    let sources = index.roots(&RootsQuery::default());
    assert_eq!(sources["sources"], json!(["Db", "Web"]));
}

#[test]
fn a_failure_counts_once_whichever_arrives_first() {
    let failed = json!({"type": "ACTIVITY", "tracking-id": "f", "parent-id": "r",
        "status": "EXCEPTION", "severity": "ERROR", "operation": "request"});
    let cause = json!({"tracking-id": "e", "parent-id": "f", "severity": "ERROR",
        "msg-text": "declined", "operation": "service"});
    let root = json!({"type": "ACTIVITY", "tracking-id": "r", "operation": "serve"});
    // An ERROR event elsewhere in the tree is an error of its own, and so
    // is an EXCEPTION activity under another.
    let apart = json!({"tracking-id": "e2", "parent-id": "r", "severity": "ERROR",
        "msg-text": "disk full"});
    let nested = json!({"type": "ACTIVITY", "tracking-id": "g", "parent-id": "f",
        "status": "EXCEPTION"});
    let orders: [&[&Value]; 3] = [
        // Inside out, as spans close.
        &[&cause, &nested, &failed, &apart, &root],
        // Parents first.
        &[&root, &failed, &cause, &nested, &apart],
        // The cause after the root.
        &[&failed, &root, &apart, &nested, &cause],
    ];
    for order in orders {
        let items: Vec<Value> = order.iter().map(|v| (*v).clone()).collect();
        let (mut index, raw) = build(&items);
        let page = index.roots(&RootsQuery::default());
        assert_eq!(ids(&page), ["r"], "{items:?}");
        assert_eq!(page["roots"][0]["items"], 5);
        assert_eq!(page["roots"][0]["errors"], 3, "{items:?}");
        let trace = TraceQuery {
            reference: "e".into(),
            limit: 100,
        };
        assert_eq!(index.trace(&trace, &raw).unwrap()["groups"][0]["errors"], 3);
    }
    // Alone, the failed activity and its cause are one error.
    let (mut index, _) = build(&[cause.clone(), failed.clone()]);
    assert_eq!(index.roots(&RootsQuery::default())["roots"][0]["errors"], 1);
    let (mut index, _) = build(&[failed, cause]);
    assert_eq!(index.roots(&RootsQuery::default())["roots"][0]["errors"], 1);
}

#[test]
fn root_events_are_named_by_their_message_with_their_target() {
    let (mut index, raw) = build(&[
        json!({"type": "EVENT", "tracking-id": "ev-up", "operation": "service",
            "severity": "INFO", "msg-text": "listening on 0.0.0.0:8080"}),
        json!({"type": "EVENT", "tracking-id": "ev-down", "operation": "service",
            "severity": "INFO", "msg-text": "shutting down"}),
        json!({"type": "EVENT", "tracking-id": "ev-bare", "operation": "service"}),
        json!({"type": "ACTIVITY", "tracking-id": "act", "operation": "serve",
            "msg-text": "a message"}),
    ]);
    let page = index.roots(&RootsQuery::default());
    assert_eq!(ids(&page), ["act", "ev-bare", "ev-down", "ev-up"]);
    let named = |i: usize| {
        (
            page["roots"][i]["name"].as_str().unwrap(),
            page["roots"][i]["target"].as_str(),
        )
    };
    assert_eq!(named(0), ("serve", None), "an activity by its operation");
    assert_eq!(named(1), ("service", None), "no message: the target");
    assert_eq!(named(2), ("shutting down", Some("service")));
    assert_eq!(named(3), ("listening on 0.0.0.0:8080", Some("service")));
    let by_target = RootsQuery {
        text: "service".into(),
        ..RootsQuery::default()
    };
    assert_eq!(
        ids(&index.roots(&by_target)),
        ["ev-bare", "ev-down", "ev-up"]
    );
    let trace = TraceQuery {
        reference: "ev-up".into(),
        limit: 10,
    };
    let view = index.trace(&trace, &raw).unwrap();
    assert_eq!(view["groups"][0]["name"], "listening on 0.0.0.0:8080");
    assert_eq!(view["groups"][0]["target"], "service");
}

#[test]
fn only_a_parent_never_received_is_missing() {
    let (mut index, raw) = build(&[
        json!({"tracking-id": "o", "parent-id": "never-sent"}),
        json!({"tracking-id": "o1", "parent-id": "o"}),
        json!({"tracking-id": "a", "parent-id": "b"}),
        json!({"tracking-id": "b", "parent-id": "a"}),
        json!({"tracking-id": "r"}),
    ]);
    let page = index.roots(&RootsQuery::default());
    let missing = |id: &str| {
        page["roots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no root {id}: {page}"))["missing_parent"]
            .clone()
    };
    assert_eq!(missing("o"), "never-sent");
    // A cycle's root names a parent that arrived; a root without a parent-id.
    assert_eq!(missing("a"), Value::Null);
    assert_eq!(missing("r"), Value::Null);
    let view = index
        .trace(
            &TraceQuery {
                reference: "o1".into(),
                limit: 10,
            },
            &raw,
        )
        .unwrap();
    assert_eq!(view["groups"][0]["missing_parent"], "never-sent");
}
