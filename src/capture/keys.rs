//! Ordinary fields mapped to jKool keys ([`Builder::field_as`]) and span
//! fields inherited by events ([`Builder::inherit_span_fields`]).
//!
//! [`Builder::field_as`]: crate::Builder::field_as
//! [`Builder::inherit_span_fields`]: crate::Builder::inherit_span_fields

use crate::item::fields::Fields;

/// A jKool key that an ordinary field can set, with
/// [`Builder::field_as`](crate::Builder::field_as): the field then works as
/// the matching `jkool.*` field does.
///
/// ```
/// use tracing_jkool::{JKoolKey, JKoolLayer};
///
/// let builder = JKoolLayer::builder("my-access-token")
///     .field_as("request_id", JKoolKey::Correlator)
///     .field_as("customer", JKoolKey::User);
/// // tracing::info_span!("checkout", request_id = "r-17", customer = "ann")
/// // -> corrid ["<trace id>", "r-17"], user "ann", on every item inside
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JKoolKey {
    /// Adds to `corrid`, as `jkool.corr_id` does: a span's correlator
    /// reaches every item inside it.
    Correlator,
    /// `user`.
    User,
    /// `location`.
    Location,
    /// `resource`.
    Resource,
    /// `operation`.
    Operation,
    /// `tracking-id`.
    TrackingId,
    /// `msg-tag`.
    MsgTag,
    /// `exception`; on a span, status `EXCEPTION`.
    Exception,
}

impl JKoolKey {
    /// The name of the matching `jkool.*` field, without `jkool.`.
    fn field(self) -> &'static str {
        match self {
            JKoolKey::Correlator => "corr_id",
            JKoolKey::User => "user",
            JKoolKey::Location => "location",
            JKoolKey::Resource => "resource",
            JKoolKey::Operation => "operation",
            JKoolKey::TrackingId => "tracking_id",
            JKoolKey::MsgTag => "msg_tag",
            JKoolKey::Exception => "exception",
        }
    }
}

/// Which fields of the enclosing spans events carry as properties, with
/// [`Builder::inherit_span_fields`](crate::Builder::inherit_span_fields).
///
/// ```
/// use tracing_jkool::{InheritFields, JKoolLayer};
///
/// let builder = JKoolLayer::builder("my-access-token")
///     .inherit_span_fields(InheritFields::Only(vec!["request_id".into()]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InheritFields {
    /// Every field of every enclosing span.
    All,
    /// The fields with these names (as written, dots included).
    Only(Vec<String>),
}

impl InheritFields {
    fn wants(&self, name: &str) -> bool {
        match self {
            InheritFields::All => true,
            InheritFields::Only(names) => names.iter().any(|n| n == name),
        }
    }
}

/// The fields mapped to jKool keys; a short list, searched in order.
pub(crate) type FieldKeys = Vec<(Box<str>, JKoolKey)>;

/// Moves the properties named in `keys` to their jKool keys.
#[inline]
pub(crate) fn map_fields(fields: &mut Fields, keys: &FieldKeys) {
    if !keys.is_empty() {
        map_some(fields, keys);
    }
}

#[inline(never)]
fn map_some(fields: &mut Fields, keys: &FieldKeys) {
    let mut i = 0;
    // Each turn removes a property or steps past one.
    while i < fields.properties.len() {
        let name = fields.properties[i].0;
        match keys.iter().find(|(n, _)| **n == *name) {
            Some((_, key)) => {
                let (_, value) = fields.properties.remove(i);
                let jkool = fields.jkool.get_or_insert_with(Default::default);
                // Every `JKoolKey` names a jKool field: nothing comes back.
                let _ = jkool.set(key.field(), value);
                // For redaction by the field's name, on the delivery thread.
                jkool.mapped.push((key.field(), name));
            }
            None => i += 1,
        }
    }
}

/// Adds the wanted properties of a span (`span`) to an event's fields,
/// unless the event already has a property of that name: the event's own
/// fields win, then the nearest span's (spans are visited nearest first).
pub(crate) fn inherit(event: &mut Fields, span: &Fields, which: &InheritFields) {
    for (name, value) in &span.properties {
        if *name == "message" || !which.wants(name) {
            continue;
        }
        if !event.properties.iter().any(|(n, _)| n == name) {
            event.properties.push((name, value.clone()));
        }
    }
}
