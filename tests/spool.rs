//! The disk spool: what jKool cannot take now waits on disk, survives the
//! process (`abort` included), and is delivered in order once jKool is
//! back; damage, full disks and the size cap are counted, never fatal.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tracing::info;
use tracing_jkool::{Error, JKoolLayer, Stats};

/// A unique directory under the temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "tracing-jkool-spool-{}-{name}-{nanos}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn spooled_to(port: u16, dir: &Path) -> tracing_jkool::Builder {
    JKoolLayer::builder(TOKEN)
        .url(format!("http://127.0.0.1:{port}"))
        .flush_interval(Duration::from_millis(20))
        .max_retry_wait(Duration::from_millis(300))
        .spool_dir(dir)
}

/// Waits (at most 30 s) until `done` holds for the stats.
fn wait_stats(handle: &tracing_jkool::JKoolHandle, done: impl Fn(&Stats) -> bool) -> Stats {
    let started = Instant::now();
    loop {
        let stats = handle.stats();
        if done(&stats) || started.elapsed() > Duration::from_secs(30) {
            return stats;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Each item's `i`, in the order received.
fn numbers(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|i| property(i, "i")["value"].as_i64().expect("i"))
        .collect()
}

#[test]
fn items_on_disk_before_an_outage_stay_behind_the_older_ones_in_memory() {
    let dir = TempDir::new("order");
    let collector = collector();
    // The first body is answered 503 after 300 ms: while it is in flight,
    // the next item fills the retry buffer and the rest go to disk.
    collector.set_latency(Duration::from_millis(300));
    collector.inject(tracing_jkool_collector::Fault::status(503), 1);
    let builder = spooled_to(collector.addr().port(), &dir.0)
        .max_concurrent_requests(1)
        .batch_size(2)
        .retry_buffer(2);
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..10 {
            info!(i, "in order");
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    collector.set_latency(Duration::ZERO);
    let stats = first_flush(&handle);
    assert!(stats.spooled >= 5, "some went to disk: {stats:?}");
    assert_eq!(stats.sent, 10, "{stats:?}");
    let order = numbers(&collector.items());
    assert_eq!(order, (0..10).collect::<Vec<_>>(), "in the order emitted");
}

/// Set in the child process that the abort test starts: the spool dir.
const CHILD_DIR: &str = "TRACING_JKOOL_SPOOL_CHILD_DIR";

#[test]
fn an_aborted_process_leaves_its_items_for_the_next_one() {
    const N: usize = 20_000;
    if let Some(dir) = std::env::var_os(CHILD_DIR) {
        // The child: jKool unreachable, 20,000 events, settle, abort.
        let builder = spooled_to(free_port(), Path::new(&dir)).queue_capacity(N);
        let (dispatch, handle) = dispatch(builder);
        tracing::dispatcher::with_default(&dispatch, || {
            for i in 0..N {
                info!(i, "before the crash");
            }
        });
        let stats = wait_stats(&handle, |s| s.spooled >= N as u64);
        eprintln!("child: {stats:?}");
        std::process::abort();
    }
    let dir = TempDir::new("abort");
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "an_aborted_process_leaves_its_items_for_the_next_one",
            "--nocapture",
        ])
        .env(CHILD_DIR, &dir.0)
        .output()
        .expect("child runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the child aborted: {stderr}");
    assert!(stderr.contains("spooled: 20000"), "{stderr}");

    let port = free_port();
    let collector = start_on(port);
    let (_dispatch, handle) = dispatch(spooled_to(port, &dir.0));
    let stats = wait_stats(&handle, |s| s.recovered >= N as u64 && s.spool_bytes == 0);
    let items = collector.wait_for_items(N, WAIT);
    let seen = numbers(&items);
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique, (0..N as i64).collect::<Vec<_>>(), "{stats:?}");
    // In order, each kind being one FIFO: one request at a time while
    // jKool was down, and in order once up but for bodies in flight.
    let duplicates = seen.len() - unique.len();
    assert!(duplicates <= 256, "at most one batch again: {duplicates}");
    assert_eq!((stats.queued, stats.sent, stats.spool_corrupt), (0, 0, 0));
    assert_eq!(stats.recovered, N as u64, "{stats:?}");
    handle.shutdown(WAIT).expect("nothing left");
}

