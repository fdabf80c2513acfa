//! A process that exits without `shutdown` still delivers what it queued,
//! within the exit flush's deadline, and says what it could not.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tracing::info;
use tracing_jkool::JKoolLayer;
use tracing_subscriber::prelude::*;

/// Set in the child process: where jKool is.
const CHILD_URL: &str = "TRACING_JKOOL_EXIT_CHILD_URL";

/// Set in the child process when it calls `shutdown` before it returns.
const CHILD_SHUTS_DOWN: &str = "TRACING_JKOOL_EXIT_CHILD_SHUTS_DOWN";

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
    tracing_subscriber::registry().with(layer).init();
    for record in 0..100 {
        info!(record, "processed");
    }
    if std::env::var_os(CHILD_SHUTS_DOWN).is_some() {
        let _ = handle.shutdown(Duration::from_millis(200));
    }
}

/// Runs the child against `url`, calling `shutdown` or not; its stderr
/// and how long it took.
fn run_child(url: &str, shuts_down: bool) -> (String, Duration) {
    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe().expect("test binary"));
    child
        .args(["--exact", NAME, "--test-threads", "1"])
        .env(CHILD_URL, url)
        .stdout(Stdio::null());
    if shuts_down {
        child.env(CHILD_SHUTS_DOWN, "1");
    }
    let output = child.output().expect("child runs");
    assert!(output.status.success(), "{output:?}");
    (
        String::from_utf8_lossy(&output.stderr).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn returning_from_main_without_shutdown_delivers_what_was_queued() {
    let collector = collector();
    let (stderr, _) = run_child(&collector.url(), false);
    assert_eq!(collector.items().len(), 100, "{stderr}");
    assert!(!stderr.contains("exiting without shutdown"), "{stderr}");
}

#[test]
fn exiting_with_jkool_unreachable_says_how_many_and_does_not_hang() {
    let port = free_port();
    let (stderr, took) = run_child(&format!("http://127.0.0.1:{port}"), false);
    let line = stderr
        .lines()
        .find(|l| l.contains("exiting without shutdown"))
        .unwrap_or_else(|| panic!("no exit line: {stderr}"));
    assert!(line.contains("100 item(s)"), "{line}");
    assert!(line.contains("shutdown_guard"), "{line}");
    // The exit flush's 2 s, and the test binary's own start and end.
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn after_shutdown_the_exit_flush_does_nothing() {
    let port = free_port();
    let (stderr, took) = run_child(&format!("http://127.0.0.1:{port}"), true);
    // Shutdown gave up at once; the exit waited for nothing more.
    assert!(stderr.contains("gave up"), "{stderr}");
    assert!(!stderr.contains("exiting without shutdown"), "{stderr}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}
