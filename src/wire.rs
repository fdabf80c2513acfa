//! How the layer's items are written as jKool JSON: the mapping from a
//! span or event to jKool's keys, snapshots and properties, written
//! straight into the request's buffer by `json.rs`'s writer.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;

use smallvec::SmallVec;
use tracing::Metadata;
use uuid::Uuid;

use crate::codes::{CompCode, Severity};
use crate::fields::JKoolFields;
use crate::json::{self, key, Object};
use crate::model::{ActivityRecord, Common, Context, Item, TrackingId};
use crate::snapshot::PropertyRef;
use crate::value::{Typed, Value, ValueType};

/// Appends an item's JSON object to `out`.
pub(crate) fn item_json(item: &Item, ctx: &Context, out: &mut Vec<u8>) -> serde_json::Result<()> {
    match item {
        Item::JKoolEvent(event) => serde_json::to_writer(out, event),
        Item::Raw { json, .. } => {
            out.extend_from_slice(json.as_bytes());
            Ok(())
        }
        Item::Event(event) => {
            write(&event.common, None, ctx, out);
            Ok(())
        }
        Item::Activity(activity) => {
            write(&activity.common, Some(activity), ctx, out);
            Ok(())
        }
    }
}

/// Appends the JSON of a span's activity (`activity`) or an event to `out`.
fn write(common: &Common, activity: Option<&ActivityRecord>, ctx: &Context, out: &mut Vec<u8>) {
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

    let mut item = Object::new(out);
    let kind = if activity.is_some() {
        "ACTIVITY"
    } else {
        "EVENT"
    };
    item.plain(key::TYPE, kind);
    let id_is_uuid = matches!(
        (&common.tracking_id, pick(|j| &j.tracking_id)),
        (Some(TrackingId::Uuid(_)) | None, None)
    );
    match id_is_uuid {
        true => item.plain(key::TRACKING_ID, tracking_id),
        false => item.str(key::TRACKING_ID, tracking_id),
    }
    match &common.parent_id {
        Some(parent @ TrackingId::Uuid(_)) => {
            item.plain(key::PARENT_ID, parent.as_str(&mut Uuid::encode_buffer()));
        }
        Some(custom) => item.str(key::PARENT_ID, custom.as_str(&mut Uuid::encode_buffer())),
        None => {}
    }
    let own_corr = pick(|j| &j.corr_id);
    let inherited = common.corrids.as_deref().unwrap_or_default();
    if own_corr.is_some() || !inherited.is_empty() || common.trace_id.is_some() {
        let list = item.key(key::CORRID);
        list.push(b'[');
        if let Some(trace_id) = common.trace_id {
            // Hex digits need no escaping.
            list.push(b'"');
            list.extend_from_slice(&trace_id.to_hex());
            list.push(b'"');
        }
        let all = inherited.iter().map(String::as_str).chain(own_corr);
        for corrid in all {
            if list.last() != Some(&b'[') {
                list.push(b',');
            }
            json::string(list, corrid);
        }
        list.push(b']');
    }
    match pick(|j| &j.source_fqn) {
        Some(fqn) => item.str(key::SOURCE_FQN, fqn),
        // Escaped once, at start.
        None => item
            .key(key::SOURCE_FQN)
            .extend_from_slice(&ctx.source_fqn_json),
    }
    item.i64(key::TIME_USEC, common.time_usec);
    item.u64(key::PID, ctx.pid.into());
    item.u64(key::TID, common.tid);

    // A callsite's own names, escaped once (not for `log` records, whose
    // origin is not their callsite's).
    let names = match &common.log {
        None => Some(callsite_names(meta)),
        Some(_) => None,
    };
    let by_target = common.log.is_some() || (activity.is_none() && is_generated_event_name(meta));
    let operation = pick(|j| &j.operation).unwrap_or(if by_target { target } else { meta.name() });
    match (pick(|j| &j.operation), &names) {
        (None, Some(names)) => {
            let escaped = if by_target {
                &names.target
            } else {
                &names.name
            };
            item.key(key::OPERATION).extend_from_slice(escaped);
        }
        _ => item.str(key::OPERATION, operation),
    }
    let comp_code = pick(|j| &j.comp_code);
    match activity {
        None => {
            let level = *meta.level();
            item.plain(key::SEVERITY, Severity::from(level).as_str());
            let code = match exception {
                Some(_) if common.fields.error.is_some() => CompCode::Error,
                _ => CompCode::for_level(level),
            };
            item.str(key::COMP_CODE, comp_code.unwrap_or(code.as_str()));
            // `#[instrument(err)]` records only the error: it is the message.
            let text = common.fields.message.as_deref().or(exception);
            item.str(key::MSG_TEXT, text.unwrap_or_default());
        }
        Some(a) => {
            let failed = a.error_seen || exception.is_some();
            item.plain(key::STATUS, if failed { "EXCEPTION" } else { "END" });
            let code = if failed {
                CompCode::Error
            } else {
                CompCode::Success
            };
            item.str(key::COMP_CODE, comp_code.unwrap_or(code.as_str()));
            item.i64(key::START_TIME_USEC, a.start_usec);
            item.i64(key::END_TIME_USEC, common.time_usec);
            let elapsed = common.time_usec.saturating_sub(a.start_usec).max(0);
            item.i64(key::ELAPSED_TIME_USEC, elapsed);
            item.u64(key::WAIT_TIME_USEC, a.idle_usec);
        }
    }
    let cached = names.as_ref().and_then(|n| n.location.as_deref());
    match (pick(|j| &j.location), cached, file) {
        (Some(location), _, _) => item.str(key::LOCATION, location),
        (None, Some(cached), _) => item.key(key::LOCATION).extend_from_slice(cached),
        (None, None, Some(file)) => location(item.key(key::LOCATION), file, line),
        (None, None, None) => {}
    }
    match (pick(|j| &j.resource), &names) {
        (None, Some(names)) => item.key(key::RESOURCE).extend_from_slice(&names.target),
        (resource, _) => item.str(key::RESOURCE, resource.unwrap_or(target)),
    }
    for (name, value) in [
        (key::USER, pick(|j| &j.user)),
        (key::EXCEPTION, exception),
        (key::MSG_TAG, pick(|j| &j.msg_tag)),
    ] {
        if let Some(value) = value {
            item.str(name, value);
        }
    }
    if let Some(code) = jkool.and_then(|j| j.reason_code.as_ref()) {
        // jKool's reason code is an integer; anything else goes as text.
        match Typed::of(code) {
            Typed::Long(v) => item.i64(key::REASON_CODE, v),
            Typed::ULong(v) => item.u64(key::REASON_CODE, v),
            _ => item.str(key::REASON_CODE, &code.to_string()),
        }
    }
    let timing = activity.map(|a| {
        [
            ("busy", Value::U64(a.busy_usec)),
            ("idle", Value::U64(a.idle_usec)),
        ]
    });
    let snapshots = Snapshots {
        id_is_uuid,
        item_name: operation,
        category: target,
        time_usec: common.time_usec,
        parent_id: tracking_id,
        fields: &common.fields.properties,
        timing: timing.as_ref().map_or(&[], |t| &t[..]),
        ctx,
    };
    if !snapshots.is_empty() {
        snapshots.write(item.key(key::SNAPSHOTS));
    }
    item.end();
}

