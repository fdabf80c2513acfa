//! Delivery under realistic conditions, with exact counts: a bad item
//! among thousands, 5xx bodies, endpoints that refuse arrays, the grace
//! period after the last handle is dropped, and liveness under a flood.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use tracing::{info, info_span};
use tracing_jkool::{Builder, Framing, JKoolHandle, Stats};
use tracing_jkool_collector::{Collector, Fault};

/// A collector requiring [`TOKEN`] that answers after `latency`, refusing
/// bodies holding an item that contains "poison" with `status`.
fn poisoned_collector(latency: Duration, status: u16) -> Collector {
    Collector::builder()
        .token(TOKEN)
        .latency(latency)
        .reject_items_containing("poison", status)
        .start()
        .expect("collector")
}

/// What a paced emission did: how many events, the deepest queue seen,
/// and how many had been emitted when (every 10 ms).
struct Paced {
    total: usize,
    deepest: u64,
    progress: Vec<(Instant, usize)>,
}

/// Emits `per_ms` events every millisecond for `millis` milliseconds,
/// paced against the clock; the event numbered `poison_at` says "poison".
fn paced(handle: &JKoolHandle, per_ms: usize, millis: u64, poison_at: usize) -> Paced {
    let start = Instant::now();
    let mut n = 0;
    let mut deepest = 0;
    let mut progress = Vec::new();
    for ms in 0..millis {
        let due = start + Duration::from_millis(ms);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        for _ in 0..per_ms {
            if n == poison_at {
                info!(n, "poison pill");
            } else {
                info!(n, "steady");
            }
            n += 1;
        }
        if ms % 10 == 0 {
            progress.push((Instant::now(), n));
        }
        if ms % 50 == 0 {
            deepest = deepest.max(handle.stats().pending);
        }
    }
    Paced {
        total: n,
        deepest,
        progress,
    }
}

/// Asserts that every event emitted by a time had reached the collector
/// `margin` later (all but `missing` of them), throughout the emission.
fn assert_on_time(collector: &Collector, paced: &Paced, margin: Duration, missing: usize) {
    let requests = collector.requests();
    for (at, emitted) in &paced.progress {
        let by = *at + margin;
        if by > paced.progress.last().expect("progress").0 {
            break;
        }
        let delivered: usize = requests
            .iter()
            .filter(|r| r.status == 200 && r.at <= by)
            .map(|r| r.items)
            .sum();
        assert!(
            delivered + missing >= *emitted,
            "{emitted} emitted, only {delivered} delivered {margin:?} later"
        );
    }
}

fn count(collector: &Collector, status: u16) -> usize {
    collector
        .requests()
        .iter()
        .filter(|r| r.status == status)
        .count()
}

/// A flush that had an answer for everything, and says the poison failed.
fn assert_one_failed(flushed: Result<(), tracing_jkool::Error>) {
    match flushed {
        Err(tracing_jkool::Error::Undelivered {
            failed: 1,
            evicted: 0,
            dropped: 0,
            cause: Some(cause),
        }) => assert!(cause.contains("refused"), "{cause}"),
        Err(err) => panic!("{err}"),
        Ok(()) => panic!("the poison's failure was not reported"),
    }
}

