//! The [`metrics`](https://docs.rs/metrics) facade's recorder: counters,
//! gauges and histograms kept in atomics (histograms in a short-held,
//! bounded `Mutex<Vec<f64>>`), sent every interval as typed properties.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use ::metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};

use super::histogram::Window;
use super::series::{labels, series, series_name, value_type};
use crate::item::clock::now_usec;
use crate::{JKoolEvent, JKoolHandle, ValueType};

/// The `operation` of a metrics report.
const OPERATION: &str = "metrics";

/// A [`metrics::Recorder`] that sends what the application records to
/// jKool; made by [`JKoolHandle::metrics_recorder`], installed with
/// [`metrics::set_global_recorder`].
///
/// Every interval, one event (operation `metrics`) carries one snapshot
/// per metric and label set, in category `Metrics`:
///
/// - **Snapshot name**: the metric's name, followed by its labels in the
///   order given, as `name{k1=v1,k2=v2}` (no braces without labels).
/// - **Labels** are also string properties of the snapshot, named by the
///   label's key, so that XRay can filter and group by them.
/// - **Counter**: property `name`, the cumulative value, `long`,
///   value type `counter`.
/// - **Gauge**: property `name`, the last value, `double`, value type
///   `gauge` (or the described unit, below).
/// - **Histogram**: the samples of the interval, as `name.count` (`long`,
///   `gauge`), and `name.min`, `.max`, `.mean`, `.p50`, `.p90`, `.p99`
///   (`double`, `gauge` or the described unit); only `name.count` (0)
///   when nothing was recorded. Quantiles are exact, nearest-rank (the
///   smallest sample with at least p % of the samples at or below it), over
///   up to 4,096 samples per interval; past that, over a uniform random
///   4,096 of them (reservoir sampling). Count, min, max and mean always
///   cover every sample. NaN samples are ignored.
/// - **Units** described with `describe_gauge!`/`describe_histogram!` give
///   the value type: seconds to nanoseconds `age.sec`, `age.msec`,
///   `age.usec`, `age.nsec`; bytes to tebibytes `size.byte` ... `size.tb`;
///   `percent`; count per second `rate.sec`; others `gauge`.
///
/// A metric not updated for [`idle_timeout`](Self::idle_timeout) (default
/// 5 minutes; a histogram is updated by a sample) is left out of reports
/// until it is updated again; a counter then comes back with its
/// cumulative value. Updates are noticed at report time, so the timeout is
/// kept within one interval. A new metric is reported from its
/// registration. When no metric is due, no event is sent.
///
/// Every metric and label set stays in memory for the recorder's life
/// (an idle one is only left out of reports), as in other recorders: keep
/// label values few. Recording costs an atomic update (a histogram: a
/// short lock); each `counter!`/`gauge!`/`histogram!` call also looks the
/// metric up under a read lock, so hot loops should keep the handle the
/// macro returns. [`JKoolHandle::shutdown`](crate::JKoolHandle::shutdown)
/// sends one last report, with what was recorded since the last interval.
///
/// ```
/// use std::time::Duration;
///
/// let jkool = tracing_jkool::JKoolLayer::builder("my-access-token").build()?.handle();
/// let recorder = jkool
///     .metrics_recorder(Duration::from_secs(60))
///     .idle_timeout(Duration::from_secs(600));
/// metrics::with_local_recorder(&recorder, || {
///     metrics::counter!("orders", "region" => "eu").increment(1);
///     metrics::gauge!("queue.length").set(12.0);
///     metrics::histogram!("latency.seconds").record(0.25);
/// });
/// // In an application: metrics::set_global_recorder(recorder)?;
/// # Ok::<(), tracing_jkool::Error>(())
/// ```
#[derive(Clone)]
pub struct JKoolRecorder {
    registry: Arc<Registry>,
}

impl JKoolHandle {
    /// A [`metrics::Recorder`] that sends the recorded values to jKool
    /// every `interval` (at least 1 ms), from the delivery thread; see
    /// [`JKoolRecorder`] for the names and types. Install it with
    /// [`metrics::set_global_recorder`].
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// let jkool = tracing_jkool::JKoolLayer::new("my-access-token").handle();
    /// metrics::set_global_recorder(jkool.metrics_recorder(Duration::from_secs(30)))
    ///     .expect("no other recorder is installed");
    /// metrics::counter!("orders").increment(1);
    /// ```
    pub fn metrics_recorder(&self, interval: Duration) -> JKoolRecorder {
        let registry = Arc::new(Registry::new());
        let weak = Arc::downgrade(&registry);
        self.spawn_periodic(interval, move || {
            move |_: &JKoolHandle| Weak::upgrade(&weak).and_then(|r| r.report(Instant::now()))
        });
        JKoolRecorder { registry }
    }
}

