//! Snapshots and properties: named groups of typed values, as jKool's
//! Python and Java clients build them.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::item::clock::now_usec;
use crate::item::key;
use crate::item::value::{Typed, Value, ValueType};

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
    pub(crate) name: String,
    pub(crate) value: Value,
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
    pub(crate) properties: Vec<Property>,
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
