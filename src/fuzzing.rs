//! Entry points for the fuzz target (`fuzz/`) and the property tests: the
//! item serializer driven without tracing's macros. Not an API: compiled
//! only for the crate's own tests and under `--cfg fuzzing`, which
//! cargo-fuzz sets.

use tracing::callsite::{DefaultCallsite, Identifier};
use tracing::field::FieldSet;
use tracing::metadata::Kind;
use tracing::{Level, Metadata};

use crate::item::fields::Fields;
use crate::item::model::{ActivityRecord, Common, EventRecord, Item, TrackingId};
use crate::item::value::{Value, ValueType};
use crate::wire::context::Context;

static CALLSITE: DefaultCallsite = DefaultCallsite::new(&META);
static META: Metadata<'static> = Metadata::new(
    "event src/fuzzing.rs:1",
    "fuzzing",
    Level::INFO,
    Some(file!()),
    Some(line!()),
    None,
    FieldSet::new(&[], Identifier(&CALLSITE)),
    Kind::EVENT,
);

/// The JSON of one event (or, with `activity`, one activity) whose fields
/// are `fields`, recorded in order as the layer records them (`message`,
/// `error` and `jkool.*` included), with `limit`-byte text values. Fields
/// named in `units` get that unit.
pub fn item_json(
    activity: bool,
    fields: Vec<(&'static str, Value)>,
    corrids: Vec<String>,
    units: Vec<(&'static str, ValueType)>,
) -> Vec<u8> {
    let mut recorded = Fields::new(usize::MAX, fields.len());
    for (name, value) in fields {
        recorded.put(name, value);
    }
    let common = Common {
        meta: &META,
        log: None,
        tracking_id: activity.then(TrackingId::new),
        parent_id: Some(TrackingId::new()),
        trace_id: None,
        remote_sampled: None,
        corrids: (!corrids.is_empty()).then(|| corrids.into()),
        time_usec: 1_700_000_000_000_000,
        tid: 1,
        fields: recorded,
    };
    let item = if activity {
        Item::Activity(ActivityRecord {
            common,
            start_usec: 1_699_999_999_000_000,
            failure: None,
            busy_usec: 10,
            idle_usec: 20,
        })
    } else {
        Item::Event(EventRecord { common })
    };
    let context = Context::new(
        "APPL=Fuzz".into(),
        units.into_iter().map(|(n, u)| (n.to_owned(), u)).collect(),
        Default::default(),
    )
    .with_pid(1);
    let mut out = crate::wire::json::Buf::new();
    // Writing to memory cannot fail, and the serializer has no other error.
    let _ = crate::wire::item_json(&item, &context, &mut out);
    out.to_vec()
}

#[cfg(test)]
mod tests;
