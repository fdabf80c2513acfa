//! Operation metrics: per span name, how many spans closed, how many
//! failed, and how long they took (`Builder::operation_metrics` has the
//! table). Counted on the delivery thread as the worker takes each closed
//! span from the queue, before sampling, so that sampled-out spans count
//! too; reported every interval as one event. Each name's snapshot names
//! its interval's slowest span (its trace and tracking ids), sampled out or
//! not: an exemplar that leads from the metric to one trace.

use std::collections::HashMap;
use std::sync::Mutex;
use std::thread::ThreadId;

use super::histogram::Window;
use crate::item::clock::now_usec;
use crate::item::model::{ActivityRecord, Common, Item, TrackingId};
use crate::item::trace_id::TraceId;
use crate::{JKoolEvent, Snapshot, ValueType};

/// The `operation` of an operation metrics report.
pub(crate) const OPERATION: &str = "tracing-jkool.operations";
/// The category of its snapshots.
pub(crate) const CATEGORY: &str = "Operation";
/// The most span names with a snapshot of their own; spans of later names
/// are counted under [`OTHER`].
pub(crate) const MAX_NAMES: usize = 1_000;
/// The snapshot of the spans past [`MAX_NAMES`] (and of spans named so).
pub(crate) const OTHER: &str = "other";
/// The most elapsed times kept per name and interval for the percentiles:
/// at most about 8 MB for [`MAX_NAMES`] busy names.
const SAMPLES: usize = 1024;
/// The percentiles reported, with their property names.
const PERCENTILES: [(&str, f64); 3] = [
    ("ElapsedP50", 0.5),
    ("ElapsedP90", 0.9),
    ("ElapsedP99", 0.99),
];

/// A closed span's ids, as its activity carries them: kept as they are
/// (a UUID, a trace id's bytes) and written as text only in the report.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    /// The trace: the first correlator in the activity's `corrid`.
    pub(crate) trace_id: Option<TraceId>,
    /// The activity's `tracking-id`.
    pub(crate) tracking_id: Option<TrackingId>,
}

impl Ids {
    /// The ids `common`'s activity is sent with: a `jkool.tracking_id`
    /// recorded after its span began wins, as it does on the wire.
    fn of(common: &Common) -> Ids {
        let recorded = common.fields.jkool().and_then(|j| j.tracking_id.as_deref());
        let tracking_id = match (recorded, &common.tracking_id) {
            (Some(text), Some(TrackingId::Custom(id))) if **id == *text => {
                common.tracking_id.clone()
            }
            (Some(text), _) => Some(TrackingId::Custom(text.into())),
            (None, id) => id.clone(),
        };
        Ids {
            trace_id: common.trace_id,
            tracking_id,
        }
    }
}

/// The slowest span of a name in an interval, the first of equals.
#[derive(Debug)]
struct Slowest {
    elapsed_usec: u64,
    ids: Ids,
}

/// The figures of one span name.
#[derive(Debug)]
struct Figures {
    /// Spans closed since the start.
    count: u64,
    /// Of them, those that failed.
    errors: u64,
    /// Elapsed times in microseconds since the last report.
    elapsed: Window,
    /// The slowest span since the last report.
    slowest: Option<Slowest>,
}

impl Default for Figures {
    fn default() -> Self {
        Figures {
            count: 0,
            errors: 0,
            elapsed: Window::with_limit(SAMPLES),
            slowest: None,
        }
    }
}

impl Figures {
    /// Counts a span; `ids` is asked for only when it is the slowest yet,
    /// so that the others cost one comparison more.
    fn record(&mut self, elapsed_usec: u64, failed: bool, ids: impl FnOnce() -> Ids) {
        self.count += 1;
        self.errors += u64::from(failed);
        self.elapsed.record(elapsed_usec as f64);
        if (self.slowest.as_ref()).is_none_or(|slowest| elapsed_usec > slowest.elapsed_usec) {
            let ids = ids();
            self.slowest = Some(Slowest { elapsed_usec, ids });
        }
    }

    /// The counts and this interval's elapsed times and slowest span; the
    /// interval starts over.
    fn take(&mut self) -> Figures {
        Figures {
            count: self.count,
            errors: self.errors,
            elapsed: std::mem::take(&mut self.elapsed),
            slowest: self.slowest.take(),
        }
    }

