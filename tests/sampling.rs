//! Sampling: a fraction of traces decided by trace id, every trace that
//! failed kept whole, no trace in part, two services agreeing, the memory
//! a trace that never ends can take, and a budget of traces a second.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tracing::{error, info, info_span};
use tracing_jkool::propagation::{JKoolSpanExt, TraceContext};
use tracing_jkool::{Error, Framing, Sampler};
use tracing_jkool_collector::Collector;

/// The items that arrived, by the trace id in their `corrid`.
fn by_trace(items: &[Value]) -> HashMap<String, Vec<&Value>> {
    let mut traces: HashMap<String, Vec<&Value>> = HashMap::new();
    for item in items {
        let corrids = item["corrid"].as_array().cloned().unwrap_or_default();
        let trace = corrids
            .iter()
            .filter_map(Value::as_str)
            .find(|c| c.len() == 32)
            .map(str::to_owned);
        traces
            .entry(trace.unwrap_or_default())
            .or_default()
            .push(item);
    }
    traces
}

/// The value of the root activity's `sample_rate`, in a trace's items.
fn sample_rate(items: &[&Value]) -> f64 {
    let root = items
        .iter()
        .find(|i| i["type"] == "ACTIVITY" && i.get("parent-id").is_none())
        .expect("a root activity");
    property(root, "sample_rate")["value"]
        .as_f64()
        .expect("a double")
}

/// Each item's text, or an activity's operation, sorted: events and
/// activities go by requests of their own, in any order.
fn texts_and_operations(items: &[Value]) -> Vec<&str> {
    let mut texts: Vec<&str> = items
        .iter()
        .filter_map(|i| i["msg-text"].as_str().or(i["operation"].as_str()))
        .collect();
    texts.sort_unstable();
    texts
}

/// Whether an item says it is part of a trace dropped for its size.
fn partial(item: &Value) -> bool {
    let own = item["properties"].as_array().into_iter().flatten();
    let snapshots = item["snapshots"].as_array().into_iter().flatten();
    let in_snapshots = snapshots.flat_map(|s| s["properties"].as_array().into_iter().flatten());
    own.chain(in_snapshots)
        .any(|p| p["name"] == "partial_trace" && p["value"] == true)
}

/// A trace of five items: a root and a child activity, three events; the
/// last event an error when `fails`.
fn trace(n: usize, fails: bool) {
    let root = info_span!("request", n);
    let _root = root.enter();
    let child = info_span!("step");
    let _child = child.enter();
    info!("one");
    info!("two");
    if fails {
        error!("three");
    } else {
        info!("three");
    }
}

#[test]
fn a_tenth_of_the_traces_and_every_failed_one_arrive_whole() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector).sampler(Sampler::ratio(0.1)));
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..1_000 {
            trace(n, n % 20 == 0);
        }
    });
    let stats = first_flush(&handle);
    let items = collector.items();
    let traces = by_trace(&items);
    assert!(
        traces.values().all(|t| t.len() == 5),
        "no trace in part: {traces:#?}"
    );
    let failed: Vec<_> = traces
        .values()
        .filter(|t| {
            t.iter()
                .any(|i| i["severity"] == "ERROR" && i["type"] == "EVENT")
        })
        .collect();
    assert_eq!(failed.len(), 50, "every failed trace");
    let rates: Vec<f64> = failed.iter().map(|t| sample_rate(t)).collect();
    // A failed trace the ratio kept anyway says 0.1; the others, 1.0.
    assert!(rates.iter().all(|r| *r == 1.0 || *r == 0.1), "{rates:?}");
    let others = traces.len() - failed.len();
    assert!((55..=140).contains(&others), "{others} of 950");
    assert_eq!(stats.sent, 5 * traces.len() as u64, "{stats:?}");
    assert_eq!(stats.sent + stats.sampled_out, 5_000, "{stats:?}");
    assert_eq!(stats.pending, 0, "{stats:?}");
}

