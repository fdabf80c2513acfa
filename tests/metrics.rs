//! Measurements: process metrics, the `metrics` facade's recorder and the
//! pipeline's own health, as the collector on 127.0.0.1 receives them.

mod common;

use std::time::{Duration, Instant};

use serde_json::Value;
use tracing_jkool::JKoolLayer;
use tracing_jkool_collector::Collector;

use common::{builder, collector, WAIT};

/// Waits until `n` items with `operation` have arrived; returns them in
/// arrival order.
fn wait_for(collector: &Collector, operation: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    // Bounded by the deadline.
    loop {
        let found: Vec<Value> = collector
            .items()
            .into_iter()
            .filter(|i| i["operation"] == operation)
            .collect();
        if found.len() >= n || Instant::now() >= deadline {
            assert!(found.len() >= n, "{n} x {operation}: {found:#?}");
            return found;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The snapshot `name` of an item.
fn snapshot<'a>(item: &'a Value, name: &str) -> &'a Value {
    item["snapshots"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no snapshot {name} in {item:#}"))
}

/// The property `name` of a snapshot.
fn prop<'a>(snapshot: &'a Value, name: &str) -> &'a Value {
    snapshot["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no property {name} in {snapshot:#}"))
}

fn has_prop(snapshot: &Value, name: &str) -> bool {
    snapshot["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["name"] == name)
}

/// Asserts a property's data type and value type.
fn assert_typed(snapshot: &Value, name: &str, data_type: &str, value_type: &str) {
    let p = prop(snapshot, name);
    assert_eq!(p["type"], data_type, "{name}: {p}");
    assert_eq!(p["value-type"], value_type, "{name}: {p}");
}

#[test]
fn process_metrics_use_tnt4j_names_and_types() {
    let collector = collector();
    let layer = builder(&collector)
        .process_metrics(Duration::from_millis(100))
        .build()
        .unwrap();
    let reports = wait_for(&collector, "process.metrics", 1);
    let report = &reports[0];
    common::assert_contract(report);
    assert_eq!(report["type"], "EVENT");
    assert_eq!(report["msg-text"], "process metrics");
    for name in ["CPU", "Memory", "Thread"] {
        assert_eq!(snapshot(report, name)["category"], "Process");
    }
    let cpu = snapshot(report, "CPU");
    assert_typed(cpu, "TotalCpuUsec", "long", "age.usec");
    assert_typed(cpu, "Usage", "double", "percent");
    let memory = snapshot(report, "Memory");
    assert_typed(memory, "UsedBytes", "long", "size.byte");
    assert_typed(memory, "VirtualBytes", "long", "size.byte");
    let thread = snapshot(report, "Thread");
    #[cfg(not(windows))]
    assert_typed(thread, "Count", "long", "gauge");
    assert_typed(thread, "OpenFiles", "long", "gauge");
    assert!(prop(memory, "UsedBytes")["value"].as_u64().unwrap() > 0);
    layer.handle().shutdown(WAIT).unwrap();
}

#[test]
fn used_bytes_grow_after_touching_50_mb() {
    let collector = collector();
    let layer = builder(&collector)
        .process_metrics(Duration::from_millis(50))
        .build()
        .unwrap();
    let used = |report: &Value| {
        prop(snapshot(report, "Memory"), "UsedBytes")["value"]
            .as_u64()
            .unwrap()
    };
    let before = used(wait_for(&collector, "process.metrics", 1).last().unwrap());
    // vec! of a non-zero byte writes every page.
    let block = std::hint::black_box(vec![1u8; 50 << 20]);
    let seen = wait_for(&collector, "process.metrics", 1).len();
    let after = used(
        wait_for(&collector, "process.metrics", seen + 2)
            .last()
            .unwrap(),
    );
    assert!(
        after >= before + (40 << 20),
        "before {before}, after {after}"
    );
    drop(block);
    layer.handle().shutdown(WAIT).unwrap();
}

#[test]
fn self_metrics_report_the_stats() {
    let collector = collector();
    let layer = builder(&collector)
        .self_metrics(Duration::from_secs(1))
        .build()
        .unwrap();
    let jkool = layer.handle();
    for i in 0..5 {
        jkool.send(tracing_jkool::JKoolEvent::new(format!("event {i}")));
    }
    jkool.flush(WAIT).unwrap();
    let stats = jkool.stats();
    assert_eq!((stats.queued, stats.sent), (5, 5));

    let reports = wait_for(&collector, "tracing-jkool.health", 2);
    let first = snapshot(&reports[0], "tracing-jkool");
    assert_eq!(first["category"], "Pipeline");
    for (name, value) in [
        ("queued", stats.queued),
        ("sent", stats.sent),
        ("dropped", stats.dropped),
        ("evicted", stats.evicted),
        ("failed", stats.failed),
        ("retried", stats.retried),
    ] {
        assert_typed(first, name, "long", "counter");
        assert_eq!(prop(first, name)["value"], value, "{name}");
    }
    assert_typed(first, "queue_depth", "long", "gauge");
    assert_eq!(prop(first, "queue_depth")["value"], 0);
    assert_typed(first, "spool_bytes", "long", "size.byte");
    assert_eq!(prop(first, "spool_bytes")["value"], 0);
    // The second report counts the first.
    let second = snapshot(&reports[1], "tracing-jkool");
    assert_eq!(prop(second, "queued")["value"], 6);
    assert_eq!(prop(second, "sent")["value"], 6);

    jkool.shutdown(WAIT).unwrap();
    let stats = jkool.stats();
    assert_eq!(stats.sent as usize, collector.items().len());
    assert_eq!(stats.dropped, 0, "no report after shutdown began");
}

#[test]
fn self_metrics_report_the_spool_size_while_jkool_is_down() {
    let port = common::free_port();
    let dir = std::env::temp_dir().join(format!("tracing-jkool-health-spool-{port}"));
    let layer = tracing_jkool::JKoolLayer::builder(common::TOKEN)
        .url(format!("http://127.0.0.1:{port}"))
        .spool_dir(&dir)
        .self_metrics(Duration::from_millis(200))
        .max_retry_wait(Duration::from_millis(200))
        .build()
        .unwrap();
    let jkool = layer.handle();
    for i in 0..50 {
        jkool.send(tracing_jkool::JKoolEvent::new(format!(
            "during the outage {i}"
        )));
    }
    // Reports are made (and spooled) while nothing can be delivered.
    std::thread::sleep(Duration::from_millis(800));
    assert!(jkool.stats().spool_bytes > 0, "{:?}", jkool.stats());
    let collector = common::start_on(port);
    jkool.flush(WAIT).unwrap();
    let reports = wait_for(&collector, "tracing-jkool.health", 1);
    let sizes: Vec<u64> = reports
        .iter()
        .map(|r| {
            prop(snapshot(r, "tracing-jkool"), "spool_bytes")["value"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(sizes.iter().any(|&bytes| bytes > 0), "{sizes:?}");
    jkool.shutdown(WAIT).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_disabled_pipeline_sends_no_reports() {
    let collector = collector();
    let layer = builder(&collector).build().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    layer.handle().shutdown(WAIT).unwrap();
    assert!(collector.items().is_empty());
    let err = JKoolLayer::builder("t")
        .process_metrics(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid setting process_metrics: must be longer than zero"
    );
}

#[cfg(feature = "metrics")]
mod recorder {
    use super::*;

    #[test]
    fn counters_gauges_histograms_and_labels_have_exact_names_and_types() {
        let collector = collector();
        let jkool = builder(&collector).build().unwrap().handle();
        let recorder = jkool.metrics_recorder(Duration::from_millis(100));
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_histogram!("latency", metrics::Unit::Milliseconds, "latency");
            metrics::counter!("requests", "method" => "GET", "code" => "200").increment(3);
            metrics::gauge!("queue.length").set(2.5);
            metrics::gauge!("queue.length").increment(1.0);
            metrics::histogram!("size").record(4.0);
            metrics::histogram!("latency").record(7.0);
        });
        let report = &wait_for(&collector, "metrics", 1)[0];
        common::assert_contract(report);
        assert_eq!(report["msg-text"], "metrics");
        let names: Vec<&str> = report["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "latency",
                "queue.length",
                "requests{method=GET,code=200}",
                "size"
            ]
        );

        let requests = snapshot(report, "requests{method=GET,code=200}");
        assert_eq!(requests["category"], "Metrics");
        assert_typed(requests, "requests", "long", "counter");
        assert_eq!(prop(requests, "requests")["value"], 3);
        assert_eq!(prop(requests, "method")["type"], "string");
        assert_eq!(prop(requests, "method")["value"], "GET");
        assert_eq!(prop(requests, "code")["value"], "200");

        let gauge = snapshot(report, "queue.length");
        assert_typed(gauge, "queue.length", "double", "gauge");
        assert_eq!(prop(gauge, "queue.length")["value"], 3.5);

        let size = snapshot(report, "size");
        assert_typed(size, "size.count", "long", "gauge");
        for stat in ["min", "max", "mean", "p50", "p90", "p99"] {
            assert_typed(size, &format!("size.{stat}"), "double", "gauge");
            assert_eq!(prop(size, &format!("size.{stat}"))["value"], 4.0);
        }
        let latency = snapshot(report, "latency");
        assert_typed(latency, "latency.p99", "double", "age.msec");
        jkool.shutdown(WAIT).unwrap();
    }

    #[test]
    fn shutdown_sends_a_last_report_with_what_changed_since_the_interval() {
        // A run shorter than the interval: only shutdown's report tells.
        let collector = collector();
        let jkool = builder(&collector).build().unwrap().handle();
        let recorder = jkool.metrics_recorder(Duration::from_secs(60));
        // The recorder's task starts on the delivery thread.
        std::thread::sleep(Duration::from_millis(100));
        metrics::with_local_recorder(&recorder, || {
            for _ in 0..35 {
                metrics::counter!("orders").increment(2);
            }
        });
        jkool.shutdown(WAIT).expect("delivered");
        let reports: Vec<Value> = (collector.items().into_iter())
            .filter(|i| i["operation"] == "metrics")
            .collect();
        assert_eq!(reports.len(), 1, "{reports:#?}");
        assert_eq!(prop(snapshot(&reports[0], "orders"), "orders")["value"], 70);
    }

    #[test]
    fn a_counter_reads_its_cumulative_value_in_the_last_report() {
        let collector = collector();
        let jkool = builder(&collector).build().unwrap().handle();
        let recorder = jkool.metrics_recorder(Duration::from_millis(50));
        metrics::with_local_recorder(&recorder, || {
            for _ in 0..35 {
                metrics::counter!("orders").increment(2);
            }
        });
        let orders = |r: &Value| prop(snapshot(r, "orders"), "orders")["value"].clone();
        // A report taken after the last increment, then shutdown.
        let deadline = Instant::now() + WAIT;
        while !wait_for(&collector, "metrics", 1)
            .iter()
            .any(|r| orders(r) == 70)
        {
            assert!(Instant::now() < deadline, "no report reads 70");
            std::thread::sleep(Duration::from_millis(10));
        }
        jkool.shutdown(WAIT).unwrap();
        let reports = wait_for(&collector, "metrics", 1);
        assert_eq!(orders(reports.last().unwrap()), 70);
        assert!(reports.iter().all(|r| orders(r).as_u64() <= Some(70)));
    }

    #[test]
    fn a_histogram_reports_exact_count_min_max_and_quantiles() {
        let collector = collector();
        let jkool = builder(&collector).build().unwrap().handle();
        let recorder = jkool.metrics_recorder(Duration::from_millis(400));
        metrics::with_local_recorder(&recorder, || {
            let histogram = metrics::histogram!("latency");
            // 1..=100, shuffled by a fixed stride.
            for i in 0..100u32 {
                histogram.record(f64::from((i * 37) % 100 + 1));
            }
        });
        let report = &wait_for(&collector, "metrics", 1)[0];
        let latency = snapshot(report, "latency");
        let value = |stat: &str| prop(latency, &format!("latency.{stat}"))["value"].clone();
        assert_eq!(value("count"), 100);
        for (stat, expected) in [
            ("min", 1.0),
            ("max", 100.0),
            ("mean", 50.5),
            ("p50", 50.0),
            ("p90", 90.0),
            ("p99", 99.0),
        ] {
            assert_eq!(value(stat), expected, "{stat}");
        }
        // The next interval has no samples: only the count, 0.
        let next = &wait_for(&collector, "metrics", 2)[1];
        let latency = snapshot(next, "latency");
        assert_eq!(prop(latency, "latency.count")["value"], 0);
        assert!(!has_prop(latency, "latency.min"));
        jkool.shutdown(WAIT).unwrap();
    }

    #[test]
    fn an_idle_metric_leaves_the_reports_after_the_idle_timeout() {
        let collector = collector();
        let jkool = builder(&collector).build().unwrap().handle();
        let recorder = jkool
            .metrics_recorder(Duration::from_millis(50))
            .idle_timeout(Duration::from_millis(300));
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("idle").increment(1);
            // Bounded: 40 updates, 20 ms apart.
            for _ in 0..40 {
                metrics::counter!("busy").increment(1);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        jkool.flush(WAIT).unwrap();
        let reports = wait_for(&collector, "metrics", 2);
        let has_idle = |r: &Value| {
            r["snapshots"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["name"] == "idle")
        };
        assert!(has_idle(&reports[0]), "{:#}", reports[0]);
        let last = reports.last().unwrap();
        assert!(!has_idle(last), "{last:#}");
        snapshot(last, "busy");
        jkool.shutdown(WAIT).unwrap();
    }

    #[test]
    fn the_recorder_debug_shows_its_size() {
        let collector = collector();
        let jkool = builder(&collector).build().unwrap().handle();
        let recorder = jkool.metrics_recorder(Duration::from_secs(60));
        metrics::with_local_recorder(&recorder, || metrics::counter!("a").increment(1));
        assert_eq!(
            format!("{recorder:?}"),
            "JKoolRecorder { counters: 1, gauges: 0, histograms: 0, idle_timeout: 300s }"
        );
        jkool.shutdown(WAIT).unwrap();
    }
}
