//! Redaction, on the delivery thread, just before an item is written: a
//! value whose field has a sensitive name (`names.rs`) becomes
//! `"[redacted]"`, and the user's mask (`Builder::redact_values`) may
//! replace any other. The application's thread only records fields; what
//! leaves the process, the spool included, is written after this.

mod names;

use std::fmt::{self, Write as _};
use std::sync::Arc;

use compact_str::CompactString;

use crate::item::event::JKoolEvent;
use crate::item::fields::{Fields, Value};
use crate::item::hashing::mix;
use crate::item::model::{ActivityRecord, EventRecord, Item};

pub(crate) use names::Names;
pub use names::SENSITIVE_FIELDS;

/// What a redacted value is sent as.
pub(crate) const REDACTED: &str = "[redacted]";

/// The user's mask, from [`Builder::redact_values`](crate::Builder::redact_values).
pub(crate) type MaskFn = dyn Fn(&str, &str) -> Option<String> + Send + Sync;

/// The mask, shared by the builder's clones.
#[derive(Clone)]
pub(crate) struct Mask(pub(crate) Arc<MaskFn>);

impl fmt::Debug for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mask(<fn>)")
    }
}

/// The redaction settings, as the builder collected them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    /// `send_sensitive_fields(true)`: the default list is off.
    pub(crate) send_sensitive: bool,
    /// Names added with `redact_fields`, which apply either way.
    pub(crate) names: Vec<String>,
    pub(crate) mask: Option<Mask>,
}

impl Rules {
    /// The names these rules redact.
    pub(crate) fn names(&self) -> Names {
        Names::new(!self.send_sensitive, self.names.iter().map(String::as_str))
    }
}

/// The jKool keys whose text a field may set, with the name of the
/// `jkool.*` field that sets each: those are redacted as that field's
/// value. Identifiers (`tracking-id`, `corrid`), jKool's codes and
/// `source-fqn` are not.
const JKOOL_TEXT: [(&str, &str); 6] = [
    ("user", "jkool.user"),
    ("location", "jkool.location"),
    ("resource", "jkool.resource"),
    ("operation", "jkool.operation"),
    ("msg_tag", "jkool.msg_tag"),
    ("exception", "jkool.exception"),
];

/// How many names' answers are kept: a name is matched again only when
/// another took its place.
const KEPT: usize = 1024;

/// The delivery thread's redactor.
#[derive(Debug)]
pub(crate) struct Redactor {
    names: Names,
    mask: Option<Mask>,
    /// Whether a `'static` field name met is sensitive, with its address
    /// and length (names may share bytes), in the slot its address picks.
    kept: Box<[(usize, usize, bool); KEPT]>,
    /// Whether `message` and `error` are sensitive names.
    message: bool,
    error: bool,
    /// Names to match and nothing else: no mask, and neither `message`
    /// nor `error` sensitive.
    names_only: bool,
    /// The mask panicked once, and stderr was told.
    told: bool,
}

impl Redactor {
    pub(crate) fn new(rules: &Rules) -> Self {
        let names = rules.names();
        let (message, error) = (names.matches("message"), names.matches("error"));
        let kept = vec![(0, 0, false); KEPT].into_boxed_slice();
        Redactor {
            names_only: !names.is_empty() && rules.mask.is_none() && !message && !error,
            message,
            error,
            names,
            mask: rules.mask.clone(),
            kept: kept.try_into().expect("KEPT slots"),
            told: false,
        }
    }

    /// Redacts what `item` carries, in place.
    #[inline]
    pub(crate) fn apply(&mut self, item: &mut Item) {
        match item {
            // Most items, by default: only their properties' names to
            // look up.
            Item::Event(EventRecord { common })
            | Item::Activity(ActivityRecord {
                common,
                failure: None,
                ..
            }) if self.names_only && common.fields.jkool.is_none() => {
                for (name, value) in &mut common.fields.properties {
                    if self.sensitive(name) {
                        *value = Value::from(REDACTED);
                    }
                }
            }
            _ if self.names.is_empty() && self.mask.is_none() => {}
            _ => self.everything(item),
        }
    }