#[test]
fn two_services_keep_the_same_traces_whole_or_not_at_all() {
    let (front, back) = (collector(), collector());
    let half = || Sampler::ratio(0.5).keep_errors(false);
    let (front_dispatch, front_handle) = dispatch(builder(&front).sampler(half()));
    let (back_dispatch, back_handle) = dispatch(builder(&back).sampler(half()));
    let mut flags = Vec::new();
    for n in 0..200 {
        let traceparent = tracing::dispatcher::with_default(&front_dispatch, || {
            let span = info_span!("call", n);
            let _entered = span.enter();
            info!("calling the back end");
            span.trace_context().expect("a context").traceparent()
        });
        flags.push(traceparent.ends_with("-01"));
        tracing::dispatcher::with_default(&back_dispatch, || {
            let span = info_span!("serve", n);
            let remote = TraceContext::parse(&traceparent, None).expect("parses");
            span.set_parent_context(remote);
            let _entered = span.enter();
            info!("served");
        });
    }
    first_flush(&front_handle);
    first_flush(&back_handle);
    let (front_items, back_items) = (front.items(), back.items());
    let (front_traces, back_traces) = (by_trace(&front_items), by_trace(&back_items));
    let mut front_ids: Vec<_> = front_traces.keys().collect();
    let mut back_ids: Vec<_> = back_traces.keys().collect();
    front_ids.sort();
    back_ids.sort();
    assert_eq!(front_ids, back_ids, "the same traces in both");
    assert!(front_traces.values().all(|t| t.len() == 2));
    assert!(back_traces.values().all(|t| t.len() == 2));
    let kept = flags.iter().filter(|f| **f).count();
    assert_eq!(kept, front_traces.len(), "the flag says what was kept");
    assert!((60..=140).contains(&kept), "{kept} of 200");
}

#[test]
fn a_trace_that_never_ends_is_held_within_its_bound_and_never_arrives_in_part() {
    let collector = collector();
    let builder = builder(&collector).sampler(Sampler::ratio(0.0));
    let (dispatch, handle) = dispatch(builder);
    let root = tracing::dispatcher::with_default(&dispatch, || info_span!("forever"));
    tracing::dispatcher::with_default(&dispatch, || {
        let _entered = root.enter();
        for n in 0..5_000 {
            info!(n, "inside");
        }
        // Past the bound: decided already, the error cannot bring the
        // rest back, but it goes itself, and so does its span.
        error!("too late");
        info!(outside = true, "not yet outside");
    });
    // The held items are no reason for a flush to wait.
    handle
        .flush(Duration::from_secs(5))
        .expect("a flush does not wait for held traces");
    let stats = handle.stats();
    assert!(
        stats.sampled_out >= 5_000 - Sampler::MAX_TRACE_ITEMS as u64,
        "{stats:?}"
    );
    assert!(
        stats.pending <= Sampler::MAX_TRACE_ITEMS as u64,
        "{stats:?}"
    );
    drop(root);
    handle.shutdown(WAIT).expect("shut down");
    let items = collector.items();
    assert_eq!(texts_and_operations(&items), ["forever", "too late"]);
    assert!(items.iter().all(partial), "{items:#?}");
    let stats = handle.stats();
    assert_eq!(stats.sampled_out, 5_001, "{stats:?}");
}

#[test]
fn a_slow_root_is_kept_and_events_outside_spans_are_not_sampled() {
    let collector = collector();
    let sampler = Sampler::ratio(0.0).keep_slower_than(Duration::from_millis(50));
    let (dispatch, handle) = dispatch(builder(&collector).sampler(sampler));
    tracing::dispatcher::with_default(&dispatch, || {
        info_span!("quick").in_scope(|| info!("fast work"));
        info_span!("slow").in_scope(|| {
            info!("slow work");
            std::thread::sleep(Duration::from_millis(80));
        });
        info!("outside any span");
    });
    first_flush(&handle);
    let items = collector.items();
    let texts: Vec<_> = items
        .iter()
        .filter_map(|i| i["msg-text"].as_str())
        .collect();
    assert!(texts.contains(&"slow work") && texts.contains(&"outside any span"));
    assert!(!texts.contains(&"fast work"), "{texts:?}");
    let slow = find(&items, "operation", "slow");
    assert_eq!(property(slow, "sample_rate")["value"], 1.0);
    assert!(items.iter().all(|i| i["operation"] != "quick"));
}

