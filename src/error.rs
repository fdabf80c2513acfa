//! The crate's typed errors.

use std::time::Duration;

/// What can go wrong when building the layer or waiting for delivery.
///
/// ```
/// let err = tracing_jkool::JKoolLayer::builder("").build().unwrap_err();
/// assert!(matches!(err, tracing_jkool::Error::EmptyToken));
/// assert_eq!(err.to_string(), "the jKool access token is empty");
/// ```
///
/// Its `Display` gives what failed; the alternate form (`{:#}`) adds every
/// cause in its [`source`](std::error::Error::source) chain, each after a
/// colon, so that a person sees the DNS or TLS reason too:
///
/// ```
/// # fn report(err: &tracing_jkool::Error) {
/// eprintln!("jKool: {err:#}");
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The access token was empty or only whitespace.
    EmptyToken,
    /// The URL could not be used as a jKool streaming endpoint.
    InvalidUrl {
        /// The URL as given, with any `user:password@` shown as
        /// `<redacted>@`.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// A setting had a value the layer cannot work with.
    InvalidSetting {
        /// The builder method or setting name.
        setting: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// An environment variable the configuration needs is not set.
    MissingEnv(&'static str),
    /// An environment variable holds a value the layer cannot use.
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
    InvalidItem(String),
    /// The HTTP client could not be created (for example, no TLS backend).
    /// The HTTP stack's own error is its [`source`](std::error::Error::source),
    /// boxed so that its version is not part of this crate's API.
    HttpClient(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The background delivery thread could not be started.
    Spawn(#[source] std::io::Error),
    /// The spool directory ([`Builder::spool_dir`](crate::Builder::spool_dir))
    /// cannot be used: another process holds it, or it cannot be created
    /// or read.
    Spool {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// `flush` or `shutdown` ran out of time with items still undelivered.
    Timeout {
        /// Items queued before the call that were neither sent nor given up.
        pending: u64,
        /// How long the call waited.
        waited: Duration,
        /// Why the last request failed or was retried, in words
        /// (`connection refused by 127.0.0.1:8080`), when one did.
        cause: Option<String>,
    },
    /// `shutdown` or `flush` had an answer for every item, and some never
    /// arrived (`shutdown` counts every loss since the start; `flush`, those
    /// since a flush last reported them):
    /// jKool refused them or gave up on them (`failed`), the retry buffer
    /// evicted them while jKool was away (`evicted`), or the queue was full
    /// when they were emitted (`dropped`, counted up to the call).
    Undelivered {
        /// Refused, or given up after retrying.
        failed: u64,
        /// Evicted from the retry buffer.
        evicted: u64,
        /// Dropped because the queue was full, before the call.
        dropped: u64,
        /// Why the last request failed or was retried, in words
        /// (`401 Unauthorized: jKool refused the token`), when one did.
        cause: Option<String>,
    },
    /// The delivery thread stopped on a fault of its own (a panic), so
    /// `flush` or `shutdown` returned at once: what was queued and not yet
    /// delivered is lost, and what is queued from now on is dropped.
    DeliveryStopped {
        /// Items queued before the call that were not delivered.
        pending: u64,
        /// What stopped it, such as the panic's message.
        why: String,
    },
    /// A setting was changed after `shutdown` (or after the delivery
    /// thread stopped): nothing was changed, as nothing more is sent.
    Closed {
        /// The setting, as the handle's method names it (`level`,
        /// `sampler`).
        setting: &'static str,
    },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::EmptyToken => f.write_str("the jKool access token is empty")?,
            Error::InvalidUrl { url, reason } => write!(f, "invalid jKool URL {url:?}: {reason}")?,
            Error::InvalidSetting { setting, reason } => {
                write!(f, "invalid setting {setting}: {reason}")?
            }
            Error::MissingEnv(variable) => write!(f, "environment variable {variable} is not set")?,
            Error::InvalidEnv {
                variable,
                value,
                reason,
            } => write!(
                f,
                "environment variable {variable}={value:?} is invalid: {reason}"
            )?,
            Error::InvalidItem(why) => write!(f, "not a jKool item: {why}")?,
            Error::HttpClient(_) => f.write_str("could not create the HTTP client")?,
            Error::Spawn(_) => f.write_str("could not start the jKool delivery thread")?,
            Error::Spool { dir, reason } => {
                write!(f, "cannot use the spool directory {dir:?}: {reason}")?
            }
            Error::Timeout {
                pending,
                waited,
                cause,
            } => {
                write!(f, "{pending} item(s) still undelivered after {waited:?}")?;
                write_cause(f, cause)?;
            }
            Error::Undelivered {
                failed,
                evicted,
                dropped,
                cause,
            } => {
                write!(
                    f,
                    "not every item reached jKool: {failed} failed, {evicted} evicted, \
                     {dropped} dropped (queue full)"
                )?;
                write_cause(f, cause)?;
            }
            Error::DeliveryStopped { pending, why } => write!(
                f,
                "the jKool delivery thread stopped ({why}); {pending} item(s) undelivered"
            )?,
            Error::Closed { setting } => write!(
                f,
                "{setting} not changed: the jKool pipeline is shut down and sends nothing more"
            )?,
        }
        if f.alternate() {
            let mut source = std::error::Error::source(self);
            while let Some(cause) = source {
                write!(f, ": {cause}")?;
                source = cause.source();
            }
        }
        Ok(())
    }
}

fn write_cause(f: &mut std::fmt::Formatter<'_>, cause: &Option<String>) -> std::fmt::Result {
    match cause {
        Some(cause) => write!(f, "; last failure: {cause}"),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn the_alternate_form_gives_every_cause() {
        let io = std::io::Error::other("certificate expired");
        let err = Error::HttpClient(Box::new(io));
        assert_eq!(err.to_string(), "could not create the HTTP client");
        assert_eq!(
            format!("{err:#}"),
            "could not create the HTTP client: certificate expired"
        );
    }

    #[test]
    fn losses_say_why_the_last_request_failed() {
        let err = Error::Undelivered {
            failed: 52,
            evicted: 0,
            dropped: 0,
            cause: Some("401 Unauthorized: jKool refused the token".into()),
        };
        assert_eq!(
            err.to_string(),
            "not every item reached jKool: 52 failed, 0 evicted, 0 dropped (queue full); \
             last failure: 401 Unauthorized: jKool refused the token"
        );
    }
}
