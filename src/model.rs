//! jKool items (activities and events with their snapshot and properties)
//! and how they are written as JSON.
//!
//! The layer fills these structs on the application's thread with owned,
//! cheap-to-move data; everything that costs (UUID text, JSON) happens in
//! [`Item::write_json`] on the background task.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::ser::{Serialize, SerializeMap, Serializer};
use tracing::{Level, Metadata};
use uuid::Uuid;

use crate::fields::{Fields, Value};

/// A jKool tracking id: a fresh UUID, or one the application set with
/// `jkool.tracking_id`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TrackingId {
    Uuid(Uuid),
    Custom(Arc<str>),
}

impl TrackingId {
    pub fn new() -> Self {
        TrackingId::Uuid(Uuid::new_v4())
    }
}

impl Serialize for TrackingId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            TrackingId::Uuid(id) => s.collect_str(&id.hyphenated()),
            TrackingId::Custom(id) => s.serialize_str(id),
        }
    }
}

/// Microseconds since the Unix epoch, jKool's unit of time.
pub(crate) fn now_usec() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// What every item carries, whatever its kind.
#[derive(Debug)]
pub(crate) struct Common {
    pub meta: &'static Metadata<'static>,
    /// `None` for events: their id is made on the background task.
    pub tracking_id: Option<TrackingId>,
    pub parent_id: Option<TrackingId>,
    /// Correlators inherited from the enclosing spans, outermost first.
    pub corrids: Option<Arc<[String]>>,
    pub time_usec: i64,
    pub tid: u64,
    pub fields: Fields,
}

/// A tracing event, bound for jKool as an EVENT.
#[derive(Debug)]
pub(crate) struct Event {
    pub common: Common,
}

/// A closed span, bound for jKool as an ACTIVITY.
#[derive(Debug)]
pub(crate) struct Activity {
    pub common: Common,
    pub start_usec: i64,
    /// An ERROR event happened inside the span.
    pub error_seen: bool,
}

/// One item on its way to jKool.
#[derive(Debug)]
pub(crate) enum Item {
    Event(Event),
    Activity(Activity),
}

/// The two kinds of item jKool takes on separate endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Event,
    Activity,
}

impl Item {
    pub fn kind(&self) -> Kind {
        match self {
            Item::Event(_) => Kind::Event,
            Item::Activity(_) => Kind::Activity,
        }
    }

    /// Appends this item's JSON object to `out`.
    pub fn write_json(&self, ctx: &Context, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, &Wire { item: self, ctx })
    }
}

/// What the background task adds to every item.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub source_fqn: String,
    pub pid: u32,
}

struct Wire<'a> {
    item: &'a Item,
    ctx: &'a Context,
}

fn severity(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

fn comp_code(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        _ => "SUCCESS",
    }
}

/// tracing names an event without `name:` "event file:line"; that says
/// nothing jKool does not already get from `location`.
fn is_generated_event_name(meta: &Metadata<'_>) -> bool {
    meta.name().starts_with("event ")
}

impl Serialize for Wire<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (common, kind) = match self.item {
            Item::Event(e) => (&e.common, "EVENT"),
            Item::Activity(a) => (&a.common, "ACTIVITY"),
        };
        let meta = common.meta;
        let jkool = common.fields.jkool();
        let pick = |get: fn(&crate::fields::JKoolFields) -> &Option<String>| {
            jkool.and_then(|j| get(j).as_deref())
        };
        let tracking_id = match (pick(|j| &j.tracking_id), &common.tracking_id) {
            (Some(custom), _) => TrackingId::Custom(custom.into()),
            (None, Some(id)) => id.clone(),
            (None, None) => TrackingId::new(),
        };

        let mut map = s.serialize_map(None)?;
        map.serialize_entry("type", kind)?;
        map.serialize_entry("tracking-id", &tracking_id)?;
        if let Some(parent) = &common.parent_id {
            map.serialize_entry("parent-id", parent)?;
        }
        let own_corr = pick(|j| &j.corr_id);
        let inherited = common.corrids.as_deref().unwrap_or_default();
        if own_corr.is_some() || !inherited.is_empty() {
            let all: Vec<&str> = inherited
                .iter()
                .map(String::as_str)
                .chain(own_corr)
                .collect();
            map.serialize_entry("corrid", &all)?;
        }
        map.serialize_entry(
            "source-fqn",
            pick(|j| &j.source_fqn).unwrap_or(&self.ctx.source_fqn),
        )?;
        map.serialize_entry("time-usec", &common.time_usec)?;
        map.serialize_entry("pid", &self.ctx.pid)?;
        map.serialize_entry("tid", &common.tid)?;

        let exception = pick(|j| &j.exception);
        let operation = pick(|j| &j.operation).unwrap_or(match self.item {
            Item::Event(_) if is_generated_event_name(meta) => meta.target(),
            _ => meta.name(),
        });
        map.serialize_entry("operation", operation)?;
        match self.item {
            Item::Event(_) => {
                map.serialize_entry("severity", severity(meta.level()))?;
                map.serialize_entry(
                    "comp-code",
                    pick(|j| &j.comp_code).unwrap_or(comp_code(meta.level())),
                )?;
                map.serialize_entry(
                    "msg-text",
                    common.fields.message.as_deref().unwrap_or_default(),
                )?;
            }
            Item::Activity(a) => {
                let failed = a.error_seen || exception.is_some();
                map.serialize_entry("status", if failed { "EXCEPTION" } else { "END" })?;
                map.serialize_entry(
                    "comp-code",
                    pick(|j| &j.comp_code).unwrap_or(if failed { "ERROR" } else { "SUCCESS" }),
                )?;
                map.serialize_entry("start-time-usec", &a.start_usec)?;
                map.serialize_entry("end-time-usec", &common.time_usec)?;
                map.serialize_entry(
                    "elapsed-time-usec",
                    &common.time_usec.saturating_sub(a.start_usec).max(0),
                )?;
            }
        }
        let location = match (meta.file(), meta.line()) {
            (Some(file), Some(line)) => Some(format!("{file}:{line}")),
            (Some(file), None) => Some(file.to_owned()),
            _ => None,
        };
        if let Some(location) = pick(|j| &j.location).or(location.as_deref()) {
            map.serialize_entry("location", location)?;
        }
        map.serialize_entry("resource", pick(|j| &j.resource).unwrap_or(meta.target()))?;
        for (key, value) in [
            ("user", pick(|j| &j.user)),
            ("exception", exception),
            ("msg-tag", pick(|j| &j.msg_tag)),
        ] {
            if let Some(value) = value {
                map.serialize_entry(key, value)?;
            }
        }
        if let Some(code) = jkool.and_then(|j| j.reason_code.as_ref()) {
            map.serialize_entry("reason-code", &Typed::of(code))?;
        }
        if !common.fields.properties.is_empty() {
            let snapshot = Snapshot {
                name: operation,
                time_usec: common.time_usec,
                parent_id: &tracking_id,
                fields: &common.fields,
            };
            map.serialize_entry("snapshots", &[snapshot])?;
        }
        map.end()
    }
}

