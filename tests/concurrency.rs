//! The limit on requests in flight follows what the round trip needs and
//! what jKool asks: against the collector, whose latency changes while
//! events flow, and through 503s.

mod common;

use std::time::{Duration, Instant};

use common::*;
use tracing::info;
use tracing_jkool::JKoolHandle;
use tracing_jkool_collector::{Collector, Fault};

const MAX: usize = 48;

/// Emits about `per_ms` events a millisecond for `length`, and samples the
/// concurrency limit every 10 ms.
fn emit_for(handle: &JKoolHandle, per_ms: u64, length: Duration) -> Vec<u64> {
    let start = Instant::now();
    let mut samples = Vec::new();
    let mut n = 0u64;
    for tick in 0..length.as_millis() as u64 {
        for _ in 0..per_ms {
            info!(n, "paced");
            n += 1;
        }
        if tick % 10 == 0 {
            samples.push(handle.stats().concurrency_limit);
        }
        let next = start + Duration::from_millis(tick + 1);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    samples
}

/// Flushes, and checks that every item queued arrived.
fn all_delivered(handle: &JKoolHandle) -> tracing_jkool::Stats {
    let stats = flush_while_moving(handle);
    assert_eq!(
        (stats.sent, stats.dropped, stats.failed),
        (stats.queued, 0, 0)
    );
    stats
}

/// A collector answering after `latency`, and a layer sending to it.
fn at_distance(latency: Duration) -> (Collector, tracing::Dispatch, JKoolHandle) {
    let collector = Collector::builder()
        .token(TOKEN)
        .latency(latency)
        .start()
        .expect("collector");
    let (dispatch, handle) = dispatch(builder(&collector).max_concurrent_requests(MAX));
    (collector, dispatch, handle)
}

#[test]
fn a_longer_round_trip_grows_the_limit_never_past_the_max() {
    let (collector, dispatch, handle) = at_distance(Duration::from_millis(50));
    let (fast, slow) = tracing::dispatcher::with_default(&dispatch, || {
        let fast = emit_for(&handle, 1, Duration::from_millis(1_500));
        collector.set_latency(Duration::from_millis(500));
        let slow = emit_for(&handle, 1, Duration::from_millis(2_500));
        // The collector's latency is think time: it answers one request
        // after another on a connection. What piled up goes at 50 ms.
        collector.set_latency(Duration::from_millis(50));
        (fast, slow)
    });
    all_delivered(&handle);
    let max = MAX as u64;
    let peak = |s: &[u64]| s.iter().copied().max().unwrap_or_default();
    // 1,000 events/s at 50 ms need 50 requests in flight: the limit grows
    // from its start (4) towards the max.
    assert!(peak(&fast) >= 24, "{fast:?}");
    // At 500 ms they need 500: a longer round trip is not back-pressure,
    // and the limit goes to the max instead of being cut.
    assert!(slow.last() == Some(&max), "{fast:?} {slow:?}");
    let all = [fast, slow].concat();
    assert!(all.iter().all(|limit| (1..=max).contains(limit)), "{all:?}");
    assert!(
        collector.peak_in_flight() <= MAX,
        "{} in flight at once",
        collector.peak_in_flight()
    );
}

#[test]
fn unavailable_answers_cut_the_limit_and_it_grows_back() {
    let (collector, dispatch, handle) = at_distance(Duration::from_millis(20));
    let (before, during, after) = tracing::dispatcher::with_default(&dispatch, || {
        let before = emit_for(&handle, 3, Duration::from_millis(1_000));
        collector.inject(Fault::status(503), 5);
        let during = emit_for(&handle, 3, Duration::from_millis(500));
        // Emits until the limit is above its lowest since the 503s, for
        // at most 10 s: how soon depends on the round trip it learned.
        let mut after = Vec::new();
        for _ in 0..100 {
            after.extend(emit_for(&handle, 3, Duration::from_millis(100)));
            let lowest = during.iter().chain(&after).min();
            if after.last() > lowest {
                break;
            }
        }
        (before, during, after)
    });
    let stats = all_delivered(&handle);
    assert!(stats.retried >= 5, "{stats:?}");
    let last = |s: &[u64]| s.last().copied().unwrap_or_default();
    let lowest = [&during[..], &after[..]].concat().into_iter().min();
    let lowest = lowest.unwrap_or_default();
    assert!(lowest < last(&before), "not cut: {before:?} {during:?}");
    assert!(last(&after) > lowest, "did not grow back: {after:?}");
}