    /// The snapshot `name` of these figures.
    fn snapshot(mut self, name: &str, time: i64) -> Snapshot {
        let snapshot = Snapshot::new(name).category(CATEGORY).time_usec(time);
        let snapshot = snapshot
            .property_with_unit("Count", self.count, ValueType::Counter)
            .property_with_unit("Errors", self.errors, ValueType::Counter);
        let (Some(values), Some(max)) = (
            self.elapsed.quantiles(PERCENTILES.map(|(_, p)| p)),
            self.elapsed.max(),
        ) else {
            // No span of this name closed in the interval.
            return snapshot;
        };
        let names = PERCENTILES.iter().map(|(name, _)| *name);
        let snapshot = names.zip(values).chain([("ElapsedMax", max)]).fold(
            snapshot,
            |snapshot, (name, usec)| {
                snapshot.property_with_unit(name, usec as u64, ValueType::AgeUsec)
            },
        );
        let Some(Slowest { ids, .. }) = self.slowest else {
            return snapshot;
        };
        let snapshot = match ids.trace_id {
            Some(trace_id) => snapshot.property("MaxTraceId", trace_id.to_string()),
            None => snapshot,
        };
        match ids.tracking_id {
            Some(id) => {
                let text = id.as_str(&mut uuid::Uuid::encode_buffer()).to_owned();
                snapshot.property("MaxTrackingId", text)
            }
            None => snapshot,
        }
    }
}

/// The figures by span name, at most [`MAX_NAMES`] of them and `other`.
#[derive(Debug, Default)]
struct Table {
    names: HashMap<&'static str, Figures>,
    other: Option<Figures>,
}

impl Table {
    fn figures(&mut self, name: &'static str) -> &mut Figures {
        if name != OTHER && (self.names.len() < MAX_NAMES || self.names.contains_key(name)) {
            return self.names.entry(name).or_default();
        }
        self.other.get_or_insert_with(Figures::default)
    }

    /// Every name's figures, by name, `other` last; the intervals start
    /// over.
    fn take(&mut self) -> Vec<(&'static str, Figures)> {
        let mut taken: Vec<_> = (self.names.iter_mut())
            .map(|(name, figures)| (*name, figures.take()))
            .collect();
        taken.sort_unstable_by_key(|(name, _)| *name);
        taken.extend(self.other.as_mut().map(|other| (OTHER, other.take())));
        taken
    }
}

/// The operation metrics, shared by the worker, which counts, and the
/// periodic report.
#[derive(Debug, Default)]
pub(crate) struct Operations {
    table: Mutex<Table>,
}

impl crate::handle::stats::Observer for Operations {
    fn observe(&self, item: &Item) {
        Operations::observe(self, item);
    }

    fn report(&self) -> Option<JKoolEvent> {
        Operations::report(self)
    }
}

impl Operations {
    /// Counts an item the worker took from the queue: a closed span's
    /// name, elapsed time, failure and, when it is the slowest yet, ids.
    pub(crate) fn observe(&self, item: &Item) {
        if let Item::Activity(activity) = item {
            self.record_activity(activity);
        }
    }

    fn record_activity(&self, activity: &ActivityRecord) {
        let elapsed = activity
            .common
            .time_usec
            .saturating_sub(activity.start_usec);
        let elapsed = u64::try_from(elapsed).unwrap_or(0);
        let failed = activity.failure.is_some();
        let ids = || Ids::of(&activity.common);
        self.record(activity.common.meta.name(), elapsed, failed, ids);
    }

