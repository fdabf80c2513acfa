//! The crate's typed errors.

use std::time::Duration;

/// What can go wrong when building the layer or waiting for delivery.
///
/// ```
/// let err = tracing_jkool::JKoolLayer::builder("").build().unwrap_err();
/// assert!(matches!(err, tracing_jkool::Error::EmptyToken));
/// assert_eq!(err.to_string(), "the jKool access token is empty");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The access token was empty or only whitespace.
    #[error("the jKool access token is empty")]
    EmptyToken,
    /// The URL could not be used as a jKool streaming endpoint.
    #[error("invalid jKool URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given, with any `user:password@` shown as
        /// `<redacted>@`.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// A setting had a value the layer cannot work with.
    #[error("invalid setting {setting}: {reason}")]
    InvalidSetting {
        /// The builder method or setting name.
        setting: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// An environment variable the configuration needs is not set.
    #[error("environment variable {0} is not set")]
    MissingEnv(&'static str),
    /// An environment variable holds a value the layer cannot use.
    #[error("environment variable {variable}={value:?} is invalid: {reason}")]
    InvalidEnv {
        /// The variable's name.
        variable: &'static str,
        /// Its value.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A JSON item handed to [`JKoolHandle::send_json`](crate::JKoolHandle::send_json)
    /// is not a jKool item.
    #[error("not a jKool item: {0}")]
    InvalidItem(String),
    /// The HTTP client could not be created (for example, no TLS backend).
    /// The HTTP stack's own error is its [`source`](std::error::Error::source),
    /// boxed so that its version is not part of this crate's API.
    #[error("could not create the HTTP client")]
    HttpClient(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The background delivery thread could not be started.
    #[error("could not start the jKool delivery thread")]
    Spawn(#[source] std::io::Error),
    /// The spool directory ([`Builder::spool_dir`](crate::Builder::spool_dir))
    /// cannot be used: another process holds it, or it cannot be created
    /// or read.
    #[error("cannot use the spool directory {dir:?}: {reason}")]
    Spool {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// `flush` or `shutdown` ran out of time with items still undelivered.
    #[error("{pending} item(s) still undelivered after {waited:?}")]
    Timeout {
        /// Items queued before the call that were neither sent nor given up.
        pending: u64,
        /// How long the call waited.
        waited: Duration,
    },
    /// `shutdown` or `flush` had an answer for every item, and some never
    /// arrived (`shutdown` counts every loss since the start; `flush`, those
    /// since a flush last reported them):
    /// jKool refused them or gave up on them (`failed`), the retry buffer
    /// evicted them while jKool was away (`evicted`), or the queue was full
    /// when they were emitted (`dropped`, counted up to the call).
    #[error(
        "not every item reached jKool: {failed} failed, {evicted} evicted, {dropped} dropped \
         (queue full)"
    )]
    Undelivered {
        /// Refused, or given up after retrying.
        failed: u64,
        /// Evicted from the retry buffer.
        evicted: u64,
        /// Dropped because the queue was full, before the call.
        dropped: u64,
    },
    /// The delivery thread stopped on a fault of its own (a panic), so
    /// `flush` or `shutdown` returned at once: what was queued and not yet
    /// delivered is lost, and what is queued from now on is dropped.
    #[error("the jKool delivery thread stopped ({why}); {pending} item(s) undelivered")]
    DeliveryStopped {
        /// Items queued before the call that were not delivered.
        pending: u64,
        /// What stopped it, such as the panic's message.
        why: String,
    },
}
