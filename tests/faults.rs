//! A misbehaving collector: what is retried, how long the layer waits, what
//! is split, and what is given up, with exact counts.

mod common;

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use common::*;
use serde_json::Value;
use tracing::info;
use tracing_jkool::{Builder, Framing};
use tracing_jkool_collector::{Collector, Fault};

/// Emits `n` events through a layer built from `builder`, in one array
/// (so that each fault meets all of them), flushes, and returns the
/// handle's stats.
fn emit(builder: Builder, n: usize) -> tracing_jkool::Stats {
    let builder = builder.framing(Framing::Array);
    let (dispatch, handle) = dispatch(builder.flush_interval(Duration::from_millis(20)));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..n {
            info!(i, "event");
        }
    });
    first_flush(&handle)
}

/// Each item's `i`, in the order the collector received them.
fn arrival_order(collector: &Collector) -> Vec<i64> {
    let items = collector.items();
    let order = items.iter().map(|i| property(i, "i")["value"].as_i64());
    order.map(|i| i.expect("an `i`")).collect()
}

fn statuses(collector: &Collector) -> Vec<u16> {
    collector.requests().iter().map(|r| r.status).collect()
}

fn unique_ids(items: &[Value]) -> usize {
    items
        .iter()
        .map(|i| i["tracking-id"].clone())
        .collect::<HashSet<_>>()
        .len()
}

/// The gap between the first request and the second.
fn first_gap(collector: &Collector) -> Duration {
    let requests = collector.requests();
    requests[1].at.duration_since(requests[0].at)
}

#[test]
fn server_errors_are_retried_until_accepted() {
    let collector = collector();
    collector.inject(Fault::status(500), 3);
    let stats = emit(builder(&collector), 10);
    assert_eq!(statuses(&collector), [500, 500, 500, 200]);
    assert_eq!(collector.items().len(), 10);
    assert_eq!(
        (stats.sent, stats.failed, stats.retried, stats.batches),
        (10, 0, 3, 1)
    );
}

#[test]
fn a_503_with_retry_after_seconds_is_waited_out() {
    let collector = collector();
    collector.inject(Fault::retry_after(503, "1"), 1);
    let stats = emit(builder(&collector), 3);
    assert_eq!(statuses(&collector), [503, 200]);
    assert!(
        first_gap(&collector) >= Duration::from_secs(1),
        "{:?}",
        first_gap(&collector)
    );
    assert_eq!((stats.sent, stats.retried), (3, 1));
}

#[test]
fn retry_after_holds_for_what_it_answered_while_other_requests_are_accepted() {
    // Each answer takes 100 ms: requests overlap, and answers accepting
    // bodies sent before the 429s come after them.
    let collector = tracing_jkool_collector::Collector::builder()
        .token(TOKEN)
        .latency(Duration::from_millis(100))
        .keep_bodies(true)
        .start()
        .expect("collector starts");
    collector.inject(Fault::retry_after(429, "2"), 10);
    let (dispatch, handle) = dispatch(builder(&collector).framing(Framing::Object));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..40 {
            info!(i, "event");
        }
    });
    flush_while_moving(&handle);
    assert_eq!(collector.items().len(), 40);
    let requests = collector.requests();
    let refused: Vec<_> = requests.iter().filter(|r| r.status == 429).collect();
    assert_eq!(refused.len(), 10);
    for answered in refused {
        let again = (requests.iter())
            .find(|r| r.at > answered.at && r.body == answered.body)
            .expect("sent again");
        // Retry-After counts from the answer, which came 100 ms after the
        // request arrived (before: 99 to 111 ms after the 429).
        let gap = again.at.duration_since(answered.at);
        assert!(gap >= Duration::from_secs(2), "sent again after {gap:?}");
    }
}

#[test]
fn a_429_with_retry_after_as_an_http_date_is_waited_out() {
    let collector = collector();
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3));
    collector.inject(Fault::retry_after(429, at), 1);
    let stats = emit(builder(&collector), 3);
    assert_eq!(statuses(&collector), [429, 200]);
    // An HTTP date has whole seconds, and the first request goes a little
    // after the date was made (its batch waits, a loaded machine adds
    // more): three seconds ahead leaves at least one after it, as long as
    // it goes within a second. With two, a 10 ms delay left 990 ms.
    assert!(
        first_gap(&collector) >= Duration::from_secs(1),
        "{:?}",
        first_gap(&collector)
    );
    assert_eq!(stats.sent, 3);
}

#[test]
fn retry_after_is_capped_by_the_maximum_wait() {
    let collector = collector();
    collector.inject(Fault::retry_after(503, "3600"), 1);
    let builder = builder(&collector).max_retry_wait(Duration::from_millis(200));
    let stats = emit(builder, 2);
    assert_eq!(statuses(&collector), [503, 200]);
    assert!(first_gap(&collector) < Duration::from_secs(5));
    assert_eq!(stats.sent, 2);
}

