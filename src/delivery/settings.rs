//! The delivery settings, as the builder checked them, and how items are
//! framed into request bodies.

use std::time::Duration;

/// How items are put into request bodies; set with
/// [`Builder::framing`](crate::Builder::framing) or `JKOOL_FRAMING`
/// (`object`, `lines`, `array`).
///
/// The default, [`Object`](Framing::Object), is what every jKool client
/// sends (TNT4J's HTTP sink JESL, the REST client, the Python module): one
/// item per request. Whether jKool's service takes several items in one
/// body is not documented, and it answers `202 Accepted` before it reads
/// them, so a body it cannot use may be lost without an error. The
/// batching framings cost far fewer requests: switch to one only after
/// `cargo run --example check_batching` showed, in XRay, that every item
/// of a batch arrived.
///
/// ```
/// use tracing_jkool::{Framing, JKoolLayer};
///
/// // After check_batching showed all three items of each batch in XRay.
/// let builder = JKoolLayer::builder("my-access-token").framing(Framing::Lines);
/// assert_eq!(Framing::default(), Framing::Object);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Framing {
    /// One JSON object per request, followed by `\n`: exactly what JESL
    /// posts. An item leaves as soon as a request slot is free; it does
    /// not wait for a batch.
    #[default]
    Object,
    /// Several newline-terminated JSON objects of one kind in one body, a
    /// batch at a time (see [`batch_size`](crate::Builder::batch_size)):
    /// the form of JESL's socket stream.
    Lines,
    /// A JSON array of the items of one kind, a batch at a time.
    Array,
}

impl Framing {
    /// Whether a body may hold several items.
    pub(crate) fn batches(self) -> bool {
        self != Framing::Object
    }

    /// The name `JKOOL_FRAMING` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Framing::Object => "object",
            Framing::Lines => "lines",
            Framing::Array => "array",
        }
    }
}

/// The name `JKOOL_FRAMING` takes: `object`, `lines` or `array`.
///
/// ```
/// assert_eq!(tracing_jkool::Framing::Lines.to_string(), "lines");
/// ```
impl std::fmt::Display for Framing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Framing {
    type Err = UnknownFraming;

    /// `object`, `lines` or `array`, in any case.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [Framing::Object, Framing::Lines, Framing::Array]
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name.trim()))
            .ok_or(UnknownFraming)
    }
}

/// A name that is not one of [`Framing`]'s.
///
/// ```
/// let err = "json".parse::<tracing_jkool::Framing>().unwrap_err();
/// assert_eq!(err.to_string(), "expected object, lines or array");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected object, lines or array")]
pub struct UnknownFraming;

/// The delivery settings, checked by the builder.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub max_body_bytes: usize,
    /// Items the worker holds (batching, or waiting out an outage) beyond
    /// the queue; past it the oldest are evicted.
    pub retry_buffer: usize,
    /// The most requests in flight at once; the delivery thread adapts
    /// how many it uses to the round trip, up to this.
    pub max_concurrent_requests: usize,
    pub max_retry_wait: Duration,
    pub give_up_after: Option<Duration>,
    /// A body the server keeps failing on (5xx) while it accepts others is
    /// split; its items fail once refused for this long.
    pub give_up_refused_after: Duration,
    pub framing: Framing,
    /// Compress bodies with gzip.
    pub gzip: bool,
    /// Suppress repeats of an event within this window.
    pub dedupe: Option<Duration>,
    /// How many distinct events duplicate suppression holds at once.
    pub dedupe_capacity: usize,
    /// Which traces are kept.
    pub sampler: Option<crate::Sampler>,
    /// Which values are redacted before they are written.
    pub redaction: crate::wire::redact::Rules,
}
