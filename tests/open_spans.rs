//! Spans still open at shutdown are sent then, as activities ending at
//! shutdown and marked as cut short, so that every `parent-id` resolves.

mod common;

use common::*;
use serde_json::Value;
use tracing::{error, info, info_span};

/// The marking of an activity cut short by shutdown.
fn assert_cut_short(activity: &Value, comp_code: &str, status: &str) {
    assert_eq!(
        property(activity, "cut_short")["value"],
        true,
        "{activity:#}"
    );
    assert_eq!(activity["comp-code"], comp_code, "{activity:#}");
    assert_eq!(activity["status"], status, "{activity:#}");
}

#[test]
fn a_root_span_open_at_shutdown_is_sent_cut_short_and_its_children_resolve() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector));
    tracing::dispatcher::with_default(&dispatch, || {
        let root = info_span!("main_body").entered();
        for i in 0..3 {
            let _child = info_span!("child", i).entered();
            info!(i, "child work");
        }
        // Open and entered inside the root: cut short too.
        let inner = info_span!("inner").entered();
        // Created, never entered.
        let idle = info_span!("never_entered");
        handle.shutdown(WAIT).expect("everything is sent");
        // Closing them now sends nothing more.
        drop(idle);
        drop(inner);
        drop(root);
    });
    let items = collector.items();
    assert_eq!(items.len(), 3 + 3 + 3, "{items:#?}");
    items.iter().for_each(assert_contract);

    let root = find(&items, "operation", "main_body");
    assert_cut_short(root, "WARNING", "END");
    assert!(root.get("parent-id").is_none(), "{root:#}");
    assert!(property(root, "busy")["value"].as_u64().expect("busy") > 0);
    let children: Vec<&Value> = items.iter().filter(|i| i["operation"] == "child").collect();
    assert_eq!(children.len(), 3);
    for child in &children {
        assert_eq!(child["parent-id"], root["tracking-id"], "{child:#}");
        assert!(!property_names(child).contains(&"cut_short".to_owned()));
    }
    let inner = find(&items, "operation", "inner");
    assert_cut_short(inner, "WARNING", "END");
    assert_eq!(inner["parent-id"], root["tracking-id"]);
    let idle = find(&items, "operation", "never_entered");
    assert_cut_short(idle, "WARNING", "END");
    assert_eq!(idle["parent-id"], inner["tracking-id"]);
    assert_eq!(property(idle, "busy")["value"], 0);

    // Every parent-id resolves to exactly one activity.
    for item in &items {
        if let Some(parent) = item.get("parent-id") {
            let parents = of_type(&items, "ACTIVITY")
                .into_iter()
                .filter(|a| &a["tracking-id"] == parent)
                .count();
            assert_eq!(parents, 1, "{item:#}");
        }
    }
    let stats = handle.stats();
    assert_eq!((stats.queued, stats.sent, stats.dropped), (9, 9, 0));
}

#[test]
fn only_spans_still_open_are_cut_short() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector));
    tracing::dispatcher::with_default(&dispatch, || {
        info_span!("closed").in_scope(|| info!("inside"));
        let _failing = info_span!("failing").entered();
        error!("went wrong");
        handle.shutdown(WAIT).expect("everything is sent");
    });
    let items = collector.items();
    assert_eq!(items.len(), 4, "{items:#?}");
    let closed = find(&items, "operation", "closed");
    assert_eq!(closed["status"], "END");
    assert_eq!(closed["comp-code"], "SUCCESS");
    let names = property_names(closed);
    assert!(!names.iter().any(|n| n == "cut_short"), "{closed:#}");
    // A span that failed keeps its failure: status EXCEPTION, code ERROR.
    let failing = find(&items, "operation", "failing");
    assert_cut_short(failing, "ERROR", "EXCEPTION");
    let wrong = find(&items, "msg-text", "went wrong");
    assert_eq!(wrong["parent-id"], failing["tracking-id"]);
}
