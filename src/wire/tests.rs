use std::collections::HashMap;

use tracing::callsite::{DefaultCallsite, Identifier};
use tracing::field::FieldSet;
use tracing::metadata::Kind;
use tracing::{Level, Metadata};

use super::*;
use crate::item::fields::Fields;
use crate::item::model::{EventRecord, LogOrigin};
use crate::item::trace_id::TraceId;
use crate::item::value::ValueType;

#[test]
fn levels_map_to_jkool_severity_and_completion_code() {
    let expected = [
        (Level::ERROR, "ERROR", "ERROR"),
        (Level::WARN, "WARNING", "WARNING"),
        (Level::INFO, "INFO", "SUCCESS"),
        (Level::DEBUG, "DEBUG", "SUCCESS"),
        (Level::TRACE, "TRACE", "SUCCESS"),
    ];
    for (level, sev, code) in expected {
        let severity = serde_json::to_value(Severity::from(level)).unwrap();
        let comp_code = serde_json::to_value(CompCode::for_level(level)).unwrap();
        assert_eq!(
            (severity.as_str(), comp_code.as_str()),
            (Some(sev), Some(code))
        );
    }
}

/// A `'static` callsite and its metadata, as tracing's macros make them,
/// with any name, target, file and line.
macro_rules! callsite {
    (
        $(#[$doc:meta])*
        $meta:ident, $site:ident: $name:expr, $target:expr, $level:expr,
        $file:expr, $line:expr, [$($field:expr),*], $kind:expr
    ) => {
        static $site: DefaultCallsite = DefaultCallsite::new(&$meta);
        $(#[$doc])*
        static $meta: Metadata<'static> = Metadata::new(
            $name,
            $target,
            $level,
            Some($file),
            $line,
            None,
            FieldSet::new(&[$($field),*], Identifier(&$site)),
            $kind,
        );
    };
}

callsite! {
    /// An event without a name of its own: named after its target, as a
    /// `log` record is.
    EVENT, EVENT_SITE: "event src/wire/tests.rs:9", "shop::orders", Level::WARN,
    "src/wire/\"tests\".rs", Some(9), ["order_no", "note", "payment.amount"], Kind::EVENT
}

callsite! {
    /// A span named as its target, as an activity from a `log` record would
    /// be.
    SPAN, SPAN_SITE: "shop", "shop", Level::INFO,
    "src/wire/tests.rs", None, ["cart", "payment.card"], Kind::SPAN
}

/// An item of `meta` with a value for each of its fields and `message`, as
/// its own callsite's or, with `log`, as a `log` record of the same origin.
fn item(meta: &'static Metadata<'static>, log: bool, message: &str) -> Item {
    let mut fields = Fields::default();
    fields.message = Some(message.into());
    let values = [
        Value::I64(5),
        Value::from("a \"quoted\" note"),
        Value::F64(12.5),
    ];
    for (field, value) in meta.fields().iter().zip(values) {
        fields.put(field.name(), value);
    }
    let common = Common {
        meta,
        log: log.then(|| {
            Box::new(LogOrigin {
                target: meta.target().to_owned(),
                file: meta.file().map(str::to_owned),
                line: meta.line(),
            })
        }),
        tracking_id: Some(TrackingId::Uuid(Uuid::from_u128(1))),
        parent_id: None,
        trace_id: None,
        remote_sampled: None,
        corrids: None,
        time_usec: 1_700_000_000_000_000,
        tid: 7,
        fields,
    };
    item_of(common)
}

/// An event, or for a span's metadata an activity, made of `common`.
fn item_of(common: Common) -> Item {
    match common.meta.is_event() {
        true => Item::Event(EventRecord { common }),
        false => Item::Activity(ActivityRecord {
            common,
            start_usec: 1_699_999_999_000_000,
            failure: None,
            busy_usec: 10,
            idle_usec: 20,
        }),
    }
}

#[test]
fn a_callsites_json_made_once_is_what_every_item_would_write() {
    let mut units = HashMap::new();
    units.insert("order_no".to_owned(), ValueType::None);
    for ctx in [
        Context::new("APPL=Shop".into(), HashMap::new(), HashMap::new()),
        Context::new("APPL=Shop".into(), units, HashMap::new()),
    ] {
        for meta in [&EVENT, &SPAN] {
            let write = |log, message| {
                let mut out = Buf::new();
                item_json(&item(meta, log, message), &ctx, &mut out).unwrap();
                String::from_utf8(out.to_vec()).unwrap()
            };
            // Twice from the callsite: made, then from the cache; then
            // another message than the one kept.
            for message in ["a \"quoted\" message", "a \"quoted\" message", "other"] {
                let (cached, uncached) = (write(false, message), write(true, message));
                assert_eq!(cached, uncached);
                assert!(uncached.contains(r#""properties":[{"name":"#), "{uncached}");
            }
        }
    }
}

#[test]
fn a_callsite_keeps_its_first_message_only_when_it_is_short() {
    let site = describe(&EVENT);
    let kept = site
        .message("order processed", message_json)
        .map(<[u8]>::to_vec);
    assert_eq!(
        kept.as_deref(),
        Some(&br#","msg-text":"order processed""#[..])
    );
    assert!(site.message("order processed", message_json).is_some());
    assert!(site.message("another message", message_json).is_none());
    let site = describe(&EVENT);
    assert!(site.message(&"x".repeat(1000), message_json).is_none());
    assert!(
        site.message("short", message_json).is_none(),
        "its first message was long: it keeps none"
    );
}

callsite! {
    /// An event with undotted fields, named after its target as a `log`
    /// record is: written by `plain::event`.
    PLAIN, PLAIN_SITE: "event src/wire/tests.rs:200", "shop::orders", Level::INFO,
    "src/wire/tests.rs", Some(200), ["order_no", "note", "amount"], Kind::EVENT
}

/// The JSON with its tracking id, wherever it appears, as `ID`: each
/// writing of an event draws a new one.
fn without_id(json: &[u8]) -> String {
    let json = String::from_utf8(json.to_vec()).unwrap();
    let at = json.find(r#""tracking-id":""#).unwrap() + r#""tracking-id":""#.len();
    let id = json[at..at + 36].to_owned();
    json.replace(&id, "ID")
}

callsite! {
    /// A span with undotted fields, named after its target as one from a
    /// `log` record would be: written by `plain::activity`.
    PLAIN_SPAN, PLAIN_SPAN_SITE: "shop", "shop", Level::INFO,
    "src/wire/tests.rs", Some(220), ["order_no", "note", "amount"], Kind::SPAN
}

/// An item's common part and, for a span, its activity.
fn parts(item: &Item) -> (&Common, Option<&ActivityRecord>) {
    match item {
        Item::Event(event) => (&event.common, None),
        Item::Activity(activity) => (&activity.common, Some(activity)),
        _ => unreachable!("only tracing's items are written by `write`"),
    }
}

#[test]
fn a_plain_item_is_written_as_the_general_writer_writes_it() {
    let ctx = Context::new("APPL=Shop".into(), HashMap::new(), HashMap::new());
    let values = [
        vec![
            Value::I64(5),
            Value::from("a \"quoted\"\nnote"),
            Value::F64(12.5),
        ],
        vec![
            Value::U64(u64::MAX),
            Value::Bool(true),
            Value::F64(f64::NAN),
        ],
        vec![Value::I128(-1 << 100), Value::U128(7), Value::F64(-0.0)],
        vec![],
    ];
    let parents = [
        None,
        Some(TrackingId::Uuid(Uuid::from_u128(9))),
        Some(TrackingId::Custom("order \"5\"".into())),
    ];
    let mut written = 0;
    for meta in [&PLAIN, &PLAIN_SPAN] {
        let site = describe(meta);
        for (values, message) in values
            .iter()
            .zip([Some("placed"), None, Some("a\tb"), None])
        {
            // All fields, then only the last ones, as when a field is empty.
            for skip in 0..values.len().max(1) {
                for (parent, linked) in parents.iter().zip([false, true, true]) {
                    let mut fields = Fields::default();
                    fields.message = message.filter(|_| meta.is_event()).map(Into::into);
                    let names = meta.fields().iter().map(|f| f.name());
                    for (name, value) in names.zip(values).skip(skip) {
                        fields.put(name, value.clone());
                    }
                    let item = |log: bool| {
                        let common = Common {
                            log: log.then(|| {
                                Box::new(LogOrigin {
                                    target: meta.target().to_owned(),
                                    file: meta.file().map(str::to_owned),
                                    line: meta.line(),
                                })
                            }),
                            tracking_id: meta
                                .is_span()
                                .then(|| TrackingId::Uuid(Uuid::from_u128(1))),
                            parent_id: parent.clone(),
                            trace_id: linked.then(|| TraceId::from_bytes([3; 16]).unwrap()),
                            remote_sampled: None,
                            corrids: linked.then(|| ["c-1".to_owned(), "c\"2".to_owned()].into()),
                            fields: fields.clone(),
                            ..common(meta)
                        };
                        item_of(common)
                    };
                    let (plain_item, general_item) = (item(false), item(true));
                    let mut plain = Buf::new();
                    assert!(match &plain_item {
                        Item::Event(event) => plain::event(&event.common, &site, &ctx, &mut plain),
                        Item::Activity(a) => plain::activity(a, &site, &ctx, &mut plain),
                        _ => unreachable!(),
                    });
                    // As a `log` record of the same origin: no callsite's JSON.
                    let (common, activity) = parts(&general_item);
                    let mut general = Buf::new();
                    write(common, activity, &ctx, &mut general);
                    assert_eq!(without_id(&plain), without_id(&general));
                    written += 1;
                }
            }
        }
    }
    assert_eq!(written, 2 * 3 * (3 + 3 + 3 + 1));
}

/// An item of `meta` with no fields, no links, and no id.
fn common(meta: &'static Metadata<'static>) -> Common {
    Common {
        meta,
        log: None,
        tracking_id: None,
        parent_id: None,
        trace_id: None,
        remote_sampled: None,
        corrids: None,
        time_usec: 1_700_000_000_000_000,
        tid: 7,
        fields: Fields::default(),
    }
}

#[test]
fn an_item_that_overrides_splits_or_failed_is_left_to_the_general_writer() {
    let plain_ctx = Context::new("APPL=Shop".into(), HashMap::new(), HashMap::new());
    let mut units = HashMap::new();
    units.insert("amount".to_owned(), ValueType::CurrencyUsd);
    let with_units = Context::new("APPL=Shop".into(), units, HashMap::new());
    let with = |name: &'static str, value: Value| {
        let mut fields = Fields::default();
        fields.put(name, value);
        Common {
            fields,
            ..common(&PLAIN)
        }
    };
    let events = [
        (with("jkool.user", "ann".into()), &plain_ctx),
        (with("error", "refused".into()), &plain_ctx),
        (with("inherited", Value::I64(1)), &plain_ctx),
        (with("amount", Value::F64(1.5)), &with_units),
    ];
    for (common, ctx) in &events {
        let mut out = Buf::new();
        assert!(!plain::event(common, &describe(&PLAIN), ctx, &mut out));
        assert!(out.is_empty());
    }
    let dotted = common(&EVENT);
    let mut out = Buf::new();
    assert!(!plain::event(
        &dotted,
        &describe(&EVENT),
        &plain_ctx,
        &mut out
    ));
    let failed = ActivityRecord {
        common: Common {
            tracking_id: Some(TrackingId::Uuid(Uuid::from_u128(1))),
            ..common(&PLAIN_SPAN)
        },
        start_usec: 1,
        failure: Some("declined".into()),
        busy_usec: 0,
        idle_usec: 0,
    };
    let site = describe(&PLAIN_SPAN);
    let written = plain::activity(&failed, &site, &plain_ctx, &mut out);
    assert!(!written && out.is_empty());
}
