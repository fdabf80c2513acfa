//! An item's links to others: its `parent-id` and its `corrid` list (its
//! trace id and the correlators it inherited). The items of one span, and
//! the spans inside it, share their links; the last ones written are kept
//! as JSON on the delivery thread, so a run of such items writes them as
//! one copy rather than as hex digits and escaped text each time.

use std::cell::RefCell;
use std::sync::Arc;

use bytes::BufMut;
use uuid::Uuid;

use crate::item::model::{uuid_text, Common, TrackingId};
use crate::item::trace_id::TraceId;
use crate::wire::json::{self, key, Object};

/// Writes an item's `parent-id` and `corrid`: its trace id, the
/// correlators it inherited and `own_corr`.
pub(super) fn links(item: &mut Object<'_>, common: &Common, own_corr: Option<&str>) {
    // A root's links are its own trace's: written once, never kept.
    if own_corr.is_some() || common.parent_id.is_none() {
        return write(item, common, own_corr);
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.are_of(common) {
            item.members(&last.json);
            return;
        }
        let start = item.written().len();
        write(item, common, None);
        last.parent_id.clone_from(&common.parent_id);
        last.trace_id = common.trace_id;
        last.corrids.clone_from(&common.corrids);
        last.json.clear();
        last.json.extend_from_slice(&item.written()[start..]);
    });
}

/// The links written last, and what they were written from.
struct Kept {
    parent_id: Option<TrackingId>,
    trace_id: Option<TraceId>,
    /// Held, so that its address is not another list's while kept.
    corrids: Option<Arc<[String]>>,
    json: Vec<u8>,
}

impl Kept {
    /// Whether these are `common`'s links. The inherited correlators are
    /// compared by address: a span's items share its list.
    fn are_of(&self, common: &Common) -> bool {
        if self.json.is_empty() {
            return false;
        }
        let same_list = match (&self.corrids, &common.corrids) {
            (Some(kept), Some(theirs)) => Arc::ptr_eq(kept, theirs),
            (None, None) => true,
            _ => false,
        };
        same_list && self.trace_id == common.trace_id && self.parent_id == common.parent_id
    }
}

thread_local! {
    /// Only the delivery thread writes items, so this is its own.
    static LAST: RefCell<Kept> = const {
        RefCell::new(Kept {
            parent_id: None,
            trace_id: None,
            corrids: None,
            json: Vec::new(),
        })
    };
}

/// Writes an item's `parent-id` and `corrid` as they are made.
fn write(item: &mut Object<'_>, common: &Common, own_corr: Option<&str>) {
    match &common.parent_id {
        Some(TrackingId::Uuid(parent)) => item.plain(key::PARENT_ID, uuid_text(parent)),
        Some(custom) => item.str(key::PARENT_ID, custom.as_str(&mut Uuid::encode_buffer())),
        None => {}
    }
    let inherited = common.corrids.as_deref().unwrap_or_default();
    if own_corr.is_some() || !inherited.is_empty() || common.trace_id.is_some() {
        let list = item.key(key::CORRID);
        list.put_u8(b'[');
        if let Some(trace_id) = common.trace_id {
            // Hex digits need no escaping.
            list.put_u8(b'"');
            list.extend_from_slice(&trace_id.to_hex());
            list.put_u8(b'"');
        }
        // An item's own correlator that its span already carries (the
        // same `jkool.corr_id` on both) is written once.
        let own_corr = own_corr.filter(|own| {
            !inherited.iter().any(|corrid| corrid == own)
                && common
                    .trace_id
                    .is_none_or(|t| t.to_hex()[..] != *own.as_bytes())
        });
        let all = inherited.iter().map(String::as_str).chain(own_corr);
        for corrid in all {
            if list.last() != Some(&b'[') {
                list.put_u8(b',');
            }
            json::string(list, corrid);
        }
        list.put_u8(b']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::fields::Fields;
    use crate::wire::json::Buf;

    static META: tracing::Metadata<'static> = tracing::Metadata::new(
        "links",
        "links",
        tracing::Level::INFO,
        None,
        None,
        None,
        tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(&SITE)),
        tracing::metadata::Kind::EVENT,
    );
    static SITE: tracing::callsite::DefaultCallsite =
        tracing::callsite::DefaultCallsite::new(&META);

    fn common(parent: u128, trace: Option<u8>, corrids: Option<&Arc<[String]>>) -> Common {
        Common {
            meta: &META,
            log: None,
            tracking_id: None,
            parent_id: (parent > 0).then(|| TrackingId::Uuid(Uuid::from_u128(parent))),
            trace_id: trace.and_then(|byte| TraceId::from_bytes([byte; 16])),
            remote_sampled: None,
            corrids: corrids.cloned(),
            time_usec: 1,
            tid: 1,
            fields: Fields::default(),
        }
    }

    /// What `f` writes into an object holding one member.
    fn written(f: impl FnOnce(&mut Object<'_>)) -> String {
        let mut out = Buf::new();
        let mut item = Object::new(&mut out);
        item.u64(key::TID, 1);
        f(&mut item);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn kept_links_are_written_only_for_the_same_links() {
        let list: Arc<[String]> = ["order \"5\"".to_owned()].into();
        let same_text: Arc<[String]> = ["order 6".to_owned()].into();
        let items = [
            common(1, Some(1), Some(&list)),
            common(1, Some(1), Some(&list)),
            common(2, Some(1), Some(&list)),
            common(2, Some(2), Some(&list)),
            common(2, Some(2), Some(&same_text)),
            common(2, Some(2), None),
            common(0, None, None),
            common(0, Some(2), None),
            common(1, Some(1), Some(&list)),
        ];
        for own in [None, Some("mine")] {
            for item in &items {
                let kept = written(|object| links(object, item, own));
                let made = written(|object| write(object, item, own));
                assert_eq!(kept, made);
            }
        }
        // The span's own correlator, set on the event too: once.
        let again = written(|object| links(object, &items[0], Some("order \"5\"")));
        assert!(again.contains(r#""corrid":["01010101010101010101010101010101","order \"5\""]"#));
        let first = written(|object| links(object, &items[0], None));
        assert!(first.contains(r#""corrid":["01010101010101010101010101010101","order \"5\""]"#));
        assert_eq!(
            written(|object| links(object, &items[6], None)),
            r#"{"tid":1"#
        );
    }
}
