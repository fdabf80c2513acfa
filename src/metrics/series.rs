//! How a metric becomes a snapshot: its name with its labels, the labels
//! as properties, and the jKool unit of a described `metrics` unit.

use ::metrics::{Key, Unit};

use crate::{Snapshot, ValueType};

/// The category of the recorder's snapshots.
const CATEGORY: &str = "Metrics";

/// `name`, or `name{k1=v1,k2=v2}` with the labels in the order given.
pub(super) fn series_name(key: &Key) -> String {
    let mut name = key.name().to_owned();
    let mut labels = key.labels().peekable();
    if labels.peek().is_some() {
        let labels: Vec<String> = labels
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        name = format!("{name}{{{}}}", labels.join(","));
    }
    name
}

pub(super) fn series(key: &Key, time: i64) -> Snapshot {
    Snapshot::new(series_name(key))
        .category(CATEGORY)
        .time_usec(time)
}

/// The labels, as string properties after the values.
pub(super) fn labels(snapshot: Snapshot, key: &Key) -> Snapshot {
    key.labels()
        .fold(snapshot, |s, l| s.property(l.key(), l.value()))
}

/// The jKool unit of a `metrics` unit, where jKool has one.
pub(super) fn value_type(unit: Unit) -> Option<ValueType> {
    Some(match unit {
        Unit::Seconds => ValueType::AgeSec,
        Unit::Milliseconds => ValueType::AgeMsec,
        Unit::Microseconds => ValueType::AgeUsec,
        Unit::Nanoseconds => ValueType::AgeNsec,
        Unit::Bytes => ValueType::SizeByte,
        Unit::Kibibytes => ValueType::SizeKb,
        Unit::Mebibytes => ValueType::SizeMb,
        Unit::Gibibytes => ValueType::SizeGb,
        Unit::Tebibytes => ValueType::SizeTb,
        Unit::Percent => ValueType::Percent,
        Unit::CountPerSecond => ValueType::RateSec,
        _ => return None,
    })
}
