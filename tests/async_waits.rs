//! `flush_async` and `shutdown_async` await without blocking the runtime
//! they run on, even a current-thread one.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use tracing::{info, Dispatch};
use tracing_jkool::JKoolHandle;
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

/// A 100 ms round trip was awaited, and the ticker ran meanwhile: a
/// blocked runtime would not have run it at all. (On a loaded machine a
/// 1 ms sleep can take 10 ms or more: a few ticks are proof enough.)
fn assert_ticked(ticks: u64, waited: Duration) {
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    assert!(ticks >= 3, "the ticker advanced {ticks} in {waited:?}");
}

/// Queues 20 events against a slow collector, then runs `wait` (an async
/// flush or shutdown) while a ticker runs on the same current-thread
/// runtime: the wait must let it run, and deliver all 20.
async fn waits_without_blocking<F, Fut>(wait: F) -> (Dispatch, JKoolHandle)
where
    F: FnOnce(JKoolHandle) -> Fut,
    Fut: std::future::Future<Output = Result<(), tracing_jkool::Error>>,
{
    let collector = slow_collector();
    // Only the flush or shutdown sends: batches never age meanwhile.
    let (dispatch, handle) = dispatch(builder(&collector).flush_interval(Duration::from_secs(60)));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..20 {
            info!(i, "delivered by an async wait");
        }
    });
    let counter = Arc::new(AtomicU64::new(0));
    let ticks = ticker(&counter);
    tokio::task::yield_now().await;
    let before = counter.load(Ordering::Relaxed);
    let started = std::time::Instant::now();
    wait(handle.clone())
        .await
        .expect("delivered while the runtime ran");
    let during = counter.load(Ordering::Relaxed) - before;
    let waited = started.elapsed();
    ticks.abort();
    assert_ticked(during, waited);
    let stats = handle.stats();
    assert_eq!((stats.queued, stats.sent, stats.failed), (20, 20, 0));
    assert_eq!(collector.items().len(), 20);
    (dispatch, handle)
}

#[tokio::test(flavor = "current_thread")]
async fn flush_async_leaves_a_current_thread_runtime_running() {
    waits_without_blocking(|handle| async move { handle.flush_async(WAIT).await }).await;
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_async_leaves_a_current_thread_runtime_running() {
    let (dispatch, handle) =
        waits_without_blocking(|handle| async move { handle.shutdown_async(WAIT).await }).await;
    // Stopped: later items are dropped and counted.
    tracing::dispatcher::with_default(&dispatch, || info!("too late"));
    assert_eq!(handle.stats().dropped, 1);
}
