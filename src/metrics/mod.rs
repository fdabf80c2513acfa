//! Measurements sent as jKool events with typed snapshot properties:
//! process metrics ([`Builder::process_metrics`]), the pipeline's own
//! health ([`Builder::self_metrics`]), span counts and durations by name
//! ([`Builder::operation_metrics`]) and, with the `metrics` feature, the
//! [`metrics`](https://docs.rs/metrics) facade
//! (`JKoolHandle::metrics_recorder`). The reports are built on a task of
//! the delivery thread's runtime and sent through the handle, as any item.
//!
//! Each report is one plain jKool `EVENT` (not a `DATASET`: XRay lists and
//! queries events everywhere) whose snapshots hold the values:
//!
//! | source | `operation` | `msg-text` | snapshots (category) |
//! |---|---|---|---|
//! | process metrics | `process.metrics` | `process metrics` | `CPU`, `Memory`, `Thread` (`Process`) |
//! | pipeline health | `tracing-jkool.health` | `tracing-jkool health` | `tracing-jkool` (`Pipeline`) |
//! | operation metrics | `tracing-jkool.operations` | `tracing-jkool operations` | one per span name (`Operation`) |
//! | `metrics` facade | `metrics` | `metrics` | one per metric and label set (`Metrics`) |
//!
//! Every report is built by a task on the delivery thread's runtime, never
//! on an application thread, but for the last one: `shutdown` makes it on
//! its caller's thread, so that what changed since the last interval (or
//! in a run shorter than one) arrives. Reports go through the same bounded
//! queue as [`JKoolHandle::send`](crate::JKoolHandle::send): a full queue
//! drops them and counts them. The tasks end with the pipeline: they stop
//! once shutdown begins, and they do not keep it alive when the layer and
//! every handle are dropped.

mod health;
mod histogram;
pub(crate) mod operations;
mod process;
#[cfg(feature = "metrics")]
mod recorder;
#[cfg(feature = "metrics")]
mod series;

use std::sync::Arc;
use std::time::Duration;

use crate::handle::JKoolHandle;
use crate::{Builder, Error, JKoolEvent};

#[cfg(feature = "metrics")]
pub use recorder::JKoolRecorder;

/// Longer intervals are taken as this, so that a clock can add them.
const LONGEST: Duration = Duration::from_secs(365 * 24 * 3600);

/// Which periodic reports the pipeline starts with, and how often.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Settings {
    pub(crate) process: Option<Duration>,
    pub(crate) health: Option<Duration>,
    pub(crate) operations: Option<Duration>,
}

impl Settings {
    /// Refuses a zero interval and saturates a huge one.
    pub(crate) fn check(&mut self) -> Result<(), Error> {
        for (setting, interval) in [
            ("process_metrics", &mut self.process),
            ("self_metrics", &mut self.health),
            ("operation_metrics", &mut self.operations),
        ] {
            if let Some(interval) = interval {
                if interval.is_zero() {
                    return Err(Error::InvalidSetting {
                        setting,
                        reason: "must be longer than zero".into(),
                    });
                }
                *interval = (*interval).min(LONGEST);
            }
        }
        Ok(())
    }
}

/// # Observability
///
/// Reports of the process and of the pipeline itself, sent as jKool
/// events.
///
/// ```
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .process_metrics(std::time::Duration::from_secs(60))
///     .self_metrics(std::time::Duration::from_secs(60))
///     .operation_metrics(std::time::Duration::from_secs(60));
/// # drop(builder);
/// ```
impl Builder {
    /// Sends the process's CPU, memory and thread figures every `interval`,
    /// as one event (operation `process.metrics`) with the snapshots `CPU`,
    /// `Memory` and `Thread` in category `Process`, named as TNT4J names
    /// its JVM metrics. Off by default; `JKOOL_PROCESS_METRICS_MS` sets it
    /// from the environment ([`with_env`](Self::with_env)).
    ///
    /// | snapshot | property | data type | `value-type` | what |
    /// |---|---|---|---|---|
    /// | `CPU` | `TotalCpuUsec` | `long` | `age.usec` | user + system CPU time since the process started |
    /// | `CPU` | `Usage` | `double` | `percent` | CPU time since the previous sample, in percent of one core (above 100 when several cores work) |
    /// | `Memory` | `UsedBytes` | `long` | `size.byte` | resident set size (Windows: working set) |
    /// | `Memory` | `VirtualBytes` | `long` | `size.byte` | virtual size (Windows: private bytes) |
    /// | `Thread` | `Count` | `long` | `gauge` | OS threads (not on Windows) |
    /// | `Thread` | `OpenFiles` | `long` | `gauge` | open file descriptors (Windows: handles) |
    ///
    /// A figure the operating system does not give is left out. On Linux,
    /// CPU time advances in clock ticks (usually 10 ms), so `Usage` is
    /// coarse over short intervals. A sample costs about 30 µs of the
    /// delivery thread on Linux (more with thousands of open files: they
    /// are counted one by one).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let layer = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .process_metrics(Duration::from_secs(60))
    ///     .build()?;
    /// # Ok::<(), tracing_jkool::Error>(())
    /// ```
    pub fn process_metrics(mut self, interval: Duration) -> Self {
        self.metrics.process = Some(interval);
        self
    }