impl JKoolRecorder {
    /// The default [`idle_timeout`](Self::idle_timeout): 5 minutes.
    ///
    /// ```
    /// assert_eq!(tracing_jkool::JKoolRecorder::DEFAULT_IDLE_TIMEOUT.as_secs(), 300);
    /// ```
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

    /// How long a metric may go without an update before it is left out
    /// of reports; default [`DEFAULT_IDLE_TIMEOUT`](Self::DEFAULT_IDLE_TIMEOUT).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let jkool = tracing_jkool::JKoolLayer::builder("my-access-token").build()?.handle();
    /// let recorder = jkool
    ///     .metrics_recorder(Duration::from_secs(10))
    ///     .idle_timeout(Duration::from_secs(60));
    /// # Ok::<(), tracing_jkool::Error>(())
    /// ```
    pub fn idle_timeout(self, timeout: Duration) -> Self {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.registry.idle_ms.store(ms, Ordering::Relaxed);
        self
    }
}

impl fmt::Debug for JKoolRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.registry;
        f.debug_struct("JKoolRecorder")
            .field("counters", &read(&r.counters).len())
            .field("gauges", &read(&r.gauges).len())
            .field("histograms", &read(&r.histograms).len())
            .field("idle_timeout", &r.idle_timeout())
            .finish()
    }
}

impl Recorder for JKoolRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, _: SharedString) {
        self.registry.describe(key, unit);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, _: SharedString) {
        self.registry.describe(key, unit);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(cell(&self.registry.counters, key, &self.registry.epoch))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(cell(&self.registry.gauges, key, &self.registry.epoch))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(cell(&self.registry.histograms, key, &self.registry.epoch))
    }
}

type Cells<T> = RwLock<HashMap<Key, Arc<Slot<T>>>>;

struct Registry {
    counters: Cells<AtomicU64>,
    /// The bits of an `f64`.
    gauges: Cells<AtomicU64>,
    histograms: Cells<Mutex<Window>>,
    units: RwLock<HashMap<String, ValueType>>,
    idle_ms: AtomicU64,
    epoch: Instant,
}

/// A metric's value, whether it changed since the last report, and when
/// the reports last saw it change (milliseconds since the registry began).
#[derive(Default)]
struct Slot<T> {
    value: T,
    touched: AtomicBool,
    seen_ms: AtomicU64,
}

impl<T> Slot<T> {
    fn touch(&self) {
        self.touched.store(true, Ordering::Relaxed);
    }
}

impl CounterFn for Slot<AtomicU64> {
    fn increment(&self, value: u64) {
        self.value.fetch_add(value, Ordering::Relaxed);
        self.touch();
    }

    fn absolute(&self, value: u64) {
        self.value.fetch_max(value, Ordering::Relaxed);
        self.touch();
    }
}

impl GaugeFn for Slot<AtomicU64> {
    fn increment(&self, value: f64) {
        let add = |bits| Some(f64::to_bits(f64::from_bits(bits) + value));
        let _ = self
            .value
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, add);
        self.touch();
    }

    fn decrement(&self, value: f64) {
        GaugeFn::increment(self, -value);
    }

    fn set(&self, value: f64) {
        self.value.store(value.to_bits(), Ordering::Relaxed);
        self.touch();
    }
}

impl HistogramFn for Slot<Mutex<Window>> {
    fn record(&self, value: f64) {
        if value.is_nan() {
            return;
        }
        self.value
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(value);
        self.touch();
    }
}

/// The cell for `key`, made (and marked new) on first use.
fn cell<T: Default>(cells: &Cells<T>, key: &Key, epoch: &Instant) -> Arc<Slot<T>> {
    if let Some(cell) = read(cells).get(key) {
        return Arc::clone(cell);
    }
    let mut cells = cells.write().unwrap_or_else(|e| e.into_inner());
    let cell = cells.entry(key.clone()).or_insert_with(|| {
        let cell = Slot::<T>::default();
        cell.touch();
        cell.seen_ms
            .store(millis(epoch, Instant::now()), Ordering::Relaxed);
        Arc::new(cell)
    });
    Arc::clone(cell)
}

