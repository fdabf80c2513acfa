//! One object per request over pipelined connections: requests written
//! back to back without waiting for answers, and every fault a connection
//! can meet, each against a raw server of the test's own.

mod common;

use std::time::Duration;

use common::raw::{answer, ok, raw_server, RawServer, Reply, Request};
use common::*;
use tracing::info;
use tracing_jkool::{JKoolLayer, Stats};

/// Sends `n` events (`n = 0..n`) to `server`, flushes and returns the
/// stats.
fn send(
    server: &RawServer,
    n: usize,
    builder: impl FnOnce(tracing_jkool::Builder) -> tracing_jkool::Builder,
) -> Stats {
    let base = JKoolLayer::builder(TOKEN)
        .url(&server.url)
        .flush_interval(Duration::from_millis(20))
        .max_retry_wait(Duration::from_millis(200));
    let (dispatch, handle) = dispatch(builder(base));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..n {
            info!(i, "pipelined");
        }
    });
    handle.flush(WAIT).expect("everything delivered");
    let stats = handle.stats();
    handle.shutdown(WAIT).expect("shut down");
    stats
}

/// Each event's `i`, from the bodies of `requests`.
fn numbers(requests: &[Request]) -> Vec<u64> {
    let mut numbers: Vec<u64> = requests
        .iter()
        .filter_map(|r| serde_json::from_str::<serde_json::Value>(r.body.trim()).ok())
        .filter_map(|item| property(&item, "i")["value"].as_u64())
        .collect();
    numbers.sort_unstable();
    numbers
}

/// `200 OK` for every request not yet answered.
fn answer_all(requests: &[Request], answered: usize) -> Vec<Reply> {
    (answered..requests.len()).map(|_| ok()).collect()
}

#[test]
fn requests_are_written_back_to_back_on_one_connection_before_any_answer() {
    // Nothing is answered until four requests wait on the connection:
    // a client that waits for each answer never gets there.
    let server = raw_server(|_, requests, answered| match requests.len() {
        0..4 => Vec::new(),
        _ => answer_all(requests, answered),
    });
    let stats = send(&server, 4, |b| b);
    assert_eq!(
        (stats.sent, stats.failed, stats.retried),
        (4, 0, 0),
        "{stats:?}"
    );
    assert_eq!(server.connections(), 1);
    assert_eq!(numbers(&server.requests()), [0, 1, 2, 3]);
}

#[test]
fn a_connection_closed_with_requests_unanswered_sends_them_again_on_a_new_one() {
    let server = raw_server(|connection, requests, answered| match connection {
        0 if requests.len() < 4 => Vec::new(),
        0 => vec![ok(), ok(), Reply::Close],
        _ => answer_all(requests, answered),
    });
    let stats = send(&server, 4, |b| b);
    assert_eq!((stats.sent, stats.failed), (4, 0), "{stats:?}");
    let requests = server.requests();
    let again: Vec<_> = requests
        .iter()
        .filter(|r| r.connection > 0)
        .cloned()
        .collect();
    assert_eq!(
        numbers(&again),
        [2, 3],
        "the two unanswered, again: {requests:?}"
    );
}

#[test]
fn one_busy_answer_in_the_middle_sends_that_item_alone_again() {
    let server = raw_server(
        |connection, requests, answered| match (connection, answered) {
            (0, 0) if requests.len() < 3 => Vec::new(),
            (0, 0) => vec![
                ok(),
                answer("503 Service Unavailable", "retry-after: 1\r\n"),
                ok(),
            ],
            _ => answer_all(requests, answered),
        },
    );
    let stats = send(&server, 3, |b| b);
    assert_eq!(
        (stats.sent, stats.failed, stats.retried),
        (3, 0, 1),
        "{stats:?}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert_eq!(
        numbers(&requests[3..]),
        numbers(&requests[1..2]),
        "the busy one"
    );
}

#[test]
fn a_bad_item_in_the_middle_fails_alone() {
    let server = raw_server(
        |connection, requests, answered| match (connection, answered) {
            (0, 0) if requests.len() < 3 => Vec::new(),
            (0, 0) => vec![ok(), answer("400 Bad Request", ""), ok()],
            _ => answer_all(requests, answered),
        },
    );
    let base = JKoolLayer::builder(TOKEN).url(&server.url);
    let (dispatch, handle) = dispatch(base.flush_interval(Duration::from_millis(20)));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..3 {
            info!(i, "pipelined");
        }
    });
    let err = handle.flush(WAIT).unwrap_err();
    assert!(err.to_string().contains("1 failed"), "{err}");
    let stats = handle.stats();
    assert_eq!((stats.sent, stats.failed), (2, 1), "{stats:?}");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn answers_that_close_the_connection_get_one_request_per_connection() {
    let server = raw_server(|_, _, answered| match answered {
        0 => vec![answer("200 OK", "connection: close\r\n"), Reply::Close],
        _ => Vec::new(),
    });
    let stats = send(&server, 20, |b| b);
    assert_eq!((stats.sent, stats.failed), (20, 0), "{stats:?}");
    let requests = server.requests();
    assert_eq!(numbers(&requests).len(), requests.len());
    // Once told, one request per connection: each answered, none lost.
    let mut per_connection = vec![0; server.connections()];
    for request in &requests {
        per_connection[request.connection] += 1;
    }
    assert!(
        per_connection[1..].iter().all(|n| *n <= 4),
        "{per_connection:?}"
    );
    assert!(per_connection.ends_with(&[1, 1, 1]), "{per_connection:?}");
}

#[test]
fn http_1_0_answers_get_one_request_per_connection() {
    let server = raw_server(|_, _, answered| match answered {
        0 => vec![
            Reply::Bytes("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n".into()),
            Reply::Close,
        ],
        _ => Vec::new(),
    });
    let stats = send(&server, 10, |b| b);
    assert_eq!((stats.sent, stats.failed), (10, 0), "{stats:?}");
    assert!(server.connections() >= 10);
}

#[test]
fn a_server_that_stops_answering_times_out_and_what_waited_goes_again() {
    let server = raw_server(|connection, requests, answered| match connection {
        0 => Vec::new(),
        _ => answer_all(requests, answered),
    });
    let stats = send(&server, 3, |b| {
        b.request_timeout(Duration::from_millis(300))
    });
    assert_eq!((stats.sent, stats.failed), (3, 0), "{stats:?}");
    let requests = server.requests();
    let again: Vec<_> = requests
        .iter()
        .filter(|r| r.connection > 0)
        .cloned()
        .collect();
    assert_eq!(numbers(&again), [0, 1, 2], "{requests:?}");
}

#[test]
fn answers_that_cannot_be_read_or_were_never_asked_for_end_only_their_connection() {
    let server = raw_server(|connection, requests, answered| match connection {
        0 => vec![Reply::Bytes("garbage\r\n\r\n".into())],
        1 => vec![ok(), ok(), ok()],
        _ => answer_all(requests, answered),
    });
    let stats = send(&server, 6, |b| b.max_concurrent_requests(1));
    assert_eq!((stats.sent, stats.failed), (6, 0), "{stats:?}");
    assert!(server.connections() >= 3, "{}", server.connections());
}
