//! The typed views of one received item: an activity, an event, a
//! snapshot, and their properties.

use serde_json::Value;

use crate::tree::line::{self, correlators, elapsed, int, list, parent_id, start_time, text};

/// A jKool activity (a span), as received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Activity {
    /// `operation`: the span's name unless `jkool.operation` set it; empty
    /// when absent.
    pub operation: String,
    /// `tracking-id`.
    pub tracking_id: Option<String>,
    /// `parent-id` (or `parent-tracking-id`): the enclosing activity's
    /// tracking id.
    pub parent_id: Option<String>,
    /// `status`, e.g. `END` or `EXCEPTION`.
    pub status: Option<String>,
    /// `severity`, as sent, e.g. `INFO`.
    pub severity: Option<String>,
    /// `corrid` (or `corr-id`): the trace id first, then `jkool.corr_id`
    /// values.
    pub correlators: Vec<String>,
    /// `exception`, if any.
    pub exception: Option<String>,
    /// `source-fqn`, e.g. `APPL=Shop#SERVER=web1`.
    pub source_fqn: Option<String>,
    /// `start-time-usec` (else `time-usec`), microseconds since the epoch.
    pub start_usec: Option<i64>,
    /// `elapsed-time-usec` (else end minus start), in microseconds.
    pub elapsed_usec: Option<i64>,
    /// The snapshots embedded in `snapshots`; the span's fields are the
    /// properties of these.
    pub snapshots: Vec<Snapshot>,
    /// The item as received.
    pub json: Value,
    pub(super) item: usize,
}

/// A jKool event, as received.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// `type`, upper-cased: `EVENT` (also when absent), or another
    /// event-like type such as `LOG` or `CALL`.
    pub kind: String,
    /// `msg-text`: the event's message.
    pub message: Option<String>,
    /// `operation`: the event's name, if sent.
    pub operation: Option<String>,
    /// `tracking-id`.
    pub tracking_id: Option<String>,
    /// `parent-id` (or `parent-tracking-id`): the enclosing activity's
    /// tracking id.
    pub parent_id: Option<String>,
    /// `severity`, as sent, e.g. `INFO` or `ERROR`.
    pub severity: Option<String>,
    /// `corrid` (or `corr-id`).
    pub correlators: Vec<String>,
    /// `exception`, if any.
    pub exception: Option<String>,
    /// `source-fqn`.
    pub source_fqn: Option<String>,
    /// `time-usec` (else `start-time-usec`), microseconds since the epoch.
    pub time_usec: Option<i64>,
    /// Properties sent on the event itself, in `properties`.
    pub properties: Vec<Property>,
    /// The snapshots embedded in `snapshots`; the event's fields are the
    /// properties of these.
    pub snapshots: Vec<Snapshot>,
    /// The item as received.
    pub json: Value,
    pub(super) item: usize,
}

/// A jKool snapshot: a named, categorized set of properties, embedded in an
/// activity or event or posted on its own.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Snapshot {
    /// `name`.
    pub name: Option<String>,
    /// `category`.
    pub category: Option<String>,
    /// `parent-id`, when sent (always, for one posted on its own).
    pub parent_id: Option<String>,
    /// `properties`, in the order sent.
    pub properties: Vec<Property>,
}

/// One typed property of a snapshot or an event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Property {
    /// `name`; empty when absent.
    pub name: String,
    /// `value`, read in its declared `type`.
    pub value: PropertyValue,
    /// `value-type`: the unit or kind jKool shows, e.g. `age.msec` or
    /// `currency.usd`.
    pub value_type: Option<String>,
}

/// A property's value, read in the data type it was declared with (`type`),
/// whether the JSON value is a number or, as the Java client sends every
/// value, a string.
///
/// ```
/// use tracing_jkool_collector::PropertyValue;
///
/// assert_eq!(PropertyValue::Long(42).as_f64(), Some(42.0));
/// assert_eq!(PropertyValue::Text("card".into()).as_str(), Some("card"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PropertyValue {
    /// Type `long` (or `int`, `integer`, `short`, `byte`), or an untyped
    /// integer.
    Long(i64),
    /// Type `double` (or `float`, `number`), or an untyped float.
    Double(f64),
    /// Type `bool` (or `boolean`), or an untyped boolean.
    Bool(bool),
    /// Type `string`, or an untyped string.
    Text(String),
    /// Anything else: a value that does not read as its declared type, an
    /// array or object, or none (`null`).
    Other(Value),
}

impl Activity {
    pub(super) fn read(item: &Value, index: usize) -> Activity {
        Activity {
            operation: owned(item, "operation").unwrap_or_default(),
            tracking_id: owned(item, "tracking-id"),
            parent_id: parent_id(item).map(str::to_string),
            status: owned(item, "status"),
            severity: owned(item, "severity"),
            correlators: correlators_of(item),
            exception: owned(item, "exception"),
            source_fqn: owned(item, "source-fqn"),
            start_usec: start_time(item),
            elapsed_usec: elapsed(item),
            snapshots: snapshots_of(item),
            json: item.clone(),
            item: index,
        }
    }

