//! The bytes of each framing, as the collector received them, and the
//! headers every request carries.

mod common;

use std::time::Duration;

use common::*;
use tracing_jkool::{Framing, JKoolEvent};
use tracing_jkool_collector::{Collector, ReceivedRequest};

/// Three fully specified events, whose JSON is known to the byte.
fn events() -> Vec<JKoolEvent> {
    (0..3)
        .map(|n| {
            JKoolEvent::new(format!("order {n}"))
                .tracking_id(format!("id-{n}"))
                .source_fqn("APPL=Tests")
                .time_usec(1_700_000_000_000_000 + n)
        })
        .collect()
}

/// What a body of `framing` holds for `events`, byte for byte.
fn expected(framing: Framing, events: &[JKoolEvent]) -> Vec<u8> {
    let json: Vec<Vec<u8>> = events
        .iter()
        .map(|e| serde_json::to_vec(e).expect("json"))
        .collect();
    match framing {
        Framing::Array => [b"[".to_vec(), json.join(&b","[..]), b"]".to_vec()].concat(),
        _ => json.iter().flat_map(|j| [&j[..], b"\n"].concat()).collect(),
    }
}

/// Sends `events()` in one flush through a layer with `framing` (or the
/// default) and returns the requests the collector answered.
fn sent(framing: Option<Framing>) -> Vec<ReceivedRequest> {
    let collector = Collector::builder()
        .token(TOKEN)
        .keep_bodies(true)
        .start()
        .expect("collector");
    let mut builder = builder(&collector).flush_interval(Duration::from_secs(60));
    if let Some(framing) = framing {
        builder = builder.framing(framing);
    }
    let (_dispatch, handle) = dispatch(builder);
    for event in events() {
        handle.send(event);
    }
    handle.shutdown(WAIT).expect("delivered");
    let requests = collector.requests();
    assert!(requests.iter().all(|r| r.status == 200), "{requests:#?}");
    requests
}

#[test]
fn by_default_each_request_is_one_object_and_a_newline() {
    let requests = sent(None);
    assert_eq!(requests.len(), 3, "{requests:#?}");
    let mut bodies: Vec<Vec<u8>> = requests.iter().filter_map(|r| r.body.clone()).collect();
    bodies.sort();
    let events = events();
    for (body, event) in bodies.iter().zip(&events) {
        let text = String::from_utf8_lossy(body);
        assert_eq!(
            text,
            String::from_utf8_lossy(&expected(Framing::Object, std::slice::from_ref(event)))
        );
    }
}

#[test]
fn lines_and_arrays_hold_the_batch_in_one_body() {
    let events = events();
    for framing in [Framing::Lines, Framing::Array] {
        let requests = sent(Some(framing));
        assert_eq!(requests.len(), 1, "{framing:?}: {requests:#?}");
        let body = requests[0].body.clone().expect("kept");
        assert_eq!(
            String::from_utf8_lossy(&body),
            String::from_utf8_lossy(&expected(framing, &events)),
            "{framing:?}"
        );
        assert_eq!(requests[0].items, 3);
    }
}

#[test]
fn every_request_names_its_host_and_runtime_and_never_shows_the_token() {
    let request = &sent(None)[0];
    assert_eq!(
        request.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(request.header("x-api-key"), Some("<redacted>"));
    assert_eq!(request.header("token"), Some("<redacted>"));
    let runtime = request.header("x-api-runtime").expect("x-api-runtime");
    assert!(runtime.starts_with("tracing-jkool/"), "{runtime}");
    if let Some(host) = host_name() {
        assert_eq!(request.header("x-api-host-name"), Some(host.as_str()));
    }
    let addr = request.header("x-api-host-addr");
    assert!(
        addr.is_none_or(|a| a.parse::<std::net::IpAddr>().is_ok()),
        "{addr:?}"
    );
}

/// The host name as Linux gives it.
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[test]
fn by_default_an_item_leaves_without_waiting_for_a_batch() {
    let collector = Collector::builder()
        .token(TOKEN)
        .start()
        .expect("collector");
    // No flush, and a flush interval far beyond the wait.
    let builder = builder(&collector).flush_interval(Duration::from_secs(60));
    let (_dispatch, handle) = dispatch(builder);
    handle.send(JKoolEvent::new("alone"));
    let items = collector.wait_for_items(1, Duration::from_secs(10));
    assert_eq!(items.len(), 1, "{:?}", handle.stats());
    assert_eq!(items[0]["msg-text"], "alone");
}