/// The default snapshot of an item: its fields as typed properties.
struct Snapshot<'a> {
    name: &'a str,
    time_usec: i64,
    parent_id: &'a TrackingId,
    fields: &'a Fields,
}

/// Category of the snapshot that holds an item's fields.
const FIELDS_CATEGORY: &str = "Fields";

impl Serialize for Snapshot<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(6))?;
        map.serialize_entry("type", "SNAPSHOT")?;
        map.serialize_entry("name", self.name)?;
        map.serialize_entry("category", FIELDS_CATEGORY)?;
        map.serialize_entry("time-usec", &self.time_usec)?;
        map.serialize_entry("parent-id", self.parent_id)?;
        let properties: Vec<Property<'_>> = self
            .fields
            .properties
            .iter()
            .map(|(name, value)| Property {
                name,
                value: Typed::of(value),
            })
            .collect();
        map.serialize_entry("properties", &properties)?;
        map.end()
    }
}

struct Property<'a> {
    name: &'a str,
    value: Typed,
}

impl Serialize for Property<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("name", self.name)?;
        map.serialize_entry("type", self.value.data_type())?;
        map.serialize_entry("value", &self.value)?;
        map.end()
    }
}

/// A field value as jKool will read it: a JSON value and its data type.
enum Typed {
    Long(i64),
    ULong(u64),
    Double(f64),
    Bool(bool),
    Text(String),
}

impl Typed {
    /// Integers that do not fit jKool's `long`, and floats JSON cannot
    /// carry (NaN, the infinities), go as strings: jKool may drop a whole
    /// item for a bad number, and serde_json would turn them into `null`.
    fn of(value: &Value) -> Typed {
        match *value {
            Value::I64(v) => Typed::Long(v),
            Value::U64(v) if v <= i64::MAX as u64 => Typed::ULong(v),
            Value::F64(v) if v.is_finite() => Typed::Double(v),
            Value::Bool(v) => Typed::Bool(v),
            ref other => Typed::Text(other.to_string()),
        }
    }

    fn data_type(&self) -> &'static str {
        match self {
            Typed::Long(_) | Typed::ULong(_) => "long",
            Typed::Double(_) => "double",
            Typed::Bool(_) => "bool",
            Typed::Text(_) => "string",
        }
    }
}

impl Serialize for Typed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Typed::Long(v) => s.serialize_i64(*v),
            Typed::ULong(v) => s.serialize_u64(*v),
            Typed::Double(v) => s.serialize_f64(*v),
            Typed::Bool(v) => s.serialize_bool(*v),
            Typed::Text(v) => s.serialize_str(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!((severity(&level), comp_code(&level)), (sev, code));
        }
    }

    #[test]
    fn field_values_get_jkool_data_types_and_safe_json() {
        let cases = [
            (Value::I64(-1), "long", "-1"),
            (Value::U64(7), "long", "7"),
            (Value::U64(u64::MAX), "string", "\"18446744073709551615\""),
            (Value::I128(1), "string", "\"1\""),
            (Value::U128(2), "string", "\"2\""),
            (Value::F64(0.5), "double", "0.5"),
            (Value::F64(f64::NAN), "string", "\"NaN\""),
            (Value::F64(f64::NEG_INFINITY), "string", "\"-inf\""),
            (Value::Bool(false), "bool", "false"),
            (Value::Str("a\"b".into()), "string", "\"a\\\"b\""),
        ];
        for (value, data_type, json) in cases {
            let typed = Typed::of(&value);
            assert_eq!(typed.data_type(), data_type, "{value:?}");
            assert_eq!(serde_json::to_string(&typed).unwrap(), json, "{value:?}");
        }
    }

    #[test]
    fn tracking_ids_are_fresh_uuids_or_the_custom_text() {
        let a = serde_json::to_value(TrackingId::new()).unwrap();
        let b = serde_json::to_value(TrackingId::new()).unwrap();
        assert_ne!(a, b);
        assert!(Uuid::parse_str(a.as_str().unwrap()).is_ok());
        let custom = TrackingId::Custom("order-5".into());
        assert_eq!(serde_json::to_value(custom).unwrap(), "order-5");
    }
}
