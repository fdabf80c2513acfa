//! A process that exits without `shutdown` still delivers what it queued,
//! within the exit flush's deadline, and says what it could not.

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use tracing::info;
use tracing_jkool::JKoolLayer;
use tracing_subscriber::prelude::*;

/// Set in the child process: where jKool is.
const CHILD_URL: &str = "TRACING_JKOOL_EXIT_CHILD_URL";

/// Set in the child process: how it installs the layer and ends
/// (`init`, `shutdown`, `set_default`, `dispatch`, `exit_in_spans`,
/// `exit_while_emitting`).
const CHILD_MODE: &str = "TRACING_JKOOL_EXIT_CHILD_MODE";

const NAME: &str = "child_emits_and_returns_without_shutdown";

/// In the child: a batch job as a new user writes it, with the layer
/// installed for the whole process, no `shutdown`, no guard.
#[test]
fn child_emits_and_returns_without_shutdown() {
    let Some(url) = std::env::var_os(CHILD_URL) else {
        return;
    };
    let layer = JKoolLayer::builder(TOKEN)
        .url(url.to_string_lossy())
        .build()
        .expect("layer");
    let handle = layer.handle();
    let emit = || {
        for record in 0..100 {
            info!(record, "processed");
        }
    };
    match std::env::var(CHILD_MODE).as_deref() {
        // The layer and its handles are gone before main returns.
        Ok("set_default") => {
            drop(handle);
            let _guard =
                tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
            emit();
        }
        Ok("dispatch") => {
            drop(handle);
            let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
            tracing::dispatcher::with_default(&dispatch, emit);
        }
        Ok("exit_in_spans") => {
            tracing_subscriber::registry().with(layer).init();
            let _outer = tracing::info_span!("outer").entered();
            let _inner = tracing::info_span!("inner").entered();
            info!("inside");
            std::process::exit(3);
        }
        Ok("exit_while_emitting") => {
            tracing_subscriber::registry().with(layer).init();
            static EMITTED: AtomicU64 = AtomicU64::new(0);
            std::thread::spawn(|| {
                // Still emitting as the process exits under it, slowly
                // enough that the queue never fills.
                for n in 0..u64::MAX {
                    info!(n, "late");
                    EMITTED.store(n + 1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_micros(200));
                }
            });
            for _ in 0..60_000 {
                if EMITTED.load(Ordering::Relaxed) >= 100 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            emit();
        }
        mode => {
            tracing_subscriber::registry().with(layer).init();
            emit();
            if mode == Ok("shutdown") {
                let _ = handle.shutdown(Duration::from_millis(200));
            }
        }
    }
}

/// Runs the child against `url` in `mode`; its stderr and how long it
/// took. It must end with `code`.
fn run_child(url: &str, mode: &str, code: i32) -> (String, Duration) {
    let started = Instant::now();
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", NAME, "--test-threads", "1"])
        .env(CHILD_URL, url)
        .env(CHILD_MODE, mode)
        .stdout(Stdio::null())
        .output()
        .expect("child runs");
    assert_eq!(output.status.code(), Some(code), "{output:?}");
    (
        String::from_utf8_lossy(&output.stderr).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn returning_from_main_without_shutdown_delivers_what_was_queued() {
    let collector = collector();
    let (stderr, _) = run_child(&collector.url(), "init", 0);
    assert_eq!(collector.items().len(), 100, "{stderr}");
    assert!(!stderr.contains("exiting without shutdown"), "{stderr}");
}

#[test]
fn exiting_with_jkool_unreachable_says_how_many_and_does_not_hang() {
    let port = free_port();
    let (stderr, took) = run_child(&format!("http://127.0.0.1:{port}"), "init", 0);
    let line = stderr
        .lines()
        .find(|l| l.contains("exiting without shutdown"))
        .unwrap_or_else(|| panic!("no exit line: {stderr}"));
    assert!(line.contains("100 item(s)"), "{line}");
    // The cause, and the cure that fits it: not `shutdown`, which would
    // not reach jKool either.
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    assert!(line.contains("Check the URL"), "{line}");
    assert!(!line.contains("shutdown_guard"), "{line}");
    // The exit flush's 2 s, and the test binary's own start and end.
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn after_shutdown_the_exit_flush_does_nothing() {
    let port = free_port();
    let (stderr, took) = run_child(&format!("http://127.0.0.1:{port}"), "shutdown", 0);
    // Shutdown gave up at once; the exit waited for nothing more.
    assert!(stderr.contains("gave up"), "{stderr}");
    assert!(!stderr.contains("exiting without shutdown"), "{stderr}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn a_set_default_guard_dropped_before_exit_still_delivers_everything() {
    let collector = collector();
    let (stderr, _) = run_child(&collector.url(), "set_default", 0);
    assert_eq!(collector.items().len(), 100, "{stderr}");
}

#[test]
fn a_dispatch_dropped_before_exit_still_delivers_everything() {
    let collector = collector();
    let (stderr, _) = run_child(&collector.url(), "dispatch", 0);
    assert_eq!(collector.items().len(), 100, "{stderr}");
}

#[test]
fn process_exit_inside_open_spans_sends_them_cut_short_with_their_parents() {
    let collector = collector();
    let (stderr, _) = run_child(&collector.url(), "exit_in_spans", 3);
    let items = collector.items();
    let activities = of_type(&items, "ACTIVITY");
    assert_eq!(activities.len(), 2, "{stderr}: {items:#?}");
    let outer = find(&items, "operation", "outer");
    let inner = find(&items, "operation", "inner");
    let event = find(&items, "msg-text", "inside");
    for span in [outer, inner] {
        assert_eq!(property(span, "cut_short")["value"], true, "{span:#}");
    }
    assert_eq!(event["parent-id"], inner["tracking-id"], "{event:#}");
    assert_eq!(inner["parent-id"], outer["tracking-id"], "{inner:#}");
}

#[test]
fn an_exit_while_another_thread_emits_neither_hangs_nor_loses_count() {
    // Each answer takes 50 ms: what is queued as the exit's flush ends
    // cannot be answered yet.
    let collector = tracing_jkool_collector::Collector::builder()
        .token(TOKEN)
        .latency(Duration::from_millis(50))
        .start()
        .expect("collector starts");
    let (stderr, _) = run_child(&collector.url(), "exit_while_emitting", 0);
    let items = collector.items();
    let processed = items.iter().filter(|i| i["msg-text"] == "processed");
    assert_eq!(processed.count(), 100, "queued before the exit: {stderr}");
    // What the other thread queued after the exit began is counted.
    let line = stderr
        .lines()
        .find(|l| l.contains("queued after the exit began"))
        .unwrap_or_else(|| panic!("no count of the late items: {stderr}"));
    let late: u64 = line
        .split_whitespace()
        .find_map(|word| word.parse().ok())
        .unwrap_or_else(|| panic!("no number: {line}"));
    assert!(late > 0, "{line}");
}
