//! What is kept from jKool: the values of fields with sensitive names,
//! and whatever values the application masks.

use std::sync::Arc;

use crate::capture::keys::FieldKeys;
use crate::wire::redact::{Mask, Rules};
use crate::{Builder, Error, JKoolKey};

/// # Privacy
///
/// Redaction is on by default: a field whose name is sensitive is sent as
/// the text `"[redacted]"`, under its own name. A name is sensitive when
/// its last words, cut at `_`, `.`, `-` (any ASCII character but a letter
/// or digit) and at case changes, and compared without regard to ASCII
/// case, are the words of a name in [`SENSITIVE_FIELDS`](crate::SENSITIVE_FIELDS)
/// or added with [`redact_fields`](Self::redact_fields): `password`,
/// `db_password`, `userPassword`, `Authorization`, `auth.token` and
/// `x-api-key` (`api_key`'s two words end it) are; `author`, `session_id`
/// and `api_key_id` are not.
///
/// - A redacted property keeps its name and unit; its data type becomes
///   `string`, since the value is text now (jKool may drop an item whose
///   `long` property holds text).
/// - The same rules apply to the message (as a field named `message`), an
///   `error` field, a span's `exception` taken from an event inside it
///   (as `error`), and the jKool keys that hold a field's text: `user`,
///   `location`, `resource`, `operation`, `msg-tag` and `exception`, by
///   the name of the field that set them (`jkool.user`, or the field
///   mapped with [`field_as`](Self::field_as)). Identifiers (`tracking-id`,
///   `corrid`), `comp-code`, `reason-code` and `source-fqn` are never
///   redacted; mapping a sensitive field to [`JKoolKey::Correlator`] or
///   [`JKoolKey::TrackingId`] is refused by [`build`](Self::build).
/// - A message cannot tell which of its words came from a secret
///   (`info!("login {}", password)`): only [`redact_values`](Self::redact_values)
///   sees its text.
/// - It happens on the delivery thread, before an item is written (to the
///   network or the spool); the application's thread only records fields.
///   A [`JKoolEvent`](crate::JKoolEvent) given to
///   [`send`](crate::JKoolHandle::send) is redacted the same way (its
///   properties, its snapshots' and its message); JSON given to
///   [`send_json`](crate::JKoolHandle::send_json) is sent as it is.
///
/// ```
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .redact_fields(["order_secret_code"])
///     .redact_values(|_name, value| {
///         let digits = value.bytes().filter(u8::is_ascii_digit).count();
///         (digits >= 13).then(|| "[card]".to_owned())
///     });
/// // tracing::info!(password = "hunter2", order_secret_code = 7, "login")
/// //   -> properties password = "[redacted]", order_secret_code = "[redacted]"
/// # drop(builder);
/// ```
impl Builder {
    /// Also redacts the fields with these names, by the same rule as the
    /// default list; also `JKOOL_REDACT_FIELDS` (names separated by
    /// commas). They apply whether the default list is on or off. Calls
    /// add up.
    ///
    /// ```
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .redact_fields(["order_secret_code", "pin"]);
    /// // order_secret_code, shop.orderSecretCode and card_pin go as "[redacted]"
    /// # drop(builder);
    /// ```
    pub fn redact_fields<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let redaction = &mut self.settings.redaction;
        redaction.names.extend(names.into_iter().map(Into::into));
        self
    }

    /// With `true`, sends the fields of the default list
    /// ([`SENSITIVE_FIELDS`](crate::SENSITIVE_FIELDS)) as they are; those
    /// added with [`redact_fields`](Self::redact_fields) are still
    /// redacted, and so is what [`redact_values`](Self::redact_values)
    /// masks. Default `false`; also `JKOOL_SEND_SENSITIVE_FIELDS` (`1` or
    /// `0`).
    ///
    /// ```
    /// // For a test system, whose secrets are not secret.
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .send_sensitive_fields(true);
    /// # drop(builder);
    /// ```
    pub fn send_sensitive_fields(mut self, yes: bool) -> Self {
        self.settings.redaction.send_sensitive = yes;
        self
    }

    /// Masks values: `mask` gets each field's name and its value as text
    /// (a number in its decimal form) and returns `Some(text)` to send
    /// `text` in its place, as a `string`, or `None` to send the value
    /// unchanged. It sees every value that the name rule does not redact:
    /// properties, the message (as `message`), `error`, and the jKool
    /// keys the rule covers. It runs on the delivery thread, once per value
    /// per item, so it should be quick; the last call of `redact_values`
    /// wins.
    ///
    /// Should `mask` panic, that value is sent as `"[redacted]"` and
    /// delivery goes on; the first such panic is said on stderr, with the
    /// field's name (the process's panic hook, by default Rust's, still
    /// prints each panic).
    ///
    /// ```
    /// // Card numbers keep their last four digits.
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token").redact_values(
    ///     |_name, value| {
    ///         let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    ///         (digits.len() >= 13 && digits.len() <= 19)
    ///             .then(|| format!("****{}", &digits[digits.len() - 4..]))
    ///     },
    /// );
    /// // tracing::info!(card = "4111 1111 1111 1111", "paid") -> card = "****1111"
    /// # drop(builder);
    /// ```
    pub fn redact_values<F>(mut self, mask: F) -> Self
    where
        F: Fn(&str, &str) -> Option<String> + Send + Sync + 'static,
    {
        self.settings.redaction.mask = Some(Mask(Arc::new(mask)));
        self
    }
}

/// Refuses a sensitive field mapped to an identifier: it would be sent
/// (identifiers are never redacted) or, redacted, join unrelated items.
pub(crate) fn check(rules: &Rules, keys: &FieldKeys) -> Result<(), Error> {
    let names = rules.names();
    for (field, key) in keys {
        let id = match key {
            JKoolKey::Correlator => "corrid",
            JKoolKey::TrackingId => "tracking-id",
            _ => continue,
        };
        if names.matches(field) {
            return Err(Error::InvalidSetting {
                setting: "field_as",
                reason: format!(
                    "`{field}` is a sensitive name, and {id} is never redacted: rename the \
                     field, or send it with send_sensitive_fields(true)"
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{Error, JKoolKey, JKoolLayer};

    #[test]
    fn a_sensitive_field_cannot_be_a_correlator_or_a_tracking_id() {
        for key in [JKoolKey::Correlator, JKoolKey::TrackingId] {
            let err = JKoolLayer::builder("t")
                .field_as("session", key)
                .build()
                .unwrap_err();
            assert!(
                matches!(
                    &err,
                    Error::InvalidSetting {
                        setting: "field_as",
                        ..
                    }
                ),
                "{err}"
            );
            assert!(err.to_string().contains("`session` is a sensitive name"));
        }
        // Mapped to a key that is redacted, it builds.
        let builder = JKoolLayer::builder("t").url("http://127.0.0.1:9");
        drop(
            builder
                .field_as("session", JKoolKey::User)
                .build()
                .expect("builds"),
        );
    }

    #[test]
    fn sending_sensitive_fields_lifts_only_the_default_list() {
        let builder = JKoolLayer::builder("t").url("http://127.0.0.1:9");
        let builder = builder.send_sensitive_fields(true);
        let names = builder.settings.redaction.names();
        assert!(!names.matches("password"));
        let names = builder
            .redact_fields(["password"])
            .settings
            .redaction
            .names();
        assert!(names.matches("db_password"), "an added name still applies");
    }
}
