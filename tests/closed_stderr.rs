//! A closed stderr (`app 2>&1 | head`, a log shipper that went away) loses
//! the pipeline's stderr lines and nothing else.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use tracing::info;
use tracing_jkool::JKoolLayer;

/// Set in the child process: the port jKool will be on.
const CHILD: &str = "TRACING_JKOOL_CLOSED_STDERR_CHILD";

const NAME: &str = "with_stderr_closed_an_outage_and_its_stderr_lines_lose_nothing";

/// In the child, with stderr closed: jKool is down at first, so the
/// delivery thread has "will retry" lines to write.
fn child(port: &str) {
    let builder = JKoolLayer::builder(TOKEN)
        .url(format!("http://127.0.0.1:{port}"))
        .max_retry_wait(Duration::from_millis(200));
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..100 {
            info!(i, "emitted during the outage");
        }
    });
    // Written to stdout, which the parent reads.
    let result = handle.shutdown(Duration::from_secs(20));
    println!("CHILD sent={} result={result:?}", handle.stats().sent);
}

#[test]
fn with_stderr_closed_an_outage_and_its_stderr_lines_lose_nothing() {
    if let Some(port) = std::env::var_os(CHILD) {
        return child(&port.to_string_lossy());
    }
    let port = free_port();
    let mut running = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", NAME, "--nocapture"])
        .env(CHILD, port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("child runs");
    // The read end closed: every write to the child's stderr fails.
    drop(running.stderr.take());
    std::thread::sleep(Duration::from_millis(1_500));
    let collector = start_on(port);
    let output = running.wait_with_output().expect("child ends");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("CHILD sent=100 result=Ok(())"),
        "{stdout} {:?}",
        output.status
    );
    assert_eq!(collector.items().len(), 100);
}