#[test]
fn a_response_slower_than_the_request_timeout_is_retried() {
    let collector = collector();
    collector.inject(Fault::Delay(Duration::from_millis(1500)), 1);
    let builder = builder(&collector).request_timeout(Duration::from_millis(300));
    let stats = emit(builder, 5);
    assert_eq!((stats.sent, stats.failed, stats.retried), (5, 0, 1));
    // The slow server kept the first copy too: delivery is at least once.
    let items = collector.wait_for_items(10, Duration::from_secs(5));
    assert_eq!(unique_ids(&items), 5);
}

#[test]
fn a_connection_reset_mid_request_is_retried() {
    let collector = collector();
    collector.inject(Fault::Reset, 2);
    let stats = emit(builder(&collector), 4);
    assert_eq!(statuses(&collector), [0, 0, 200]);
    assert_eq!(collector.items().len(), 4);
    assert_eq!((stats.sent, stats.retried), (4, 2));
}

#[test]
fn a_rejected_token_is_not_retried_and_counts_as_failed() {
    let collector = collector();
    let builder = tracing_jkool::JKoolLayer::builder("wrong-token").url(collector.url());
    let stats = emit(builder, 6);
    assert_eq!(statuses(&collector), [401]);
    assert_eq!((stats.sent, stats.failed, stats.retried), (0, 6, 0));
}

#[test]
fn other_client_errors_are_not_retried() {
    let collector = collector();
    collector.inject(Fault::status(404), 1);
    let stats = emit(builder(&collector), 2);
    assert_eq!(statuses(&collector), [404]);
    assert_eq!((stats.sent, stats.failed, stats.retried), (0, 2, 0));
}

#[test]
fn a_redirect_is_not_followed_so_the_token_stays_home() {
    let collector = collector();
    let elsewhere = Collector::start().expect("second collector");
    collector.inject(Fault::Redirect(format!("{}/stolen", elsewhere.url())), 1);
    let stats = emit(builder(&collector), 2);
    assert_eq!(statuses(&collector), [307]);
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
    assert_eq!((stats.sent, stats.failed), (0, 2));
}

/// Items of about 300 bytes each.
const ITEM_BYTES: usize = 300;

#[test]
fn a_413_splits_the_batch_in_halves_until_it_fits() {
    let collector = Collector::builder()
        .token(TOKEN)
        .max_body(6 * ITEM_BYTES)
        .start()
        .expect("collector");
    // One request at a time: the halves then keep the order too.
    let stats = emit(
        builder(&collector)
            .framing(Framing::Array)
            .batch_size(32)
            .max_concurrent_requests(1),
        32,
    );
    assert_eq!(collector.items().len(), 32);
    assert_eq!((stats.sent, stats.failed), (32, 0));
    let requests = collector.requests();
    assert!(requests.iter().any(|r| r.status == 413), "{requests:#?}");
    assert!(requests
        .iter()
        .filter(|r| r.status == 200)
        .all(|r| r.items <= 6));
    let order = arrival_order(&collector);
    assert_eq!(order, (0..32).collect::<Vec<_>>(), "halves keep the order");
}

#[test]
fn one_request_at_a_time_keeps_the_order_across_500_retries() {
    let collector = collector();
    // The first three answers are 500: the first item is tried four
    // times, and everything after it waits its turn.
    collector.inject(Fault::status(500), 3);
    let builder = builder(&collector)
        .max_concurrent_requests(1)
        .max_retry_wait(Duration::from_millis(100));
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..10 {
            info!(i, "one object per request");
        }
    });
    let stats = first_flush(&handle);
    assert_eq!((stats.sent, stats.retried), (10, 3), "{stats:?}");
    let order = arrival_order(&collector);
    assert_eq!(order, (0..10).collect::<Vec<_>>(), "in the order emitted");
}

#[test]
fn in_order_an_item_jkool_always_fails_on_does_not_hold_back_the_rest() {
    let collector = Collector::builder()
        .token(TOKEN)
        .reject_items_containing("poison", 500)
        .start()
        .expect("collector");
    let builder = builder(&collector)
        .max_concurrent_requests(1)
        .max_retry_wait(Duration::from_millis(50))
        .give_up_refused_after(Duration::from_millis(300));
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        info!(i = 0, "poison");
        for i in 1..10 {
            info!(i, "fine");
        }
    });
    let stats = first_flush(&handle);
    assert_eq!((stats.sent, stats.failed), (9, 1), "{stats:?}");
    let order = arrival_order(&collector);
    assert_eq!(order, (1..10).collect::<Vec<_>>());
}

#[test]
fn an_item_too_large_alone_fails_alone() {
    let collector = Collector::builder()
        .token(TOKEN)
        .max_body(2_000)
        .start()
        .expect("collector");
    let (dispatch, handle) = dispatch(builder(&collector));
    tracing::dispatcher::with_default(&dispatch, || {
        info!("small one");
        info!(blob = "x".repeat(5_000).as_str(), "too large");
        info!("small two");
    });
    let stats = first_flush(&handle);
    assert_eq!((stats.sent, stats.failed), (2, 1));
    let texts: Vec<Value> = collector
        .items()
        .iter()
        .map(|i| i["msg-text"].clone())
        .collect();
    assert_eq!(texts, ["small one", "small two"]);
}

