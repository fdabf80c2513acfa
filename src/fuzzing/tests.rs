//! Property test: whatever the fields, every serialized item parses as
//! JSON, has the contract's required keys with their JSON types, and keeps
//! every recorded field as a property with a data type that matches its value.

use std::collections::HashSet;

use proptest::prelude::*;
use serde_json::Value as Json;

use super::item_json;
use crate::{Value, ValueType};

/// Field names that stress the mapping: dotted, reserved, routed, odd.
const NAMES: [&str; 18] = [
    "order_no",
    "amount",
    "payment.amount",
    "payment.order_no",
    "a.b.c",
    "message",
    "error",
    "jkool.corr_id",
    "jkool.user",
    "jkool.reason_code",
    "jkool.tracking_id",
    "jkool.unknown",
    "quo\"te",
    "new\nline",
    "ünïcødé",
    "",
    ".",
    "x.",
];

/// Names the layer routes elsewhere than a property.
const NOT_PROPERTIES: [&str; 6] = [
    "message",
    "error",
    "jkool.corr_id",
    "jkool.user",
    "jkool.reason_code",
    "jkool.tracking_id",
];

/// A case proptest once shrank a failure to: an activity without fields
/// still has its busy and idle properties, and nothing else.
#[test]
fn activity_without_fields_has_only_its_timings() {
    let json = item_json(
        true,
        Vec::new(),
        Vec::new(),
        vec![("order_no", ValueType::Percent)],
    );
    let item: Json = serde_json::from_slice(&json).expect("valid JSON");
    let names: Vec<&str> = item["snapshots"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|snapshot| snapshot["properties"].as_array().into_iter().flatten())
        .filter_map(|property| property["name"].as_str())
        .collect();
    assert_eq!(names, ["busy", "idle"], "{item}");
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::from),
        any::<i64>().prop_map(Value::I64),
        any::<u64>().prop_map(Value::U64),
        any::<i128>().prop_map(Value::I128),
        any::<u128>().prop_map(Value::U128),
        prop::num::f64::ANY.prop_map(Value::F64),
        any::<bool>().prop_map(Value::Bool),
    ]
}

fn fields() -> impl Strategy<Value = Vec<(&'static str, Value)>> {
    prop::collection::vec((prop::sample::select(&NAMES[..]), value()), 0..24)
}

fn assert_property(property: &Json) {
    assert!(property["name"].is_string(), "{property}");
    let value = &property["value"];
    match property["type"].as_str() {
        Some("long") => assert!(value.is_i64() || value.is_u64(), "{property}"),
        Some("double") => assert!(value.as_f64().is_some_and(f64::is_finite), "{property}"),
        Some("bool") => assert!(value.is_boolean(), "{property}"),
        Some("string") => assert!(value.is_string(), "{property}"),
        other => panic!("unknown data type {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_item_is_valid_json_with_the_contracts_keys(
        activity in any::<bool>(),
        fields in fields(),
        corrids in prop::collection::vec(any::<String>(), 0..3),
        unit_on in prop::sample::select(&NAMES[..]),
    ) {
        let names: HashSet<&str> = fields.iter().map(|(n, _)| *n).collect();
        // Each recorded field that is not routed elsewhere is one property
        // (tracing never records one name twice when an item is made).
        let mut expected = fields.iter().filter(|(n, _)| !NOT_PROPERTIES.contains(n)).count();
        let json = item_json(activity, fields, corrids.clone(), vec![(unit_on, ValueType::Percent)]);
        let item: Json = serde_json::from_slice(&json).expect("valid JSON");
        let kind = item["type"].as_str().expect("type");
        prop_assert_eq!(kind, if activity { "ACTIVITY" } else { "EVENT" });
        prop_assert!(item["tracking-id"].as_str().is_some_and(|id| !id.is_empty()) || names.contains("jkool.tracking_id"));
        prop_assert!(item["tracking-id"].is_string());
        prop_assert!(item["time-usec"].is_i64());
        prop_assert!(item["source-fqn"].is_string());
        prop_assert!(item["pid"].is_u64() && item["tid"].is_u64());
        prop_assert!(item["operation"].is_string());
        prop_assert!(item["comp-code"].is_string());
        prop_assert!(item["parent-id"].is_string());
        if activity {
            prop_assert!(item["start-time-usec"].as_i64() <= item["end-time-usec"].as_i64());
            prop_assert!(item["elapsed-time-usec"].as_i64().is_some_and(|e| e >= 0));
            prop_assert!(item["status"].is_string());
        } else {
            prop_assert!(item["severity"].is_string());
            prop_assert!(item["msg-text"].is_string());
        }
        if let Some(list) = item.get("corrid") {
            prop_assert!(list.as_array().is_some_and(|l| l.iter().all(Json::is_string)));
        }
        if let Some(code) = item.get("reason-code") {
            prop_assert!(code.is_number() || code.is_string());
        }

        let mut seen = 0;
        for snapshot in item["snapshots"].as_array().into_iter().flatten() {
            prop_assert_eq!(&snapshot["type"], "SNAPSHOT");
            prop_assert!(snapshot["name"].is_string() && snapshot["category"].is_string());
            prop_assert_eq!(&snapshot["parent-id"], &item["tracking-id"]);
            for property in snapshot["properties"].as_array().expect("properties") {
                assert_property(property);
                if let Some(unit) = property.get("value-type") {
                    let timing = ["busy", "idle"].contains(&property["name"].as_str().unwrap_or_default());
                    prop_assert_eq!(unit, if timing { "age.usec" } else { "percent" });
                }
                seen += 1;
            }
        }
        if activity {
            expected += 2; // busy and idle
        }
        prop_assert_eq!(seen, expected, "one property per recorded field");
    }
}
