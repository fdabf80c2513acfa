//! How the layer's items are written as jKool JSON: the mapping from a
//! span or event to jKool's keys, snapshots and properties.

use serde::ser::{Serialize, SerializeMap, Serializer};
use tracing::Metadata;
use uuid::Uuid;

use crate::event::{CompCode, Severity};
use crate::fields::JKoolFields;
use crate::model::{Context, Item, TrackingId};
use crate::snapshot::{PropertyRef, SnapshotRef};
use crate::value::{Typed, Value, ValueType};

/// An item of the layer's, ready to serialize.
pub(crate) struct Wire<'a> {
    item: &'a Item,
    ctx: &'a Context,
}

impl<'a> Wire<'a> {
    pub(crate) fn new(item: &'a Item, ctx: &'a Context) -> Self {
        Wire { item, ctx }
    }
}

impl Serialize for Wire<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (common, activity) = match self.item {
            Item::Event(e) => (&e.common, None),
            Item::Activity(a) => (&a.common, Some(a)),
            Item::JKoolEvent(_) | Item::Raw { .. } => {
                unreachable!("these items write their own JSON")
            }
        };
        let meta = common.meta;
        let (target, file, line) = match &common.log {
            Some(log) => (log.target.as_str(), log.file.as_deref(), log.line),
            None => (meta.target(), meta.file(), meta.line()),
        };
        let jkool = common.fields.jkool();
        let pick = |get: fn(&JKoolFields) -> &Option<String>| jkool.and_then(|j| get(j).as_deref());
        let tracking_id = match (pick(|j| &j.tracking_id), &common.tracking_id) {
            (Some(custom), _) => TrackingId::Custom(custom.into()),
            (None, Some(id)) => id.clone(),
            (None, None) => TrackingId::new(),
        };
        let mut id_buf = Uuid::encode_buffer();
        let tracking_id = tracking_id.as_str(&mut id_buf);
        // `jkool.exception` wins over an `error` field.
        let exception = pick(|j| &j.exception).or(common.fields.error.as_deref());

        let mut map = s.serialize_map(None)?;
        map.serialize_entry(
            "type",
            if activity.is_some() {
                "ACTIVITY"
            } else {
                "EVENT"
            },
        )?;
        map.serialize_entry("tracking-id", tracking_id)?;
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

        let operation = pick(|j| &j.operation).unwrap_or(match self.item {
            Item::Event(_) if common.log.is_some() || is_generated_event_name(meta) => target,
            _ => meta.name(),
        });
        map.serialize_entry("operation", operation)?;
        let comp_code = pick(|j| &j.comp_code);
        match activity {
            None => {
                let level = meta.level();
                map.serialize_entry("severity", &Severity::from(*level))?;
                let code = match exception {
                    Some(_) if common.fields.error.is_some() => CompCode::Error,
                    _ => CompCode::for_level(*level),
                };
                map.serialize_entry("comp-code", comp_code.unwrap_or(code.as_str()))?;
                // `#[instrument(err)]` records only the error: it is the message.
                let text = common
                    .fields
                    .message
                    .as_deref()
                    .or(exception)
                    .unwrap_or_default();
                map.serialize_entry("msg-text", text)?;
            }
            Some(a) => {
                let failed = a.error_seen || exception.is_some();
                map.serialize_entry("status", if failed { "EXCEPTION" } else { "END" })?;
                let code = if failed {
                    CompCode::Error
                } else {
                    CompCode::Success
                };
                map.serialize_entry("comp-code", comp_code.unwrap_or(code.as_str()))?;
                map.serialize_entry("start-time-usec", &a.start_usec)?;
                map.serialize_entry("end-time-usec", &common.time_usec)?;
                let elapsed = common.time_usec.saturating_sub(a.start_usec).max(0);
                map.serialize_entry("elapsed-time-usec", &elapsed)?;
                map.serialize_entry("wait-time-usec", &a.idle_usec)?;
            }
        }
        match (pick(|j| &j.location), file, line) {
            (Some(location), _, _) => map.serialize_entry("location", location)?,
            (None, Some(file), Some(line)) => {
                map.serialize_entry("location", &format_args!("{file}:{line}"))?
            }
            (None, Some(file), None) => map.serialize_entry("location", file)?,
            (None, None, _) => {}
        }
        map.serialize_entry("resource", pick(|j| &j.resource).unwrap_or(target))?;
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
            // jKool's reason code is an integer; anything else goes as text.
            match Typed::of(code) {
                typed @ (Typed::Long(_) | Typed::ULong(_)) => {
                    map.serialize_entry("reason-code", &typed)?
                }
                _ => map.serialize_entry("reason-code", &code.to_string())?,
            }
        }
        let timing = activity.map(|a| {
            [
                ("busy", Value::U64(a.busy_usec)),
                ("idle", Value::U64(a.idle_usec)),
            ]
        });
        let snapshots = Snapshots {
            item_name: operation,
            category: target,
            time_usec: common.time_usec,
            parent_id: tracking_id,
            fields: &common.fields.properties,
            timing: timing.as_ref().map_or(&[], |t| &t[..]),
            ctx: self.ctx,
        };
        if !snapshots.is_empty() {
            map.serialize_entry("snapshots", &snapshots)?;
        }
        map.end()
    }
}

