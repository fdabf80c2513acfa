//! Shared set-up for the integration tests: a collector on 127.0.0.1, the
//! layer pointed at it, and helpers that read the raw JSON it received.
#![allow(dead_code)]

pub mod raw;

use std::time::Duration;

use serde_json::Value;
use tracing::Dispatch;
use tracing_jkool::{Builder, JKoolHandle, JKoolLayer};
use tracing_jkool_collector::Collector;
use tracing_subscriber::prelude::*;

pub const TOKEN: &str = "test-token";
pub const WAIT: Duration = Duration::from_secs(10);

/// A collector that requires [`TOKEN`].
pub fn collector() -> Collector {
    Collector::builder()
        .token(TOKEN)
        .start()
        .expect("collector starts")
}

/// A loopback port with nothing listening on it (for now): jKool down.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A collector that requires [`TOKEN`], on `port`: jKool back up.
pub fn start_on(port: u16) -> Collector {
    Collector::builder()
        .token(TOKEN)
        .port(port)
        .start()
        .expect("collector on its port")
}

/// The layer's builder aimed at `collector`, with a short flush interval.
pub fn builder(collector: &Collector) -> Builder {
    JKoolLayer::builder(TOKEN)
        .url(collector.url())
        .source_fqn("APPL=Tests#SERVER=ci")
        .flush_interval(Duration::from_millis(50))
}

/// A dispatcher with the layer, and the layer's handle.
pub fn dispatch(builder: Builder) -> (Dispatch, JKoolHandle) {
    let layer = builder.build().expect("layer builds");
    let handle = layer.handle();
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        handle,
    )
}

/// The pipeline's first flush, which must have an answer for every item
/// and report exactly the losses its stats count (`Ok` only when none);
/// returns the stats.
pub fn first_flush(handle: &JKoolHandle) -> tracing_jkool::Stats {
    let flushed = handle.flush(WAIT);
    let stats = handle.stats();
    let told = match flushed {
        Ok(()) => (0, 0, 0),
        Err(tracing_jkool::Error::Undelivered {
            failed,
            evicted,
            dropped,
            ..
        }) => (failed, evicted, dropped),
        Err(err) => panic!("not every item had its answer: {err} {stats:?}"),
    };
    let counted = (stats.failed, stats.evicted, stats.dropped);
    assert_eq!(told, counted, "{stats:?}");
    stats
}

/// Runs `f` with the layer as the thread's subscriber, flushes, and
/// returns everything the collector received.
pub fn run(collector: &Collector, builder: Builder, f: impl FnOnce()) -> Vec<Value> {
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, f);
    handle.flush(WAIT).expect("everything is delivered");
    collector.items()
}

/// Flushes for as long as delivery moves: a loaded machine may need more
/// than [`WAIT`] to drain a backlog, but never [`WAIT`] without sending
/// anything. Panics when a flush fails otherwise or nothing moves.
pub fn flush_while_moving(handle: &JKoolHandle) -> tracing_jkool::Stats {
    let done = |s: &tracing_jkool::Stats| s.sent + s.failed + s.evicted;
    let mut before = done(&handle.stats());
    // 30 x WAIT at most: a bound on the loop, not a budget a machine meets.
    for _ in 0..30 {
        match handle.flush(WAIT) {
            Ok(()) => return handle.stats(),
            Err(tracing_jkool::Error::Timeout { .. }) if done(&handle.stats()) > before => {
                before = done(&handle.stats());
            }
            Err(err) => panic!("{err:#}: {:?}", handle.stats()),
        }
    }
    panic!("still moving after 30 flushes: {:?}", handle.stats());
}

/// The one item whose `key` equals `value`.
pub fn find<'a>(items: &'a [Value], key: &str, value: &str) -> &'a Value {
    let found: Vec<&Value> = items.iter().filter(|i| i[key] == value).collect();
    assert_eq!(
        found.len(),
        1,
        "one item with {key} = {value:?} in {items:#?}"
    );
    found[0]
}

/// The items of `type` ACTIVITY or EVENT.
pub fn of_type<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items.iter().filter(|i| i["type"] == kind).collect()
}

/// The property `name` of an item's snapshots.
pub fn property<'a>(item: &'a Value, name: &str) -> &'a Value {
    item["snapshots"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["properties"].as_array().into_iter().flatten())
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no property {name} in {item:#}"))
}

/// Every property name of an item's snapshots.
pub fn property_names(item: &Value) -> Vec<String> {
    item["snapshots"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["properties"].as_array().into_iter().flatten())
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Asserts the keys every item carries, with their JSON types.
pub fn assert_contract(item: &Value) {
    let kind = item["type"].as_str().expect("type is a string");
    assert!(kind == "EVENT" || kind == "ACTIVITY", "{item:#}");
    let id = item["tracking-id"].as_str().expect("tracking-id");
    assert!(!id.is_empty());
    assert!(item["time-usec"].as_i64().expect("time-usec") > 1_600_000_000_000_000);
    assert!(item["source-fqn"].as_str().is_some(), "{item:#}");
    assert!(item["pid"].as_u64().is_some(), "{item:#}");
    assert!(item["tid"].as_u64().is_some(), "{item:#}");
    if kind == "ACTIVITY" {
        assert!(item["operation"].as_str().is_some(), "{item:#}");
        let start = item["start-time-usec"].as_i64().expect("start");
        let end = item["end-time-usec"].as_i64().expect("end");
        assert!(start <= end, "{item:#}");
        assert_eq!(item["elapsed-time-usec"].as_i64(), Some(end - start));
        let status = item["status"].as_str().expect("status");
        assert!(status == "END" || status == "EXCEPTION");
    } else {
        assert!(item["severity"].as_str().is_some(), "{item:#}");
        assert!(item["msg-text"].as_str().is_some(), "{item:#}");
    }
}