    /// Counts a span of `name` that took `elapsed_usec` and `failed` or
    /// not; `ids` gives its ids if it is its interval's slowest yet.
    pub(crate) fn record(
        &self,
        name: &'static str,
        elapsed_usec: u64,
        failed: bool,
        ids: impl FnOnce() -> Ids,
    ) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        table.figures(name).record(elapsed_usec, failed, ids);
    }

    /// The report of the figures so far; `None` before any span closed.
    pub(crate) fn report(&self) -> Option<JKoolEvent> {
        let taken = self.table.lock().unwrap_or_else(|e| e.into_inner()).take();
        if taken.is_empty() {
            return None;
        }
        let time = now_usec();
        let event = super::report_event(OPERATION, "tracing-jkool operations").time_usec(time);
        Some(taken.into_iter().fold(event, |event, (name, figures)| {
            event.snapshot(figures.snapshot(name, time))
        }))
    }

    /// The report for the periodic task, whose setup ran on the thread
    /// `delivery`; `None` anywhere else (shutdown's hook): the last report
    /// is made by the delivery thread as it stops, once it took every
    /// span queued before, those `shutdown` closed included.
    pub(crate) fn report_on(&self, delivery: ThreadId) -> Option<JKoolEvent> {
        if std::thread::current().id() != delivery {
            return None;
        }
        self.report()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name made at run time, as a span's name is `'static`.
    fn name(i: usize) -> &'static str {
        Box::leak(format!("span-{i:04}").into_boxed_str())
    }

    fn snapshots(event: &JKoolEvent) -> Vec<serde_json::Value> {
        let json = serde_json::to_value(event).expect("serializes");
        json["snapshots"].as_array().cloned().unwrap_or_default()
    }

    fn prop(snapshot: &serde_json::Value, name: &str) -> Option<serde_json::Value> {
        (snapshot["properties"].as_array()?.iter())
            .find(|p| p["name"] == name)
            .cloned()
    }

    #[test]
    fn past_a_thousand_names_the_rest_fold_into_other() {
        let operations = Operations::default();
        let names: Vec<_> = (0..1_100).map(name).collect();
        for (i, name) in names.iter().enumerate() {
            operations.record(name, 10, i % 2 == 0, Ids::default);
        }
        // A name with its own snapshot keeps it; a span named `other`
        // goes with the folded ones.
        operations.record(names[5], 30, false, Ids::default);
        operations.record(OTHER, 20, true, Ids::default);
        let snapshots = snapshots(&operations.report().expect("a report"));
        assert_eq!(snapshots.len(), MAX_NAMES + 1);
        let other = snapshots.last().expect("other");
        assert_eq!(other["name"], OTHER);
        assert_eq!(other["category"], CATEGORY);
        let count = |s: &serde_json::Value, p: &str| prop(s, p).map(|p| p["value"].clone());
        assert_eq!(count(other, "Count"), Some(101.into()));
        assert_eq!(count(other, "Errors"), Some(51.into()));
        assert_eq!(count(other, "ElapsedMax"), Some(20.into()));
        let fifth = snapshots.iter().find(|s| s["name"] == names[5]).expect("5");
        assert_eq!(count(fifth, "Count"), Some(2.into()));
        assert_eq!(count(fifth, "ElapsedMax"), Some(30.into()));
        assert!(snapshots.iter().all(|s| s["name"] != names[1_050]));
    }

    #[test]
    fn counts_accumulate_and_elapsed_times_cover_the_interval() {
        let operations = Operations::default();
        assert!(operations.report().is_none(), "nothing closed yet");
        for usec in 1..=100 {
            operations.record("request", usec, usec % 20 == 0, Ids::default);
        }
        let first = &snapshots(&operations.report().expect("first"))[0];
        let value = |s: &serde_json::Value, p: &str| prop(s, p).map(|p| p["value"].clone());
        assert_eq!(value(first, "Count"), Some(100.into()));
        assert_eq!(value(first, "Errors"), Some(5.into()));
        assert_eq!(value(first, "ElapsedP50"), Some(50.into()));
        assert_eq!(value(first, "ElapsedP90"), Some(90.into()));
        assert_eq!(value(first, "ElapsedP99"), Some(99.into()));
        assert_eq!(value(first, "ElapsedMax"), Some(100.into()));
        let p99 = prop(first, "ElapsedP99").expect("P99");
        assert_eq!(p99["value-type"], "age.usec", "{p99}");
        let count = prop(first, "Count").expect("Count");
        assert_eq!(count["value-type"], "counter", "{count}");
        // An idle interval: the counts stay, the times are left out.
        let idle = &snapshots(&operations.report().expect("second"))[0];
        assert_eq!(value(idle, "Count"), Some(100.into()));
        assert_eq!(value(idle, "ElapsedMax"), None);
        operations.record("request", 7, false, Ids::default);
        let third = &snapshots(&operations.report().expect("third"))[0];
        assert_eq!(value(third, "Count"), Some(101.into()));
        assert_eq!(value(third, "ElapsedP50"), Some(7.into()));
    }

    #[test]
    fn each_interval_names_its_slowest_span_the_first_of_equals() {
        let operations = Operations::default();
        let asked = std::cell::Cell::new(0);
        let ids = |n: u8| {
            let asked = &asked;
            move || {
                asked.set(asked.get() + 1);
                Ids {
                    trace_id: TraceId::from_bytes([n; 16]),
                    tracking_id: Some(TrackingId::Uuid(uuid::Uuid::from_u128(n.into()))),
                }
            }
        };
        for (n, usec) in [(1, 10), (2, 30), (3, 20), (4, 30), (5, 5)] {
            operations.record("request", usec, false, ids(n));
        }
        assert_eq!(asked.get(), 2, "only a new slowest span's ids are taken");
        let text = |s: &serde_json::Value, p: &str| {
            let p = prop(s, p)?;
            assert_eq!(p["type"], "string", "{p}");
            assert!(p.get("value-type").is_none(), "{p}");
            p["value"].as_str().map(str::to_owned)
        };
        let first = &snapshots(&operations.report().expect("first"))[0];
        assert_eq!(
            text(first, "MaxTraceId").as_deref(),
            Some(&*"02".repeat(16))
        );
        let second_uuid = "00000000-0000-0000-0000-000000000002";
        assert_eq!(text(first, "MaxTrackingId").as_deref(), Some(second_uuid));
        // An idle interval names no span; the next names its own slowest,
        // however fast.
        let idle = &snapshots(&operations.report().expect("idle"))[0];
        assert_eq!(text(idle, "MaxTraceId"), None);
        assert_eq!(text(idle, "MaxTrackingId"), None);
        operations.record("request", 1, false, ids(6));
        operations.record("request", 1, false, Ids::default);
        let third = &snapshots(&operations.report().expect("third"))[0];
        assert_eq!(
            text(third, "MaxTraceId").as_deref(),
            Some(&*"06".repeat(16))
        );
    }
}