#[test]
fn a_ratio_outside_zero_to_one_is_refused() {
    let collector = Collector::start().expect("collector");
    let refused = builder(&collector).sampler(Sampler::ratio(1.5)).build();
    match refused {
        Err(Error::InvalidSetting { setting, reason }) => {
            assert_eq!(setting, "sampler");
            assert_eq!(reason, "the ratio must be from 0 to 1, not 1.5");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn past_ten_thousand_held_items_the_oldest_trace_is_dropped_whole() {
    let collector = collector();
    let (dispatch, handle) = dispatch(
        builder(&collector)
            .queue_capacity(20_000)
            .sampler(Sampler::ratio(0.0)),
    );
    let per_trace = 900;
    let traces = Sampler::MAX_HELD_ITEMS / per_trace + 1;
    let roots: Vec<_> = tracing::dispatcher::with_default(&dispatch, || {
        let roots: Vec<_> = (0..traces).map(|t| info_span!("open", t)).collect();
        for root in &roots {
            for n in 0..per_trace {
                info!(parent: root, n, "held");
            }
        }
        roots
    });
    handle
        .flush(WAIT)
        .expect("a flush does not wait for held traces");
    let stats = handle.stats();
    let all = (traces * per_trace) as u64;
    assert!(stats.pending <= Sampler::MAX_HELD_ITEMS as u64, "{stats:?}");
    assert_eq!(stats.sampled_out, per_trace as u64, "the oldest: {stats:?}");
    // Decided already: a failure in it cannot bring back the rest, but it
    // goes itself, with its root.
    tracing::dispatcher::with_default(&dispatch, || error!(parent: &roots[0], "too late"));
    drop(roots);
    handle.shutdown(WAIT).expect("shut down");
    let items = collector.items();
    assert_eq!(texts_and_operations(&items), ["open", "too late"]);
    assert!(items.iter().all(partial), "{items:#?}");
    assert_eq!(handle.stats().sampled_out, all + traces as u64 - 1);
}

#[test]
fn a_trace_kept_for_a_failure_arrives_whole_past_twenty_thousand_other_decisions() {
    let collector = collector();
    let builder = builder(&collector)
        .framing(Framing::Lines)
        .queue_capacity(50_000)
        .retry_buffer(50_000)
        .sampler(Sampler::ratio(0.0));
    let (dispatch, handle) = dispatch(builder);
    let others = 20_010;
    tracing::dispatcher::with_default(&dispatch, || {
        let first = info_span!("first");
        first.in_scope(|| {
            info!("before");
            // In a child: the root itself does not fail.
            info_span!("step").in_scope(|| error!("failed"));
        });
        // Each of these is kept for its failure while its root is open.
        let roots: Vec<_> = (0..others).map(|n| info_span!("other", n)).collect();
        for root in &roots {
            error!(parent: root, "other failed");
        }
        // A new left-out trace: before, it made the sampler forget the
        // decisions above.
        info_span!("late").in_scope(|| info!("held"));
        first.in_scope(|| info!("after"));
        drop(first);
        drop(roots);
    });
    first_flush(&handle);
    let items = collector.items();
    let first = find(&items, "operation", "first");
    let trace: Vec<&str> = texts_and_operations(&items)
        .into_iter()
        .filter(|t| ["before", "failed", "step", "after", "first"].contains(t))
        .collect();
    assert_eq!(
        trace,
        ["after", "before", "failed", "first", "step"],
        "whole"
    );
    assert_eq!(property(first, "sample_rate")["value"], 1.0);
    assert_eq!(items.len(), 5 + 2 * others, "and every other failed trace");
    assert_eq!(handle.stats().sampled_out, 2, "the late trace");
}

#[test]
fn a_failing_trace_still_open_at_shutdown_arrives_whole() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector).sampler(Sampler::ratio(0.0)));
    let open = tracing::dispatcher::with_default(&dispatch, || {
        let root = info_span!("request");
        let steps: Vec<_> = (0..20)
            .map(|n| info_span!(parent: &root, "step", n))
            .collect();
        error!(parent: &steps[7], "failed");
        (root, steps)
    });
    handle.shutdown(WAIT).expect("shut down");
    let items = collector.items();
    let steps = items.iter().filter(|i| i["operation"] == "step").count();
    assert_eq!(steps, 20, "{items:#?}");
    let root = find(&items, "operation", "request");
    assert_eq!(property(root, "cut_short")["value"], true);
    assert_eq!(items.len(), 22);
    drop(open);
}

