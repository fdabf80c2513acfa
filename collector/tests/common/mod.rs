//! HTTP over 127.0.0.1 without a client crate, and a hand-built workload of
//! realistic jKool items, for the web view's tests.
#![allow(dead_code)] // Each test file uses its own part.

pub mod browser;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{json, Value};

const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// The trace id both services of the workload carry as a correlator.
pub const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// One request per connection (`Connection: close`); the status and body.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    request_with(addr, method, path, &[], body)
}

/// [`request`] with extra headers.
pub fn request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the collector");
    stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    stream.set_write_timeout(Some(IO_TIMEOUT)).expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body.as_bytes()).expect("write body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read response");
    let response = String::from_utf8(response).expect("UTF-8 response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    request(addr, "GET", path, "")
}

/// `GET` of a JSON endpoint that must answer 200.
pub fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = get(addr, path);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// `POST`s items as a JSON array; they must be accepted.
pub fn post_items(addr: SocketAddr, path: &str, items: &[Value]) {
    let (status, body) = request(addr, "POST", path, &Value::from(items.to_vec()).to_string());
    assert_eq!(status, 200, "POST {path}: {body}");
}

const T0: i64 = 1_764_150_000_000_000;

fn activity(
    id: &str,
    parent: Option<&str>,
    op: &str,
    fqn: &str,
    from_ms: f64,
    to_ms: f64,
) -> Value {
    let start = T0 + (from_ms * 1000.0) as i64;
    let end = T0 + (to_ms * 1000.0) as i64;
    let mut item = json!({
        "type": "ACTIVITY", "tracking-id": id, "operation": op, "source-fqn": fqn,
        "status": "END", "severity": "INFO", "pid": 4242, "tid": 7,
        "start-time-usec": start, "end-time-usec": end, "elapsed-time-usec": end - start,
        "time-usec": end,
    });
    if let Some(parent) = parent {
        item["parent-id"] = json!(parent);
    }
    item
}

fn event(id: &str, parent: &str, severity: &str, msg: &str, fqn: &str, at_ms: f64) -> Value {
    json!({
        "type": "EVENT", "tracking-id": id, "parent-id": parent, "severity": severity,
        "msg-text": msg, "source-fqn": fqn, "pid": 4242, "tid": 7,
        "time-usec": T0 + (at_ms * 1000.0) as i64,
    })
}

fn property(name: &str, kind: &str, value: Value, unit: Option<&str>) -> Value {
    let mut p = json!({ "name": name, "type": kind, "value": value });
    if let Some(unit) = unit {
        p["value-type"] = json!(unit);
    }
    p
}

/// A shop checkout traced across two services, sent as an instrumented
/// process sends it: spans close inside out, so children come first.
///
/// - `checkout` (Shop): `check_stock` with an INFO event, `charge_card`
///   ending in EXCEPTION with an ERROR event holding a snapshot;
/// - `authorize` (Payments), joined to it by the trace-id correlator, with
///   a child `fraud_check` and a WARNING event;
/// - two unrelated roots: `GET /health`, and an orphan WARNING event.
///
/// Returned as requests: (path, items).
pub fn workload() -> Vec<(&'static str, Vec<Value>)> {
    let shop = "APPL=Shop#SERVER=web1#NETADDR=10.0.0.5";
    let pay = "APPL=Payments#SERVER=pay1";
    let mut stock_event = event("ev-stock", "act-stock", "INFO", "stock checked", shop, 6.5);
    stock_event["properties"] = json!([
        property("in_stock", "long", json!(12), None),
        property("warehouse", "string", json!("ATL-2"), None),
    ]);
    let mut failed = event(
        "ev-payment-failed",
        "act-charge",
        "ERROR",
        "payment failed",
        shop,
        38.0,
    );
    failed["exception"] = json!("CardDeclined: insufficient funds");
    failed["location"] = json!("Atlanta, GA");
    failed["corrid"] = json!(["order-42", TRACE]);
    failed["snapshots"] = json!([{
        "name": "Payment", "category": "Order", "parent-id": "ev-payment-failed",
        "properties": [
            property("amount", "double", json!(250.0), Some("currency.usd")),
            property("provider", "string", json!("card"), None),
            property("latency", "long", json!(27), Some("age.msec")),
        ],
    }]);
    let mut received = event(
        "ev-received",
        "act-checkout",
        "INFO",
        "order received",
        shop,
        1.0,
    );
    received["properties"] = json!([property("order_no", "long", json!(42), None)]);
    let mut charge = activity(
        "act-charge",
        Some("act-checkout"),
        "charge_card",
        shop,
        11.0,
        40.0,
    );
    charge["status"] = json!("EXCEPTION");
    charge["severity"] = json!("ERROR");
    charge["exception"] = json!("CardDeclined: insufficient funds");
    let mut checkout = activity("act-checkout", None, "checkout", shop, 0.0, 48.0);
    checkout["corrid"] = json!(["order-42", TRACE]);
    let mut authorize = activity("act-authorize", None, "authorize", pay, 14.0, 36.0);
    authorize["corrid"] = json!([TRACE]);
    let mut risk = event(
        "ev-risk",
        "act-fraud",
        "WARNING",
        "risk score high",
        pay,
        22.0,
    );
    risk["properties"] = json!([property("score", "double", json!(0.87), None)]);
    let mut health = activity("act-health", None, "GET /health", shop, 60.0, 60.4);
    health["corrid"] = json!(["req-7"]);
    let mut disk = json!({
        "type": "EVENT", "tracking-id": "ev-disk", "severity": "WARNING",
        "msg-text": "disk 91% full", "source-fqn": "APPL=Reports#SERVER=batch1",
        "time-usec": T0 + 70_000,
    });
    disk["properties"] = json!([property("used", "double", json!(91.2), Some("percent"))]);
    vec![
        (
            "/JESL/event",
            vec![
                stock_event,
                activity(
                    "act-stock",
                    Some("act-checkout"),
                    "check_stock",
                    shop,
                    2.0,
                    9.0,
                ),
                received,
            ],
        ),
        (
            "/event",
            vec![
                risk,
                activity(
                    "act-fraud",
                    Some("act-authorize"),
                    "fraud_check",
                    pay,
                    16.0,
                    24.0,
                ),
                authorize,
            ],
        ),
        ("/", vec![failed, charge, checkout]),
        ("/JESL/event", vec![health, disk]),
    ]
}

/// Sends the whole workload.
pub fn send_workload(addr: SocketAddr) -> usize {
    let mut n = 0;
    for (path, items) in workload() {
        n += items.len();
        post_items(addr, path, &items);
    }
    n
}
