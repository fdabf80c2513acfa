//! The settings that tie items together: ordinary fields as jKool keys,
//! and span fields carried by events.

use crate::capture::keys::{InheritFields, JKoolKey};
use crate::Builder;

/// # Correlation
///
/// Ordinary fields read as jKool's own keys, and span fields that the
/// events inside a span carry too.
///
/// ```
/// use tracing_jkool::{InheritFields, JKoolKey};
///
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .field_as("request_id", JKoolKey::Correlator)
///     .inherit_span_fields(InheritFields::All);
/// # drop(builder);
/// ```
impl Builder {
    /// Makes the ordinary field `field` set the jKool key `key`, as the
    /// matching `jkool.*` field does: existing code that records
    /// `request_id` then correlates without touching its call sites. The
    /// field is no longer a property. Name the field as it is written,
    /// dots included; a later call for the same field replaces the key.
    /// An item holds one mapped value per key: when two fields map to one
    /// key, the one recorded last wins.
    ///
    /// ```
    /// use tracing_jkool::{JKoolKey, JKoolLayer};
    ///
    /// let builder = JKoolLayer::builder("my-access-token")
    ///     .field_as("request_id", JKoolKey::Correlator)
    ///     .field_as("customer", JKoolKey::User);
    /// // tracing::info_span!("order", request_id = "r-7", customer = "ann")
    /// //   -> corrid ["<trace id>", "r-7"], user "ann", on the span and every item inside
    /// ```
    pub fn field_as(mut self, field: impl Into<String>, key: JKoolKey) -> Self {
        let field = field.into();
        self.field_keys.retain(|(name, _)| **name != *field);
        self.field_keys.push((field.into_boxed_str(), key));
        self
    }

    /// Events carry fields of their enclosing spans as properties: all of
    /// them, or only those named. An event's own field wins over a span's
    /// of the same name, and a nearer span's over a farther one's; the
    /// inherited properties come after the event's own, nearest span
    /// first. A span's message is not inherited. Off by default: it copies
    /// values on the application's thread for every event.
    ///
    /// ```
    /// use tracing_jkool::{InheritFields, JKoolLayer};
    ///
    /// let all = JKoolLayer::builder("my-access-token").inherit_span_fields(InheritFields::All);
    /// let some = JKoolLayer::builder("my-access-token")
    ///     .inherit_span_fields(InheritFields::Only(vec!["request_id".into()]));
    /// ```
    pub fn inherit_span_fields(mut self, which: InheritFields) -> Self {
        self.inherit_fields = Some(which);
        self
    }
}
