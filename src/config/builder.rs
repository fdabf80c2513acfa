//! The builder and its setters (those for correlation in
//! `builder/correlation.rs`). `env.rs` reads the environment into it;
//! `build.rs` checks it and starts the pipeline.

use std::collections::HashMap;
use std::time::Duration;

use tracing::level_filters::LevelFilter;

use crate::capture::keys::{FieldKeys, InheritFields};
use crate::delivery::dedupe;
use crate::delivery::settings::{Framing, Settings};
use crate::item::fields::DEFAULT_MAX_VALUE_BYTES;
use crate::transport::secret::Secret;
use crate::transport::ClientOptions;
use crate::ValueType;

/// jKool's streaming endpoint, as meshIQ's own Java sink uses it.
pub const DEFAULT_URL: &str = "https://stream.meshiq.com";

/// The default of [`Builder::max_concurrent_requests`] for requests sent
/// through reqwest (`https://`, a proxy, batched framings), each on a
/// connection of its own: with one item per request, 5,000 events a second
/// at a 20 ms round trip need 100 requests in flight.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 256;

/// The default of [`Builder::max_concurrent_requests`] over pipelined
/// connections ([`Builder::pipelining`]), where a request in flight costs
/// its bytes and no connection: 50,000 events a second at a 50 ms round
/// trip need 2,500 requests in flight.
pub const DEFAULT_MAX_PIPELINED_REQUESTS: usize = 4096;

/// Configures a [`JKoolLayer`](crate::JKoolLayer); made by
/// [`JKoolLayer::builder`](crate::JKoolLayer::builder).
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
    pub(crate) token: Secret,
    pub(crate) url: String,
    /// Whether `url` is `JKOOL_URL`'s: its errors name the variable.
    pub(crate) url_from_env: bool,
    /// One object per request over pipelined connections, where it can.
    pub(crate) pipelining: bool,
    /// `max_concurrent_requests` was set: it holds over pipelined
    /// connections too.
    pub(crate) concurrency_set: bool,
    /// A full queue drops (`true`) or waits, at most `max_block`.
    pub(crate) lossy: bool,
    pub(crate) max_block: Duration,
    pub(crate) source_fqn: Option<String>,
    pub(crate) level: LevelFilter,
    pub(crate) max_value_bytes: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) event_path: Option<String>,
    pub(crate) activity_path: Option<String>,
    pub(crate) client: ClientOptions,
    pub(crate) settings: Settings,
    pub(crate) units: HashMap<String, ValueType>,
    pub(crate) categories: HashMap<String, String>,
    pub(crate) metrics: crate::metrics::Settings,
    pub(crate) field_keys: FieldKeys,
    pub(crate) inherit_fields: Option<InheritFields>,
    pub(crate) spool: crate::spool::Options,
    pub(crate) file_rotation: crate::transport::rotate::Options,
    pub(crate) exit_flush: Duration,
    pub(crate) capture_panics: bool,
    /// At most this many events per callsite in each window.
    pub(crate) storm_limit: Option<(u32, Duration)>,
}

impl Builder {
    pub(crate) fn new(token: String) -> Self {
        let url = std::env::var("JKOOL_URL").ok();
        Builder {
            token: Secret::new(token),
            url: url.clone().unwrap_or_else(|| DEFAULT_URL.to_owned()),
            url_from_env: url.is_some(),
            pipelining: true,
            concurrency_set: false,
            lossy: true,
            max_block: Duration::from_secs(1),
            source_fqn: None,
            level: LevelFilter::INFO,
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
                max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
                max_retry_wait: Duration::from_secs(30),
                give_up_after: None,
                give_up_refused_after: Duration::from_secs(120),
                framing: Framing::Object,
                gzip: false,
                dedupe: None,
                dedupe_capacity: dedupe::DEFAULT_CAPACITY,
                sampler: None,
                redaction: Default::default(),
            },
            units: HashMap::new(),
            categories: HashMap::new(),
            metrics: crate::metrics::Settings::default(),
            field_keys: FieldKeys::new(),
            inherit_fields: None,
            spool: crate::spool::Options::default(),
            file_rotation: crate::transport::rotate::Options::default(),
            exit_flush: Duration::from_secs(2),
            capture_panics: false,
            storm_limit: None,
        }
    }
}