    /// Sends the pipeline's own counters every `interval`, so that loss is
    /// visible in jKool itself: one event (operation
    /// `tracing-jkool.health`) with the snapshot `tracing-jkool` (category
    /// `Pipeline`). Off by default; `JKOOL_SELF_METRICS_MS` sets it from
    /// the environment.
    ///
    /// | property | data type | `value-type` | what ([`Stats`](crate::Stats)) |
    /// |---|---|---|---|
    /// | `queued` | `long` | `counter` | items accepted onto the queue |
    /// | `sent` | `long` | `counter` | items jKool accepted |
    /// | `dropped` | `long` | `counter` | items dropped: queue full or pipeline stopped |
    /// | `evicted` | `long` | `counter` | items evicted to bound memory |
    /// | `failed` | `long` | `counter` | items refused or given up |
    /// | `retried` | `long` | `counter` | requests tried again |
    /// | `queue_depth` | `long` | `gauge` | items accepted and not yet finished ([`Stats::pending`](crate::Stats::pending)) |
    /// | `spool_bytes` | `long` | `size.byte` | bytes in the disk spool: always 0 until the spool exists |
    ///
    /// The figures are read just before the report is queued: the report
    /// counts the items before it, not itself.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let layer = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .self_metrics(Duration::from_secs(60))
    ///     .build()?;
    /// # Ok::<(), tracing_jkool::Error>(())
    /// ```
    pub fn self_metrics(mut self, interval: Duration) -> Self {
        self.metrics.health = Some(interval);
        self
    }

    /// Sends, every `interval`, how many spans of each name closed, how
    /// many failed and how long they took: one event (operation
    /// `tracing-jkool.operations`) with one snapshot per span name (the
    /// name in the span's metadata, as `#[instrument]` or `info_span!`
    /// gives it), in category `Operation`. Off by default;
    /// `JKOOL_OPERATION_METRICS_MS` sets it from the environment.
    ///
    /// | property | data type | `value-type` | what |
    /// |---|---|---|---|
    /// | `Count` | `long` | `counter` | spans closed since the start |
    /// | `Errors` | `long` | `counter` | of them, spans that failed (status `EXCEPTION`) since the start |
    /// | `ElapsedP50` | `long` | `age.usec` | median elapsed time over the interval |
    /// | `ElapsedP90` | `long` | `age.usec` | 90th percentile over the interval |
    /// | `ElapsedP99` | `long` | `age.usec` | 99th percentile over the interval |
    /// | `ElapsedMax` | `long` | `age.usec` | longest elapsed time over the interval |
    /// | `MaxTraceId` | `string` | | trace id of the slowest span over the interval: the first correlator (`corrid`) of its trace's items |
    /// | `MaxTrackingId` | `string` | | `tracking-id` of the slowest span's activity |
    ///
    /// Spans are counted as the delivery thread takes them from the
    /// queue, **before** [sampling](Self::sampler): a sampled-out trace's
    /// spans count too, so the figures hold for all traffic. Spans dropped
    /// because the queue was full do not count. The elapsed properties are
    /// left out of a snapshot when no span of its name closed in the
    /// interval. Percentiles are nearest-rank over up to 1,024 elapsed
    /// times per name and interval (a uniform sample of them beyond
    /// that); the maximum is exact.
    ///
    /// `MaxTraceId` and `MaxTrackingId` are an exemplar: they name the
    /// span behind `ElapsedMax` (the first one, when several took as
    /// long), so that a slow figure leads to one trace, even when the
    /// sampler left that trace out and its items never arrived. They are
    /// left out with the elapsed properties. A `jkool.tracking_id` set on
    /// the span, at its start or later with `Span::record`, is the
    /// `MaxTrackingId`, as it is the activity's `tracking-id`.
    ///
    /// Memory is bounded: at most 1,000 span names have a snapshot of
    /// their own, in the order they first close; spans of any further name
    /// are counted together under the snapshot `other` (as are spans named
    /// `other`). Counting costs the delivery thread one short lock per
    /// closed span, and the application's threads nothing; a span's ids
    /// are kept only when it is its name's slowest yet in the interval, as
    /// they are (16 bytes each, a custom tracking id shared), and written
    /// as text only in the report.
    ///
    /// `shutdown` sends the last report, so that a run shorter than the
    /// interval reports too: the delivery thread makes it as it stops,
    /// once it took every span queued before, the spans still open that
    /// `shutdown` closes included.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let layer = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .operation_metrics(Duration::from_secs(60))
    ///     .build()?;
    /// # Ok::<(), tracing_jkool::Error>(())
    /// ```
    pub fn operation_metrics(mut self, interval: Duration) -> Self {
        self.metrics.operations = Some(interval);
        self
    }
}

/// Starts the periodic reports `settings` asks for, on the delivery
/// thread's runtime.
pub(crate) fn start(settings: Settings, handle: &JKoolHandle) {
    if let Some(interval) = settings.process {
        handle.spawn_periodic(interval, || {
            // The first figures, taken on the delivery thread: the first
            // report's `Usage` covers the time since.
            let mut sampler = process::Sampler::new();
            move |_: &JKoolHandle| Some(sampler.sample())
        });
    }
    if let Some(interval) = settings.health {
        handle.spawn_periodic(interval, || {
            |handle: &JKoolHandle| Some(health::report(handle))
        });
    }
    if let Some(interval) = settings.operations {
        let operations = Arc::new(operations::Operations::default());
        // Set once per pipeline: the worker counts from now on.
        let observer: Arc<dyn crate::handle::stats::Observer> = operations.clone();
        if handle.shared().operations.set(observer).is_ok() {
            handle.spawn_periodic(interval, move || {
                let delivery = std::thread::current().id();
                move |_: &JKoolHandle| operations.report_on(delivery)
            });
        }
    }
}

/// A report's event: a plain `EVENT` with this operation and message.
pub(crate) fn report_event(operation: &str, msg_text: &str) -> JKoolEvent {
    JKoolEvent::new(msg_text).operation(operation)
}