#[test]
fn a_failing_trace_dropped_for_its_size_still_sends_its_error_and_its_path() {
    let collector = collector();
    let builder = builder(&collector)
        .queue_capacity(10_000)
        .sampler(Sampler::ratio(0.0));
    let held = Sampler::MAX_TRACE_ITEMS + 500;
    let items = run(&collector, builder, || {
        info_span!("big").in_scope(|| {
            for n in 0..held {
                info!(n, "inside");
            }
            info_span!("step").in_scope(|| error!("boom"));
            info_span!("aside").in_scope(|| {});
        });
    });
    // What the failure needs to be read, and nothing else of the trace.
    assert_eq!(texts_and_operations(&items), ["big", "boom", "step"]);
    assert!(items.iter().all(partial), "{items:#?}");
    let boom = find(&items, "msg-text", "boom");
    let step = find(&items, "operation", "step");
    assert_eq!(boom["parent-id"], step["tracking-id"]);
}

#[test]
fn past_ten_traces_a_second_the_rest_are_left_out_whole_but_for_failures() {
    let collector = collector();
    let sampler = Sampler::ratio(1.0).max_traces_per_second(10);
    let (dispatch, handle) = dispatch(builder(&collector).sampler(sampler));
    let failing = 150;
    let start = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..200 {
            trace(n, n == failing);
        }
    });
    let burst = start.elapsed();
    assert!(
        burst < Duration::from_millis(500),
        "well under a second: {burst:?}"
    );
    first_flush(&handle);
    // The bucket refills: one more trace, once the burst was decided.
    std::thread::sleep(Duration::from_millis(300));
    tracing::dispatcher::with_default(&dispatch, || trace(200, false));
    let stats = first_flush(&handle);
    // Every trace was decided within this time.
    let elapsed = start.elapsed();
    let items = collector.items();
    let traces = by_trace(&items);
    assert!(
        traces.values().all(|t| t.len() == 5),
        "no trace in part: {traces:#?}"
    );
    let failed = |t: &&Vec<&Value>| t.iter().any(|i| i["severity"] == "ERROR");
    let (failed, kept): (Vec<_>, Vec<_>) = traces.values().partition(failed);
    assert_eq!(failed.len(), 1, "the failing trace");
    assert_eq!(sample_rate(failed[0]), 1.0);
    let n = |t: &Vec<&Value>| {
        let root = t.iter().find(|i| i["operation"] == "request").unwrap();
        property(root, "n")["value"].as_i64().unwrap()
    };
    assert_eq!(n(failed[0]), failing as i64);
    let bound = 10 + 10 * elapsed.as_secs_f64().ceil() as usize;
    assert!(
        (11..=bound).contains(&kept.len()),
        "{} kept by the ratio in {elapsed:?}",
        kept.len()
    );
    let rates: Vec<(i64, f64)> = kept.iter().map(|t| (n(t), sample_rate(t))).collect();
    assert!(
        rates.iter().all(|(_, r)| *r > 0.0 && *r <= 1.0),
        "{rates:?}"
    );
    // The rate can only say what came before: the burst's first ten say
    // 1.0; the trace after it, the share of the last second it had.
    let late = rates
        .iter()
        .find(|(n, _)| *n == 200)
        .expect("the late trace");
    assert!(late.1 < 0.2, "{rates:?}");
    assert_eq!(stats.sent, 5 * traces.len() as u64, "{stats:?}");
    assert_eq!(stats.sent + stats.sampled_out, 5 * 201, "{stats:?}");
}