#[test]
fn one_bad_item_among_thousands_at_20_ms_fails_alone_and_the_rest_flows() {
    let collector = poisoned_collector(Duration::from_millis(20), 400);
    let (dispatch, handle) = dispatch(builder(&collector).framing(Framing::Array));
    let paced = tracing::dispatcher::with_default(&dispatch, || paced(&handle, 2, 3_000, 3_000));
    let (total, deepest) = (paced.total, paced.deepest);
    let flushed = Instant::now();
    assert_one_failed(handle.flush(WAIT));
    let flush_took = flushed.elapsed();
    let stats = handle.stats();
    assert_eq!(total, 6_000);
    assert_eq!(
        (
            stats.queued,
            stats.sent,
            stats.failed,
            stats.dropped,
            stats.evicted
        ),
        (6_000, 5_999, 1, 0, 0),
        "{stats:?}"
    );
    let items = collector.items();
    assert_eq!(items.len(), 5_999);
    assert!(items
        .iter()
        .all(|i| !i["msg-text"].as_str().unwrap().contains("poison")));
    // On time: each event reached the collector within the flush interval
    // (50 ms) and a generous margin for a loaded machine, the poison aside;
    // the backlog never held a second of events, and what was left at the
    // end went out within a few flush intervals.
    assert_on_time(&collector, &paced, Duration::from_millis(500), 1);
    assert!(deepest < 2_000, "queue depth reached {deepest}");
    assert!(flush_took < Duration::from_secs(2), "{flush_took:?}");
    // The 400s split the poisoned body down to the poison alone, and that
    // did not make the pipeline fall back to one object per request.
    let requests = collector.requests();
    let last_refusal = requests
        .iter()
        .rposition(|r| r.status == 400)
        .expect("a 400");
    let after: Vec<usize> = requests[last_refusal + 1..]
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.items)
        .collect();
    assert!(after.len() >= 10, "{after:?}");
    let batches = after.iter().filter(|n| **n > 1).count();
    assert!(batches * 10 >= after.len() * 9, "{after:?}");
    assert!(count(&collector, 400) <= 16, "{requests:#?}");
}

#[test]
fn a_body_failing_with_500_is_split_until_the_poison_fails_alone() {
    let collector = poisoned_collector(Duration::ZERO, 500);
    let builder = builder(&collector)
        .framing(Framing::Array)
        .give_up_refused_after(Duration::from_millis(300));
    let (dispatch, handle) = dispatch(builder);
    let total =
        tracing::dispatcher::with_default(&dispatch, || paced(&handle, 1, 1_200, 300)).total;
    assert_one_failed(handle.flush(WAIT));
    let stats = handle.stats();
    assert_eq!(
        (
            stats.queued,
            stats.sent,
            stats.failed,
            stats.dropped,
            stats.evicted
        ),
        (total as u64, total as u64 - 1, 1, 0, 0),
        "{stats:?}"
    );
    assert_eq!(collector.items().len(), total - 1);
}

#[test]
fn a_body_alone_failing_with_500_is_still_split_until_the_poison_fails_alone() {
    // No other traffic to compare with: one batch, poison inside.
    let collector = poisoned_collector(Duration::ZERO, 500);
    let builder = builder(&collector)
        .framing(Framing::Array)
        .give_up_refused_after(Duration::from_millis(300));
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..9 {
            info!(n, "steady");
        }
        info!("poison pill");
    });
    assert_one_failed(handle.flush(WAIT));
    let stats = handle.stats();
    assert_eq!(
        (stats.queued, stats.sent, stats.failed),
        (10, 9, 1),
        "{stats:?}"
    );
    assert_eq!(collector.items().len(), 9);
}

#[test]
fn while_jkool_answers_500_to_everything_items_wait_and_none_fails() {
    let collector = collector();
    // About a second of 500s: 4 bodies in flight, each backing off.
    collector.inject(Fault::status(500), 16);
    let builder = builder(&collector)
        .framing(Framing::Array)
        .batch_size(10)
        .give_up_refused_after(Duration::from_millis(300))
        .max_retry_wait(Duration::from_millis(400));
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..40 {
            info!(i, "waits out the 500s");
        }
    });
    handle.flush(WAIT).expect("delivered after recovery");
    let stats = handle.stats();
    assert_eq!(collector.faults_pending(), 0);
    assert_eq!(count(&collector, 500), 16);
    assert_eq!(
        (stats.queued, stats.sent, stats.failed),
        (40, 40, 0),
        "{stats:?}"
    );
    assert_eq!(collector.items().len(), 40);
}

