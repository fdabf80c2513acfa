//! The field visitor: tracing values become typed jKool properties, and
//! `jkool.*` fields set jKool's own fields.

use std::fmt::{self, Write as _};

use compact_str::CompactString;
use smallvec::SmallVec;
use tracing::field::{Field, Visit};

pub(crate) use crate::item::value::{Text, Value};

/// jKool's own fields, set from `jkool.*` tracing fields.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct JKoolFields {
    pub tracking_id: Option<String>,
    pub corr_id: Option<String>,
    pub source_fqn: Option<String>,
    pub location: Option<String>,
    pub resource: Option<String>,
    pub user: Option<String>,
    pub comp_code: Option<String>,
    pub reason_code: Option<Value>,
    pub exception: Option<String>,
    pub msg_tag: Option<String>,
    pub operation: Option<String>,
    /// The keys set by ordinary fields ([`Builder::field_as`]), as `set`
    /// names them, with the name of the field that set each: the delivery
    /// thread redacts a key's value by that field's name.
    ///
    /// [`Builder::field_as`]: crate::Builder::field_as
    pub mapped: SmallVec<[(&'static str, &'static str); 1]>,
}

impl JKoolFields {
    /// Takes every field `later` sets, with the fields that set them.
    fn merge(&mut self, mut later: JKoolFields) {
        fn take<T>(mine: &mut Option<T>, later: Option<T>) {
            if later.is_some() {
                *mine = later;
            }
        }
        if !self.mapped.is_empty() {
            (self.mapped).retain(|(key, _)| !later.slot(key).is_some_and(|s| s.is_some()));
        }
        self.mapped.extend(std::mem::take(&mut later.mapped));
        take(&mut self.tracking_id, later.tracking_id);
        take(&mut self.corr_id, later.corr_id);
        take(&mut self.source_fqn, later.source_fqn);
        take(&mut self.location, later.location);
        take(&mut self.resource, later.resource);
        take(&mut self.user, later.user);
        take(&mut self.comp_code, later.comp_code);
        take(&mut self.reason_code, later.reason_code);
        take(&mut self.exception, later.exception);
        take(&mut self.msg_tag, later.msg_tag);
        take(&mut self.operation, later.operation);
    }

    /// Sets the jKool field named by `key` (the part after `jkool.`).
    /// Returns the value back when `key` names no jKool field.
    pub(crate) fn set(&mut self, key: &str, value: Value) -> Option<Value> {
        if key == "reason_code" {
            self.reason_code = Some(value);
            return None;
        }
        if !self.mapped.is_empty() {
            self.mapped.retain(|(mapped, _)| *mapped != key);
        }
        match self.slot(key) {
            Some(slot) => {
                *slot = Some(value.into_text());
                None
            }
            None => Some(value),
        }
    }

    /// The text field named by `key`, as [`set`](Self::set) names it.
    pub(crate) fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "tracking_id" => &mut self.tracking_id,
            "corr_id" => &mut self.corr_id,
            "source_fqn" => &mut self.source_fqn,
            "location" => &mut self.location,
            "resource" => &mut self.resource,
            "user" => &mut self.user,
            "comp_code" => &mut self.comp_code,
            "exception" => &mut self.exception,
            "msg_tag" => &mut self.msg_tag,
            "operation" => &mut self.operation,
            _ => return None,
        })
    }
}

