//! An item's fields as jKool snapshots: undotted fields in the default
//! snapshot, named after the item; `payment.amount` in the snapshot
//! `payment`.

use bytes::BufMut;
use smallvec::SmallVec;

use super::callsite::Callsite;
use crate::json::{key, Buf, Object};
use crate::model::Context;
use crate::snapshot::{finish_snapshot, snapshot_head, PropertyRef};
use crate::value::{Value, ValueType};

/// An item's snapshots, as they are about to be written.
pub(super) struct Snapshots<'a> {
    /// The item's tracking id, the snapshots' `parent-id`, needs no escaping.
    pub(super) id_is_uuid: bool,
    pub(super) item_name: &'a str,
    /// The default category: where the item came from.
    pub(super) category: &'a str,
    /// The item's time, as JSON.
    pub(super) time_usec: &'a [u8],
    pub(super) parent_id: &'a [u8],
    pub(super) fields: &'a [(&'static str, Value)],
    /// A span's busy and idle time, in the default snapshot.
    pub(super) timing: &'a [(&'static str, Value)],
    pub(super) ctx: &'a Context,
    /// The callsite's JSON, when the item is named and categorized as its
    /// callsite's items are by default.
    pub(super) site: Option<&'a Callsite>,
}

impl<'a> Snapshots<'a> {
    pub(super) fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.timing.is_empty()
    }

    /// Every property with the snapshot it belongs to (`None` for the
    /// default one, `Some("payment")` for `payment.amount`, when `dotted`
    /// names are split) and its head when the callsite has it written.
    fn properties(
        &self,
        dotted: bool,
    ) -> impl Iterator<Item = (Option<&'a str>, PropertyRef<'a>, Option<&'a [u8]>)> + '_ {
        let units = &self.ctx.units;
        let site = self.site;
        let fields = self.fields.iter().map(move |(field, value)| {
            // No map lookup at all when no units are configured.
            let unit = if units.is_empty() {
                None
            } else {
                units.get(*field).copied()
            };
            let (snapshot, name) = match dotted.then(|| field.split_once('.')).flatten() {
                Some((snapshot, name)) => (Some(snapshot), name),
                None => (None, *field),
            };
            let head = site.and_then(|site| site.property(field));
            (snapshot, PropertyRef { name, value, unit }, head)
        });
        let timing = self.timing.iter().map(move |(name, value)| {
            let unit = Some(ValueType::AgeUsec);
            let head = site.and_then(|site| site.property(name));
            (None, PropertyRef { name, value, unit }, head)
        });
        fields.chain(timing)
    }

    /// The item's `snapshots`: a list in order of their first property.
    pub(super) fn write(&self, item: &mut Object<'_>) {
        let dotted = self.fields.iter().any(|(field, _)| field.contains('.'));
        if !dotted {
            // The default snapshot alone: for a callsite's items, the list
            // and its start are made once.
            let out = match (self.site, self.category_of(self.item_name)) {
                (Some(site), None) => item.members(&site.snapshots),
                (_, configured) => {
                    let out = item.key(key::SNAPSHOTS);
                    out.put_u8(b'[');
                    let category = configured.unwrap_or(self.category);
                    snapshot_head(out, self.item_name, category);
                    out
                }
            };
            let properties = self.properties(false).map(|(_, p, head)| (p, head));
            self.finish(out, properties);
            out.put_u8(b']');
            return;
        }
        let out = item.key(key::SNAPSHOTS);
        out.put_u8(b'[');
        // Snapshot names in order of first appearance; `None` is the default.
        let mut names: SmallVec<[Option<&str>; 4]> = SmallVec::new();
        for (snapshot, _, _) in self.properties(true) {
            if !names.contains(&snapshot) {
                names.push(snapshot);
            }
        }
        for (i, snapshot) in names.into_iter().enumerate() {
            if i > 0 {
                out.put_u8(b',');
            }
            let name = snapshot.unwrap_or(self.item_name);
            let category = self.category_of(name).unwrap_or(self.category);
            snapshot_head(out, name, category);
            let properties = self
                .properties(true)
                .filter(|(of, _, _)| *of == snapshot)
                .map(|(_, property, head)| (property, head));
            self.finish(out, properties);
        }
        out.put_u8(b']');
    }

    /// The category configured for the snapshot `name`, if any.
    fn category_of(&self, name: &str) -> Option<&'a str> {
        match self.ctx.categories.is_empty() {
            true => None,
            false => self.ctx.categories.get(name).map(String::as_str),
        }
    }

    /// The rest of a snapshot whose head is written.
    fn finish(
        &self,
        out: &mut Buf,
        properties: impl Iterator<Item = (PropertyRef<'a>, Option<&'a [u8]>)>,
    ) {
        finish_snapshot(
            out,
            self.time_usec,
            Some(self.parent_id),
            self.id_is_uuid,
            properties,
        );
    }
}
