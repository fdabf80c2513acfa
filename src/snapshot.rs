//! Snapshots and properties: named groups of typed values, as jKool's
//! Python and Java clients build them.

use bytes::BufMut;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::clock::now_usec;
use crate::json::{self, key, Buf, Object};
use crate::value::{Typed, Value, ValueType};

/// A named property with a typed value and an optional unit.
///
/// ```
/// use tracing_jkool::{Property, ValueType};
///
/// let amount = Property::new("amount", 12.5).unit(ValueType::CurrencyUsd);
/// let json = serde_json::to_value(&amount)?;
/// assert_eq!(json["type"], "double");
/// assert_eq!(json["value-type"], "currency.usd");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    name: String,
    value: Value,
    unit: Option<ValueType>,
}

impl Property {
    /// A property named `name` holding `value`.
    pub fn new(name: impl Into<String>, value: impl Into<Value>) -> Self {
        Property {
            name: name.into(),
            value: value.into(),
            unit: None,
        }
    }

    /// Gives the value a unit (jKool's `value-type`).
    pub fn unit(mut self, unit: ValueType) -> Self {
        self.unit = Some(unit);
        self
    }
}

impl Serialize for Property {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PropertyRef {
            name: &self.name,
            value: &self.value,
            unit: self.unit,
        }
        .serialize(s)
    }
}

/// A property as the serializer sees it, borrowed from a field or from a
/// [`Property`].
pub(crate) struct PropertyRef<'a> {
    pub name: &'a str,
    pub value: &'a Value,
    pub unit: Option<ValueType>,
}

impl Serialize for PropertyRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let typed = Typed::of(self.value);
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(key::NAME.name, self.name)?;
        map.serialize_entry(key::TYPE.name, typed.data_type())?;
        map.serialize_entry(key::VALUE.name, &typed)?;
        if let Some(unit) = self.unit {
            map.serialize_entry(key::VALUE_TYPE.name, &unit)?;
        }
        map.end()
    }
}

impl PropertyRef<'_> {
    /// Appends the property's JSON, as its `Serialize` writes it. `head`
    /// is its start, `{"name":…`, when [`property_head`] wrote it before.
    pub(crate) fn write(&self, out: &mut Buf, head: Option<&[u8]>) {
        match head {
            Some(head) => out.extend_from_slice(head),
            None => property_head(out, self.name),
        }
        let typed = Typed::of(self.value);
        // Each arm writes its own constant: its length known, it is copied
        // in place rather than by a call.
        let head = |out: &mut Buf| out.extend_from_slice(type_and_value(&typed).as_bytes());
        match &typed {
            Typed::Long(v) => {
                head(out);
                json::integer(out, *v);
            }
            Typed::ULong(v) => {
                head(out);
                json::integer(out, *v);
            }
            Typed::Double(v) => {
                head(out);
                json::float(out, *v);
            }
            Typed::Bool(v) => {
                head(out);
                out.extend_from_slice(if *v { b"true" } else { b"false" });
            }
            Typed::Text(v) => {
                head(out);
                json::string(out, v.as_bytes());
            }
        }
        let mut property = Object::continuing(out);
        match self.unit {
            // The application's own text: escaped.
            Some(ValueType::Custom(unit)) => property.str(key::VALUE_TYPE, unit),
            // jKool's words need no escaping.
            Some(unit) => property.plain(key::VALUE_TYPE, unit.as_str()),
            None => {}
        }
        property.end();
    }
}

/// `,"type":"…","value":`, a property's data type and the key of its value
/// in one piece: what `plain(key::TYPE, data_type)` and `key(key::VALUE)`
/// write (a test checks that they agree).
#[inline(always)]
fn type_and_value(typed: &Typed<'_>) -> &'static str {
    match typed {
        Typed::Long(_) | Typed::ULong(_) => r#","type":"long","value":"#,
        Typed::Double(_) => r#","type":"double","value":"#,
        Typed::Bool(_) => r#","type":"bool","value":"#,
        Typed::Text(_) => r#","type":"string","value":"#,
    }
}

/// Appends how a property named `name` starts: `{"name":"…"`.
pub(crate) fn property_head(out: &mut Buf, name: &str) {
    Object::new(out).str(key::NAME, name);
}

/// Appends how a snapshot starts:
/// `{"type":"SNAPSHOT","name":…,"category":…,"time-usec":`.
pub(crate) fn snapshot_head(out: &mut Buf, name: &str, category: &str) {
    let mut snapshot = Object::new(out);
    snapshot.plain(key::TYPE, "SNAPSHOT");
    snapshot.str(key::NAME, name);
    snapshot.str(key::CATEGORY, category);
    snapshot.key(key::TIME_USEC);
}

/// Appends the rest of a snapshot begun by [`snapshot_head`], as
/// [`SnapshotRef`]'s `Serialize` writes it: each property comes with its
/// head when written before.
pub(crate) fn finish_snapshot<'a>(
    out: &mut Buf,
    time_usec: &[u8],
    parent_id: Option<&[u8]>,
    parent_is_uuid: bool,
    properties: impl Iterator<Item = (PropertyRef<'a>, Option<&'a [u8]>)>,
) {
    let mut snapshot = Object::continuing(out);
    // Digits, written before.
    snapshot.raw(time_usec);
    match parent_id {
        Some(parent) if parent_is_uuid => snapshot.plain(key::PARENT_ID, parent),
        Some(parent) => json::string(snapshot.key(key::PARENT_ID), parent),
        None => {}
    }
    let list = snapshot.key(key::PROPERTIES);
    list.put_u8(b'[');
    for (i, (property, head)) in properties.enumerate() {
        if i > 0 {
            list.put_u8(b',');
        }
        property.write(list, head);
    }
    list.put_u8(b']');
    snapshot.end();
}

