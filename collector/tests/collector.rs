//! Real HTTP requests against the mock collector over 127.0.0.1.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use reqwest::redirect::Policy;
use serde_json::{json, Value};
use tracing_jkool_collector::{render_tree, Collector, Fault};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    common::request_with(addr, "POST", path, headers, body)
}

#[test]
fn object_body_is_stored_and_logged() {
    let collector = Collector::start().unwrap();
    let item = json!({"type": "EVENT", "tracking-id": "e1", "msg-text": "hello"});
    let (status, body) = post(collector.addr(), "/event", &[], &item.to_string());
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["accepted"], 1);
    assert_eq!(collector.items(), vec![item]);

    let requests = collector.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/event");
    assert_eq!(requests[0].items, 1);
    assert_eq!(requests[0].status, 200);
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
}

#[test]
fn array_body_keeps_order() {
    let collector = Collector::start().unwrap();
    let body = json!([{"n": 1}, {"n": 2}, {"n": 3}]).to_string();
    assert_eq!(post(collector.addr(), "/", &[], &body).0, 200);
    let (status, _) = post(collector.addr(), "/", &[], r#"[{"n": 4}]"#);
    assert_eq!(status, 200);
    let ns: Vec<Value> = collector.items().iter().map(|i| i["n"].clone()).collect();
    assert_eq!(ns, [json!(1), json!(2), json!(3), json!(4)]);
    assert_eq!(collector.requests()[0].items, 3);
}

#[test]
fn ndjson_body_skips_blank_lines() {
    let collector = Collector::start().unwrap();
    let body = "{\"n\": 1}\n\n{\"n\": 2}\r\n  \n{\"n\": 3}\n";
    assert_eq!(post(collector.addr(), "/activity", &[], body).0, 200);
    assert_eq!(collector.items().len(), 3);
    assert_eq!(collector.items()[2]["n"], 3);
}

#[test]
fn bad_json_is_400_and_stores_nothing() {
    let collector = Collector::start().unwrap();
    for body in [
        "{not json",
        "{\"n\": 1}\n{oops}\n",
        "[1, 2]",
        "",
        "\"text\"",
    ] {
        let (status, reply) = post(collector.addr(), "/", &[], body);
        assert_eq!(status, 400, "body {body:?} answered {reply}");
        assert!(reply.contains("error"), "{reply}");
    }
    assert!(collector.items().is_empty());
    let requests = collector.requests();
    assert_eq!(requests.len(), 5);
    assert!(requests.iter().all(|r| r.status == 400 && r.items == 0));
}

#[test]
fn only_post_is_accepted() {
    let collector = Collector::start().unwrap();
    let (status, _) = common::request(collector.addr(), "GET", "/event", "");
    assert_eq!(status, 405);
    assert_eq!(collector.requests()[0].method, "GET");
    // `GET /` is the web view, but nothing else may read or write there.
    let (status, _) = common::request(collector.addr(), "PUT", "/", "{}");
    assert_eq!(status, 405);
    assert_eq!(collector.requests().len(), 2);
}

#[test]
fn token_is_required_in_either_header_and_never_shown() {
    let secret = "s3cret-token";
    let collector = Collector::builder().token(secret).start().unwrap();
    let addr = collector.addr();
    let body = r#"{"n": 1}"#;
    assert_eq!(post(addr, "/", &[], body).0, 401);
    assert_eq!(post(addr, "/", &[("X-API-Key", "wrong")], body).0, 401);
    assert_eq!(post(addr, "/", &[("token", "wrong")], body).0, 401);
    assert_eq!(post(addr, "/", &[("X-API-Key", secret)], body).0, 200);
    assert_eq!(post(addr, "/", &[("token", secret)], body).0, 200);
    assert_eq!(collector.items().len(), 2);

    let requests = collector.requests();
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 401, 401, 200, 200]);
    assert_eq!(requests[3].header("x-api-key"), Some("<redacted>"));
    assert_eq!(requests[4].header("token"), Some("<redacted>"));
    let shown = format!("{collector:?} {requests:?}");
    assert!(!shown.contains(secret), "{shown}");
    let builder = format!("{:?}", Collector::builder().token(secret));
    assert!(builder.contains("<redacted>") && !builder.contains(secret));
}

