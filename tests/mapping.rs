//! Spans and events through the layer to the collector over HTTP: the
//! assertions read the raw JSON the collector received.

mod common;

use common::*;
use serde_json::json;
use tracing::{info, info_span, instrument, Level};

#[instrument]
fn checkout(order_no: u64) {
    info!(amount = 12.5, "order processed");
    charge(order_no);
}

#[instrument]
fn charge(order_no: u64) {
    tracing::warn!("card slow");
}

#[test]
fn nested_instrumented_functions_become_an_activity_tree() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || checkout(5));

    assert_eq!(items.len(), 4, "{items:#?}");
    items.iter().for_each(assert_contract);
    let outer = find(&items, "operation", "checkout");
    let inner = find(&items, "operation", "charge");
    let processed = find(&items, "msg-text", "order processed");
    let slow = find(&items, "msg-text", "card slow");

    assert_eq!(outer["type"], "ACTIVITY");
    assert!(outer.get("parent-id").is_none());
    assert_eq!(inner["parent-id"], outer["tracking-id"]);
    assert_eq!(processed["parent-id"], outer["tracking-id"]);
    assert_eq!(slow["parent-id"], inner["tracking-id"]);
    assert_eq!(outer["status"], "END");
    assert!(outer["start-time-usec"].as_i64() <= inner["start-time-usec"].as_i64());
    assert!(outer["end-time-usec"].as_i64() >= inner["end-time-usec"].as_i64());
    assert_eq!(
        property(outer, "order_no"),
        &json!({"name": "order_no", "type": "long", "value": 5})
    );
    assert_eq!(outer["source-fqn"], "APPL=Tests#SERVER=ci");
    let ids: std::collections::HashSet<_> = items.iter().map(|i| &i["tracking-id"]).collect();
    assert_eq!(ids.len(), 4, "every item has its own tracking id");
}

#[test]
fn events_carry_severity_comp_code_location_resource_and_typed_properties() {
    let collector = collector();
    let line = line!() + 2;
    let items = run(&collector, builder(&collector).level(Level::TRACE), || {
        info!(
            order_no = 5,
            amount = 12.5,
            paid = true,
            who = "ann",
            "order processed"
        );
        tracing::error!("e");
        tracing::warn!("w");
        tracing::debug!("d");
        tracing::trace!("t");
    });
    assert_eq!(items.len(), 5);
    items.iter().for_each(assert_contract);
    let info = find(&items, "msg-text", "order processed");
    assert_eq!(info["severity"], "INFO");
    assert_eq!(info["comp-code"], "SUCCESS");
    assert_eq!(info["location"], format!("tests/mapping.rs:{line}"));
    assert_eq!(info["resource"], "mapping");
    assert_eq!(info["type"], "EVENT");
    assert_eq!(property(info, "order_no")["type"], "long");
    assert_eq!(property(info, "order_no")["value"], 5);
    assert_eq!(
        property(info, "amount"),
        &json!({"name": "amount", "type": "double", "value": 12.5})
    );
    assert_eq!(
        property(info, "paid"),
        &json!({"name": "paid", "type": "bool", "value": true})
    );
    assert_eq!(
        property(info, "who"),
        &json!({"name": "who", "type": "string", "value": "ann"})
    );
    assert_eq!(property_names(info), ["order_no", "amount", "paid", "who"]);
    let snapshot = &info["snapshots"][0];
    assert_eq!(snapshot["type"], "SNAPSHOT");
    assert_eq!(snapshot["parent-id"], info["tracking-id"]);
    assert!(snapshot["category"].as_str().is_some());

    for (text, severity, comp_code) in [
        ("e", "ERROR", "ERROR"),
        ("w", "WARNING", "WARNING"),
        ("d", "DEBUG", "SUCCESS"),
        ("t", "TRACE", "SUCCESS"),
    ] {
        let item = find(&items, "msg-text", text);
        assert_eq!(item["severity"], severity);
        assert_eq!(item["comp-code"], comp_code);
        assert!(item.get("snapshots").is_none(), "no fields, no snapshot");
    }
}

