//! What operators configure: a proxy with credentials, gzip, and per-layer
//! filters next to a fmt layer. (Environment variables: tests/environment.rs.)

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use tracing::info;
use tracing_jkool::{Framing, JKoolLayer};
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::prelude::*;

#[test]
fn a_proxy_with_credentials_carries_the_items() {
    // The collector answers absolute-form requests, so it can stand in for
    // an HTTP proxy: the layer aims at a host that does not exist.
    let proxy = collector();
    let proxy_url = proxy.url().replace("http://", "http://shop:s3cret@");
    let builder = JKoolLayer::builder(TOKEN)
        .url("http://jkool.invalid")
        .proxy(proxy_url)
        .flush_interval(std::time::Duration::from_millis(20));
    let items = run(&proxy, builder, || info!("through the proxy"));
    assert_eq!(items.len(), 1);
    let request = &proxy.requests()[0];
    // "shop:s3cret" in Basic form.
    assert_eq!(
        request.header("proxy-authorization"),
        Some("Basic c2hvcDpzM2NyZXQ=")
    );
    assert_eq!(request.header("host"), Some("jkool.invalid"));
}

#[test]
fn gzip_bodies_arrive_whole_and_smaller() {
    let collector = collector();
    let items = run(
        &collector,
        builder(&collector).framing(Framing::Array).gzip(true),
        || {
            for i in 0..50 {
                info!(i, order = "the same text, fifty times over", "compressed");
            }
        },
    );
    assert_eq!(items.len(), 50);
    let request = &collector.requests()[0];
    assert_eq!(request.header("content-encoding"), Some("gzip"));
    let plain: usize = items.iter().map(|i| i.to_string().len()).sum();
    let (dispatch, handle) = dispatch(builder(&collector).framing(Framing::Array).gzip(true));
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..50 {
            info!(i, order = "the same text, fifty times over", "compressed");
        }
    });
    handle.flush(WAIT).expect("delivered");
    assert!(
        (handle.stats().bytes_sent as usize) < plain / 3,
        "{} vs {plain}",
        handle.stats().bytes_sent
    );
}

/// A writer that keeps what the fmt layer prints.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn filtered_next_to_fmt(
    filter: impl tracing_subscriber::layer::Filter<tracing_subscriber::Registry> + Send + Sync + 'static,
) {
    let collector = collector();
    let layer = builder(&collector)
        .level(tracing::Level::TRACE)
        .build()
        .expect("layer");
    let handle = layer.handle();
    let printed = Captured::default();
    let writer = printed.clone();
    let subscriber = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || writer.clone())
                .with_ansi(false),
        );
    tracing::subscriber::with_default(subscriber, || {
        info!(target: "shop::orders", "order placed");
        tracing::debug!(target: "shop::orders", "order detail");
        info!(target: "hyper::client", "connection noise");
    });
    handle.flush(WAIT).expect("delivered");
    let texts: Vec<_> = collector
        .items()
        .iter()
        .map(|i| i["msg-text"].clone())
        .collect();
    assert_eq!(texts, ["order placed"]);
    let printed = String::from_utf8(printed.0.lock().unwrap().clone()).unwrap();
    for line in ["order placed", "order detail", "connection noise"] {
        assert!(
            printed.contains(line),
            "the fmt layer still sees {line:?}: {printed}"
        );
    }
}

#[test]
fn an_env_filter_on_the_layer_leaves_the_fmt_layer_alone() {
    filtered_next_to_fmt(EnvFilter::new("shop=info"));
}

#[test]
fn a_targets_filter_on_the_layer_leaves_the_fmt_layer_alone() {
    filtered_next_to_fmt(Targets::new().with_target("shop", tracing::Level::INFO));
}

#[test]
fn duplicate_suppression_sends_a_repeated_event_once_with_its_count() {
    let collector = collector();
    let builder = builder(&collector).suppress_duplicates(std::time::Duration::from_millis(300));
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for attempt in 0..5 {
            tracing::warn!(attempt, "disk almost full");
        }
        tracing::warn!("disk almost full"); // another callsite: not a repeat
        info!("something else");
    });
    // No flush: the held events go out when their window ends.
    let items = collector.wait_for_items(3, WAIT);
    assert_eq!(items.len(), 3, "{items:#?}");
    let repeated: Vec<_> = items
        .iter()
        .filter(|i| i["msg-text"] == "disk almost full")
        .collect();
    assert_eq!(repeated.len(), 2);
    let counted = repeated
        .iter()
        .find(|i| i["snapshots"].is_array())
        .expect("the looped one");
    assert_eq!(property(counted, "repeat_count")["value"], 5);
    assert_eq!(
        property(counted, "attempt")["value"],
        0,
        "the first occurrence is the one sent"
    );
    let other = find(&items, "msg-text", "something else");
    assert!(
        other.get("snapshots").is_none(),
        "a single event has no repeat_count"
    );
    handle.flush(WAIT).expect("nothing pending");
    let stats = handle.stats();
    assert_eq!((stats.queued, stats.sent, stats.suppressed), (7, 3, 4));
}
