//! Fuzzes the item serializer with arbitrary field sets: every output must
//! parse as one JSON object with the contract's required keys.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tracing_jkool::fuzzing::item_json;
use tracing_jkool::{Value, ValueType};

/// Field names that stress the mapping: dotted, reserved, routed, odd.
const NAMES: [&str; 16] = [
    "order_no", "payment.amount", "a.b.c", "message", "error", "jkool.corr_id",
    "jkool.reason_code", "jkool.tracking_id", "jkool.unknown", "quo\"te", "new\nline",
    "ünïcødé", "", ".", "x.", "jkool.",
];

#[derive(Debug, Arbitrary)]
enum FuzzValue {
    Str(String),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    Bool(bool),
}

#[derive(Debug, Arbitrary)]
struct Input {
    activity: bool,
    fields: Vec<(u8, FuzzValue)>,
    corrids: Vec<String>,
    unit_on: u8,
}

fuzz_target!(|input: Input| {
    let name = |i: u8| NAMES[usize::from(i) % NAMES.len()];
    let fields = input
        .fields
        .into_iter()
        .map(|(i, v)| {
            let value = match v {
                FuzzValue::Str(v) => Value::Str(v),
                FuzzValue::I64(v) => Value::I64(v),
                FuzzValue::U64(v) => Value::U64(v),
                FuzzValue::I128(v) => Value::I128(v),
                FuzzValue::U128(v) => Value::U128(v),
                FuzzValue::F64(v) => Value::F64(v),
                FuzzValue::Bool(v) => Value::Bool(v),
            };
            (name(i), value)
        })
        .collect();
    let units = vec![(name(input.unit_on), ValueType::Percent)];
    let json = item_json(input.activity, fields, input.corrids, units);
    let item: serde_json::Value = serde_json::from_slice(&json).expect("valid JSON");
    for key in ["type", "tracking-id", "time-usec", "source-fqn", "pid", "tid", "operation"] {
        assert!(item.get(key).is_some(), "{key} missing in {item}");
    }
});