    /// The value of the first property named `name` in its snapshots: a
    /// field of the span, e.g. `order` for `#[instrument] fn f(order: u64)`.
    pub fn property(&self, name: &str) -> Option<&PropertyValue> {
        find_property(&[], &self.snapshots, name)
    }

    /// Every property of its snapshots, in order.
    pub fn properties(&self) -> impl Iterator<Item = &Property> {
        self.snapshots.iter().flat_map(|s| &s.properties)
    }
}

impl Event {
    pub(super) fn read(item: &Value, kind: String, index: usize) -> Event {
        Event {
            kind,
            message: owned(item, "msg-text"),
            operation: owned(item, "operation"),
            tracking_id: owned(item, "tracking-id"),
            parent_id: parent_id(item).map(str::to_string),
            severity: owned(item, "severity"),
            correlators: correlators_of(item),
            exception: owned(item, "exception"),
            source_fqn: owned(item, "source-fqn"),
            time_usec: int(item, "time-usec").or_else(|| start_time(item)),
            properties: properties_of(item),
            snapshots: snapshots_of(item),
            json: item.clone(),
            item: index,
        }
    }

    /// The value of the first property named `name`, in
    /// [`properties`](Self::properties) and then in its snapshots: a field
    /// of the event, e.g. `amount` for `info!(amount = 42, "paid")`.
    pub fn property(&self, name: &str) -> Option<&PropertyValue> {
        find_property(&self.properties, &self.snapshots, name)
    }
}

impl Snapshot {
    pub(super) fn read(item: &Value) -> Snapshot {
        Snapshot {
            name: owned(item, "name"),
            category: owned(item, "category"),
            parent_id: parent_id(item).map(str::to_string),
            properties: properties_of(item),
        }
    }

    /// The value of the first property named `name`, if any.
    pub fn property(&self, name: &str) -> Option<&PropertyValue> {
        find_property(&self.properties, &[], name)
    }
}

impl Property {
    pub(super) fn read(prop: &Value) -> Property {
        let value = prop.get("value").cloned().unwrap_or(Value::Null);
        Property {
            name: owned(prop, "name").unwrap_or_default(),
            value: PropertyValue::read(line::text(prop, "type"), value),
            value_type: owned(prop, "value-type"),
        }
    }
}

impl PropertyValue {
    /// `value` read as data type `kind`.
    pub(super) fn read(kind: Option<&str>, value: Value) -> PropertyValue {
        let kind = kind.map(str::to_ascii_lowercase);
        let typed = match kind.as_deref() {
            Some("long" | "int" | "integer" | "short" | "byte") => long(&value),
            Some("double" | "float" | "number") => double(&value),
            Some("bool" | "boolean") => boolean(&value),
            Some("string") => value.as_str().map(|s| PropertyValue::Text(s.to_string())),
            _ => None,
        };
        typed.unwrap_or(match value {
            Value::Bool(b) => PropertyValue::Bool(b),
            Value::String(s) => PropertyValue::Text(s),
            Value::Number(n) => match n.as_i64() {
                Some(i) => PropertyValue::Long(i),
                None => n.as_f64().map_or(
                    PropertyValue::Other(Value::Number(n)),
                    PropertyValue::Double,
                ),
            },
            other => PropertyValue::Other(other),
        })
    }

    /// The integer of a [`Long`](Self::Long).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PropertyValue::Long(i) => Some(*i),
            _ => None,
        }
    }

    /// The number of a [`Double`](Self::Double), or of a
    /// [`Long`](Self::Long) as a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PropertyValue::Double(f) => Some(*f),
            PropertyValue::Long(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The boolean of a [`Bool`](Self::Bool).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            PropertyValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The text of a [`Text`](Self::Text).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PropertyValue::Text(s) => Some(s),
            _ => None,
        }
    }
}

fn long(value: &Value) -> Option<PropertyValue> {
    let i = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    i.map(PropertyValue::Long)
}

fn double(value: &Value) -> Option<PropertyValue> {
    let f = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    f.map(PropertyValue::Double)
}

fn boolean(value: &Value) -> Option<PropertyValue> {
    let b = match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    };
    b.map(PropertyValue::Bool)
}

pub(super) fn owned(item: &Value, key: &str) -> Option<String> {
    text(item, key).map(str::to_string)
}

pub(super) fn correlators_of(item: &Value) -> Vec<String> {
    correlators(item).into_iter().map(str::to_string).collect()
}

pub(super) fn snapshots_of(item: &Value) -> Vec<Snapshot> {
    list(item, "snapshots").map(Snapshot::read).collect()
}

pub(super) fn properties_of(item: &Value) -> Vec<Property> {
    list(item, "properties").map(Property::read).collect()
}

/// The first property named `name` in `properties`, then in each snapshot.
pub(super) fn find_property<'a>(
    properties: &'a [Property],
    snapshots: &'a [Snapshot],
    name: &str,
) -> Option<&'a PropertyValue> {
    properties
        .iter()
        .chain(snapshots.iter().flat_map(|s| &s.properties))
        .find(|p| p.name == name)
        .map(|p| &p.value)
}