/// A named, categorized set of properties taken at one time, attached to
/// an event with [`JKoolEvent::snapshot`](crate::JKoolEvent::snapshot).
///
/// ```
/// use tracing_jkool::{Snapshot, ValueType};
///
/// let payment = Snapshot::new("Payment")
///     .category("Order")
///     .property("order-no", "5")
///     .property_with_unit("order-amount", 150, ValueType::CurrencyUsd);
/// let json = serde_json::to_value(&payment)?;
/// assert_eq!(json["type"], "SNAPSHOT");
/// assert_eq!(json["category"], "Order");
/// assert_eq!(json["properties"][1]["value-type"], "currency.usd");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    name: String,
    category: Option<String>,
    time_usec: i64,
    pub(crate) parent_id: Option<String>,
    properties: Vec<Property>,
}

impl Snapshot {
    /// A snapshot named `name`, taken now. Its category defaults to its
    /// name: jKool needs one.
    pub fn new(name: impl Into<String>) -> Self {
        Snapshot {
            name: name.into(),
            category: None,
            time_usec: now_usec(),
            parent_id: None,
            properties: Vec::new(),
        }
    }

    /// The snapshot's category, such as `Order`.
    pub fn category(mut self, category: impl Into<String>) -> Self {
        self.category = Some(category.into());
        self
    }

    /// When the snapshot was taken, in microseconds since the Unix epoch.
    pub fn time_usec(mut self, time_usec: i64) -> Self {
        self.time_usec = time_usec;
        self
    }

    /// The tracking id of the event or activity it belongs to. Set for you
    /// when the snapshot is attached to a [`JKoolEvent`](crate::JKoolEvent).
    pub fn parent_id(mut self, tracking_id: impl Into<String>) -> Self {
        self.parent_id = Some(tracking_id.into());
        self
    }

    /// Adds a property; its jKool data type follows the value's Rust type.
    pub fn property(self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.with(Property::new(name, value))
    }

    /// Adds a property with a unit (jKool's `value-type`).
    pub fn property_with_unit(
        self,
        name: impl Into<String>,
        value: impl Into<Value>,
        unit: ValueType,
    ) -> Self {
        self.with(Property::new(name, value).unit(unit))
    }

    /// Adds a property made with [`Property::new`].
    pub fn with(mut self, property: Property) -> Self {
        self.properties.push(property);
        self
    }
}

impl Serialize for Snapshot {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SnapshotRef {
            name: &self.name,
            category: self.category.as_deref().unwrap_or(&self.name),
            time_usec: self.time_usec,
            parent_id: self.parent_id.as_deref(),
            properties: &self.properties[..],
        }
        .serialize(s)
    }
}

/// A snapshot as the serializer sees it.
pub(crate) struct SnapshotRef<'a, P> {
    pub name: &'a str,
    pub category: &'a str,
    pub time_usec: i64,
    pub parent_id: Option<&'a str>,
    /// Serializes as the list of properties.
    pub properties: P,
}

impl<P: Serialize> Serialize for SnapshotRef<'_, P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(key::TYPE.name, "SNAPSHOT")?;
        map.serialize_entry(key::NAME.name, self.name)?;
        map.serialize_entry(key::CATEGORY.name, self.category)?;
        map.serialize_entry(key::TIME_USEC.name, &self.time_usec)?;
        if let Some(parent) = self.parent_id {
            map.serialize_entry(key::PARENT_ID.name, parent)?;
        }
        map.serialize_entry(key::PROPERTIES.name, &self.properties)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_and_value_key_in_one_piece_is_what_the_object_writer_writes() {
        let text = Value::from("x");
        for value in [
            Value::I64(-1),
            Value::U64(1),
            Value::F64(0.5),
            Value::Bool(true),
            text,
        ] {
            let typed = Typed::of(&value);
            let mut out = Buf::new();
            let mut object = Object::continuing(&mut out);
            object.plain(key::TYPE, typed.data_type());
            object.key(key::VALUE);
            assert_eq!(type_and_value(&typed).as_bytes(), &out[..]);
        }
    }

    #[test]
    fn a_property_is_written_as_serde_json_writes_it_with_any_unit() {
        let units = [
            None,
            Some(ValueType::AgeUsec),
            Some(ValueType::CurrencyUsd),
            Some(ValueType::Custom("rate.min")),
            Some(ValueType::Custom("a \"quoted\" unit")),
        ];
        for unit in units {
            let value = Value::F64(12.5);
            let property = PropertyRef {
                name: "amount \"due\"",
                value: &value,
                unit,
            };
            let mut out = Buf::new();
            property.write(&mut out, None);
            assert_eq!(out.to_vec(), serde_json::to_vec(&property).unwrap());
        }
    }
}
