//! Loss is visible on stderr: one line at the first loss, one line of
//! totals at shutdown with the numbers `stats` gives, and a stream of
//! "will retry" lines does not hide a "gave up" line.

mod common;

use std::time::Duration;

use common::*;
use tracing::info;
use tracing_jkool::JKoolLayer;

/// Set in the child process the test starts.
const CHILD: &str = "TRACING_JKOOL_VISIBLE_LOSS_CHILD";

const NAME: &str = "losses_are_said_once_and_the_totals_match_the_stats";

/// In the child: jKool down, a tiny queue and buffer, a flood, then a
/// shutdown that gives up. Prints the final stats on stdout.
fn child() {
    let port = common::free_port();
    let layer = JKoolLayer::builder(TOKEN)
        .url(format!("http://127.0.0.1:{port}"))
        .queue_capacity(5)
        .batch_size(10)
        .retry_buffer(10)
        .flush_interval(Duration::from_millis(10))
        .max_retry_wait(Duration::from_millis(50))
        .build()
        .expect("layer");
    let (dispatch, handle) = {
        use tracing_subscriber::prelude::*;
        let handle = layer.handle();
        (
            tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
            handle,
        )
    };
    tracing::dispatcher::with_default(&dispatch, || {
        info!("first");
        // Refused connections: the pipeline is down and retrying.
        std::thread::sleep(Duration::from_millis(200));
        for round in 0..20 {
            for i in 0..2_000 {
                info!(round, i, "flood");
            }
            let stats = handle.stats();
            if stats.dropped > 0 && stats.evicted > 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(300));
    });
    let result = handle.shutdown(Duration::from_millis(100));
    assert!(result.is_err(), "jKool was down: {result:?}");
    let s = handle.stats();
    assert!(s.dropped > 0 && s.evicted > 0 && s.failed > 0, "{s:?}");
    assert_eq!(s.sent, 0);
    assert_eq!(s.queued, s.evicted + s.failed, "{s:?}");
    println!("STATS {} {} {}", s.dropped, s.evicted, s.failed);
}

#[test]
fn losses_are_said_once_and_the_totals_match_the_stats() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let numbers: Vec<u64> = stdout
        .lines()
        .find_map(|l| l.split_once("STATS ").map(|(_, n)| n))
        .expect("the child's stats")
        .split(' ')
        .map(|n| n.parse().expect("a number"))
        .collect();
    let [dropped, evicted, failed] = numbers[..] else {
        panic!("{stdout}");
    };
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("tracing-jkool:"))
        .collect();
    let said = |text: &str| lines.iter().filter(|l| l.contains(text)).count();
    assert_eq!(said("losing items"), 1, "{stderr}");
    let first_loss = lines
        .iter()
        .position(|l| l.contains("losing items"))
        .expect("a first loss");
    assert!(
        lines[first_loss].starts_with("tracing-jkool: losing items: "),
        "{stderr}"
    );
    // Retries are rate limited, apart from what was given up.
    assert_eq!(said("will retry"), 1, "{stderr}");
    assert_eq!(said("gave up on"), 1, "{stderr}");
    let totals = format!(
        "tracing-jkool: stopped; not delivered: {dropped} dropped (queue full or after \
         shutdown), {evicted} evicted (retry buffer full), {failed} failed"
    );
    assert_eq!(lines.last(), Some(&totals.as_str()), "{stderr}");
    assert_eq!(said("stopped; not delivered"), 1, "{stderr}");
    assert_eq!(lines.len(), 4, "{stderr}");
}
