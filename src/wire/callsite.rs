//! What every item from one callsite writes alike, as JSON made once: its
//! type, operation, codes, location and resource, the start of its
//! snapshots and its properties' starts. A thread-local cache on the delivery thread,
//! by the address of the callsite's `'static` metadata.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::rc::Rc;

use tracing::Metadata;

use crate::item::hashing::KeyHasher;

/// JSON text made once.
pub(super) type Json = Box<[u8]>;

/// A callsite's JSON. Members start with their comma; each is what the
/// item writer would write for an item that overrides nothing.
#[derive(Debug)]
pub(super) struct Callsite {
    /// `{"type":…,"operation":…,` its codes, `"location":…,"resource":…`
    pub(super) head: Json,
    /// `,"snapshots":[{"type":"SNAPSHOT","name":…,"category":…,"time-usec":`:
    /// how the list of an item's snapshots starts with the default one.
    pub(super) snapshots: Json,
    /// `{"name":"…"` for each of the callsite's fields, and a span's
    /// timing properties, by name.
    pub(super) properties: Box<[(&'static str, Json)]>,
    /// The first message one of its events had, and `,"msg-text":` with it
    /// escaped: most callsites' messages are literals.
    pub(super) message: OnceCell<(Box<str>, Json)>,
    /// None of the callsite's field names has a dot: its properties all
    /// go in the default snapshot.
    pub(super) undotted: bool,
}

impl Callsite {
    /// `,"msg-text":` with `text` escaped, when `text` is the first
    /// message of this callsite's events (kept as `write` made it). Only a
    /// short first message is kept, so that what the cache holds stays
    /// small; a callsite whose first message was long keeps none.
    pub(super) fn message(&self, text: &str, write: fn(&str) -> Json) -> Option<&[u8]> {
        let (first, json) = self
            .message
            .get_or_init(|| match text.len() <= MAX_MESSAGE {
                true => (text.into(), write(text)),
                false => Default::default(),
            });
        (!first.is_empty() && **first == *text).then_some(&json[..])
    }

    /// How the property of the field named `field` starts, when `field`
    /// is one of this callsite's own.
    pub(super) fn property(&self, field: &'static str) -> Option<&[u8]> {
        // tracing's field names are the callsite's own `'static` strings:
        // comparing addresses is enough.
        self.properties
            .iter()
            .find(|(name, _)| std::ptr::eq(*name, field))
            .map(|(_, head)| &head[..])
    }
}

/// The longest message a callsite keeps, in bytes.
const MAX_MESSAGE: usize = 256;

/// Callsites kept at most: past this many, new ones are described every
/// time.
const MAX_CALLSITES: usize = 4096;

type Cache = HashMap<usize, Rc<Callsite>, BuildHasherDefault<KeyHasher>>;

thread_local! {
    /// Only the delivery thread writes items, so this is its own.
    static CALLSITES: RefCell<Cache> = RefCell::default();
}

/// The callsite's JSON, from the cache or made now by `describe`.
pub(super) fn cached(
    meta: &'static Metadata<'static>,
    describe: fn(&'static Metadata<'static>) -> Callsite,
) -> Rc<Callsite> {
    let address = std::ptr::from_ref(meta) as usize;
    CALLSITES.with(|cache| {
        if let Some(site) = cache.borrow().get(&address) {
            return Rc::clone(site);
        }
        let site = Rc::new(describe(meta));
        let mut cache = cache.borrow_mut();
        if cache.len() < MAX_CALLSITES {
            cache.insert(address, Rc::clone(&site));
        }
        site
    })
}
