//! Operation metrics: spans counted by name before sampling, with their
//! failures, elapsed percentiles and slowest span (the exemplar), as the
//! collector on 127.0.0.1 receives the `tracing-jkool.operations` reports.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tracing::{error, info_span, instrument, Span};
use tracing_jkool::propagation::JKoolSpanExt;
use tracing_jkool::{Error, Sampler};
use tracing_jkool_collector::Collector;

const OPERATION: &str = "tracing-jkool.operations";

/// The operation reports received so far, oldest first.
fn reports(collector: &Collector) -> Vec<Value> {
    let mut reports: Vec<Value> = collector
        .items()
        .into_iter()
        .filter(|i| i["operation"] == OPERATION)
        .collect();
    reports.sort_by_key(|r| r["time-usec"].as_i64());
    reports
}

/// Waits, at most [`WAIT`], until `n` reports have arrived.
fn wait_for_reports(collector: &Collector, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    // Bounded by the deadline.
    loop {
        let found = reports(collector);
        if found.len() >= n || Instant::now() >= deadline {
            assert!(found.len() >= n, "{n} reports: {found:#?}");
            return found;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The snapshot `name` of a report.
fn snapshot<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["snapshots"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no snapshot {name} in {report:#}"))
}

/// The property `name` of a snapshot, which must be of data type `kind`.
fn typed<'a>(snapshot: &'a Value, name: &str, kind: &str) -> &'a Value {
    let p = snapshot["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no property {name} in {snapshot:#}"));
    assert_eq!(p["type"], kind, "{name}: {p}");
    p
}

/// The property `name` of a snapshot, which must be a `long` of
/// `value_type`.
fn long(snapshot: &Value, name: &str, value_type: &str) -> i64 {
    let p = typed(snapshot, name, "long");
    assert_eq!(p["value-type"], value_type, "{name}: {p}");
    p["value"].as_i64().expect("a long")
}

/// A step of a request; every 20th fails with an error inside it.
#[instrument]
fn step(i: u32) {
    if i % 20 == 0 {
        error!(i, "step failed");
    }
}

#[test]
fn every_span_counts_before_sampling() {
    let collector = collector();
    let (dispatch, handle) = dispatch(
        builder(&collector)
            .sampler(Sampler::ratio(0.1))
            .operation_metrics(Duration::from_secs(3600)),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..1_000u32 {
            let _request = info_span!("request", i).entered();
            step(i);
        }
    });
    let stats = first_flush(&handle);
    assert!(
        stats.sampled_out > 0,
        "most traces are sampled out: {stats:?}"
    );
    assert!(reports(&collector).is_empty(), "the interval is an hour");
    handle.shutdown(WAIT).expect("shuts down");

    let items = collector.items();
    let activities = items.iter().filter(|i| i["type"] == "ACTIVITY").count();
    assert!(activities < 1_000, "sampled: {activities} of 2000 sent");
    let reports = reports(&collector);
    assert_eq!(reports.len(), 1, "the last report, by shutdown");
    let report = &reports[0];
    assert_contract(report);
    assert_eq!(report["type"], "EVENT");
    assert_eq!(report["msg-text"], "tracing-jkool operations");

    let step = snapshot(report, "step");
    assert_eq!(step["category"], "Operation");
    assert_eq!(long(step, "Count", "counter"), 1_000);
    assert_eq!(long(step, "Errors", "counter"), 50);
    let request = snapshot(report, "request");
    assert_eq!(long(request, "Count", "counter"), 1_000);
    assert_eq!(
        long(request, "Errors", "counter"),
        0,
        "the error was in step"
    );
    for snapshot in [step, request] {
        let [p50, p90, p99, max] = ["ElapsedP50", "ElapsedP90", "ElapsedP99", "ElapsedMax"]
            .map(|name| long(snapshot, name, "age.usec"));
        assert!(
            0 <= p50 && p50 <= p90 && p90 <= p99 && p99 <= max,
            "{snapshot:#}"
        );
    }
    // A request holds its step: its slowest is at least the step's.
    let request_max = long(request, "ElapsedMax", "age.usec");
    assert!(request_max >= long(step, "ElapsedMax", "age.usec"));
}

