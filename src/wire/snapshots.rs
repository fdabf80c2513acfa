//! An item's fields as jKool snapshots: undotted fields in the default
//! snapshot, named after the item; `payment.amount` in the snapshot
//! `payment`.

use smallvec::SmallVec;

use super::callsite::Callsite;
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
    pub(super) parent_id: &'a str,
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

    /// The list of snapshots, in order of their first property.
    pub(super) fn write(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        let dotted = self.fields.iter().any(|(field, _)| field.contains('.'));
        if !dotted {
            let properties = self.properties(false).map(|(_, p, head)| (p, head));
            self.snapshot(out, None, properties);
            out.push(b']');
            return;
        }
        // Snapshot names in order of first appearance; `None` is the default.
        let mut names: SmallVec<[Option<&str>; 4]> = SmallVec::new();
        for (snapshot, _, _) in self.properties(true) {
            if !names.contains(&snapshot) {
                names.push(snapshot);
            }
        }
        for (i, snapshot) in names.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let properties = self
                .properties(true)
                .filter(|(of, _, _)| *of == snapshot)
                .map(|(_, property, head)| (property, head));
            self.snapshot(out, snapshot, properties);
        }
        out.push(b']');
    }

    /// One snapshot: the default one (`None`) or a named one.
    fn snapshot(
        &self,
        out: &mut Vec<u8>,
        snapshot: Option<&str>,
        properties: impl Iterator<Item = (PropertyRef<'a>, Option<&'a [u8]>)>,
    ) {
        let name = snapshot.unwrap_or(self.item_name);
        let configured = match self.ctx.categories.is_empty() {
            true => None,
            false => self.ctx.categories.get(name),
        };
        match (self.site, snapshot, configured) {
            (Some(site), None, None) => out.extend_from_slice(&site.snapshot),
            _ => snapshot_head(out, name, configured.map_or(self.category, String::as_str)),
        }
        finish_snapshot(
            out,
            self.time_usec,
            Some(self.parent_id),
            self.id_is_uuid,
            properties,
        );
    }
}