#[test]
fn a_steady_stream_through_a_second_of_500s_loses_nothing() {
    let collector = collector();
    collector.inject(Fault::status(500), 30);
    let builder = builder(&collector)
        .give_up_refused_after(Duration::from_millis(300))
        .max_retry_wait(Duration::from_millis(400));
    let (dispatch, handle) = dispatch(builder);
    let total =
        tracing::dispatcher::with_default(&dispatch, || paced(&handle, 1, 1_500, usize::MAX)).total;
    handle.flush(WAIT).expect("delivered after recovery");
    let stats = handle.stats();
    assert_eq!(collector.faults_pending(), 0, "{stats:?}");
    assert_eq!(count(&collector, 500), 30);
    assert_eq!(
        (stats.queued, stats.sent, stats.failed, stats.evicted),
        (total as u64, total as u64, 0, 0),
        "{stats:?}"
    );
    assert_eq!(collector.items().len(), total);
}

#[test]
fn an_endpoint_refusing_arrays_gets_everything_one_object_at_a_time() {
    let collector = Collector::builder()
        .token(TOKEN)
        .single_objects_only(400)
        .start()
        .expect("collector");
    let (dispatch, handle) = dispatch(builder(&collector));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..20 {
            info!(i, "first round");
        }
    });
    handle.flush(WAIT).expect("delivered");
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..10 {
            info!(i, "second round");
        }
    });
    handle.flush(WAIT).expect("delivered");
    let stats = handle.stats();
    assert_eq!(
        (stats.queued, stats.sent, stats.failed, stats.retried),
        (30, 30, 0, 0),
        "{stats:?}"
    );
    assert_eq!(collector.items().len(), 30);
    let requests = collector.requests();
    let accepted: Vec<usize> = requests
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.items)
        .collect();
    assert_eq!(accepted.iter().sum::<usize>(), 30);
    assert!(accepted.iter().all(|n| *n == 1), "{requests:#?}");
    assert_eq!(stats.batches, 30);
    // The second round went one by one without a refusal.
    assert!(requests[requests.len() - 10..]
        .iter()
        .all(|r| r.status == 200 && r.items == 1));
}

#[test]
fn dropping_everything_without_shutdown_still_delivers_within_the_grace() {
    let collector = collector();
    // Batches neither fill nor age: only the drop sends them.
    let builder = builder(&collector).flush_interval(Duration::from_secs(60));
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..100 {
            info!(i, "sent after the drop");
        }
        let span = info_span!("work");
        span.in_scope(|| info!("inside"));
    });
    let dropped = Instant::now();
    drop(dispatch);
    drop(handle);
    let items = collector.wait_for_items(102, Duration::from_secs(5));
    assert!(dropped.elapsed() < Duration::from_secs(5));
    assert_eq!(items.len(), 102);
    assert_eq!(of_type(&items, "ACTIVITY").len(), 1);
}

/// Emits from `threads` threads, each at most `max` events, until `stop`.
fn flood(
    dispatch: &tracing::Dispatch,
    threads: usize,
    max: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<usize>> {
    (0..threads)
        .map(|t| {
            let dispatch = dispatch.clone();
            let stop = Arc::clone(stop);
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let mut n = 0;
                    while n < max && !stop.load(Ordering::Relaxed) {
                        info!(t, n, "flood");
                        n += 1;
                        if n % 20 == 0 {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                    n
                })
            })
        })
        .collect()
}

fn join(threads: Vec<std::thread::JoinHandle<usize>>) -> usize {
    threads
        .into_iter()
        .map(|t| t.join().expect("producer"))
        .sum()
}

/// Shuts down in time: the flood may have filled the queue or the retry
/// buffer, which shutdown says, and nothing may be refused.
fn shut_down_losing_only_the_flood(handle: &JKoolHandle, timeout: Duration) {
    match handle.shutdown(timeout) {
        Ok(()) | Err(tracing_jkool::Error::Undelivered { failed: 0, .. }) => {}
        Err(err) => panic!("{err}: {:?}", handle.stats()),
    }
}

/// Every item queued is accounted for once the pipeline stopped.
fn assert_accounted(stats: &Stats) {
    assert_eq!(
        stats.queued,
        stats.sent + stats.failed + stats.evicted,
        "{stats:?}"
    );
}

