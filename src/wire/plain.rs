//! An item that overrides nothing its callsite writes, written from the
//! callsite's pieces alone: most events and activities are such. What it
//! writes is what the general writer (`super::write`) writes for it, byte
//! for byte; this only skips the questions that writer asks of every item.
//! A test checks that the two agree.

use bytes::BufMut;
use uuid::Uuid;

use super::callsite::Callsite;
use super::snapshots::finish_snapshot;
use super::{ids, links, message, times, timing, Usec};
use crate::item::model::{uuid_text, ActivityRecord, Common, TrackingId};
use crate::item::snapshot::PropertyRef;
use crate::item::value::{Value, ValueType};
use crate::wire::context::Context;
use crate::wire::json::{key, Buf, Object};

/// Writes `common`'s event when [`is_plain`]; otherwise writes nothing
/// and returns false.
pub(super) fn event(common: &Common, site: &Callsite, ctx: &Context, out: &mut Buf) -> bool {
    if common.tracking_id.is_some() || !is_plain(common, site, ctx) {
        return false;
    }
    let mut id = Uuid::encode_buffer();
    let id = ids::next(&mut id);
    let time_usec = Usec::new(common.time_usec);
    let time_usec = time_usec.as_bytes();
    let mut item = start(common, id, time_usec, site, ctx, out);
    let fields = &common.fields;
    message(
        &mut item,
        fields.message.as_deref().unwrap_or_default(),
        Some(site),
    );
    if !fields.properties.is_empty() {
        let properties = fields.properties.iter().map(|field| (field, None));
        snapshot(&mut item, site, time_usec, id, properties);
    }
    item.end();
    true
}

/// Writes a span's activity when it did not fail and [`is_plain`];
/// otherwise writes nothing and returns false.
pub(super) fn activity(
    activity: &ActivityRecord,
    site: &Callsite,
    ctx: &Context,
    out: &mut Buf,
) -> bool {
    let common = &activity.common;
    let Some(TrackingId::Uuid(id)) = &common.tracking_id else {
        return false;
    };
    if activity.failure.is_some() || !is_plain(common, site, ctx) {
        return false;
    }
    let id = uuid_text(id);
    let time_usec = Usec::new(common.time_usec);
    let time_usec = time_usec.as_bytes();
    let mut item = start(common, &id, time_usec, site, ctx, out);
    times(&mut item, time_usec, common, activity);
    let timing = timing(activity);
    let fields = common.fields.properties.iter().map(|field| (field, None));
    let timing = timing.iter().map(|field| (field, Some(ValueType::AgeUsec)));
    snapshot(&mut item, site, time_usec, &id, fields.chain(timing));
    item.end();
    true
}

/// Whether the item has no `jkool.*` or `error` field and carries only its
/// callsite's own undotted fields, with no units or snapshot categories
/// configured.
fn is_plain(common: &Common, site: &Callsite, ctx: &Context) -> bool {
    let fields = &common.fields;
    fields.jkool().is_none()
        && fields.error.is_none()
        && site.undotted
        && ctx.units.is_empty()
        && ctx.categories.is_empty()
        && (fields.properties.iter()).all(|(name, _)| site.property(name).is_some())
}

/// Writes the item up to its `tid`: its callsite's head, its tracking id
/// `id`, its links, origin and time (`time_usec`, its digits).
fn start<'a>(
    common: &Common,
    id: &[u8],
    time_usec: &[u8],
    site: &Callsite,
    ctx: &Context,
    out: &'a mut Buf,
) -> Object<'a> {
    out.extend_from_slice(&site.head);
    let mut item = Object::continuing(out);
    item.plain(key::TRACKING_ID, id);
    links(&mut item, common, None);
    item.members(&ctx.origin);
    item.raw(time_usec);
    item.u64(key::TID, common.tid);
    item
}

/// Writes the item's one snapshot, its default, with `properties` and
/// their units.
fn snapshot<'a>(
    item: &mut Object<'_>,
    site: &Callsite,
    time_usec: &[u8],
    id: &[u8],
    properties: impl Iterator<Item = (&'a (&'static str, Value), Option<ValueType>)>,
) {
    let properties = properties.map(|((name, value), unit)| {
        let property = PropertyRef { name, value, unit };
        (property, site.property(name))
    });
    let out = item.members(&site.snapshots);
    finish_snapshot(out, time_usec, Some(id), true, properties);
    out.put_u8(b']');
}
