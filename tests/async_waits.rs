//! `flush_async` and `shutdown_async` await without blocking the runtime
//! they run on, even a current-thread one.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use tracing::info;
use tracing_jkool_collector::Collector;

fn slow_collector() -> Collector {
    Collector::builder()
        .token(TOKEN)
        .latency(Duration::from_millis(100))
        .start()
        .expect("collector")
}

/// A task that counts milliseconds, at most 3,000 of them.
fn ticker(counter: &Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    let counter = Arc::clone(counter);
    tokio::spawn(async move {
        for _ in 0..3_000 {
            counter.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
}

#[tokio::test(flavor = "current_thread")]
async fn flush_async_leaves_a_current_thread_runtime_running() {
    let collector = slow_collector();
    let (dispatch, handle) = dispatch(builder(&collector));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..20 {
            info!(i, "flushed asynchronously");
        }
    });
    let counter = Arc::new(AtomicU64::new(0));
    let ticks = ticker(&counter);
    tokio::task::yield_now().await;
    let before = counter.load(Ordering::Relaxed);
    handle
        .flush_async(WAIT)
        .await
        .expect("flushed while the runtime ran");
    let during = counter.load(Ordering::Relaxed) - before;
    ticks.abort();
    // At least one 100 ms round trip passed: a blocked runtime counts 0.
    assert!(during >= 10, "the ticker advanced {during}");
    let stats = handle.stats();
    assert_eq!((stats.queued, stats.sent, stats.failed), (20, 20, 0));
    assert_eq!(collector.items().len(), 20);
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_async_leaves_a_current_thread_runtime_running() {
    let collector = slow_collector();
    let (dispatch, handle) = dispatch(builder(&collector));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..20 {
            info!(i, "delivered at shutdown");
        }
    });
    let counter = Arc::new(AtomicU64::new(0));
    let ticks = ticker(&counter);
    tokio::task::yield_now().await;
    let before = counter.load(Ordering::Relaxed);
    handle
        .shutdown_async(WAIT)
        .await
        .expect("delivered while the runtime ran");
    let during = counter.load(Ordering::Relaxed) - before;
    ticks.abort();
    assert!(during >= 10, "the ticker advanced {during}");
    let stats = handle.stats();
    assert_eq!((stats.queued, stats.sent, stats.failed), (20, 20, 0));
    assert_eq!(collector.items().len(), 20);
    // Stopped: later items are dropped and counted.
    tracing::dispatcher::with_default(&dispatch, || info!("too late"));
    assert_eq!(handle.stats().dropped, 1);
}