#[test]
fn values_json_cannot_carry_as_numbers_go_as_strings() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        info!(
            big = u64::MAX,
            fits = i64::MAX as u64,
            wide = -5_i128,
            huge = u128::MAX,
            nan = f64::NAN,
            inf = f64::INFINITY,
            neg = f64::NEG_INFINITY,
            list = ?vec![1, 2],
            "odd values"
        );
    });
    let item = find(&items, "msg-text", "odd values");
    assert_eq!(
        property(item, "big"),
        &json!({"name": "big", "type": "string", "value": u64::MAX.to_string()})
    );
    assert_eq!(
        property(item, "fits"),
        &json!({"name": "fits", "type": "long", "value": i64::MAX})
    );
    assert_eq!(
        property(item, "wide"),
        &json!({"name": "wide", "type": "string", "value": "-5"})
    );
    assert_eq!(property(item, "huge")["value"], u128::MAX.to_string());
    assert_eq!(
        property(item, "nan"),
        &json!({"name": "nan", "type": "string", "value": "NaN"})
    );
    assert_eq!(property(item, "inf")["value"], "inf");
    assert_eq!(property(item, "neg")["value"], "-inf");
    assert_eq!(
        property(item, "list"),
        &json!({"name": "list", "type": "string", "value": "[1, 2]"})
    );
}

#[test]
fn an_error_event_inside_a_span_makes_its_status_exception_with_the_first_error() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let _ok = info_span!("fine").entered();
        let _failing = info_span!("failing").entered();
        tracing::error!("boom");
        tracing::error!(error = "later", "second");
    });
    let failing = find(&items, "operation", "failing");
    assert_eq!(failing["status"], "EXCEPTION");
    assert_eq!(failing["comp-code"], "ERROR");
    assert_eq!(failing["severity"], "ERROR");
    assert_eq!(failing["exception"], "boom", "the first error's text");
    let fine = find(&items, "operation", "fine");
    assert_eq!(fine["status"], "END");
    assert_eq!(fine["severity"], "INFO");
    assert!(fine.get("exception").is_none(), "{fine:#}");
}

#[test]
fn an_activity_has_its_spans_level_as_severity() {
    let collector = collector();
    let builder = builder(&collector).level(Level::TRACE);
    let items = run(&collector, builder, || {
        tracing::warn_span!("slow_path").in_scope(|| {});
        tracing::error_span!("broken").in_scope(|| {});
        tracing::debug_span!("detail").in_scope(|| {});
        // Failing raises a warning span to ERROR.
        tracing::warn_span!("failed_warning").in_scope(|| {
            tracing::info!(error = "disk full", "could not write");
        });
    });
    for (operation, severity, status) in [
        ("slow_path", "WARNING", "END"),
        ("broken", "ERROR", "END"),
        ("detail", "DEBUG", "END"),
        ("failed_warning", "ERROR", "EXCEPTION"),
    ] {
        let activity = find(&items, "operation", operation);
        assert_eq!(activity["severity"], severity, "{activity:#}");
        assert_eq!(activity["status"], status, "{activity:#}");
    }
    let failed = find(&items, "operation", "failed_warning");
    assert_eq!(failed["exception"], "disk full");
}

#[test]
fn fields_recorded_later_become_properties() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let span = info_span!("order", order_no = 5, total = tracing::field::Empty);
        span.record("total", 99.5);
        span.record("order_no", 6);
    });
    let order = find(&items, "operation", "order");
    assert_eq!(property(order, "order_no")["value"], 6);
    assert_eq!(
        property(order, "total"),
        &json!({"name": "total", "type": "double", "value": 99.5})
    );
    assert_eq!(property_names(order), ["order_no", "total", "busy", "idle"]);
}