/// # What it sends
///
/// Which spans and events, where they say they come from, their units and
/// categories, and how much of each value.
///
/// ```
/// use tracing_jkool::ValueType;
///
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .level(tracing::Level::INFO)
///     .source_fqn("APPL=Shop#SERVER=web1")
///     .unit("payment.amount", ValueType::CurrencyUsd);
/// # drop(builder);
/// ```
impl Builder {
    /// The `source-fqn` of every item, such as
    /// `APPL=Shop#SERVER=web1#NETADDR=10.0.0.2`. By default it is made from
    /// the program's name, the host name and the host's address.
    pub fn source_fqn(mut self, fqn: impl Into<String>) -> Self {
        self.source_fqn = Some(fqn.into());
        self
    }

    /// The most verbose level sent to jKool; default `INFO`. Spans and
    /// events below it cost the application almost nothing. Takes a
    /// [`tracing::Level`] or a [`LevelFilter`], whose `OFF` sends nothing.
    ///
    /// ```
    /// use tracing::level_filters::LevelFilter;
    ///
    /// let debug = tracing_jkool::JKoolLayer::builder("my-access-token").level(tracing::Level::DEBUG);
    /// let silent = tracing_jkool::JKoolLayer::builder("my-access-token").level(LevelFilter::OFF);
    /// ```
    pub fn level(mut self, level: impl Into<LevelFilter>) -> Self {
        self.level = level.into();
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

    /// The longest text value (message or field) in bytes; a longer one is
    /// cut, on a character boundary, and ends with `…[truncated]`.
    /// Formatting stops at the limit, so a huge value costs no more than
    /// the limit. Default 64 KiB.
    pub fn max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = bytes;
        self
    }

    /// Suppresses duplicates, as jKool's Java sink can: an event with the
    /// same message from the same callsite within `window` of the first is
    /// not sent; the first is held until its window ends, then sent once
    /// with a `repeat_count` property when it happened more than once.
    /// Off by default: it delays every event by `window`.
    ///
    /// The key is the callsite and the message; field values are not part
    /// of it, and the first event's fields are the ones sent. At most
    /// [`suppress_duplicates_capacity`](Self::suppress_duplicates_capacity)
    /// distinct events are held at once; past that, new ones are sent
    /// without suppression.
    pub fn suppress_duplicates(mut self, window: Duration) -> Self {
        self.settings.dedupe = Some(window);
        self
    }

    /// How many distinct events duplicate suppression holds at once;
    /// default 10,000. Each costs one held event in memory.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .suppress_duplicates(Duration::from_secs(10))
    ///     .suppress_duplicates_capacity(1_000);
    /// ```
    pub fn suppress_duplicates_capacity(mut self, events: usize) -> Self {
        self.settings.dedupe_capacity = events;
        self
    }
}

/// # Delivery
///
/// How items leave: the queue, batches and bodies, requests in flight,
/// retries and when to give up.
///
/// ```
/// use std::time::Duration;
///
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .queue_capacity(10_000)
///     .max_retry_wait(Duration::from_secs(10))
///     .give_up_after(Duration::from_secs(600));
/// # drop(builder);
/// ```
impl Builder {
    /// How items are put into request bodies; default [`Framing::Object`],
    /// one item per request, as every jKool client sends. Also
    /// `JKOOL_FRAMING`. Read [`Framing`] before choosing a batching form.
    ///
    /// ```
    /// use tracing_jkool::{Framing, JKoolLayer};
    ///
    /// let builder = JKoolLayer::builder("my-access-token").framing(Framing::Array);
    /// ```
    pub fn framing(mut self, framing: Framing) -> Self {
        self.settings.framing = framing;
        self
    }

