//! Configuration: the builder, its checks, and the wiring of layer, queue
//! and delivery thread.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use tokio::sync::mpsc;
use tracing::Level;

use crate::handle::{JKoolHandle, Shared};
use crate::layer::{mark_delivery_thread, JKoolLayer};
use crate::model::Context;
use crate::transport::{self, Endpoints, Transport};
use crate::worker::{BodyFormat, Settings, Worker};
use crate::{Error, ValueType};

/// jKool's streaming endpoint, as meshIQ's own Java sink uses it.
pub const DEFAULT_URL: &str = "https://stream.meshiq.com";

/// An access token that never shows in `Debug` output.
#[derive(Clone)]
pub(crate) struct Token(String);

impl Token {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

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
    token: Token,
    url: String,
    source_fqn: Option<String>,
    level: Level,
    queue_capacity: usize,
    event_path: Option<String>,
    activity_path: Option<String>,
    connect_timeout: Duration,
    request_timeout: Duration,
    settings: Settings,
    units: HashMap<String, ValueType>,
    categories: HashMap<String, String>,
}

impl Builder {
    pub(crate) fn new(token: String) -> Self {
        Builder {
            token: Token(token),
            url: DEFAULT_URL.to_owned(),
            source_fqn: None,
            level: Level::INFO,
            queue_capacity: 10_000,
            event_path: None,
            activity_path: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            settings: Settings {
                batch_size: 256,
                flush_interval: Duration::from_millis(500),
                max_body_bytes: 1 << 20,
                retry_buffer: 10_000,
                max_retry_wait: Duration::from_secs(30),
                give_up_after: None,
                format: BodyFormat::Array,
            },
            units: HashMap::new(),
            categories: HashMap::new(),
        }
    }

    /// The base URL; default [`DEFAULT_URL`]. Items are posted to the base
    /// URL itself unless [`event_path`](Self::event_path) or
    /// [`activity_path`](Self::activity_path) say otherwise.
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
        self.request_timeout = timeout;
        self
    }

    /// How long connecting may take; default 5 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Checks the settings, starts the delivery thread and returns the
    /// layer.
    ///
    /// # Errors
    /// [`Error::EmptyToken`], [`Error::InvalidUrl`],
    /// [`Error::InvalidSetting`], or an error starting the HTTP client or
    /// the delivery thread.
    pub fn build(self) -> Result<JKoolLayer, Error> {
        if self.token.expose().trim().is_empty() {
            return Err(Error::EmptyToken);
        }
        let base = parse_base_url(&self.url)?;
        let endpoints = Endpoints {
            event: endpoint(&base, self.event_path.as_deref())?,
            activity: endpoint(&base, self.activity_path.as_deref())?,
        };
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
            ("request_timeout", self.request_timeout),
            ("connect_timeout", self.connect_timeout),
        ] {
            if value.is_zero() {
                return Err(Error::InvalidSetting {
                    setting,
                    reason: "must be longer than zero".into(),
                });
            }
        }
        let client = transport::client(&self.token, self.connect_timeout, self.request_timeout)?;
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
            Transport::new(client, endpoints),
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
        Ok(JKoolLayer::from_parts(self.level, handle))
    }
}

fn parse_base_url(url: &str) -> Result<Url, Error> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed = Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("credentials belong in the token, not the URL"));
    }
    Ok(parsed)
}

/// `base` with `path` appended, or `base` itself when there is no path.
fn endpoint(base: &Url, path: Option<&str>) -> Result<Url, Error> {
    let Some(path) = path else {
        return Ok(base.clone());
    };
    let joined = format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    parse_base_url(&joined)
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
            ("ftp://example.com", "scheme must be http or https"),
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
    fn joins_paths_under_the_base_url() {
        let base = parse_base_url("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            endpoint(&base, Some("/JESL/event")).unwrap().as_str(),
            "http://127.0.0.1:8080/JESL/event"
        );
        assert_eq!(
            endpoint(&base, None).unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let builder = Builder::new("secret-token-123".into());
        let text = format!("{builder:?}");
        assert!(!text.contains("secret-token-123"), "{text}");
        assert!(text.contains("<redacted>"));
    }

    #[test]
    fn default_source_fqn_names_the_program_and_host() {
        let fqn = default_source_fqn();
        assert!(fqn.starts_with("APPL="), "{fqn}");
        assert!(fqn.contains("#SERVER="), "{fqn}");
    }
}