#[test]
fn jkool_fields_set_jkool_keys_and_correlate_what_is_inside() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let _order = info_span!("order", jkool.corr_id = "order-5", user = "bob").entered();
        let _pay = info_span!("pay", jkool.corr_id = "payment-9").entered();
        info!(
            jkool.user = "ann",
            jkool.resource = "payments-queue",
            jkool.location = "Berlin",
            jkool.comp_code = "WARNING",
            jkool.reason_code = 42,
            jkool.exception = "retry",
            jkool.msg_tag = "tag-1",
            jkool.operation = "Pay",
            jkool.source_fqn = "APPL=Other",
            jkool.tracking_id = "my-id-1",
            "paid"
        );
    });
    let order = find(&items, "operation", "order");
    let pay = find(&items, "operation", "pay");
    let paid = find(&items, "msg-text", "paid");
    // The trace id comes first: the root's tracking id as 32 hex digits,
    // its halves swapped (the low half, which samplers read, is random).
    let uuid = order["tracking-id"].as_str().unwrap().replace('-', "");
    let trace = format!("{}{}", &uuid[16..], &uuid[..16]);
    assert_eq!(order["corrid"], json!([trace, "order-5"]));
    assert_eq!(property(order, "user")["value"], "bob");
    assert!(
        order.get("user").is_none(),
        "an ordinary `user` stays a property"
    );
    assert_eq!(pay["corrid"], json!([trace, "order-5", "payment-9"]));
    assert_eq!(paid["corrid"], json!([trace, "order-5", "payment-9"]));
    assert_eq!(paid["user"], "ann");
    assert_eq!(paid["resource"], "payments-queue");
    assert_eq!(paid["location"], "Berlin");
    assert_eq!(paid["comp-code"], "WARNING");
    assert_eq!(paid["reason-code"], 42);
    assert_eq!(paid["exception"], "retry");
    assert_eq!(paid["msg-tag"], "tag-1");
    assert_eq!(paid["operation"], "Pay");
    assert_eq!(paid["source-fqn"], "APPL=Other");
    assert_eq!(paid["tracking-id"], "my-id-1");
    assert!(
        paid.get("snapshots").is_none(),
        "jkool.* fields are not properties"
    );
}

#[test]
fn a_span_with_its_own_tracking_id_is_the_parent_of_what_is_inside() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let _s = info_span!("s", jkool.tracking_id = "span-id-7").entered();
        info!("inside");
    });
    assert_eq!(find(&items, "operation", "s")["tracking-id"], "span-id-7");
    assert_eq!(find(&items, "msg-text", "inside")["parent-id"], "span-id-7");
}

#[test]
fn an_explicit_parent_wins_over_the_current_span() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let chosen = info_span!("chosen");
        let _current = info_span!("current").entered();
        let _child = info_span!(parent: &chosen, "child").entered();
        info!(parent: &chosen, "told");
    });
    let chosen = find(&items, "operation", "chosen");
    assert_eq!(
        find(&items, "operation", "child")["parent-id"],
        chosen["tracking-id"]
    );
    assert_eq!(
        find(&items, "msg-text", "told")["parent-id"],
        chosen["tracking-id"]
    );
}

#[test]
fn below_the_level_costs_nothing_and_children_attach_to_the_nearest_sent_span() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        let _outer = info_span!("outer").entered();
        let _quiet = tracing::debug_span!("quiet").entered();
        tracing::debug!("not sent");
        info!("sent");
    });
    assert_eq!(items.len(), 2, "{items:#?}");
    let outer = find(&items, "operation", "outer");
    assert_eq!(
        find(&items, "msg-text", "sent")["parent-id"],
        outer["tracking-id"]
    );
}

#[test]
fn events_name_their_operation_by_name_or_target() {
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        info!(name: "order_placed", "named");
        info!("unnamed");
    });
    assert_eq!(
        find(&items, "msg-text", "named")["operation"],
        "order_placed"
    );
    assert_eq!(find(&items, "msg-text", "unnamed")["operation"], "mapping");
}