    /// How many items may wait for delivery; past that, new items are
    /// dropped and counted (or, with [`lossy(false)`](Self::lossy), wait).
    /// Default 10,000.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// Whether an item that finds the queue full is dropped and counted
    /// (`true`, the default: the application's thread never waits) or
    /// waits on the thread that emits it until there is room, for at most
    /// [`max_block`](Self::max_block), and is dropped and counted then
    /// (`false`: for batch jobs, where every event matters more than the
    /// caller's latency). Also `JKOOL_LOSSY` (`1` or `0`). Never on the
    /// crate's own threads, nor for an event emitted inside the crate's
    /// own callbacks (a field's `Debug` that logs): those are dropped as
    /// with `true`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .lossy(false)
    ///     .max_block(Duration::from_secs(5));
    /// # drop(builder);
    /// ```
    pub fn lossy(mut self, yes: bool) -> Self {
        self.lossy = yes;
        self
    }

    /// With [`lossy(false)`](Self::lossy), how long an item waits for room
    /// in a full queue; default 1 s. `Duration::ZERO` never waits (as
    /// `lossy(true)`); a wait too long for a clock is taken as a year.
    pub fn max_block(mut self, wait: Duration) -> Self {
        self.max_block = wait;
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

    /// Compresses request bodies with gzip (`Content-Encoding: gzip`). Off
    /// by default: jKool does not document that it accepts it. The body
    /// size cap applies before compression.
    #[cfg(feature = "gzip")]
    pub fn gzip(mut self, yes: bool) -> Self {
        self.settings.gzip = yes;
        self
    }

    /// How many items the delivery thread may hold beyond the queue while
    /// batching or waiting out an outage; past it, the oldest held items
    /// are evicted and counted. Default 10,000, and never below
    /// [`batch_size`](Self::batch_size). Together with
    /// [`queue_capacity`](Self::queue_capacity) this bounds memory however
    /// long jKool is unreachable.
    pub fn retry_buffer(mut self, items: usize) -> Self {
        self.settings.retry_buffer = items;
        self
    }

    /// The most requests in flight at once; default
    /// [`DEFAULT_MAX_PIPELINED_REQUESTS`] (4,096) over pipelined
    /// connections, [`DEFAULT_MAX_CONCURRENT_REQUESTS`] (256) through
    /// reqwest (see [`pipelining`](Self::pipelining)). The delivery thread
    /// uses as many as the round trip needs: it starts at four and, each
    /// round trip that every slot was busy, doubles, then (after its first
    /// cut) grows by an eighth; it cuts to 90 % on a retryable answer or a
    /// timeout (after Vector's adaptive request concurrency). A longer
    /// round trip alone is not a reason to cut: it needs more in flight.
    /// [`Stats::concurrency_limit`](crate::Stats::concurrency_limit) shows
    /// where it is. Values above 4,096 are taken as 4,096.
    ///
    /// With more than one, items may arrive out of order (each carries its
    /// own time); with 1, each kind arrives in the order it was emitted.
    ///
    /// ```
    /// // Strict order per kind, at the cost of throughput at a distance.
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token").max_concurrent_requests(1);
    /// ```
    pub fn max_concurrent_requests(mut self, requests: usize) -> Self {
        self.settings.max_concurrent_requests = requests;
        self.concurrency_set = true;
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

    /// How long a body that jKool keeps failing on with a 5xx, while it
    /// accepts other bodies, is retried. Such a body is split until the
    /// items it fails on are alone; those count as failed after this long.
    /// Default 2 minutes. While jKool fails on every body, nothing counts
    /// against any item: they wait, within the retry buffer.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .give_up_refused_after(Duration::from_secs(30));
    /// ```
    pub fn give_up_refused_after(mut self, limit: Duration) -> Self {
        self.settings.give_up_refused_after = limit;
        self
    }
}
