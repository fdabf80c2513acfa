//! Configuration: the builder, its checks, and the wiring of layer, queue
//! and delivery thread.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::Level;

use crate::capture::Capture;
use crate::destination::destination;
use crate::fields::DEFAULT_MAX_VALUE_BYTES;
use crate::handle::{JKoolHandle, Shared};
use crate::model::Context;
use crate::secret::Secret;
use crate::thread::mark_delivery_thread;
use crate::transport::{ClientOptions, Destination, Transport};
use crate::worker::{BodyFormat, Settings, Worker};
use crate::JKoolLayer;
use crate::{Error, ValueType};

/// jKool's streaming endpoint, as meshIQ's own Java sink uses it.
pub const DEFAULT_URL: &str = "https://stream.meshiq.com";

/// Configures a [`JKoolLayer`]; made by [`JKoolLayer::builder`].
///
/// ```
/// use std::time::Duration;
///
/// let layer = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .url("http://127.0.0.1:8080")
///     .source_fqn("APPL=Shop#SERVER=web1#NETADDR=10.0.0.2#DATACENTER=DC1")
///     .level(tracing::Level::INFO)
///     .queue_capacity(10_000)
///     .batch_size(256)
///     .flush_interval(Duration::from_millis(500))
///     .build()?;
/// # Ok::<(), tracing_jkool::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder {
    token: Secret,
    url: String,
    source_fqn: Option<String>,
    level: Level,
    max_value_bytes: usize,
    queue_capacity: usize,
    event_path: Option<String>,
    activity_path: Option<String>,
    client: ClientOptions,
    settings: Settings,
    units: HashMap<String, ValueType>,
    categories: HashMap<String, String>,
}

impl Builder {
    pub(crate) fn new(token: String) -> Self {
        Builder {
            token: Secret::new(token),
            url: DEFAULT_URL.to_owned(),
            source_fqn: None,
            level: Level::INFO,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            queue_capacity: 10_000,
            event_path: None,
            activity_path: None,
            client: ClientOptions {
                connect_timeout: Duration::from_secs(5),
                request_timeout: Duration::from_secs(15),
                proxy: None,
                root_certificates: Vec::new(),
            },
            settings: Settings {
                batch_size: 256,
                flush_interval: Duration::from_millis(500),
                max_body_bytes: 1 << 20,
                retry_buffer: 10_000,
                max_retry_wait: Duration::from_secs(30),
                give_up_after: None,
                format: BodyFormat::Array,
                gzip: false,
                dedupe: None,
            },
            units: HashMap::new(),
            categories: HashMap::new(),
        }
    }

    /// Applies the settings given in environment variables, for those that
    /// are set: `JKOOL_TOKEN`, `JKOOL_URL`, `JKOOL_LEVEL` (`info`,
    /// `debug`, ...), `JKOOL_SOURCE_FQN`, `JKOOL_QUEUE_CAPACITY`,
    /// `JKOOL_BATCH_SIZE` and `JKOOL_FLUSH_INTERVAL_MS`. Settings made after
    /// this call win over the environment.
    ///
    /// # Errors
    /// [`Error::InvalidEnv`] naming the variable and its value (never the
    /// token's).
    ///
    /// ```
    /// std::env::set_var("JKOOL_BATCH_SIZE", "many");
    /// let err = tracing_jkool::JKoolLayer::builder("token").from_env().unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     r#"environment variable JKOOL_BATCH_SIZE="many" is invalid: invalid digit found in string"#
    /// );
    /// # std::env::remove_var("JKOOL_BATCH_SIZE");
    /// ```
    pub fn from_env(mut self) -> Result<Self, Error> {
        if let Some(token) = env_var::<String>("JKOOL_TOKEN")? {
            self.token = Secret::new(token);
        }
        if let Some(url) = env_var("JKOOL_URL")? {
            self.url = url;
        }
        if let Some(level) = env_var("JKOOL_LEVEL")? {
            self.level = level;
        }
        if let Some(fqn) = env_var("JKOOL_SOURCE_FQN")? {
            self.source_fqn = Some(fqn);
        }
        if let Some(capacity) = env_var("JKOOL_QUEUE_CAPACITY")? {
            self.queue_capacity = capacity;
        }
        if let Some(size) = env_var("JKOOL_BATCH_SIZE")? {
            self.settings.batch_size = size;
        }
        if let Some(ms) = env_var("JKOOL_FLUSH_INTERVAL_MS")? {
            self.settings.flush_interval = Duration::from_millis(ms);
        }
        Ok(self)
    }

