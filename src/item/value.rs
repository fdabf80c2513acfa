//! Property values and units: what a field or a [`Property`](crate::Property)
//! holds, and how jKool reads it.

use std::borrow::Cow;
use std::fmt;

use compact_str::CompactString;

use serde::ser::{Serialize, Serializer};

/// A property value, kept in the type it was recorded with.
///
/// jKool gets it as data type `long` (i64, and u64 up to `i64::MAX`),
/// `double` (finite f64), `bool` or `string`. Values JSON cannot carry as
/// numbers go as strings: i128, u128, larger u64, NaN and the infinities,
/// since jKool may drop a whole item for one bad number.
///
/// ```
/// use tracing_jkool::Value;
///
/// assert_eq!(Value::from(5), Value::I64(5));
/// assert_eq!(Value::from("card"), Value::Str("card".into()));
/// assert_eq!(Value::from(12.5).to_string(), "12.5");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// Text.
    Str(Text),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A wide signed integer; sent as a string.
    I128(i128),
    /// A wide unsigned integer; sent as a string.
    U128(u128),
    /// A float.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

impl Value {
    /// The value as text.
    pub(crate) fn into_text(self) -> String {
        match self {
            Value::Str(text) => text.into(),
            other => other.to_string(),
        }
    }
}

/// The text a [`Value`] holds: up to 24 bytes kept inline, so that most
/// text fields cost the application's thread no allocation.
///
/// ```
/// use tracing_jkool::{Text, Value};
///
/// let value = Value::from("card");
/// assert_eq!(value, Value::Str(Text::from("card")));
/// if let Value::Str(text) = &value {
///     assert_eq!(text.as_str(), "card");
/// }
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text(pub(crate) CompactString);

impl Text {
    /// The text as a `&str`.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text(text.into())
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text(text.into())
    }
}

impl From<Text> for String {
    fn from(text: Text) -> Self {
        text.0.into_string()
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(v) => f.write_str(v),
            Value::I64(v) => v.fmt(f),
            Value::U64(v) => v.fmt(f),
            Value::I128(v) => v.fmt(f),
            Value::U128(v) => v.fmt(f),
            Value::F64(v) => v.fmt(f),
            Value::Bool(v) => v.fmt(f),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident as $as:ty),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$variant(v as $as)
            }
        })*
    };
}

value_from!(
    i8 => I64 as i64, i16 => I64 as i64, i32 => I64 as i64, i64 => I64 as i64,
    u8 => U64 as u64, u16 => U64 as u64, u32 => U64 as u64, u64 => U64 as u64,
    usize => U64 as u64, isize => I64 as i64, i128 => I128 as i128, u128 => U128 as u128,
    f32 => F64 as f64, f64 => F64 as f64,
);

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.into())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v.into())
    }
}

/// A value as jKool will read it: its JSON and its data type.
pub(crate) enum Typed<'a> {
    Long(i64),
    ULong(u64),
    Double(f64),
    Bool(bool),
    Text(Cow<'a, str>),
}

impl<'a> Typed<'a> {
    #[inline]
    pub(crate) fn of(value: &'a Value) -> Typed<'a> {
        match *value {
            Value::Str(ref v) => Typed::Text(Cow::Borrowed(v.as_str())),
            Value::I64(v) => Typed::Long(v),
            Value::U64(v) if v <= i64::MAX as u64 => Typed::ULong(v),
            Value::F64(v) if v.is_finite() => Typed::Double(v),
            Value::Bool(v) => Typed::Bool(v),
            ref other => Typed::Text(Cow::Owned(other.to_string())),
        }
    }

    pub(crate) fn data_type(&self) -> &'static str {
        match self {
            Typed::Long(_) | Typed::ULong(_) => "long",
            Typed::Double(_) => "double",
            Typed::Bool(_) => "bool",
            Typed::Text(_) => "string",
        }
    }
}

impl Serialize for Typed<'_> {
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

macro_rules! value_types {
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
        /// The unit of a property's value: jKool's `value-type`.
        ///
        /// ```
        /// use tracing_jkool::ValueType;
        ///
        /// assert_eq!(ValueType::CurrencyUsd.as_str(), "currency.usd");
        /// assert_eq!("age.msec".parse::<ValueType>(), Ok(ValueType::AgeMsec));
        /// assert_eq!(ValueType::Custom("rate.min").as_str(), "rate.min");
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ValueType {
            $($(#[$doc])* #[doc = concat!("`", $text, "`")] $variant,)*
            /// Any other unit jKool knows, such as `rate.min`.
            Custom(&'static str),
        }

        impl ValueType {
            /// The unit as jKool spells it.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(ValueType::$variant => $text,)*
                    ValueType::Custom(text) => text,
                }
            }
        }

        impl std::str::FromStr for ValueType {
            type Err = UnknownValueType;

            /// One of the named units; for others use [`ValueType::Custom`].
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok(ValueType::$variant),)*
                    _ => Err(UnknownValueType(text.to_owned())),
                }
            }
        }
    };
}

value_types! {
    None = "none",
    TempF = "temp.f",
    TempC = "temp.c",
    RateSec = "rate.sec",
    Currency = "currency",
    CurrencyUsd = "currency.usd",
    CurrencyEur = "currency.eur",
    CurrencyUk = "currency.uk",
    Size = "size",
    SizeByte = "size.byte",
    SizeKb = "size.kb",
    SizeMb = "size.mb",
    SizeGb = "size.gb",
    SizeTb = "size.tb",
    Age = "age",
    AgeNsec = "age.nsec",
    AgeUsec = "age.usec",
    AgeMsec = "age.msec",
    AgeSec = "age.sec",
    AgeMin = "age.min",
    AgeHour = "age.hour",
    AgeDay = "age.day",
    Timestamp = "timestamp",
    SpeedKmh = "speed.kmh",
    SpeedMph = "speed.mph",
    MassKg = "mass.kg",
    MassG = "mass.g",
    Addr = "addr",
    AddrIp = "addr.ip",
    AddrIpV4 = "addr.ip.v4",
    AddrIpV6 = "addr.ip.v6",
    Counter = "counter",
    Gauge = "gauge",
    Derive = "derive",
    Absolute = "absolute",
    Flag = "flag",
    Percent = "percent",
    Id = "id",
    Guid = "guid",
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ValueType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A unit name that is not one of [`ValueType`]'s named units.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown jKool value type {0:?}")]
pub struct UnknownValueType(String);

impl UnknownValueType {
    /// The unit name as given.
    ///
    /// ```
    /// let err = "furlongs".parse::<tracing_jkool::ValueType>().unwrap_err();
    /// assert_eq!(err.name(), "furlongs");
    /// ```
    pub fn name(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_unit_reads_back_from_its_text() {
        for unit in [
            ValueType::TempC,
            ValueType::SizeByte,
            ValueType::AddrIpV6,
            ValueType::Percent,
        ] {
            assert_eq!(unit.as_str().parse::<ValueType>(), Ok(unit));
        }
        assert!("furlongs".parse::<ValueType>().is_err());
    }

    #[test]
    fn values_get_jkool_data_types_and_safe_json() {
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
}
