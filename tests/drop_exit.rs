//! Alone in its binary: it counts the process's delivery threads, which
//! any other test's pipeline would change.

mod common;

use std::time::{Duration, Instant};

use common::*;
use tracing::info;
use tracing_jkool::JKoolLayer;
use tracing_subscriber::prelude::*;

/// How long the delivery thread keeps trying once everything is dropped
/// (the crate's `DROP_GRACE`).
const DROP_GRACE: Duration = Duration::from_secs(5);

/// Threads of this process named `tracing-jkool`: delivery threads.
fn delivery_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "tracing-jkool")
        .count()
}

#[test]
fn with_jkool_down_the_delivery_thread_exits_within_the_grace_after_the_last_drop() {
    if !std::path::Path::new("/proc/self/task").exists() {
        eprintln!("skipped: no /proc/self/task here");
        return;
    }
    assert_eq!(delivery_threads(), 0);
    // A loopback port with nothing listening on it.
    let port = common::free_port();
    let layer = JKoolLayer::builder(TOKEN)
        .url(format!("http://127.0.0.1:{port}"))
        .flush_interval(Duration::from_millis(20))
        .max_retry_wait(Duration::from_millis(200))
        .build()
        .expect("layer");
    let handle = layer.handle();
    let second = handle.clone();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..50 {
            info!(i, "never delivered");
        }
    });
    // A thread names itself once it runs: on a loaded machine, a moment later.
    let named = Instant::now() + Duration::from_secs(2);
    while delivery_threads() == 0 && Instant::now() < named {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(delivery_threads(), 1);
    // Let the first tries fail: the pipeline is retrying when dropped.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(handle.stats().sent, 0);
    drop(dispatch);
    drop(handle);
    drop(second);
    let dropped = Instant::now();
    let deadline = dropped + DROP_GRACE + Duration::from_secs(2);
    while delivery_threads() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = dropped.elapsed();
    assert_eq!(delivery_threads(), 0, "still running after {took:?}");
    // It kept trying for the grace period, not less.
    assert!(took >= DROP_GRACE - Duration::from_millis(100), "{took:?}");
}