/// Fields kept as properties. Most spans and events have a few: those stay
/// inline, saving an allocation on the application's thread.
pub(crate) type Properties = SmallVec<[(&'static str, Value); 2]>;

/// The fields of one span or event, as the layer captured them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fields {
    /// Text values longer than this many bytes are cut, with a marker.
    limit: usize,
    /// The event's `message` field.
    pub message: Option<CompactString>,
    /// A field named `error`: jKool's `exception`, and a failure.
    pub error: Option<String>,
    /// Every other field, in recording order; field names are `'static`.
    pub properties: Properties,
    /// Set only when a `jkool.*` field was recorded, so that ordinary items
    /// carry no empty struct.
    pub jkool: Option<Box<JKoolFields>>,
}

const RESERVED_PREFIX: &str = "jkool.";

/// Default for [`Builder::max_value_bytes`](crate::Builder::max_value_bytes).
pub(crate) const DEFAULT_MAX_VALUE_BYTES: usize = 64 * 1024;

/// Ends a value that was cut to the size limit.
pub(crate) const TRUNCATED: &str = "…[truncated]";

/// Stands in for a value whose `Debug` or `Display` panicked.
pub(crate) const PANICKED: &str = "<formatting panicked>";

impl Default for Fields {
    fn default() -> Self {
        Fields::new(DEFAULT_MAX_VALUE_BYTES, 0)
    }
}

impl Fields {
    /// Room for `expected` fields, so recording them allocates once.
    pub(crate) fn new(limit: usize, expected: usize) -> Self {
        Fields {
            limit,
            message: None,
            error: None,
            properties: SmallVec::with_capacity(expected),
            jkool: None,
        }
    }

    /// Files a field's value: the message, the error, a jKool field, or a
    /// property.
    pub(crate) fn put(&mut self, name: &'static str, value: Value) {
        match name {
            "message" => return self.message = Some(value.into_text().into()),
            "error" => return self.error = Some(value.into_text()),
            _ => {}
        }
        let value = match name.strip_prefix(RESERVED_PREFIX) {
            Some(key) => match self
                .jkool
                .get_or_insert_with(Default::default)
                .set(key, value)
            {
                None => return,
                Some(unknown) => unknown,
            },
            None => value,
        };
        self.properties.push((name, value));
    }

    /// Merges fields recorded later (`Span::record`, recorded by the layer
    /// into a separate `Fields` outside any lock) into these: a field
    /// recorded again replaces its earlier value, in its earlier place.
    pub(crate) fn merge(&mut self, later: Fields) {
        if later.message.is_some() {
            self.message = later.message;
        }
        if later.error.is_some() {
            self.error = later.error;
        }
        if let Some(later) = later.jkool {
            match &mut self.jkool {
                Some(mine) => mine.merge(*later),
                None => self.jkool = Some(later),
            }
        }
        for (name, value) in later.properties {
            match self.properties.iter_mut().find(|(n, _)| *n == name) {
                Some(earlier) => earlier.1 = value,
                None => self.properties.push((name, value)),
            }
        }
    }

    /// The jKool fields, if any `jkool.*` field was recorded.
    pub(crate) fn jkool(&self) -> Option<&JKoolFields> {
        self.jkool.as_deref()
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field.name(), Value::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field.name(), Value::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field.name(), Value::U64(value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field.name(), Value::I128(value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field.name(), Value::U128(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field.name(), Value::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let text = cut(self.limit, value);
        if field.name() == "message" {
            return self.message = Some(text);
        }
        self.put(field.name(), Value::Str(Text(text)));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The whole source chain, so "card declined" keeps its cause.
        let text = bounded(self.limit, |w| {
            write!(w, "{value}")?;
            let mut source = value.source();
            while let Some(cause) = source {
                write!(w, ": {cause}")?;
                source = cause.source();
            }
            Ok(())
        });
        self.put(field.name(), Value::Str(Text(text)));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // The message, `format_args!` as tracing gives it, is most often
        // short: kept inline, it costs no allocation.
        if field.name() == "message" {
            return self.message = Some(bounded(self.limit, |w| write!(w, "{value:?}")));
        }
        let text = bounded(self.limit, |w| write!(w, "{value:?}"));
        self.put(field.name(), Value::Str(Text(text)));
    }
}

/// The text `write` produces, cut at `limit` bytes (on a character
/// boundary) with [`TRUNCATED`] after it. Formatting stops at the limit, so
/// a huge value costs no more than the limit; a panicking `Debug` or
/// `Display` gives [`PANICKED`] instead of unwinding into the application.
///
/// The text is kept inline up to 24 bytes: most values and messages are
/// short, and cost no allocation.
fn bounded(limit: usize, write: impl FnOnce(&mut Bounded) -> fmt::Result) -> CompactString {
    let mut out = Bounded {
        text: CompactString::default(),
        limit,
        cut: false,
    };
    let written = crate::item::thread::catch(|| write(&mut out));
    if written.is_err() {
        return PANICKED.into();
    }
    if out.cut {
        out.text.push_str(TRUNCATED);
    }
    out.text
}

/// `text` cut as [`bounded`] cuts what it writes: a text needs no
/// formatting, and no guard against a panicking `Display`.
fn cut(limit: usize, text: &str) -> CompactString {
    if text.len() <= limit {
        return text.into();
    }
    let mut out = CompactString::from(&text[..char_floor(text, limit)]);
    out.push_str(TRUNCATED);
    out
}

/// The last character boundary of `text` at or before `at`.
fn char_floor(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

struct Bounded {
    text: CompactString,
    limit: usize,
    cut: bool,
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.limit - self.text.len();
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        self.text.push_str(&s[..char_floor(s, room)]);
        self.cut = true;
        // Stops the formatter: nothing past the limit is produced.
        Err(fmt::Error)
    }
}

#[cfg(test)]
mod tests;
