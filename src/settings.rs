//! The delivery settings, as the builder checked them.

use std::time::Duration;

use crate::backlog::BodyFormat;

/// The delivery settings, checked by the builder.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub batch_size: usize,
    pub flush_interval: Duration,
    pub max_body_bytes: usize,
    /// Items the worker holds (batching, or waiting out an outage) beyond
    /// the queue; past it the oldest are evicted.
    pub retry_buffer: usize,
    /// Requests in flight at once.
    pub max_concurrent_requests: usize,
    pub max_retry_wait: Duration,
    pub give_up_after: Option<Duration>,
    /// A body the server keeps failing on (5xx) while it accepts others is
    /// split; its items fail once refused for this long.
    pub give_up_refused_after: Duration,
    pub format: BodyFormat,
    /// Compress bodies with gzip.
    pub gzip: bool,
    /// Suppress repeats of an event within this window.
    pub dedupe: Option<Duration>,
    /// How many distinct events duplicate suppression holds at once.
    pub dedupe_capacity: usize,
}