    /// Redacts everything the rules cover.
    #[inline(never)]
    fn everything(&mut self, item: &mut Item) {
        match item {
            Item::Event(event) => self.fields(&mut event.common.fields),
            Item::Activity(activity) => {
                self.fields(&mut activity.common.fields);
                // The failure of an event inside, as its `error`.
                if let Some(failure) = &mut activity.failure {
                    if let Some(text) = self.text("error", self.error, failure) {
                        *failure = text.into();
                    }
                }
            }
            Item::JKoolEvent(event) => self.jkool_event(event),
            // JSON made elsewhere (a file sink replayed) is sent as it is.
            Item::Raw { .. } => {}
        }
    }

    fn fields(&mut self, fields: &mut Fields) {
        let masks = self.mask.is_some();
        for (name, value) in &mut fields.properties {
            let name: &'static str = name;
            match self.sensitive(name) {
                true => *value = Value::from(REDACTED),
                false if masks => self.value(name, false, value),
                false => {}
            }
        }
        if let Some(message) = fields.message.as_mut().filter(|_| self.message || masks) {
            if let Some(text) = self.text("message", self.message, message) {
                *message = text.into();
            }
        }
        if let Some(error) = fields.error.as_mut().filter(|_| self.error || masks) {
            if let Some(text) = self.text("error", self.error, error) {
                *error = text;
            }
        }
        let Some(jkool) = fields.jkool.as_deref_mut() else {
            return;
        };
        for (key, own_name) in JKOOL_TEXT {
            let name = (jkool.mapped.iter())
                .find(|(mapped, _)| *mapped == key)
                .map_or(own_name, |(_, field)| *field);
            let sensitive = self.sensitive(name);
            if let Some(Some(slot)) = jkool.slot(key) {
                if let Some(text) = self.text(name, sensitive, slot) {
                    *slot = text;
                }
            }
        }
    }

    /// A fully specified event's properties, its snapshots' and its
    /// message: what `send` was given as values.
    fn jkool_event(&mut self, event: &mut JKoolEvent) {
        let (message, properties) = event.redactable();
        for property in properties {
            let sensitive = self.names.matches(&property.name);
            self.value(&property.name, sensitive, &mut property.value);
        }
        if let Some(text) = self.text("message", self.message, message) {
            *message = text;
        }
    }

    /// Whether a field's name is sensitive, matched once per name.
    #[inline]
    fn sensitive(&mut self, name: &'static str) -> bool {
        let address = name.as_ptr() as usize;
        let slot = &mut self.kept[mix(address as u64) as usize % KEPT];
        if slot.0 == address && slot.1 == name.len() {
            return slot.2;
        }
        let sensitive = self.names.matches(name);
        *slot = (address, name.len(), sensitive);
        sensitive
    }

    /// Replaces a property's value: by [`REDACTED`] when `sensitive`,
    /// else by what the mask makes of it, if anything.
    fn value(&mut self, name: &str, sensitive: bool, value: &mut Value) {
        let masked = match (sensitive, &*value) {
            (true, _) => Some(REDACTED.to_owned()),
            (false, _) if self.mask.is_none() => None,
            (false, Value::Str(text)) => self.mask(name, text),
            (false, other) => {
                // Numbers as text, inline: no allocation.
                let mut text = CompactString::default();
                let _ = write!(text, "{other}");
                self.mask(name, &text)
            }
        };
        if let Some(masked) = masked {
            *value = Value::Str(masked.into());
        }
    }

    /// What a text should become, if anything: [`REDACTED`] when
    /// `sensitive`, else what the mask makes of it.
    fn text(&mut self, name: &str, sensitive: bool, text: &str) -> Option<String> {
        match sensitive {
            true => Some(REDACTED.to_owned()),
            false => self.mask(name, text),
        }
    }

    /// The mask's answer for a value; [`REDACTED`] when it panics, which
    /// is said once on stderr (the field's name, never its value).
    fn mask(&mut self, name: &str, text: &str) -> Option<String> {
        let mask = self.mask.as_ref()?;
        // Caught as the crate's own: `capture_panics` does not report it.
        match crate::item::thread::catch(|| (mask.0)(name, text)) {
            Ok(masked) => masked,
            Err(_) => {
                if !std::mem::replace(&mut self.told, true) {
                    crate::handle::notices::stderr(format_args!(
                        "the redact_values function panicked on field `{name}`; such values \
                         are sent as \"{REDACTED}\" (said once)"
                    ));
                }
                Some(REDACTED.to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests;