    /// The base URL; default [`DEFAULT_URL`]. Items are posted to the base
    /// URL itself unless [`event_path`](Self::event_path) or
    /// [`activity_path`](Self::activity_path) say otherwise.
    ///
    /// A `file://` URL, such as `file:///var/log/app/jkool.jsonl`, appends
    /// each item to that file as one JSON line instead, from the delivery
    /// thread (for air-gapped hosts; send the file later with
    /// [`JKoolHandle::send_json`](crate::JKoolHandle::send_json), as
    /// `cargo run --example replay` does).
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// The path, under the base URL, that events are posted to: `/JESL/event`
    /// for older jKool deployments, `/event` for jKool's REST API.
    pub fn event_path(mut self, path: impl Into<String>) -> Self {
        self.event_path = Some(path.into());
        self
    }

    /// The path, under the base URL, that activities are posted to:
    /// `/JESL/activity` or `/activity`.
    pub fn activity_path(mut self, path: impl Into<String>) -> Self {
        self.activity_path = Some(path.into());
        self
    }

    /// Sends one JSON object per request (newline-terminated, as JESL does)
    /// instead of one JSON array per batch, for endpoints that accept only
    /// single objects.
    pub fn one_object_per_request(mut self, yes: bool) -> Self {
        self.settings.format = if yes {
            BodyFormat::Object
        } else {
            BodyFormat::Array
        };
        self
    }

    /// The `source-fqn` of every item, such as
    /// `APPL=Shop#SERVER=web1#NETADDR=10.0.0.2`. By default it is made from
    /// the program's name, the host name and the host's address.
    pub fn source_fqn(mut self, fqn: impl Into<String>) -> Self {
        self.source_fqn = Some(fqn.into());
        self
    }

    /// Gives the property made from field `field` a unit (jKool's
    /// `value-type`). Name the field as it is written, dots included.
    ///
    /// ```
    /// use tracing_jkool::{JKoolLayer, ValueType};
    ///
    /// let builder = JKoolLayer::builder("my-access-token")
    ///     .unit("payment.amount", ValueType::CurrencyUsd)
    ///     .unit("latency_ms", ValueType::AgeMsec);
    /// // tracing::info!(payment.amount = 12.5, latency_ms = 3, "paid");
    /// ```
    pub fn unit(mut self, field: impl Into<String>, unit: ValueType) -> Self {
        self.units.insert(field.into(), unit);
        self
    }

    /// The category of the snapshot named `snapshot`: for dotted fields
    /// such as `payment.amount`, the part before the dot. By default a
    /// snapshot's category is the tracing target it came from.
    ///
    /// ```
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .snapshot_category("payment", "Order");
    /// // tracing::info!(payment.order_no = 5, "paid") -> snapshot "payment", category "Order"
    /// ```
    pub fn snapshot_category(
        mut self,
        snapshot: impl Into<String>,
        category: impl Into<String>,
    ) -> Self {
        self.categories.insert(snapshot.into(), category.into());
        self
    }

    /// The most verbose level sent to jKool; default `INFO`. Spans and
    /// events below it cost the application almost nothing.
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Suppresses duplicates, as jKool's Java sink can: an event with the
    /// same message from the same callsite within `window` of the first is
    /// not sent; the first is held until its window ends, then sent once
    /// with a `repeat_count` property when it happened more than once.
    /// Off by default: it delays every event by `window`.
    pub fn suppress_duplicates(mut self, window: Duration) -> Self {
        self.settings.dedupe = Some(window);
        self
    }

