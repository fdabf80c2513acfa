//! How the layer's items are written as jKool JSON: the mapping from a
//! span or event to jKool's keys, snapshots and properties, written by
//! `json.rs`'s writer into the worker's chunk, from which each item is split
//! off. What a callsite's items write alike is made once (`callsite.rs`),
//! by the same functions that write an item that overrides it; an event's
//! tracking id is made here (`ids.rs`).

mod callsite;
pub(crate) mod context;
mod ids;
pub(crate) mod json;
mod links;
mod plain;
pub(crate) mod redact;
mod serialized;
mod snapshots;
mod usec;

use std::cell::OnceCell;

use bytes::BufMut;
use tracing::{Level, Metadata};
use uuid::Uuid;

use crate::item::codes::{CompCode, Severity};
use crate::item::fields::JKoolFields;
use crate::item::model::{uuid_text, ActivityRecord, Common, Item, TrackingId};
use crate::item::value::{Typed, Value};
use crate::wire::context::Context;
use callsite::Callsite;
use json::{key, Buf, Object};
use links::links;
use snapshots::{property_head, snapshot_head, Snapshots};
use usec::{times, Usec};

pub(crate) use serialized::Serialized;

/// Appends an item's JSON object to `out`.
pub(crate) fn item_json(item: &Item, ctx: &Context, out: &mut Buf) -> serde_json::Result<()> {
    match item {
        Item::JKoolEvent(event) => serde_json::to_writer(out.writer(), event),
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
fn write(common: &Common, activity: Option<&ActivityRecord>, ctx: &Context, out: &mut Buf) {
    let meta = common.meta;
    let (target, file, line) = match &common.log {
        Some(log) => (log.target.as_str(), log.file.as_deref(), log.line),
        None => (meta.target(), meta.file(), meta.line()),
    };
    // What the callsite's items write alike, made once (not for `log`
    // records, whose origin is not their callsite's).
    let site = match (&common.log, activity.is_none() == meta.is_event()) {
        (None, true) => Some(callsite::cached(meta, describe)),
        _ => None,
    };
    if let Some(site) = &site {
        let written = match activity {
            None => plain::event(common, site, ctx, out),
            Some(activity) => plain::activity(activity, site, ctx, out),
        };
        if written {
            return;
        }
    }
    let jkool = common.fields.jkool();
    let pick = |get: fn(&JKoolFields) -> &Option<String>| jkool.and_then(|j| get(j).as_deref());
    // As text, and whether it needs no escaping: a UUID, or an event's id,
    // made now.
    let mut id_buf = Uuid::encode_buffer();
    let (tracking_id, id_is_uuid) = match (pick(|j| &j.tracking_id), &common.tracking_id) {
        (Some(custom), _) => (custom.as_bytes(), false),
        (None, Some(TrackingId::Custom(custom))) => (custom.as_bytes(), false),
        (None, Some(TrackingId::Uuid(id))) => {
            id_buf[..36].copy_from_slice(&uuid_text(id));
            (&id_buf[..36], true)
        }
        (None, None) => (ids::next(&mut id_buf), true),
    };
    // `jkool.exception` wins over an `error` field; an activity without
    // either carries the first error inside it, as TNT4J sends.
    let failure = activity.and_then(|a| a.failure.as_deref());
    let exception = (pick(|j| &j.exception).or(common.fields.error.as_deref()))
        .or(failure.filter(|text| !text.is_empty()));

    let by_target = common.log.is_some() || (activity.is_none() && is_generated_event_name(meta));
    let operation = pick(|j| &j.operation);
    let item_name = operation.unwrap_or(if by_target { target } else { meta.name() });
    let comp_code = pick(|j| &j.comp_code);
    let (location, resource) = (pick(|j| &j.location), pick(|j| &j.resource));
    let failed = failure.is_some() || exception.is_some();
    let overridden = operation.or(comp_code).or(location).or(resource).is_some();
    let mut item = match site.as_deref().filter(|_| !overridden && !failed) {
        Some(site) => {
            out.extend_from_slice(&site.head);
            Object::continuing(out)
        }
        None => {
            let codes = match activity {
                None => {
                    let level = *meta.level();
                    let code = match exception {
                        Some(_) if common.fields.error.is_some() => CompCode::Error,
                        _ => CompCode::for_level(level),
                    };
                    let comp_code = comp_code.unwrap_or(code.as_str());
                    Codes::Event { level, comp_code }
                }
                Some(_) => Codes::Activity {
                    level: *meta.level(),
                    failed,
                    comp_code,
                },
            };
            let location = match location {
                Some(text) => Location::Text(text),
                None => file.map_or(Location::None, |file| Location::File(file, line)),
            };
            let mut item = Object::new(out);
            head(
                &mut item,
                item_name,
                codes,
                location,
                resource.unwrap_or(target),
            );
            item
        }
    };
    match id_is_uuid {
        true => item.plain(key::TRACKING_ID, tracking_id),
        false => json::string(item.key(key::TRACKING_ID), tracking_id),
    }
    links(&mut item, common, pick(|j| &j.corr_id));
    match pick(|j| &j.source_fqn) {
        Some(fqn) => Context::write_origin(&mut item, fqn, ctx.pid),
        None => {
            item.members(&ctx.origin);
        }
    }
    // Written twice: in the item and in its snapshots.
    let time_usec = Usec::new(common.time_usec);
    let time_usec = time_usec.as_bytes();
    item.raw(time_usec);
    item.u64(key::TID, common.tid);

    match activity {
        None => {
            // `#[instrument(err)]` records only the error: it is the message.
            let text = common.fields.message.as_deref().or(exception);
            message(&mut item, text.unwrap_or_default(), site.as_deref());
        }
        Some(a) => times(&mut item, time_usec, common, a),
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
    let timing = activity.map(timing);
    let snapshots = Snapshots {
        id_is_uuid,
        item_name,
        category: target,
        time_usec,
        parent_id: tracking_id,
        fields: &common.fields.properties,
        timing: timing.as_ref().map_or(&[], |t| &t[..]),
        ctx,
        // The callsite's default snapshot is named after its operation.
        site: site.as_deref().filter(|_| operation.is_none()),
    };
    if !snapshots.is_empty() {
        snapshots.write(&mut item);
    }
    item.end();
}

/// An activity's busy and idle time, as properties of its default
/// snapshot.
fn timing(activity: &ActivityRecord) -> [(&'static str, Value); 2] {
    [
        (BUSY, Value::U64(activity.busy_usec)),
        (IDLE, Value::U64(activity.idle_usec)),
    ]
}

/// The names of a span's timing properties: statics, so that a callsite's
/// property heads are found by their address.
static BUSY: &str = "busy";
static IDLE: &str = "idle";
static TIMING: [&str; 2] = [BUSY, IDLE];

/// An item's codes: `severity` and `comp-code` for an event, `status`
/// and `comp-code` for an activity.
#[derive(Clone, Copy)]
enum Codes<'a> {
    Event {
        level: Level,
        comp_code: &'a str,
    },
    Activity {
        level: Level,
        failed: bool,
        comp_code: Option<&'a str>,
    },
}

/// Writes what opens an item: `type`, `operation`, its codes, `location`
/// and `resource`. The items of a callsite that override none of them
/// write the same, made once.
fn head(
    item: &mut Object<'_>,
    operation: &str,
    codes: Codes<'_>,
    location: Location<'_>,
    resource: &str,
) {
    match codes {
        Codes::Event { level, comp_code } => {
            item.plain(key::TYPE, "EVENT");
            item.str(key::OPERATION, operation);
            item.plain(key::SEVERITY, Severity::from(level).as_str());
            item.str(key::COMP_CODE, comp_code);
        }
        Codes::Activity {
            level,
            failed,
            comp_code,
        } => {
            item.plain(key::TYPE, "ACTIVITY");
            item.str(key::OPERATION, operation);
            item.plain(key::STATUS, if failed { "EXCEPTION" } else { "END" });
            // The span's level, raised to ERROR (tracing's highest) when
            // it failed.
            let severity = match failed {
                true => Severity::Error,
                false => Severity::from(level),
            };
            item.plain(key::SEVERITY, severity.as_str());
            let code = if failed {
                CompCode::Error
            } else {
                CompCode::Success
            };
            item.str(key::COMP_CODE, comp_code.unwrap_or(code.as_str()));
        }
    }
    place(item, location, resource);
}

/// Writes an event's `msg-text`: as its callsite keeps it, when it is
/// the one kept.
fn message(item: &mut Object<'_>, text: &str, site: Option<&Callsite>) {
    match site.and_then(|site| site.message(text, message_json)) {
        Some(json) => {
            item.members(json);
        }
        None => write_message(item, text),
    }
}

/// Writes an event's `msg-text`.
fn write_message(item: &mut Object<'_>, text: &str) {
    item.str(key::MSG_TEXT, text);
}

/// `,"msg-text":` with `text`, made to be kept.
fn message_json(text: &str) -> callsite::Json {
    json::members(|item| write_message(item, text))
}

/// What goes in `location`.
#[derive(Clone, Copy)]
enum Location<'a> {
    Text(&'a str),
    File(&'a str, Option<u32>),
    None,
}

/// Writes `location` (`"file:line"`, or `"file"` without a line) and
/// `resource`.
fn place(item: &mut Object<'_>, location: Location<'_>, resource: &str) {
    match location {
        Location::Text(text) => item.str(key::LOCATION, text),
        Location::File(file, line) => {
            let out = item.key(key::LOCATION);
            json::string(out, file);
            if let Some(line) = line {
                out.truncate(out.len() - 1);
                out.put_u8(b':');
                json::integer(out, line);
                out.put_u8(b'"');
            }
        }
        Location::None => {}
    }
    item.str(key::RESOURCE, resource);
}

/// What every item of `meta`'s callsite writes alike, when it overrides
/// nothing: made with the same functions as any item's JSON.
fn describe(meta: &'static Metadata<'static>) -> Callsite {
    let by_target = meta.is_event() && is_generated_event_name(meta);
    let name = if by_target {
        meta.target()
    } else {
        meta.name()
    };
    let codes = match meta.is_event() {
        true => Codes::Event {
            level: *meta.level(),
            comp_code: CompCode::for_level(*meta.level()).as_str(),
        },
        false => Codes::Activity {
            level: *meta.level(),
            failed: false,
            comp_code: None,
        },
    };
    let location = meta
        .file()
        .map_or(Location::None, |file| Location::File(file, meta.line()));
    Callsite {
        head: json::made(|out| {
            head(&mut Object::new(out), name, codes, location, meta.target());
        }),
        snapshots: json::members(|item| {
            let out = item.key(key::SNAPSHOTS);
            out.put_u8(b'[');
            snapshot_head(out, name, meta.target());
        }),
        message: OnceCell::new(),
        undotted: meta
            .fields()
            .iter()
            .all(|field| !field.name().contains('.')),
        properties: meta
            .fields()
            .iter()
            .map(|field| field.name())
            .chain(
                match meta.is_span() {
                    true => TIMING.as_slice(),
                    false => &[],
                }
                .iter()
                .copied(),
            )
            .map(|name| {
                let short = name.split_once('.').map_or(name, |(_, short)| short);
                (name, json::made(|out| property_head(out, short)))
            })
            .collect(),
    }
}

/// tracing names an event without `name:` "event file:line"; that says
/// nothing jKool does not already get from `location`.
fn is_generated_event_name(meta: &Metadata<'_>) -> bool {
    meta.name().starts_with("event ")
}

#[cfg(test)]
mod tests;
