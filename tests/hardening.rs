//! Hostile input: every body stays valid JSON within its limits, nothing
//! panics the application, the pipeline keeps going, and the token never
//! shows.

mod common;

use common::*;
use serde_json::Value;
use tracing::info;
use tracing_jkool::{JKoolEvent, JKoolLayer};

/// Every request the collector answered was accepted: it parses each body.
fn assert_all_bodies_valid(collector: &tracing_jkool_collector::Collector) {
    let requests = collector.requests();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| r.status == 200), "{requests:#?}");
}

#[test]
fn the_token_never_shows_in_debug_output_or_errors() {
    let secret = "tok-9f8e7d6c5b4a";
    let collector = collector();
    let builder = JKoolLayer::builder(secret).url(collector.url());
    let layer = builder.clone().build().expect("layer");
    let handle = layer.handle();
    for text in [
        format!("{builder:?}"),
        format!("{layer:?}"),
        format!("{handle:?}"),
        format!(
            "{:?}",
            JKoolLayer::builder(secret).url("nope").build().unwrap_err()
        ),
        JKoolLayer::builder(secret)
            .url("nope")
            .build()
            .unwrap_err()
            .to_string(),
        format!("{collector:?}"),
    ] {
        assert!(!text.contains(secret), "{text}");
    }
}

#[test]
fn a_huge_message_is_cut_to_the_value_limit_with_a_marker() {
    let collector = collector();
    let big = "é".repeat(5 * 1024 * 1024); // 10 MB of two-byte characters
    let items = run(
        &collector,
        builder(&collector).max_value_bytes(1001),
        || {
            info!(blob = big.as_str(), "{big}");
        },
    );
    assert_all_bodies_valid(&collector);
    let event = &items[0];
    let text = event["msg-text"].as_str().unwrap();
    assert_eq!(
        text,
        format!("{}…[truncated]", "é".repeat(500)),
        "cut on a character boundary"
    );
    assert_eq!(property(event, "blob")["value"], text);
}

#[test]
fn odd_field_names_and_control_characters_survive_as_json() {
    let collector = collector();
    let nasty = "nul\u{0} bell\u{7} esc\u{1b}[31m quote\" backslash\\ newline\n tab\t 🦀";
    let items = run(&collector, builder(&collector), || {
        info!(
            "quo\"ted" = 1,
            "new\nline" = 2,
            "ünïcødé" = 3,
            value = nasty,
            "{nasty}"
        );
    });
    assert_all_bodies_valid(&collector);
    let event = &items[0];
    assert_eq!(event["msg-text"], nasty);
    assert_eq!(property(event, "value")["value"], nasty);
    assert_eq!(
        property_names(event),
        ["quo\"ted", "new\nline", "ünïcødé", "value"]
    );
}

#[test]
fn five_thousand_properties_on_one_event_arrive_intact() {
    let collector = collector();
    let (_dispatch, handle) = dispatch(builder(&collector));
    let mut event = JKoolEvent::new("wide");
    for i in 0..5_000 {
        event = event.property(format!("p{i}"), i);
    }
    handle.send(event);
    handle.flush(WAIT).expect("delivered");
    assert_all_bodies_valid(&collector);
    let items = collector.items();
    let properties = items[0]["properties"].as_array().unwrap();
    assert_eq!(properties.len(), 5_000);
    assert_eq!(properties[4_999]["value"], 4_999);
}

#[test]
fn spans_nested_ten_thousand_deep_keep_their_chain() {
    const DEPTH: usize = 10_000;
    let collector = collector();
    let builder = builder(&collector)
        .queue_capacity(2 * DEPTH)
        .retry_buffer(2 * DEPTH);
    let items = run(&collector, builder, || {
        let mut entered = Vec::with_capacity(DEPTH);
        for depth in 0..DEPTH {
            entered.push(tracing::info_span!("level", depth).entered());
        }
        info!("at the bottom");
        while entered.pop().is_some() {}
    });
    assert_all_bodies_valid(&collector);
    assert_eq!(items.len(), DEPTH + 1);
    let by_depth = |d: i64| {
        items
            .iter()
            .find(|i| i["type"] == "ACTIVITY" && property(i, "depth")["value"] == d)
            .unwrap()
    };
    let bottom = find(&items, "msg-text", "at the bottom");
    let deepest = by_depth(DEPTH as i64 - 1);
    assert_eq!(bottom["parent-id"], deepest["tracking-id"]);
    assert_eq!(
        deepest["parent-id"],
        by_depth(DEPTH as i64 - 2)["tracking-id"]
    );
    assert!(by_depth(0).get("parent-id").is_none());
}

#[test]
fn a_panicking_debug_impl_neither_panics_the_application_nor_stops_the_pipeline() {
    struct Boom;
    impl std::fmt::Debug for Boom {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("Debug exploded")
        }
    }
    let collector = collector();
    let items = run(&collector, builder(&collector), || {
        info!(bad = ?Boom, "still delivered");
        info!(f = f64::NAN, g = f64::INFINITY, "after the panic");
    });
    assert_all_bodies_valid(&collector);
    let event = find(&items, "msg-text", "still delivered");
    assert_eq!(property(event, "bad")["value"], "<formatting panicked>");
    let after = find(&items, "msg-text", "after the panic");
    assert_eq!(property(after, "f")["value"], Value::from("NaN"));
}
