//! `lossy(false)`: a batch job's burst waits for room instead of being
//! dropped, and an event emitted inside the crate's own callback never
//! waits.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use tracing::info;

/// A burst of `n` events from a tight loop into a queue of 100.
fn burst(lossy: bool, n: u64) -> tracing_jkool::Stats {
    burst_waiting(lossy, Duration::from_secs(1), n)
}

/// The same, waiting at most `max_block` for room.
fn burst_waiting(lossy: bool, max_block: Duration, n: u64) -> tracing_jkool::Stats {
    let collector = collector();
    let builder = builder(&collector).queue_capacity(100).lossy(lossy);
    let builder = builder.max_block(max_block);
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..n {
            info!(i, "burst");
        }
    });
    let _ = handle.flush(WAIT);
    let stats = handle.stats();
    assert_eq!(collector.items().len() as u64, stats.sent, "{stats:?}");
    stats
}

#[test]
fn with_lossy_false_a_burst_into_a_small_queue_arrives_whole() {
    let stats = burst(false, 20_000);
    assert_eq!((stats.sent, stats.dropped), (20_000, 0), "{stats:?}");
}

#[test]
fn a_wait_too_long_for_a_clock_is_clamped_and_a_zero_wait_never_waits() {
    let stats = burst_waiting(false, Duration::MAX, 2_000);
    assert_eq!((stats.sent, stats.dropped), (2_000, 0), "{stats:?}");
    let stats = burst_waiting(false, Duration::ZERO, 20_000);
    assert!(stats.dropped > 0, "as lossy(true): {stats:?}");
    assert_eq!(stats.sent + stats.dropped, 20_000, "{stats:?}");
}

#[test]
fn by_default_the_same_burst_drops_and_counts() {
    let stats = burst(true, 20_000);
    assert!(stats.dropped > 0, "{stats:?}");
    assert_eq!(stats.sent + stats.dropped, 20_000, "{stats:?}");
}

/// A field whose `Debug` logs: its events are emitted inside the layer's
/// own callback.
struct Chatty<'a>(&'a AtomicUsize);

impl std::fmt::Debug for Chatty<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for _ in 0..50 {
            self.0.fetch_add(1, Ordering::Relaxed);
            info!("from inside a Debug");
        }
        f.write_str("chatty")
    }
}

#[test]
fn events_from_inside_the_crate_s_callbacks_never_wait() {
    let collector = collector();
    let builder = builder(&collector).queue_capacity(1).lossy(false);
    let (dispatch, handle) = dispatch(builder);
    let inner = AtomicUsize::new(0);
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..200 {
            info!(field = ?Chatty(&inner), "outer");
        }
    });
    handle.flush(WAIT).ok();
    let stats = handle.stats();
    let items = collector.items();
    let outer = items.iter().filter(|i| i["msg-text"] == "outer").count();
    // The outer events wait for room; the inner ones, emitted while the
    // layer records a field, drop instead of waiting (or are not taken).
    assert_eq!(outer, 200, "{stats:?}");
    let emitted = 200 + inner.load(Ordering::Relaxed) as u64;
    assert!(stats.queued + stats.dropped <= emitted, "{stats:?}");
}

/// With the queue full and `lossy(false)`: the `metrics` recorder's calls
/// on the application's thread, and its reports and the process metrics
/// the delivery thread sends itself, never wait on the queue (the delivery
/// thread waiting on its own queue would never drain it).
#[test]
fn the_metrics_recorder_and_the_delivery_thread_s_own_reports_never_wait() {
    let collector = collector();
    let builder = builder(&collector)
        .queue_capacity(1)
        .lossy(false)
        .max_block(Duration::from_secs(60))
        .process_metrics(Duration::from_millis(5));
    let (dispatch, handle) = dispatch(builder);
    let recorder = handle.metrics_recorder(Duration::from_millis(5));
    tracing::dispatcher::with_default(&dispatch, || {
        metrics::with_local_recorder(&recorder, || {
            for i in 0..2_000_u32 {
                metrics::counter!("jobs").increment(1);
                metrics::histogram!("size").record(f64::from(i));
                info!(i, "job");
            }
        })
    });
    // Every application event waited for room and arrived, and the flush
    // had every answer: the delivery thread never waited on its own queue
    // (it would never have drained it).
    let flushed = handle.flush(WAIT);
    let stats = handle.stats();
    assert!(
        matches!(
            flushed,
            Ok(()) | Err(tracing_jkool::Error::Undelivered { .. })
        ),
        "every item had its answer: {flushed:?}"
    );
    let items = collector.items();
    let jobs = items.iter().filter(|i| i["msg-text"] == "job").count();
    assert_eq!(jobs, 2_000, "{stats:?}");
    // Reports made while the queue was full were dropped and counted.
    assert!(stats.dropped > 0 || items.iter().any(|i| i["msg-text"] == "metrics"));
}