    /// The longest text value (message or field) in bytes; a longer one is
    /// cut, on a character boundary, and ends with `…[truncated]`.
    /// Formatting stops at the limit, so a huge value costs no more than
    /// the limit. Default 64 KiB.
    pub fn max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = bytes;
        self
    }

    /// How many items may wait for delivery; past that, new items are
    /// dropped and counted. Default 10,000.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// How many items of one kind go in one request at most; default 256.
    pub fn batch_size(mut self, size: usize) -> Self {
        self.settings.batch_size = size;
        self
    }

    /// How long an item may wait for its batch to fill; default 500 ms.
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.settings.flush_interval = interval;
        self
    }

    /// The largest request body; a batch that would pass it is split.
    /// Default 1 MiB. An endpoint that still answers 413 gets the batch in
    /// halves.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.settings.max_body_bytes = bytes;
        self
    }

    /// How many items the delivery thread may hold beyond the queue while
    /// batching or waiting out an outage; past it, the oldest held items
    /// are dropped and counted. Default 10,000. Together with
    /// [`queue_capacity`](Self::queue_capacity) this bounds memory however
    /// long jKool is unreachable.
    pub fn retry_buffer(mut self, items: usize) -> Self {
        self.settings.retry_buffer = items;
        self
    }

    /// The longest wait between two tries of a request, whether from
    /// backoff or from the server's `Retry-After`. Default 30 s.
    pub fn max_retry_wait(mut self, wait: Duration) -> Self {
        self.settings.max_retry_wait = wait;
        self
    }

    /// Gives up on a request (its items count as failed) once it has been
    /// retried for this long. By default a request is retried until it
    /// succeeds, the retry buffer overflows, or shutdown's deadline passes.
    pub fn give_up_after(mut self, limit: Duration) -> Self {
        self.settings.give_up_after = Some(limit);
        self
    }

    /// How long a request may take, from connecting to the end of the
    /// answer; a slower one is retried. Default 15 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.client.request_timeout = timeout;
        self
    }

    /// How long connecting may take; default 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.client.connect_timeout = timeout;
        self
    }

    /// Sends through this HTTP(S) proxy, with credentials in the URL when
    /// it needs them: `http://user:password@proxy.example:3128`. Without
    /// it, the usual `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`
    /// variables are honoured. The credentials never show in `Debug`.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.client.proxy = Some(Secret::new(url.into()));
        self
    }

    /// Compresses request bodies with gzip (`Content-Encoding: gzip`). Off
    /// by default: jKool does not document that it accepts it. The body
    /// size cap applies before compression.
    #[cfg(feature = "gzip")]
    pub fn gzip(mut self, yes: bool) -> Self {
        self.settings.gzip = yes;
        self
    }

    /// Trusts this CA certificate (PEM) as well as the public roots, for
    /// private jKool deployments. Certificate and host name verification
    /// always stay on.
    pub fn root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.client.root_certificates.push(pem.into());
        self
    }

    /// Checks the settings, starts the delivery thread and returns the
    /// layer.
    ///
    /// # Errors
    /// [`Error::EmptyToken`], [`Error::InvalidUrl`],
    /// [`Error::InvalidSetting`], or an error starting the HTTP client or
    /// the delivery thread.
    pub fn build(mut self) -> Result<JKoolLayer, Error> {
        if self.token.expose().trim().is_empty() {
            return Err(Error::EmptyToken);
        }
        let destination = destination(
            &self.url,
            [self.event_path.as_deref(), self.activity_path.as_deref()],
            &self.token,
            &self.client,
            self.settings.gzip,
        )?;
        if matches!(destination, Destination::File(_)) {
            self.settings.format = BodyFormat::Lines;
        }
        for (setting, value) in [
            ("queue_capacity", self.queue_capacity),
            ("batch_size", self.settings.batch_size),
            ("max_body_bytes", self.settings.max_body_bytes),
            ("retry_buffer", self.settings.retry_buffer),
        ] {
            if value == 0 {
                return Err(Error::InvalidSetting {
                    setting,
                    reason: "must be at least 1".into(),
                });
            }
        }
        for (setting, value) in [
            ("flush_interval", self.settings.flush_interval),
            ("request_timeout", self.client.request_timeout),
            ("connect_timeout", self.client.connect_timeout),
        ] {
            if value.is_zero() {
                return Err(Error::InvalidSetting {
                    setting,
                    reason: "must be longer than zero".into(),
                });
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("tracing-jkool-io")
            // Threads the runtime starts (DNS lookups) are delivery threads
            // too: their events must not come back to the layer.
            .on_thread_start(mark_delivery_thread)
            .build()
            .map_err(Error::Spawn)?;

        let (items_tx, items) = mpsc::channel(self.queue_capacity);
        let (control_tx, control) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared::default());
        let worker = Worker::new(
            items,
            control,
            shared.clone(),
            Transport::new(destination),
            Context {
                source_fqn: self.source_fqn.unwrap_or_else(default_source_fqn),
                pid: std::process::id(),
                units: self.units,
                categories: self.categories,
            },
            self.settings,
        );
        let thread = std::thread::Builder::new()
            .name("tracing-jkool".into())
            .spawn(move || {
                mark_delivery_thread();
                runtime.block_on(worker.run());
            })
            .map_err(Error::Spawn)?;
        let handle = JKoolHandle::new(shared, items_tx, control_tx, thread);
        let capture = Capture::new(self.max_value_bytes, handle.clone());
        Ok(JKoolLayer::from_parts(self.level.into(), capture, handle))
    }
}