#[test]
fn a_torn_tail_is_skipped_and_counted_and_the_rest_delivered() {
    let dir = TempDir::new("torn");
    let port = free_port();
    let (first, handle) = dispatch(spooled_to(port, &dir.0));
    tracing::dispatcher::with_default(&first, || {
        for i in 0..100 {
            info!(i, "before the tear");
        }
    });
    let stats = wait_stats(&handle, |s| s.spooled >= 100);
    assert_eq!(stats.spooled, 100, "{stats:?}");
    // jKool is down: shutdown leaves everything on disk at once.
    let err = handle.shutdown(WAIT).unwrap_err();
    assert!(matches!(err, Error::Timeout { pending: 100, .. }), "{err}");
    drop(first);

    // Tear the last record of the newest events segment.
    let mut segments: Vec<PathBuf> = std::fs::read_dir(&dir.0)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("e-"))
        })
        .collect();
    segments.sort();
    let last = segments.last().expect("a segment");
    let len = std::fs::metadata(last).expect("size").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(last)
        .expect("open");
    file.set_len(len - 5).expect("truncate");
    drop(file);

    let collector = start_on(port);
    let (_dispatch, handle) = dispatch(spooled_to(port, &dir.0));
    let stats = wait_stats(&handle, |s| s.recovered >= 99 && s.spool_corrupt >= 1);
    assert_eq!((stats.recovered, stats.spool_corrupt), (99, 1), "{stats:?}");
    let items = collector.wait_for_items(99, WAIT);
    // Every item but the torn one (the last written, which need not be
    // the last emitted: a request that failed as jKool went down is
    // spilled after what was spooled meanwhile), each once.
    let mut delivered = numbers(&items);
    delivered.sort_unstable();
    delivered.dedup();
    assert_eq!(delivered.len(), 99, "{delivered:?}");
    assert!(
        delivered.iter().all(|n| (0..100).contains(n)),
        "{delivered:?}"
    );
    handle.shutdown(WAIT).expect("nothing left");
}

#[test]
fn a_second_process_on_the_directory_is_refused_clearly() {
    let dir = TempDir::new("lock");
    let first = spooled_to(free_port(), &dir.0).build().expect("first");
    let err = spooled_to(free_port(), &dir.0).build().unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Spool { .. }), "{text}");
    assert!(
        text.contains(&format!("another process (pid {})", std::process::id())),
        "{text}"
    );
    first.handle().shutdown(WAIT).ok();
    // Once the first has stopped, the directory is free.
    let again = spooled_to(free_port(), &dir.0).build().expect("free again");
    again.handle().shutdown(WAIT).ok();
}

#[cfg(unix)]
#[test]
fn a_full_disk_falls_back_to_memory_without_losing_or_panicking() {
    let dir = TempDir::new("full");
    std::fs::create_dir_all(&dir.0).expect("dir");
    // The first events segment is /dev/full: every write fails (ENOSPC).
    std::os::unix::fs::symlink("/dev/full", dir.0.join("e-00000001.seg")).expect("symlink");
    let port = free_port();
    let (dispatch, handle) = dispatch(spooled_to(port, &dir.0));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..300 {
            info!(i, "disk full");
        }
    });
    let stats = wait_stats(&handle, |s| s.spool_errors >= 1);
    assert!(stats.spool_errors >= 1, "{stats:?}");
    let collector = start_on(port);
    handle.flush(WAIT).expect("delivered from memory");
    let stats = handle.stats();
    assert_eq!((stats.sent, stats.evicted, stats.failed), (300, 0, 0));
    let mut seen = numbers(&collector.items());
    seen.sort_unstable();
    assert_eq!(seen, (0..300).collect::<Vec<_>>());
}

