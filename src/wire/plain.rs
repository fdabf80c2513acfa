//! An event that overrides nothing its callsite writes, written from the
//! callsite's pieces alone: most events are such. What it writes is what
//! the general writer (`super::write`) writes for it, byte for byte; this
//! only skips the questions that writer asks of every item. A test checks
//! that the two agree.

use bytes::BufMut;
use uuid::Uuid;

use super::callsite::Callsite;
use super::{ids, links, message};
use crate::json::{key, Buf, Object};
use crate::model::{Common, Context};
use crate::snapshot::{finish_snapshot, PropertyRef};

/// Writes `common`'s event and returns true when it has no `jkool.*` or
/// `error` field, carries only its callsite's own undotted fields, and no
/// units or snapshot categories are configured; otherwise writes nothing
/// and returns false.
pub(super) fn event(common: &Common, site: &Callsite, ctx: &Context, out: &mut Buf) -> bool {
    let fields = &common.fields;
    let own = || {
        fields
            .properties
            .iter()
            .all(|(name, _)| site.property(name).is_some())
    };
    let plain = fields.jkool().is_none()
        && fields.error.is_none()
        && common.tracking_id.is_none()
        && site.undotted
        && ctx.units.is_empty()
        && ctx.categories.is_empty()
        && own();
    if !plain {
        return false;
    }
    out.extend_from_slice(&site.head);
    let mut item = Object::continuing(out);
    let mut id = Uuid::encode_buffer();
    let id = ids::next(&mut id);
    item.plain(key::TRACKING_ID, id);
    links(&mut item, common, None);
    item.members(&ctx.origin);
    let mut time_usec = itoa::Buffer::new();
    let time_usec = time_usec.format(common.time_usec).as_bytes();
    item.raw(time_usec);
    item.u64(key::TID, common.tid);
    message(
        &mut item,
        fields.message.as_deref().unwrap_or_default(),
        Some(site),
    );
    if !fields.properties.is_empty() {
        let properties = fields.properties.iter().map(|(name, value)| {
            let property = PropertyRef {
                name,
                value,
                unit: None,
            };
            (property, site.property(name))
        });
        let out = item.members(&site.snapshots);
        finish_snapshot(out, time_usec, Some(id), true, properties);
        out.put_u8(b']');
    }
    item.end();
    true
}