#[test]
fn rejection_of_a_large_body_still_reaches_the_client() {
    // Answering before reading the body would reset the connection and
    // could lose the 401; repeat to give a race a chance to show.
    let collector = Collector::builder().token("t").start().unwrap();
    let body = format!(
        "[{}]",
        vec![r#"{"pad": "xxxxxxxxxxxxxxxx"}"#; 40_000].join(",")
    );
    for _ in 0..5 {
        assert_eq!(post(collector.addr(), "/", &[], &body).0, 401);
    }
    assert_eq!(post(collector.addr(), "/", &[("token", "t")], &body).0, 200);
    assert_eq!(collector.items().len(), 40_000);
}

#[test]
fn wait_for_items_times_out_with_what_it_has() {
    let collector = Collector::start().unwrap();
    assert_eq!(post(collector.addr(), "/", &[], r#"{"n": 1}"#).0, 200);
    let started = Instant::now();
    let items = collector.wait_for_items(3, Duration::from_millis(300));
    let waited = started.elapsed();
    assert_eq!(items.len(), 1);
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[test]
fn wait_for_items_returns_as_soon_as_they_arrive() {
    let collector = Collector::start().unwrap();
    let addr = collector.addr();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        post(addr, "/", &[], r#"[{"n": 1}, {"n": 2}]"#).0
    });
    let started = Instant::now();
    let items = collector.wait_for_items(2, Duration::from_secs(30));
    assert_eq!(items.len(), 2);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(sender.join().unwrap(), 200);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let collector = Collector::start().unwrap();
    let mut stream = TcpStream::connect(collector.addr()).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    for n in 0..3 {
        let body = format!("{{\"n\": {n}}}");
        let request = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        // Read one response: headers, then exactly Content-Length bytes.
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            assert!(head.len() < 4096, "runaway headers");
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap();
        let mut body = vec![0u8; length];
        stream.read_exact(&mut body).unwrap();
    }
    assert_eq!(collector.items().len(), 3);
}

#[test]
fn fixed_port_and_shutdown_closes_it() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let collector = Collector::builder().port(port).start().unwrap();
    assert_eq!(collector.addr().port(), port);
    assert_eq!(collector.url(), format!("http://127.0.0.1:{port}"));
    let addr = collector.addr();
    collector.shutdown();
    assert!(TcpStream::connect_timeout(&addr, IO_TIMEOUT).is_err());
    // The port is free again: a collector can come back on it.
    let again = Collector::builder().port(port).start().unwrap();
    assert_eq!(post(again.addr(), "/", &[], "{}").0, 200);
}

#[test]
fn render_tree_nests_event_under_activity_under_parent() {
    let collector = Collector::start().unwrap();
    let items = json!([
        {"type": "EVENT", "tracking-id": "ev", "parent-id": "child", "time-usec": 150,
         "severity": "WARNING", "msg-text": "rows fetched",
         "properties": [{"name": "rows", "type": "long", "value": "3"},
                        {"name": "table", "type": "string", "value": "orders"}]},
        {"type": "ACTIVITY", "tracking-id": "child", "parent-id": "root", "operation": "db.query",
         "start-time-usec": 100, "elapsed-time-usec": 1234, "status": "END"},
        {"type": "ACTIVITY", "tracking-id": "root", "operation": "checkout", "corrid": ["order-42"],
         "start-time-usec": 0, "elapsed-time-usec": 2_500_000, "status": "EXCEPTION"},
    ]);
    assert_eq!(post(collector.addr(), "/", &[], &items.to_string()).0, 200);
    let tree = collector.render_tree();
    assert_eq!(tree, render_tree(&collector.items()));
    let lines: Vec<&str> = tree.lines().collect();
    assert_eq!(
        lines,
        [
            "▶ checkout  2.500 s  EXCEPTION  corrid=order-42",
            "└─ ▶ db.query  1.234 ms  END",
            "   └─ • WARNING  rows fetched  rows=3 table=\"orders\"",
        ],
        "\n{tree}"
    );
}

#[test]
fn render_tree_survives_cycles_and_missing_keys() {
    let items = [
        json!({"type": "ACTIVITY", "tracking-id": "a", "parent-id": "b", "operation": "op-a"}),
        json!({"type": "ACTIVITY", "tracking-id": "b", "parent-id": "a", "operation": "op-b"}),
        json!({"type": "EVENT"}),
        json!({}),
        json!(42),
    ];
    let tree = render_tree(&items);
    assert!(tree.contains("op-a") && tree.contains("op-b"), "{tree}");
    assert!(tree.contains("parent-id cycle"), "{tree}");
    assert!(tree.contains("(no message)"), "{tree}");
    assert!(tree.lines().count() >= items.len(), "{tree}");
}

/// The collector runs its own runtime, so an async client inside either
/// test runtime flavour can reach it.
async fn post_with_reqwest(collector: &Collector) {
    let client = reqwest::Client::new();
    for n in 0..3 {
        let response = client
            .post(format!("{}/event", collector.url()))
            .header("X-API-Key", "any")
            .body(json!({"n": n}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    assert_eq!(collector.wait_for_items(3, IO_TIMEOUT).len(), 3);
}

#[tokio::test(flavor = "current_thread")]
async fn works_inside_a_current_thread_runtime() {
    let collector = Collector::start().unwrap();
    post_with_reqwest(&collector).await;
    drop(collector);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_runtime() {
    let collector = Collector::start().unwrap();
    post_with_reqwest(&collector).await;
    collector.shutdown();
}

#[test]
fn collector_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Collector>();
}

// Scripted faults and endpoint limits.

/// An async client that never follows redirects and never waits forever.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(IO_TIMEOUT)
        .build()
        .unwrap()
}

async fn send(
    client: &reqwest::Client,
    collector: &Collector,
    body: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{}/event", collector.url()))
        .body(body.to_string())
        .send()
        .await
}

fn statuses(collector: &Collector) -> Vec<u16> {
    collector.requests().iter().map(|r| r.status).collect()
}

/// Waits (without blocking the runtime) until `done` holds, at most
/// `IO_TIMEOUT`.
async fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + IO_TIMEOUT;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

#[tokio::test(flavor = "current_thread")]
async fn status_fault_is_answered_and_items_are_not_kept() {
    let collector = Collector::start().unwrap();
    collector.inject(Fault::status(503), 1);
    let client = client();
    let response = send(&client, &collector, r#"{"n": 1}"#).await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().get("retry-after").is_none());
    let response = send(&client, &collector, r#"{"n": 2}"#).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(collector.items(), vec![json!({"n": 2})]);
    assert_eq!(statuses(&collector), [503, 200]);
    assert_eq!(collector.requests()[0].items, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn retry_after_reaches_the_client_verbatim() {
    let collector = Collector::start().unwrap();
    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    collector.inject(Fault::retry_after(429, "7"), 1);
    collector.inject(Fault::retry_after(503, date), 1);
    let client = client();
    for (status, value) in [(429, "7"), (503, date)] {
        let response = send(&client, &collector, "{}").await.unwrap();
        assert_eq!(response.status(), status);
        let header = response.headers().get("retry-after").unwrap();
        assert_eq!(header.to_str().unwrap(), value);
    }
    assert!(collector.items().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn delay_fault_answers_late_then_keeps_items() {
    let collector = Collector::start().unwrap();
    let delay = Duration::from_millis(300);
    collector.inject(Fault::Delay(delay), 1);
    let started = Instant::now();
    let response = send(&client(), &collector, r#"{"n": 1}"#).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status(), 200);
    assert!(elapsed >= delay, "{elapsed:?}");
    assert_eq!(collector.items(), vec![json!({"n": 1})]);
    let requests = collector.requests();
    assert_eq!((requests[0].status, requests[0].items), (200, 1));
}

#[tokio::test(flavor = "current_thread")]
async fn delay_past_the_client_timeout_keeps_items_and_arrival_order() {
    let collector = Collector::start().unwrap();
    collector.inject(Fault::Delay(Duration::from_millis(500)), 1);
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let error = send(&impatient, &collector, r#"{"n": 1}"#)
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    // The retry is answered first, the late original is kept anyway.
    let retry = send(&client(), &collector, r#"{"n": 1}"#).await.unwrap();
    assert_eq!(retry.status(), 200);
    assert!(eventually(|| collector.items().len() == 2).await);
    let requests = collector.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].at < requests[1].at);
    assert_eq!(statuses(&collector), [200, 200]);
}

#[tokio::test(flavor = "current_thread")]
async fn reset_fault_is_a_client_error_not_a_response() {
    let collector = Collector::start().unwrap();
    collector.inject(Fault::Reset, 1);
    let client = client();
    let error = send(&client, &collector, r#"{"n": 1}"#).await.unwrap_err();
    assert!(!error.is_timeout(), "{error:?}");
    assert!(error.status().is_none(), "{error:?}");
    let response = send(&client, &collector, r#"{"n": 2}"#).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(collector.items(), vec![json!({"n": 2})]);
    assert_eq!(statuses(&collector), [0, 200]);
    assert_eq!(collector.requests()[0].items, 0);
}

#[test]
fn reset_fault_sends_a_tcp_reset() {
    let collector = Collector::start().unwrap();
    collector.inject(Fault::Reset, 1);
    let mut stream = TcpStream::connect(collector.addr()).unwrap();
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let body = r#"{"n": 1}"#;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    let read = stream.read_to_end(&mut response);
    assert!(
        response.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&response)
    );
    let kind = read
        .map(|_| ErrorKind::UnexpectedEof)
        .unwrap_or_else(|e| e.kind());
    assert_eq!(kind, ErrorKind::ConnectionReset);
}

#[tokio::test(flavor = "current_thread")]
async fn redirect_fault_answers_307_with_location() {
    let collector = Collector::start().unwrap();
    let location = format!("{}/moved", collector.url());
    collector.inject(Fault::Redirect(location.clone()), 2);
    let response = send(&client(), &collector, r#"{"n": 1}"#).await.unwrap();
    assert_eq!(response.status(), 307);
    let header = response.headers().get("location").unwrap();
    assert_eq!(header.to_str().unwrap(), location);
    assert!(collector.items().is_empty());
    // A client that follows redirects re-posts the body to the new place.
    let follower = reqwest::Client::builder().timeout(IO_TIMEOUT).build();
    let response = send(&follower.unwrap(), &collector, r#"{"n": 2}"#)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(collector.items(), vec![json!({"n": 2})]);
    let paths: Vec<String> = collector.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/event", "/event", "/moved"]);
    assert_eq!(statuses(&collector), [307, 307, 200]);
}

#[test]
fn faults_are_a_fifo_script_one_per_request() {
    let collector = Collector::start().unwrap();
    collector.inject(Fault::status(500), 2);
    collector.inject(Fault::retry_after(429, "1"), 1);
    collector.inject(Fault::Reset, 0);
    collector.inject(Fault::status(503), 1);
    assert_eq!(collector.faults_pending(), 4);
    let mut seen = Vec::new();
    for n in 0..5 {
        let (status, _) = post(collector.addr(), "/", &[], &format!("{{\"n\": {n}}}"));
        seen.push((status, collector.faults_pending()));
    }
    assert_eq!(seen, [(500, 3), (500, 2), (429, 1), (503, 0), (200, 0)]);
    assert_eq!(collector.items(), vec![json!({"n": 4})]);
    assert_eq!(statuses(&collector), [500, 500, 429, 503, 200]);
}

#[test]
fn concurrent_requests_never_share_a_fault() {
    let collector = Collector::start().unwrap();
    for status in 500..508 {
        collector.inject(Fault::status(status), 1);
    }
    let addr = collector.addr();
    let start = Arc::new(Barrier::new(12));
    let senders: Vec<_> = (0..12)
        .map(|_| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                post(addr, "/", &[], "{}").0
            })
        })
        .collect();
    let mut seen: Vec<u16> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    seen.sort_unstable();
    let mut expected: Vec<u16> = (500..508).collect();
    expected.splice(0..0, [200; 4]);
    assert_eq!(seen, expected);
    assert_eq!(collector.faults_pending(), 0);
    assert_eq!(collector.items().len(), 4);
}

#[test]
fn faults_come_before_the_token_check() {
    let collector = Collector::builder().token("t").start().unwrap();
    collector.inject(Fault::status(503), 1);
    collector.inject(Fault::Delay(Duration::from_millis(20)), 1);
    let body = r#"{"n": 1}"#;
    assert_eq!(post(collector.addr(), "/", &[], body).0, 503);
    // A delay only postpones the normal checks.
    assert_eq!(post(collector.addr(), "/", &[], body).0, 401);
    assert_eq!(post(collector.addr(), "/", &[], body).0, 401);
    assert_eq!(post(collector.addr(), "/", &[("token", "t")], body).0, 200);
    assert_eq!(statuses(&collector), [503, 401, 401, 200]);
}

#[test]
fn requests_record_when_they_arrived() {
    let collector = Collector::start().unwrap();
    let before = Instant::now();
    assert_eq!(post(collector.addr(), "/", &[], "{}").0, 200);
    let between = Instant::now();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(post(collector.addr(), "/", &[], "{}").0, 200);
    let requests = collector.requests();
    assert!(before <= requests[0].at && requests[0].at <= between);
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(200), "{gap:?}");
}

#[test]
#[should_panic(expected = "not in 200..=999")]
fn injecting_an_unsendable_status_panics() {
    Collector::start().unwrap().inject(Fault::status(42), 1);
}

#[test]
fn max_body_answers_413_above_the_limit() {
    let collector = Collector::builder().max_body(64).start().unwrap();
    let padded = |len: usize| format!("{{\"p\": \"{}\"}}", "x".repeat(len - 9));
    assert_eq!(padded(64).len(), 64);
    assert_eq!(post(collector.addr(), "/", &[], &padded(64)).0, 200);
    assert_eq!(post(collector.addr(), "/", &[], &padded(65)).0, 413);
    // A body far past the limit still gets its answer, not a reset.
    for _ in 0..3 {
        assert_eq!(post(collector.addr(), "/", &[], &padded(8 << 20)).0, 413);
    }
    assert_eq!(collector.items().len(), 1);
    assert_eq!(statuses(&collector), [200, 413, 413, 413, 413]);
}

#[test]
fn single_objects_only_refuses_batches() {
    let collector = Collector::builder()
        .single_objects_only(415)
        .start()
        .unwrap();
    let addr = collector.addr();
    assert_eq!(post(addr, "/", &[], r#"[{"n": 1}, {"n": 2}]"#).0, 415);
    assert_eq!(post(addr, "/", &[], "{\"n\": 1}\n{\"n\": 2}\n").0, 415);
    assert_eq!(post(addr, "/", &[], r#"{"n": 3}"#).0, 200);
    assert_eq!(post(addr, "/", &[], r#"[{"n": 4}]"#).0, 200);
    assert_eq!(post(addr, "/", &[], "{\"n\": 5}\n").0, 200);
    assert_eq!(post(addr, "/", &[], "[{\"n\": 6}, 7]").0, 400);
    let ns: Vec<Value> = collector.items().iter().map(|i| i["n"].clone()).collect();
    assert_eq!(ns, [json!(3), json!(4), json!(5)]);
    let error = Collector::builder().single_objects_only(42).start();
    assert_eq!(error.unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[test]
fn latency_delays_every_answer_but_requests_wait_in_parallel() {
    const LATENCY: Duration = Duration::from_millis(250);
    const SENDERS: usize = 8;
    let collector = Collector::builder().latency(LATENCY).start().unwrap();
    let addr = collector.addr();

    let started = Instant::now();
    assert_eq!(post(addr, "/", &[], r#"{"n": 0}"#).0, 200);
    assert!(started.elapsed() >= LATENCY, "{:?}", started.elapsed());

    // Serialized, 8 requests would take 2 s; in parallel, about 250 ms.
    let start = Arc::new(Barrier::new(SENDERS));
    let started = Instant::now();
    let senders: Vec<_> = (0..SENDERS)
        .map(|n| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                let sent = Instant::now();
                let status = post(addr, "/", &[], &format!("{{\"n\": {}}}", n + 1)).0;
                (status, sent.elapsed())
            })
        })
        .collect();
    for sender in senders {
        let (status, took) = sender.join().unwrap();
        assert_eq!(status, 200);
        assert!(took >= LATENCY, "{took:?}");
    }
    let all = started.elapsed();
    assert!(all < LATENCY * 4, "{SENDERS} requests took {all:?}");
    assert_eq!(collector.items().len(), SENDERS + 1);

    // Faults are delayed too.
    collector.inject(Fault::status(503), 1);
    let started = Instant::now();
    assert_eq!(post(addr, "/", &[], "{}").0, 503);
    assert!(started.elapsed() >= LATENCY, "{:?}", started.elapsed());
}

#[test]
fn reject_items_containing_refuses_the_whole_batch() {
    let collector = Collector::builder()
        .reject_items_containing("poison", 400)
        .reject_items_containing("\"severity\":\"HALT\"", 422)
        .start()
        .unwrap();
    let addr = collector.addr();
    let batch = json!([{"n": 1}, {"n": 2, "msg-text": "a poison pill"}, {"n": 3}]);
    let (status, body) = post(addr, "/", &[], &batch.to_string());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("item 1"), "{body}");
    assert_eq!(
        post(addr, "/", &[], "{\"n\": 4}\n{\"poison\": true}\n").0,
        400
    );
    assert_eq!(
        post(addr, "/", &[], r#"{"n": 5, "severity":"HALT"}"#).0,
        422
    );
    // Matched as JSON text: with a space after the colon it is not there.
    assert_eq!(
        post(addr, "/", &[], r#"{"n": 6, "severity": "HALT"}"#).0,
        200
    );
    assert_eq!(post(addr, "/", &[], r#"[{"n": 7}, {"n": 8}]"#).0, 200);

    let ns: Vec<Value> = collector.items().iter().map(|i| i["n"].clone()).collect();
    assert_eq!(ns, [json!(6), json!(7), json!(8)]);
    let log: Vec<(u16, usize)> = collector
        .requests()
        .iter()
        .map(|r| (r.status, r.items))
        .collect();
    assert_eq!(log, [(400, 0), (400, 0), (422, 0), (200, 1), (200, 2)]);

    let error = Collector::builder()
        .reject_items_containing("x", 100)
        .start();
    assert_eq!(error.unwrap_err().kind(), ErrorKind::InvalidInput);
}