/// An item's fields as snapshots: undotted fields in the default snapshot,
/// named after the item; `payment.amount` in the snapshot `payment`.
struct Snapshots<'a> {
    /// The item's tracking id, the snapshots' `parent-id`, needs no escaping.
    id_is_uuid: bool,
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

impl<'a> Snapshots<'a> {
    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.timing.is_empty()
    }

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

    /// The list of snapshots, in order of their first property.
    fn write(&self, out: &mut Vec<u8>) {
        // Snapshot names in order of first appearance; `None` is the default.
        let mut names: SmallVec<[Option<&str>; 4]> = SmallVec::new();
        for (snapshot, _) in self.properties() {
            if !names.contains(&snapshot) {
                names.push(snapshot);
            }
        }
        out.push(b'[');
        for (i, snapshot) in names.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let name = snapshot.unwrap_or(self.item_name);
            let category = match self.ctx.categories.is_empty() {
                true => self.category,
                false => self
                    .ctx
                    .categories
                    .get(name)
                    .map_or(self.category, String::as_str),
            };
            let properties = self
                .properties()
                .filter(|(of, _)| *of == snapshot)
                .map(|(_, property)| property);
            crate::snapshot::write_snapshot(
                out,
                name,
                category,
                self.time_usec,
                Some(self.parent_id),
                self.id_is_uuid,
                properties,
            );
        }
        out.push(b']');
    }
}

/// A callsite's name, target and `file:line`, as JSON strings.
struct CallsiteNames {
    name: Box<[u8]>,
    target: Box<[u8]>,
    location: Option<Box<[u8]>>,
}

/// Callsites seen at most: past this many, names are escaped every time.
const MAX_CALLSITES: usize = 4096;

thread_local! {
    /// By the address of the callsite's `'static` metadata; only the
    /// delivery thread writes items, so this is its own.
    static CALLSITES: RefCell<HashMap<usize, Rc<CallsiteNames>, BuildHasherDefault<AddressHasher>>> =
        RefCell::default();
}

/// The callsite's names escaped, from the cache or made now.
fn callsite_names(meta: &'static Metadata<'static>) -> Rc<CallsiteNames> {
    let address = std::ptr::from_ref(meta) as usize;
    CALLSITES.with(|cache| {
        if let Some(names) = cache.borrow().get(&address) {
            return Rc::clone(names);
        }
        let escaped = |text: &str| {
            let mut out = Vec::with_capacity(text.len() + 2);
            json::string(&mut out, text);
            out.into_boxed_slice()
        };
        let names = Rc::new(CallsiteNames {
            name: escaped(meta.name()),
            target: escaped(meta.target()),
            location: meta.file().map(|file| {
                let mut out = Vec::with_capacity(file.len() + 8);
                location(&mut out, file, meta.line());
                out.into_boxed_slice()
            }),
        });
        let mut cache = cache.borrow_mut();
        if cache.len() < MAX_CALLSITES {
            cache.insert(address, Rc::clone(&names));
        }
        names
    })
}

/// Appends `location`'s value: `"file:line"`, or `"file"` without a line.
fn location(out: &mut Vec<u8>, file: &str, line: Option<u32>) {
    json::string(out, file);
    if let Some(line) = line {
        out.pop();
        out.push(b':');
        json::integer(out, line);
        out.push(b'"');
    }
}

/// Hashes an address: already unique, it needs only mixing.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8 | u64::from(byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_usize(&mut self, address: usize) {
        self.0 = (address as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
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