fn read<K, V>(lock: &RwLock<HashMap<K, V>>) -> std::sync::RwLockReadGuard<'_, HashMap<K, V>> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn millis(epoch: &Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(*epoch).as_millis()).unwrap_or(u64::MAX)
}

impl Registry {
    fn new() -> Self {
        Registry {
            counters: RwLock::default(),
            gauges: RwLock::default(),
            histograms: RwLock::default(),
            units: RwLock::default(),
            idle_ms: AtomicU64::new(JKoolRecorder::DEFAULT_IDLE_TIMEOUT.as_millis() as u64),
            epoch: Instant::now(),
        }
    }

    fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_ms.load(Ordering::Relaxed))
    }

    fn describe(&self, key: KeyName, unit: Option<Unit>) {
        let Some(unit) = unit.and_then(value_type) else {
            return;
        };
        let mut units = self.units.write().unwrap_or_else(|e| e.into_inner());
        units.insert(key.as_str().to_owned(), unit);
    }

    /// The report due at `now`: every metric updated within the idle
    /// timeout, histograms emptied for the next interval. `None` when no
    /// metric is due.
    fn report(&self, now: Instant) -> Option<JKoolEvent> {
        let now_ms = millis(&self.epoch, now);
        let idle_ms = self.idle_ms.load(Ordering::Relaxed);
        let due = |cell_touched: &AtomicBool, seen: &AtomicU64| {
            if cell_touched.swap(false, Ordering::Relaxed) {
                seen.store(now_ms, Ordering::Relaxed);
            }
            now_ms.saturating_sub(seen.load(Ordering::Relaxed)) < idle_ms
        };
        let time = now_usec();
        let units = read(&self.units);
        let unit = |key: &Key| units.get(key.name()).copied();
        let mut snapshots = Vec::new();
        for (key, cell) in read(&self.counters).iter() {
            if due(&cell.touched, &cell.seen_ms) {
                let value = cell.value.load(Ordering::Relaxed);
                let s = series(key, time).property_with_unit(key.name(), value, ValueType::Counter);
                snapshots.push((series_name(key), labels(s, key)));
            }
        }
        for (key, cell) in read(&self.gauges).iter() {
            if due(&cell.touched, &cell.seen_ms) {
                let value = f64::from_bits(cell.value.load(Ordering::Relaxed));
                let unit = unit(key).unwrap_or(ValueType::Gauge);
                let s = series(key, time).property_with_unit(key.name(), value, unit);
                snapshots.push((series_name(key), labels(s, key)));
            }
        }
        for (key, cell) in read(&self.histograms).iter() {
            // Taken whether due or not, so that an idle histogram's old
            // samples never reach a later report.
            let window = std::mem::take(&mut *cell.value.lock().unwrap_or_else(|e| e.into_inner()));
            if due(&cell.touched, &cell.seen_ms) {
                let unit = unit(key).unwrap_or(ValueType::Gauge);
                let s = window.report(series(key, time), key.name(), unit);
                snapshots.push((series_name(key), labels(s, key)));
            }
        }
        if snapshots.is_empty() {
            return None;
        }
        snapshots.sort_by(|a, b| a.0.cmp(&b.0));
        let event = super::report_event(OPERATION, "metrics").time_usec(time);
        Some(snapshots.into_iter().fold(event, |e, (_, s)| e.snapshot(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cost of recording on an application thread.
    ///
    /// `cargo test --release --lib --features metrics recording_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement: run it with --release --ignored --nocapture"]
    fn recording_cost() {
        let recorder = JKoolRecorder {
            registry: Arc::new(Registry::new()),
        };
        let runs = 1_000_000u32;
        ::metrics::with_local_recorder(&recorder, || {
            let start = Instant::now();
            for _ in 0..runs {
                ::metrics::counter!("orders", "region" => "eu").increment(1);
            }
            let lookup = start.elapsed() / runs;
            let counter = ::metrics::counter!("orders", "region" => "eu");
            let histogram = ::metrics::histogram!("latency");
            let start = Instant::now();
            for _ in 0..runs {
                counter.increment(1);
            }
            let cached = start.elapsed() / runs;
            let start = Instant::now();
            for i in 0..runs {
                histogram.record(f64::from(i % 1000));
            }
            let record = start.elapsed() / runs;
            println!("counter!: {lookup:?}, kept counter: {cached:?}, histogram: {record:?}");
        });
    }
}
