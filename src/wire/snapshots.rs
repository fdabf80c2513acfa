//! An item's fields as jKool snapshots: undotted fields in the default
//! snapshot, named after the item; `payment.amount` in the snapshot
//! `payment`.

use bytes::BufMut;
use smallvec::SmallVec;

use super::callsite::Callsite;
use crate::item::snapshot::PropertyRef;
use crate::item::value::{Typed, Value, ValueType};
use crate::wire::context::Context;
use crate::wire::json::{self, key, Buf, Object};

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

impl PropertyRef<'_> {
    /// Appends the property's JSON, as its `Serialize` writes it. `head`
    /// is its start, `{"name":…`, when [`property_head`] wrote it before.
    pub(crate) fn write(&self, out: &mut Buf, head: Option<&[u8]>) {
        match head {
            Some(head) => out.extend_from_slice(head),
            None => property_head(out, self.name),
        }
        let typed = Typed::of(self.value);
        // Each arm writes its own constant: its length known, it is copied
        // in place rather than by a call.
        let head = |out: &mut Buf| out.extend_from_slice(type_and_value(&typed).as_bytes());
        match &typed {
            Typed::Long(v) => {
                head(out);
                json::integer(out, *v);
            }
            Typed::ULong(v) => {
                head(out);
                json::integer(out, *v);
            }
            Typed::Double(v) => {
                head(out);
                json::float(out, *v);
            }
            Typed::Bool(v) => {
                head(out);
                out.extend_from_slice(if *v { b"true" } else { b"false" });
            }
            Typed::Text(v) => {
                head(out);
                json::string(out, v.as_bytes());
            }
        }
        let mut property = Object::continuing(out);
        match self.unit {
            // The application's own text: escaped.
            Some(ValueType::Custom(unit)) => property.str(key::VALUE_TYPE, unit),
            // jKool's words need no escaping.
            Some(unit) => property.plain(key::VALUE_TYPE, unit.as_str()),
            None => {}
        }
        property.end();
    }
}

/// `,"type":"…","value":`, a property's data type and the key of its value
/// in one piece: what `plain(key::TYPE, data_type)` and `key(key::VALUE)`
/// write (a test checks that they agree).
#[inline(always)]
fn type_and_value(typed: &Typed<'_>) -> &'static str {
    match typed {
        Typed::Long(_) | Typed::ULong(_) => r#","type":"long","value":"#,
        Typed::Double(_) => r#","type":"double","value":"#,
        Typed::Bool(_) => r#","type":"bool","value":"#,
        Typed::Text(_) => r#","type":"string","value":"#,
    }
}

/// Appends how a property named `name` starts: `{"name":"…"`.
pub(crate) fn property_head(out: &mut Buf, name: &str) {
    Object::new(out).str(key::NAME, name);
}

/// Appends how a snapshot starts:
/// `{"type":"SNAPSHOT","name":…,"category":…,"time-usec":`.
pub(crate) fn snapshot_head(out: &mut Buf, name: &str, category: &str) {
    let mut snapshot = Object::new(out);
    snapshot.plain(key::TYPE, "SNAPSHOT");
    snapshot.str(key::NAME, name);
    snapshot.str(key::CATEGORY, category);
    snapshot.key(key::TIME_USEC);
}

/// Appends the rest of a snapshot begun by [`snapshot_head`], as
/// [`SnapshotRef`]'s `Serialize` writes it: each property comes with its
/// head when written before.
pub(crate) fn finish_snapshot<'a>(
    out: &mut Buf,
    time_usec: &[u8],
    parent_id: Option<&[u8]>,
    parent_is_uuid: bool,
    properties: impl Iterator<Item = (PropertyRef<'a>, Option<&'a [u8]>)>,
) {
    let mut snapshot = Object::continuing(out);
    // Digits, written before.
    snapshot.raw(time_usec);
    match parent_id {
        Some(parent) if parent_is_uuid => snapshot.plain(key::PARENT_ID, parent),
        Some(parent) => json::string(snapshot.key(key::PARENT_ID), parent),
        None => {}
    }
    let list = snapshot.key(key::PROPERTIES);
    list.put_u8(b'[');
    for (i, (property, head)) in properties.enumerate() {
        if i > 0 {
            list.put_u8(b',');
        }
        property.write(list, head);
    }
    list.put_u8(b']');
    snapshot.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::value::Typed;

    #[test]
    fn a_type_and_value_key_in_one_piece_is_what_the_object_writer_writes() {
        let text = Value::from("x");
        for value in [
            Value::I64(-1),
            Value::U64(1),
            Value::F64(0.5),
            Value::Bool(true),
            text,
        ] {
            let typed = Typed::of(&value);
            let mut out = Buf::new();
            let mut object = Object::continuing(&mut out);
            object.plain(key::TYPE, typed.data_type());
            object.key(key::VALUE);
            assert_eq!(type_and_value(&typed).as_bytes(), &out[..]);
        }
    }

    #[test]
    fn a_property_is_written_as_serde_json_writes_it_with_any_unit() {
        let units = [
            None,
            Some(ValueType::AgeUsec),
            Some(ValueType::CurrencyUsd),
            Some(ValueType::Custom("rate.min")),
            Some(ValueType::Custom("a \"quoted\" unit")),
        ];
        for unit in units {
            let value = Value::F64(12.5);
            let property = PropertyRef {
                name: "amount \"due\"",
                value: &value,
                unit,
            };
            let mut out = Buf::new();
            property.write(&mut out, None);
            assert_eq!(out.to_vec(), serde_json::to_vec(&property).unwrap());
        }
    }
}
