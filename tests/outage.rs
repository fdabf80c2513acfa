//! jKool unreachable: nothing lost within capacity, memory bounded past it,
//! and shutdown gives up plainly at its deadline. Delivery resumes when the
//! collector comes up on the port the layer was pointed at.

mod common;

use std::time::{Duration, Instant};

use common::*;
use tracing::info;
use tracing_jkool::{Error, JKoolLayer};

fn layer_for(port: u16) -> tracing_jkool::Builder {
    JKoolLayer::builder(TOKEN)
        .url(format!("http://127.0.0.1:{port}"))
        .flush_interval(Duration::from_millis(20))
        .max_retry_wait(Duration::from_millis(400))
}

#[test]
fn collector_down_at_start_and_up_after_two_seconds_loses_nothing() {
    let port = free_port();
    // One request at a time keeps the order across bodies too.
    let (dispatch, handle) = dispatch(layer_for(port).batch_size(16).max_concurrent_requests(1));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..200 {
            info!(i, "during outage");
        }
    });
    std::thread::sleep(Duration::from_secs(2));
    let collector = start_on(port);
    handle
        .flush(WAIT)
        .expect("all delivered once the collector is up");

    let items = collector.items();
    assert_eq!(items.len(), 200);
    let order: Vec<i64> = items
        .iter()
        .map(|i| property(i, "i")["value"].as_i64().unwrap())
        .collect();
    assert_eq!(order, (0..200).collect::<Vec<_>>(), "delivered in order");
    let stats = handle.stats();
    assert_eq!(
        (stats.queued, stats.sent, stats.dropped, stats.failed),
        (200, 200, 0, 0)
    );
    assert!(stats.retried >= 1, "{stats:?}");
    assert_eq!(stats.pending, 0);
}

#[test]
fn a_long_outage_keeps_memory_bounded_and_counts_the_oldest_as_dropped() {
    let port = free_port();
    let builder = layer_for(port)
        .queue_capacity(10)
        .retry_buffer(20)
        .batch_size(5)
        .max_body_bytes(4 * 1024)
        .max_concurrent_requests(1);
    let (dispatch, handle) = dispatch(builder);
    std::thread::scope(|s| {
        for t in 0..2 {
            let dispatch = &dispatch;
            s.spawn(move || {
                tracing::dispatcher::with_default(dispatch, || {
                    for i in 0..500 {
                        info!(t, i, "emitted");
                    }
                })
            });
        }
    });
    let stats = handle.stats();
    assert!(
        stats.queued <= 1000 && stats.queued + stats.dropped >= 1000 - 38,
        "{stats:?}"
    );
    assert!(
        // The queue; the items the delivery thread took from it together
        // (at most a queue's worth) while the queue refills; and the retry
        // buffer, which holds the body in flight too.
        stats.pending <= 10 + 10 + 20,
        "memory bounded: {stats:?}"
    );

    let collector = start_on(port);
    let stats = first_flush(&handle);
    assert_eq!(
        stats.sent + stats.dropped + stats.evicted,
        1000,
        "{stats:?}"
    );
    assert_eq!(stats.failed, 0);
    assert_eq!(collector.items().len() as u64, stats.sent);
    assert!(stats.sent <= 38, "{stats:?}");
    // What is delivered keeps the order of each thread.
    for t in 0..2 {
        let seq: Vec<i64> = collector
            .items()
            .iter()
            .filter(|i| property(i, "t")["value"] == t)
            .map(|i| property(i, "i")["value"].as_i64().unwrap())
            .collect();
        assert!(seq.windows(2).all(|w| w[0] < w[1]), "thread {t}: {seq:?}");
    }
}

#[test]
fn with_duplicate_suppression_memory_is_bounded_by_every_holder() {
    let port = free_port();
    let (queue, retry, held) = (100, 200, 300);
    let builder = layer_for(port)
        .queue_capacity(queue)
        .retry_buffer(retry)
        .batch_size(10)
        .suppress_duplicates(Duration::from_secs(600))
        .suppress_duplicates_capacity(held);
    let (dispatch, handle) = dispatch(builder);
    // Held events come first; evictions begin once the retry buffer, past
    // them, is full. Paced, so that the queue does not drop them all.
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..10_000 {
            info!("distinct {i}");
            if i % 10 == 0 {
                if handle.stats().evicted > 0 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    let stats = handle.stats();
    assert!(stats.evicted > 0, "{stats:?}");
    // The queue, the up to 64 items the delivery thread takes from it at
    // once, the retry buffer, and the events duplicate suppression holds.
    let bound = (queue + 64 + retry + held) as u64;
    assert!(stats.pending <= bound, "{stats:?}");
    assert!(
        stats.pending > (queue + 64 + retry) as u64,
        "held count: {stats:?}"
    );
    handle.shutdown(Duration::from_millis(100)).unwrap_err();
}

#[test]
fn shutdown_during_an_outage_gives_up_at_its_deadline_and_says_how_many() {
    let port = free_port();
    let (dispatch, handle) = dispatch(layer_for(port));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..5 {
            info!(i, "never delivered");
        }
    });
    let started = Instant::now();
    let err = handle.shutdown(Duration::from_millis(300)).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, Error::Timeout { pending: 5, .. }), "{err}");
    let stats = handle.stats();
    assert_eq!((stats.sent, stats.failed), (0, 5));
    // The pipeline has stopped: later items are dropped and counted.
    tracing::dispatcher::with_default(&dispatch, || info!("late"));
    assert_eq!(handle.stats().dropped, 1);
}

#[test]
fn give_up_after_fails_a_request_that_cannot_get_through() {
    let port = free_port();
    let (dispatch, handle) = dispatch(layer_for(port).give_up_after(Duration::from_millis(300)));
    tracing::dispatcher::with_default(&dispatch, || info!("lost"));
    let err = handle.flush(WAIT).unwrap_err();
    assert!(matches!(err, Error::Timeout { pending: 1, .. }), "{err}");
    assert_eq!(handle.stats().failed, 1);
}

#[test]
fn while_jkool_answers_500_to_everything_memory_stays_within_the_queue_and_retry_buffer() {
    // Default settings (one object per request, up to 256 in flight) but
    // for smaller bounds: every request fails and is retried, new ones
    // keep starting, and none of it passes the retry buffer.
    let collector = collector();
    collector.inject(tracing_jkool_collector::Fault::status(500), 1_000_000);
    let builder = common::builder(&collector)
        .queue_capacity(1_000)
        .retry_buffer(2_000);
    let (dispatch, handle) = dispatch(builder);
    let mut deepest = 0;
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..20_000 {
            info!(i, "fails with 500");
            if i % 100 == 0 {
                deepest = deepest.max(handle.stats().pending);
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    let stats = handle.stats();
    // The queue, the up to 64 items taken from it at once, and the retry
    // buffer, whatever is in flight.
    assert!(deepest <= 1_000 + 64 + 2_000, "{deepest}: {stats:?}");
    assert!(stats.dropped > 0 && stats.retried > 0, "{stats:?}");
    assert!(stats.sent == 0, "{stats:?}");
    let _ = handle.shutdown(Duration::from_millis(300));
}