#[test]
fn bodies_are_split_up_front_to_the_size_cap() {
    let collector = Collector::builder()
        .token(TOKEN)
        .max_body(5 * ITEM_BYTES)
        .start()
        .expect("collector");
    let builder = builder(&collector)
        .framing(Framing::Array)
        .batch_size(100)
        .max_body_bytes(5 * ITEM_BYTES);
    let stats = emit(builder, 40);
    assert_eq!(stats.sent, 40);
    let requests = collector.requests();
    assert!(
        requests.iter().all(|r| r.status == 200),
        "never a 413: {requests:#?}"
    );
    assert!(requests.len() >= 8, "{} requests", requests.len());
}

fn falls_back_to_single_objects(framing: Framing, status: u16) {
    let collector = Collector::builder()
        .token(TOKEN)
        .single_objects_only(status)
        .start()
        .expect("collector");
    let (dispatch, handle) = dispatch(
        builder(&collector)
            .framing(framing)
            .flush_interval(Duration::from_millis(20)),
    );
    for round in 0..2 {
        tracing::dispatcher::with_default(&dispatch, || {
            for i in 0..5 {
                info!(round, i, "event");
            }
        });
        handle.flush(WAIT).expect("delivered");
    }
    let stats = handle.stats();
    assert_eq!((stats.sent, stats.failed), (10, 0));
    assert_eq!(collector.items().len(), 10);
    let requests = collector.requests();
    assert_eq!(requests[0].status, status);
    // The refused batch was split until two items alone went through:
    // the endpoint refuses arrays, so the second round goes one by one.
    let round_two = &requests[requests.len() - 5..];
    assert!(
        round_two.iter().all(|r| r.status == 200 && r.items == 1),
        "{requests:#?}"
    );
    let accepted: usize = requests
        .iter()
        .filter(|r| r.status == 200)
        .map(|r| r.items)
        .sum();
    assert_eq!(accepted, 10, "each item accepted once: {requests:#?}");
}

#[test]
fn a_400_to_a_batch_falls_back_to_one_object_per_request() {
    falls_back_to_single_objects(Framing::Array, 400);
}

#[test]
fn a_400_to_lines_falls_back_to_one_object_per_request() {
    falls_back_to_single_objects(Framing::Lines, 400);
}

#[test]
fn a_415_to_a_batch_falls_back_to_one_object_per_request() {
    falls_back_to_single_objects(Framing::Array, 415);
}

/// Set in the child process that the stderr test starts.
const CHILD: &str = "TRACING_JKOOL_STDERR_CHILD";

#[test]
fn a_rejected_token_is_reported_once_on_stderr_without_the_token() {
    let secret = "secret-token-4242";
    if std::env::var_os(CHILD).is_some() {
        let collector = collector();
        let builder = tracing_jkool::JKoolLayer::builder(secret).url(collector.url());
        for _ in 0..3 {
            let stats = emit(builder.clone(), 2);
            assert_eq!(stats.failed, 2);
        }
        // The pipelines were dropped, not shut down: their threads print
        // their totals on their way out, which the process must not cut
        // short by exiting first (Linux can tell; elsewhere, no wait).
        let running = || {
            std::fs::read_dir("/proc/self/task")
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .filter(|name| name.trim_end() == "tracing-jkool")
                .count()
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while running() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        return;
    }
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "a_rejected_token_is_reported_once_on_stderr_without_the_token",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .expect("child runs");
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("tracing-jkool:"))
        .collect();
    // Three layers, three pipelines: each says it once, however many
    // batches, and gives its totals when it stops.
    let said = |text: &str| lines.iter().filter(|l| l.contains(text)).count();
    assert_eq!(said("rejected the access token"), 3, "{stderr}");
    assert_eq!(said("stopped; not delivered: 0 dropped"), 3, "{stderr}");
    assert_eq!(lines.len(), 6, "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
}

/// Set in the child process that the retry-notice test starts: the port
/// with nothing listening on it.
const RETRY_CHILD: &str = "TRACING_JKOOL_RETRY_CHILD_PORT";

#[test]
fn a_retry_notice_names_where_it_tried_to_send() {
    if let Ok(port) = std::env::var(RETRY_CHILD) {
        let builder = tracing_jkool::JKoolLayer::builder(TOKEN)
            .url(format!("http://127.0.0.1:{port}"))
            .exit_flush(Duration::ZERO);
        let (dispatch, handle) = dispatch(builder);
        tracing::dispatcher::with_default(&dispatch, || info!("nobody listens"));
        let _ = handle.shutdown(Duration::from_millis(300));
        return;
    }
    let port = free_port();
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "a_retry_notice_names_where_it_tried_to_send",
            "--nocapture",
        ])
        .env(RETRY_CHILD, port.to_string())
        .output()
        .expect("child runs");
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let said = format!(
        "tracing-jkool: could not send 1 item(s) to jKool at 127.0.0.1:{port}, will retry: "
    );
    assert!(
        stderr.lines().any(|line| line.starts_with(&said)),
        "{stderr}"
    );
}