/// An item's fields as snapshots: undotted fields in the default snapshot,
/// named after the item; `payment.amount` in the snapshot `payment`.
struct Snapshots<'a> {
    item_name: &'a str,
    /// The default category: where the item came from.
    category: &'a str,
    time_usec: i64,
    parent_id: &'a str,
    fields: &'a [(&'static str, Value)],
    /// A span's busy and idle time, in the default snapshot.
    timing: &'a [(&'static str, Value)],
    ctx: &'a Context,
}

impl Snapshots<'_> {
    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.timing.is_empty()
    }
}

impl<'a> Snapshots<'a> {
    /// Every property with the snapshot it belongs to: `None` for the
    /// default one, `Some("payment")` for `payment.amount`.
    fn properties(&self) -> impl Iterator<Item = (Option<&'a str>, PropertyRef<'a>)> + '_ {
        let units = &self.ctx.units;
        let fields = self.fields.iter().map(move |(field, value)| {
            // No map lookup at all when no units are configured.
            let unit = if units.is_empty() {
                None
            } else {
                units.get(*field).copied()
            };
            let (snapshot, name) = match field.split_once('.') {
                Some((snapshot, name)) => (Some(snapshot), name),
                None => (None, *field),
            };
            (snapshot, PropertyRef { name, value, unit })
        });
        let timing = self.timing.iter().map(|(name, value)| {
            let unit = Some(ValueType::AgeUsec);
            (None, PropertyRef { name, value, unit })
        });
        fields.chain(timing)
    }
}

/// The properties of one snapshot of an item.
struct Group<'s, 'a> {
    snapshots: &'s Snapshots<'a>,
    name: Option<&'a str>,
}

impl Serialize for Group<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.snapshots
                .properties()
                .filter(|(snapshot, _)| *snapshot == self.name)
                .map(|(_, property)| property),
        )
    }
}

impl Serialize for Snapshots<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Snapshot names in order of first appearance; `None` is the default.
        let mut names: Vec<Option<&str>> = Vec::new();
        for (snapshot, _) in self.properties() {
            if !names.contains(&snapshot) {
                names.push(snapshot);
            }
        }
        s.collect_seq(names.into_iter().map(|snapshot| {
            let name = snapshot.unwrap_or(self.item_name);
            let category = match self.ctx.categories.is_empty() {
                true => self.category,
                false => self
                    .ctx
                    .categories
                    .get(name)
                    .map_or(self.category, String::as_str),
            };
            SnapshotRef {
                name,
                category,
                time_usec: self.time_usec,
                parent_id: Some(self.parent_id),
                properties: Group {
                    snapshots: self,
                    name: snapshot,
                },
            }
        }))
    }
}

/// tracing names an event without `name:` "event file:line"; that says
/// nothing jKool does not already get from `location`.
fn is_generated_event_name(meta: &Metadata<'_>) -> bool {
    meta.name().starts_with("event ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

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
}