#[test]
fn at_the_cap_the_oldest_are_dropped_and_counted_and_the_disk_stays_bounded() {
    const N: usize = 10_000;
    const CAP: u64 = 1 << 20;
    let dir = TempDir::new("cap");
    let port = free_port();
    let builder = spooled_to(port, &dir.0).max_concurrent_requests(1);
    let (dispatch, handle) = dispatch(builder.spool_max_bytes(CAP));
    let mut biggest = 0;
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..N {
            info!(i, padding = "x".repeat(200), "to the cap");
            if i % 500 == 0 {
                biggest = biggest.max(disk_used(&dir.0));
            }
        }
    });
    let stats = wait_stats(&handle, |s| s.spooled + s.dropped >= N as u64);
    biggest = biggest.max(disk_used(&dir.0));
    // Segments are an eighth of the cap.
    assert!(biggest <= CAP + CAP / 8, "{biggest} bytes on disk");
    assert!(stats.spool_bytes <= CAP + CAP / 8, "{stats:?}");
    assert!(stats.spool_dropped > 0, "{stats:?}");
    assert_eq!(stats.spool_dropped, stats.evicted, "{stats:?}");

    let collector = start_on(port);
    let stats = first_flush(&handle);
    assert_eq!(
        stats.sent + stats.evicted + stats.dropped,
        N as u64,
        "{stats:?}"
    );
    assert_eq!(stats.queued, stats.sent + stats.evicted + stats.pending);
    let seen = numbers(&collector.items());
    assert_eq!(seen.len() as u64, stats.sent);
    assert_eq!(seen.last(), Some(&(N as i64 - 1)), "the newest are kept");
    let mut by_i: HashMap<i64, u32> = HashMap::new();
    for i in &seen {
        *by_i.entry(*i).or_default() += 1;
    }
    assert!(by_i.values().all(|n| *n == 1), "no duplicates");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order");
}

fn disk_used(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".seg"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn activities_jkool_keeps_failing_on_do_not_hold_up_spooled_events() {
    let dir = TempDir::new("fair");
    let port = free_port();
    // Two chunks out per kind at most: the failing activities fill theirs.
    let builder = spooled_to(port, &dir.0)
        .max_concurrent_requests(2)
        .give_up_refused_after(Duration::from_secs(60));
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..10 {
            tracing::info_span!("job", i).in_scope(|| {});
        }
        for i in 0..40 {
            info!(i, "waits in the spool");
        }
    });
    let spooled = wait_stats(&handle, |s| s.spooled >= 50);
    assert_eq!(spooled.spooled, 50, "{spooled:?}");
    // jKool comes back failing on every activity.
    let collector = tracing_jkool_collector::Collector::builder()
        .port(port)
        .reject_items_containing("\"type\":\"ACTIVITY\"", 500)
        .start()
        .expect("collector");
    let events = collector.wait_for_items(40, WAIT);
    assert_eq!(events.len(), 40, "{:?}", handle.stats());
    assert!(events.iter().all(|e| e["type"] == "EVENT"));
    let _ = handle.shutdown(Duration::from_millis(200));
}

#[cfg(unix)]
#[test]
fn spool_files_are_the_owners_alone_and_a_planted_symlink_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("private");
    let spool = dir.0.join("spool");
    let (dispatch, handle) = dispatch(spooled_to(free_port(), &spool));
    tracing::dispatcher::with_default(&dispatch, || info!("kept on disk"));
    wait_stats(&handle, |s| s.spooled >= 1);
    let _ = handle.shutdown(Duration::from_millis(100));
    drop(dispatch);
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&spool), 0o700);
    for entry in std::fs::read_dir(&spool).expect("the spool") {
        let path = entry.expect("entry").path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }

    // Another directory whose lock file is a symlink to a file elsewhere.
    let planted = dir.0.join("planted");
    std::fs::create_dir(&planted).expect("dir");
    let target = dir.0.join("target.txt");
    std::fs::write(&target, "not the spool's").expect("target");
    std::os::unix::fs::symlink(&target, planted.join("lock")).expect("symlink");
    let err = spooled_to(free_port(), &planted).build().unwrap_err();
    assert!(matches!(err, Error::Spool { .. }), "{err}");
    assert_eq!(
        std::fs::read_to_string(&target).expect("target"),
        "not the spool's"
    );
}