#[test]
fn reports_come_every_interval_and_counts_only_grow() {
    let collector = collector();
    let (dispatch, handle) =
        dispatch(builder(&collector).operation_metrics(Duration::from_millis(200)));
    let mut made = 0;
    tracing::dispatcher::with_default(&dispatch, || {
        let until = Instant::now() + Duration::from_millis(900);
        // Bounded by `until`.
        while Instant::now() < until {
            let _work = info_span!("work").entered();
            made += 1;
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let running = wait_for_reports(&collector, 3);
    let first = snapshot(&running[0], "work");
    assert!(long(first, "Count", "counter") > 0, "{first:#}");
    assert!(long(first, "ElapsedMax", "age.usec") >= 5_000, "{first:#}");
    handle.shutdown(WAIT).expect("shuts down");

    let reports = reports(&collector);
    let counts: Vec<i64> = reports
        .iter()
        .map(|r| long(snapshot(r, "work"), "Count", "counter"))
        .collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert_eq!(counts.last(), Some(&made), "{counts:?}");
}

#[test]
fn a_run_shorter_than_the_interval_reports_at_shutdown() {
    let collector = collector();
    let (dispatch, handle) =
        dispatch(builder(&collector).operation_metrics(Duration::from_secs(3600)));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..500u32 {
            let _request = info_span!("request", i).entered();
        }
    });
    // No flush first: the spans just closed may still be in the queue.
    handle.shutdown(WAIT).expect("shuts down");
    let reports = reports(&collector);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let request = snapshot(&reports[0], "request");
    assert_eq!(long(request, "Count", "counter"), 500, "{request:#}");
}

#[test]
fn off_by_default_and_zero_is_refused() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector));
    tracing::dispatcher::with_default(&dispatch, || {
        let _work = info_span!("work").entered();
    });
    handle.shutdown(WAIT).expect("shuts down");
    let activities = of_type(&collector.items(), "ACTIVITY").len();
    assert_eq!(activities, 1, "the span arrived");
    assert!(reports(&collector).is_empty(), "no operation report");

    let err = builder(&collector)
        .operation_metrics(Duration::ZERO)
        .build()
        .expect_err("a zero interval");
    assert!(
        matches!(
            err,
            Error::InvalidSetting {
                setting: "operation_metrics",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn the_last_report_counts_the_spans_shutdown_closes() {
    let collector = collector();
    let (dispatch, handle) =
        dispatch(builder(&collector).operation_metrics(Duration::from_secs(3600)));
    let open = tracing::dispatcher::with_default(&dispatch, || {
        let _done = info_span!("done").entered();
        info_span!("still_open")
    });
    handle.shutdown(WAIT).expect("shuts down");
    let reports = reports(&collector);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(long(snapshot(&reports[0], "done"), "Count", "counter"), 1);
    let open_one = snapshot(&reports[0], "still_open");
    assert_eq!(long(open_one, "Count", "counter"), 1, "{open_one:#}");
    drop(open);
}

/// The property `name` of a snapshot, which must be a `string`.
fn text<'a>(snapshot: &'a Value, name: &str) -> &'a str {
    let p = typed(snapshot, name, "string");
    assert!(p.get("value-type").is_none(), "{name}: {p}");
    p["value"].as_str().expect("a string")
}

/// A lookup, a trace of its own, that runs `inside` while it is open;
/// returns its tracking id and trace id as the span tells them.
#[instrument(parent = None, skip(inside))]
fn lookup(i: u32, inside: &dyn Fn()) -> (String, String) {
    inside();
    let span = Span::current();
    let tracking_id = span.tracking_id().expect("a tracking id");
    (
        tracking_id,
        span.trace_id().expect("a trace id").to_string(),
    )
}

/// Lookup 0 holds lookups 1 to 19 and a 20 ms wait: the slowest by
/// construction, not by timing. Returns each lookup's ids, by number.
fn lookups() -> Vec<(String, String)> {
    let inner = std::sync::Mutex::new(Vec::new());
    let slowest = lookup(0, &|| {
        for i in 1..20 {
            inner.lock().unwrap().push(lookup(i, &|| ()));
        }
        std::thread::sleep(Duration::from_millis(20));
    });
    let mut ids = vec![slowest];
    ids.extend(inner.into_inner().unwrap());
    ids
}

#[test]
fn the_slowest_span_of_a_name_names_its_activity_and_trace() {
    let collector = collector();
    let (dispatch, handle) =
        dispatch(builder(&collector).operation_metrics(Duration::from_secs(3600)));
    let ids = tracing::dispatcher::with_default(&dispatch, lookups);
    handle.shutdown(WAIT).expect("shuts down");

    let items = collector.items();
    let activities = of_type(&items, "ACTIVITY");
    assert_eq!(activities.len(), 20, "every lookup arrived");
    let slowest = activities
        .iter()
        .find(|a| property(a, "i")["value"] == 0)
        .expect("lookup 0 arrived");
    let reports = reports(&collector);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let lookup = snapshot(&reports[0], "lookup");
    assert_eq!(long(lookup, "Count", "counter"), 20);
    assert!(
        long(lookup, "ElapsedMax", "age.usec") >= 20_000,
        "{lookup:#}"
    );
    let tracking_id = text(lookup, "MaxTrackingId");
    assert_eq!(tracking_id, slowest["tracking-id"], "{slowest:#}");
    let trace_id = text(lookup, "MaxTraceId");
    assert_eq!(trace_id, slowest["corrid"][0], "{slowest:#}");
    assert_eq!((tracking_id, trace_id), (&*ids[0].0, &*ids[0].1));
    let others = activities
        .iter()
        .filter(|a| a["tracking-id"] != tracking_id);
    assert_eq!(others.count(), 19, "one activity is the exemplar");
}

#[test]
fn a_sampled_out_slowest_span_is_still_the_exemplar() {
    let collector = collector();
    let (dispatch, handle) = dispatch(
        builder(&collector)
            .sampler(Sampler::ratio(0.0))
            .operation_metrics(Duration::from_secs(3600)),
    );
    let ids = tracing::dispatcher::with_default(&dispatch, lookups);
    let stats = first_flush(&handle);
    assert_eq!(stats.sampled_out, 20, "every trace left out: {stats:?}");
    handle.shutdown(WAIT).expect("shuts down");

    let items = collector.items();
    assert!(of_type(&items, "ACTIVITY").is_empty(), "{items:#?}");
    let reports = reports(&collector);
    assert_eq!(reports.len(), 1, "{reports:#?}");
    let lookup = snapshot(&reports[0], "lookup");
    let (tracking_id, trace_id) = &ids[0];
    assert_eq!(text(lookup, "MaxTrackingId"), tracking_id, "{lookup:#}");
    assert_eq!(text(lookup, "MaxTraceId"), trace_id, "{lookup:#}");
}

#[test]
fn a_tracking_id_recorded_late_is_the_one_the_exemplar_names() {
    let collector = collector();
    let (dispatch, handle) =
        dispatch(builder(&collector).operation_metrics(Duration::from_secs(3600)));
    tracing::dispatcher::with_default(&dispatch, || {
        let order = info_span!(parent: None, "order", jkool.tracking_id = tracing::field::Empty);
        let _order = order.enter();
        // Held by the slow one, so faster by construction.
        drop(info_span!(parent: None, "order").entered());
        std::thread::sleep(Duration::from_millis(5));
        order.record("jkool.tracking_id", "order-7");
    });
    handle.shutdown(WAIT).expect("shuts down");

    let items = collector.items();
    let slowest = find(&items, "tracking-id", "order-7");
    let reports = reports(&collector);
    let order = snapshot(&reports[0], "order");
    assert_eq!(text(order, "MaxTrackingId"), "order-7", "{order:#}");
    assert_eq!(text(order, "MaxTraceId"), slowest["corrid"][0]);
}