/// The value of `variable`, parsed, if it is set.
fn env_var<T>(variable: &'static str) -> Result<Option<T>, Error>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let Ok(value) = std::env::var(variable) else {
        return Ok(None);
    };
    value
        .trim()
        .parse()
        .map(Some)
        .map_err(|e: T::Err| Error::InvalidEnv {
            variable,
            reason: e.to_string(),
            // The token is never shown, whatever is wrong with it.
            value: if variable == "JKOOL_TOKEN" {
                "<redacted>".into()
            } else {
                value
            },
        })
}

/// `APPL=<program>#SERVER=<host name>#NETADDR=<first non-loopback address>`,
/// leaving out what cannot be found.
fn default_source_fqn() -> String {
    let program = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".to_owned());
    let mut fqn = format!("APPL={program}");
    let host = gethostname::gethostname();
    if !host.is_empty() {
        fqn.push_str("#SERVER=");
        fqn.push_str(&host.to_string_lossy());
    }
    let address = if_addrs::get_if_addrs().ok().and_then(|addrs| {
        addrs
            .into_iter()
            .filter(|a| !a.is_loopback())
            .min_by_key(|a| a.ip().is_ipv6())
    });
    if let Some(address) = address {
        fqn.push_str("#NETADDR=");
        fqn.push_str(&address.ip().to_string());
    }
    fqn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_urls_with_the_reason() {
        for (url, reason) in [
            ("not a url", "relative URL without a base"),
            ("ftp://example.com", "scheme must be http, https or file"),
            ("http://user:pw@example.com", "credentials"),
        ] {
            let err = Builder::new("t".into()).url(url).build().unwrap_err();
            assert!(matches!(err, Error::InvalidUrl { .. }), "{url}: {err}");
            assert!(err.to_string().contains(reason), "{url}: {err}");
        }
    }

    #[test]
    fn rejects_empty_token_and_zero_sizes() {
        assert!(matches!(
            Builder::new("  ".into()).build(),
            Err(Error::EmptyToken)
        ));
        let err = Builder::new("t".into()).batch_size(0).build().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid setting batch_size: must be at least 1"
        );
    }

    #[test]
    fn bad_proxy_urls_and_certificates_are_build_errors() {
        let err = Builder::new("t".into())
            .proxy("::nope::")
            .build()
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidSetting {
                    setting: "proxy",
                    ..
                }
            ),
            "{err}"
        );
        let err = Builder::new("t".into())
            .root_certificate_pem(&b"not a certificate"[..])
            .build()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid setting root_certificate_pem: no certificate in the PEM text"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let builder =
            Builder::new("secret-token-123".into()).proxy("http://me:pass-456@proxy:3128");
        let text = format!("{builder:?}");
        assert!(!text.contains("secret-token-123"), "{text}");
        assert!(!text.contains("pass-456"), "{text}");
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn default_source_fqn_names_the_program_and_host() {
        let fqn = default_source_fqn();
        assert!(fqn.starts_with("APPL="), "{fqn}");
        assert!(fqn.contains("#SERVER="), "{fqn}");
    }
}