/// Runs `ask` 0.3 s into a flood from two threads, then stops the flood:
/// what `ask` returned, how long it took, and how many events were emitted.
fn while_flooding<R>(
    dispatch: &tracing::Dispatch,
    ask: impl FnOnce() -> R,
) -> (R, Duration, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let producers = flood(dispatch, 2, 1_000_000, &stop);
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    let result = ask();
    let took = asked.elapsed();
    stop.store(true, Ordering::Relaxed);
    (result, took, join(producers))
}

fn flood_builder(collector: &Collector) -> Builder {
    builder(collector)
        .framing(Framing::Array)
        .event_path("/event")
        .activity_path("/activity")
        .queue_capacity(100_000)
}

#[test]
fn a_span_closed_early_does_not_wait_for_the_flood_of_events() {
    let collector = collector();
    let (dispatch, handle) = dispatch(flood_builder(&collector));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let producers = flood(&dispatch, 2, 200_000, &stop);
    std::thread::sleep(Duration::from_millis(200));
    tracing::dispatcher::with_default(&dispatch, || {
        info_span!("early").in_scope(|| {});
    });
    // However slow the machine: the activity arrives while the producers
    // still flood (they would take ten seconds at least to finish), or
    // the test fails after a bound that no speed explains.
    let bound = started + Duration::from_secs(20);
    let mut while_flooding = None;
    while Instant::now() < bound {
        let activity = collector
            .requests()
            .iter()
            .any(|r| r.path == "/activity" && r.status == 200);
        if activity {
            while_flooding = Some(producers.iter().any(|p| !p.is_finished()));
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::Relaxed);
    let emitted = join(producers);
    // The flood has stopped: what is queued drains, at the machine's pace.
    shut_down_losing_only_the_flood(&handle, Duration::from_secs(120));
    let stats = handle.stats();
    assert_eq!(
        while_flooding,
        Some(true),
        "the activity waited for the flood: {stats:?}"
    );
    assert_eq!(
        stats.queued + stats.dropped,
        emitted as u64 + 1,
        "{stats:?}"
    );
    assert_accounted(&stats);
}

#[test]
fn shutdown_while_producers_keep_emitting_returns_in_time() {
    let collector = collector();
    let (dispatch, handle) = dispatch(flood_builder(&collector));
    let (result, took, emitted) =
        while_flooding(&dispatch, || handle.shutdown(Duration::from_millis(500)));
    // The timeout, shutdown's 0.5 s grace, and a margin.
    assert!(took < Duration::from_millis(2_000), "{took:?} {result:?}");
    let stats = handle.stats();
    assert_eq!(stats.queued + stats.dropped, emitted as u64, "{stats:?}");
    if result.is_ok() {
        assert_eq!(stats.sent + stats.evicted, stats.queued, "{stats:?}");
    }
    assert_accounted(&stats);
}

#[test]
fn a_flush_while_producers_keep_emitting_returns() {
    let collector = collector();
    let (dispatch, handle) = dispatch(flood_builder(&collector));
    let (result, took, emitted) =
        while_flooding(&dispatch, || handle.flush(Duration::from_secs(60)));
    // Ok only once what was queued before it is sent, whatever came after.
    assert!(result.is_ok(), "{result:?} after {took:?}");
    shut_down_losing_only_the_flood(&handle, Duration::from_secs(120));
    let stats = handle.stats();
    assert_eq!(stats.queued + stats.dropped, emitted as u64, "{stats:?}");
    assert_accounted(&stats);
}

#[test]
fn duplicate_suppression_holds_at_most_its_capacity() {
    let collector = collector();
    let builder = builder(&collector)
        .suppress_duplicates(Duration::from_secs(10))
        .suppress_duplicates_capacity(3);
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..4 {
            for m in 0..5 {
                info!("message {m}");
            }
        }
    });
    handle.flush(WAIT).expect("held ones released by the flush");
    let stats = handle.stats();
    assert_eq!(
        (stats.queued, stats.sent, stats.suppressed, stats.failed),
        (20, 11, 9, 0),
        "{stats:?}"
    );
    let items = collector.items();
    assert_eq!(items.len(), 11);
    for m in 0..3 {
        let held = find(&items, "msg-text", &format!("message {m}"));
        assert_eq!(property(held, "repeat_count")["value"], 4);
    }
    for m in 3..5 {
        let text = format!("message {m}");
        let sent: Vec<_> = items.iter().filter(|i| i["msg-text"] == text).collect();
        assert_eq!(sent.len(), 4, "{text}");
        assert!(
            sent.iter().all(|i| i.get("snapshots").is_none()),
            "{sent:#?}"
        );
    }
}

