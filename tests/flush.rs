//! What `flush` promises: it returns `Ok` only once every item queued
//! before it is delivered, whatever became of items queued after it, and
//! its errors count exactly those items.

mod common;

use std::time::{Duration, Instant};

use common::*;
use tracing::info;
use tracing_jkool::{Error, Framing};

#[test]
fn a_flush_waits_for_its_own_items_not_for_as_many_later_ones() {
    let collector = collector();
    // The first body is held 3 s; what comes after is answered at once.
    collector.set_latency(Duration::from_secs(3));
    let builder = builder(&collector).framing(Framing::Lines).batch_size(10);
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..10 {
            info!(n, "before the flush");
        }
    });
    let waiting = handle.clone();
    let flush = std::thread::spawn(move || {
        let started = Instant::now();
        let flushed = waiting.flush(WAIT);
        (flushed, started.elapsed(), waiting.stats())
    });
    std::thread::sleep(Duration::from_millis(200));
    collector.set_latency(Duration::ZERO);
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..10 {
            info!(n, "after the flush began");
        }
    });
    // The later ten are delivered at once; a flush of all twenty still
    // waits for the first ten, and says exactly that many are pending.
    match handle.flush(Duration::from_secs(1)) {
        Err(Error::Timeout { pending, .. }) => assert_eq!(pending, 10),
        other => panic!("{other:?} {:?}", handle.stats()),
    }
    let (flushed, took, stats) = flush.join().expect("the flush returns");
    assert!(flushed.is_ok(), "{flushed:?}");
    assert!(took >= Duration::from_millis(2_500), "{took:?} {stats:?}");
    assert_eq!(stats.sent, 20, "both bodies answered: {stats:?}");
    handle.shutdown(WAIT).expect("shut down");
}

#[test]
fn a_flush_says_once_what_was_lost_since_the_last_one() {
    // jKool refuses the token: every item fails.
    let collector = tracing_jkool_collector::Collector::builder()
        .token("another-token")
        .start()
        .expect("collector starts");
    let (dispatch, handle) = dispatch(builder(&collector));
    let emit = |n: usize| {
        tracing::dispatcher::with_default(&dispatch, || {
            for i in 0..n {
                info!(i, "refused");
            }
        });
    };
    emit(3);
    let failed = |result: Result<(), Error>| match result {
        Err(Error::Undelivered {
            failed,
            evicted: 0,
            dropped: 0,
            ..
        }) => failed,
        other => panic!("{other:?}"),
    };
    assert_eq!(failed(handle.flush(WAIT)), 3);
    emit(2);
    assert_eq!(failed(handle.flush(WAIT)), 2, "only those since");
    assert!(handle.flush(WAIT).is_ok(), "nothing lost since");
    // Shutdown counts every loss since the start.
    assert_eq!(failed(handle.shutdown(WAIT)), 5);
}
