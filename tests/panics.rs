//! Panic capture: a panic becomes a FATAL event inside the span it unwound
//! from, and the spans it unwinds through fail with its message.

mod common;

use common::*;
use tracing::{info, instrument};

#[instrument]
fn charge(order_no: u64) {
    info!("charging");
    let amounts: Vec<u64> = Vec::new();
    // Index out of bounds, as a real bug would.
    let _ = amounts[order_no as usize];
}

#[instrument]
fn checkout(order_no: u64) {
    charge(order_no);
}

/// The `thread` property of a panic's event (a property of the event
/// itself, not of a snapshot).
fn thread_of(item: &serde_json::Value) -> Option<&str> {
    let properties = item["properties"].as_array()?;
    let thread = properties.iter().find(|p| p["name"] == "thread")?;
    thread["value"].as_str()
}

#[test]
fn a_panic_is_a_fatal_event_in_its_span_and_the_spans_it_unwinds_fail() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector).capture_panics(true));
    let worker = std::thread::Builder::new()
        .name("order-worker".into())
        .spawn(move || tracing::dispatcher::with_default(&dispatch, || checkout(7)))
        .expect("thread");
    assert!(worker.join().is_err(), "the thread panicked");
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    // The hook is the process's: a panic in another test's thread may be
    // sent here too, from its own thread.
    let panics: Vec<&serde_json::Value> = (items.iter())
        .filter(|i| i["operation"] == "panic" && thread_of(i) == Some("order-worker"))
        .collect();
    assert_eq!(panics.len(), 1, "{items:#?}");
    let panic = panics[0];
    let charge = find(&items, "operation", "charge");
    let checkout = find(&items, "operation", "checkout");
    let text = panic["msg-text"].as_str().expect("a message");
    assert!(text.contains("index out of bounds"), "{panic:#}");
    assert_eq!(panic["exception"], text);
    assert_eq!(panic["severity"], "FATAL");
    assert_eq!(
        panic["parent-id"], charge["tracking-id"],
        "the span it unwound from"
    );
    assert!(
        panic["location"]
            .as_str()
            .is_some_and(|at| at.starts_with("tests/panics.rs:")),
        "{panic:#}"
    );
    for span in [charge, checkout] {
        assert_eq!(span["status"], "EXCEPTION", "{span:#}");
        assert_eq!(span["severity"], "ERROR", "{span:#}");
        assert_eq!(span["exception"], text, "{span:#}");
    }
}

#[test]
fn without_capture_a_panic_sends_nothing_of_its_own() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector));
    let worker = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, || checkout(7));
    });
    assert!(worker.join().is_err());
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    assert!(
        items.iter().all(|i| i["operation"] != "panic"),
        "{items:#?}"
    );
    assert_eq!(find(&items, "operation", "charge")["status"], "END");
}