#[test]
fn retry_after_zero_still_waits_the_backoff() {
    let collector = collector();
    collector.inject(Fault::retry_after(503, "0"), 2);
    let (dispatch, handle) = dispatch(builder(&collector));
    tracing::dispatcher::with_default(&dispatch, || info!("retried"));
    handle.flush(WAIT).expect("delivered");
    let stats = handle.stats();
    assert_eq!((stats.sent, stats.retried, stats.failed), (1, 2, 0));
    let requests = collector.requests();
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200]);
    let first = requests[1].at.duration_since(requests[0].at);
    let second = requests[2].at.duration_since(requests[1].at);
    // Equal jitter: at least half of 100 ms, then half of 200 ms.
    assert!(first >= Duration::from_millis(50), "{first:?}");
    assert!(second >= Duration::from_millis(100), "{second:?}");
}

/// A retry buffer of two batches behind a long queue, and a 30 s flush
/// interval: most events emitted at once are still in the queue when
/// `flush` is called, more than the retry buffer takes at once, and the
/// last of them fill no batch.
fn queue_beyond_the_retry_buffer(collector: &Collector) -> Builder {
    builder(collector)
        .framing(Framing::Array)
        .batch_size(1_024)
        .retry_buffer(2_048)
        .queue_capacity(40_000)
        .flush_interval(Duration::from_secs(30))
}

#[test]
fn a_flush_sends_what_was_still_in_the_queue_without_waiting_for_a_batch() {
    // They go when taken, not after the flush interval.
    let collector = collector();
    let (dispatch, handle) = dispatch(queue_beyond_the_retry_buffer(&collector));
    let events = 30_000;
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..events {
            info!(n, "queued");
        }
    });
    let flushed = handle.flush(Duration::from_secs(10));
    assert!(flushed.is_ok(), "{flushed:?} {:?}", handle.stats());
    assert_eq!(handle.stats().sent, events);
    handle.shutdown(WAIT).expect("shut down");
}

#[test]
fn a_flush_releases_repeats_held_from_what_was_still_in_the_queue() {
    // As above, with duplicate suppression: the events taken after the
    // flush began are held for their window (30 s) too, and the flush
    // lets them go at once.
    let collector = collector();
    let builder =
        queue_beyond_the_retry_buffer(&collector).suppress_duplicates(Duration::from_secs(30));
    let (dispatch, handle) = dispatch(builder);
    let events = 15_000;
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..events {
            // A few messages, each repeated: folded, but some held.
            info!("message {}", n % 3);
            info!(n, "distinct {n}");
        }
    });
    let flushed = handle.flush(Duration::from_secs(10));
    let stats = handle.stats();
    // The retry buffer is small: what the suppression let go of when full
    // may have evicted some, and the flush says so; nothing is pending.
    match flushed {
        Ok(()) => assert_eq!(stats.evicted, 0, "{stats:?}"),
        Err(tracing_jkool::Error::Undelivered {
            failed: 0,
            evicted,
            dropped: 0,
            ..
        }) => assert_eq!(evicted, stats.evicted),
        Err(err) => panic!("{err} {stats:?}"),
    }
    let accounted = stats.sent + stats.suppressed + stats.evicted;
    assert_eq!((accounted, stats.pending), (2 * events, 0), "{stats:?}");
    assert!(stats.sent >= 1, "{stats:?}");
    // Shutdown tells the evictions, and nothing else.
    match handle.shutdown(WAIT) {
        Ok(()) => assert_eq!(stats.evicted, 0),
        Err(tracing_jkool::Error::Undelivered {
            failed: 0,
            evicted,
            dropped: 0,
            ..
        }) => assert_eq!(evicted, stats.evicted),
        Err(err) => panic!("{err}"),
    }
}
