//! The layer works wherever a `Layer` goes: several jKool layers in one
//! subscriber, and inside tracing-subscriber's wrappers (`reload`,
//! `Option`, boxed layers in a `Vec`, `and_then`), with its level kept.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use serde_json::Value;
use tracing::{debug, debug_span, info, info_span, Dispatch, Subscriber};
use tracing_jkool::{JKoolHandle, JKoolLayer};
use tracing_jkool_collector::Collector;
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{reload, Layer, Registry};

fn temp_file(name: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("tracing-jkool-{}-{name}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

fn read_lines(path: &PathBuf) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("the file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON item"))
        .collect()
}

/// A job span with three step spans, each with one event, plus one event
/// in the job: 4 activities and 4 events.
fn job() {
    let _job = info_span!("job").entered();
    info!("job started");
    for i in 0..3 {
        let _step = info_span!("step", i).entered();
        info!(i, "step done");
    }
}

/// The items of [`job`] are all there, once, with parent-id chains.
fn assert_job(items: &[Value]) {
    assert_eq!(items.len(), 8, "{items:#?}");
    items.iter().for_each(assert_contract);
    assert_eq!(of_type(items, "ACTIVITY").len(), 4);
    assert_eq!(of_type(items, "EVENT").len(), 4);
    let job = find(items, "operation", "job");
    assert!(job.get("parent-id").is_none(), "{job:#}");
    let started = find(items, "msg-text", "job started");
    assert_eq!(started["parent-id"], job["tracking-id"]);
    let steps: Vec<&Value> = items.iter().filter(|i| i["operation"] == "step").collect();
    assert_eq!(steps.len(), 3);
    for step in steps {
        assert_eq!(step["parent-id"], job["tracking-id"], "{step:#}");
        let i = property(step, "i")["value"].clone();
        let done: Vec<&Value> = items
            .iter()
            .filter(|e| e["msg-text"] == "step done" && property(e, "i")["value"] == i)
            .collect();
        assert_eq!(done.len(), 1, "{items:#?}");
        assert_eq!(done[0]["parent-id"], step["tracking-id"]);
    }
}

#[test]
fn an_http_layer_and_a_file_layer_each_deliver_everything() {
    let collector = collector();
    let http = builder(&collector).build().expect("layer builds");
    let path = temp_file("two-layers");
    let file = JKoolLayer::builder("unused")
        .url(format!("file://{}", path.display()))
        .build()
        .expect("layer builds");
    let (to_http, to_file) = (http.handle(), file.handle());
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(http).with(file));
    tracing::dispatcher::with_default(&dispatch, job);
    to_http.shutdown(WAIT).expect("sent");
    to_file.shutdown(WAIT).expect("written");

    let over_http = collector.items();
    let in_file = read_lines(&path);
    assert_job(&over_http);
    assert_job(&in_file);
    // Each layer made its own ids: nothing is shared between them.
    let http_job = find(&over_http, "operation", "job");
    let file_job = find(&in_file, "operation", "job");
    assert_ne!(http_job["tracking-id"], file_job["tracking-id"]);
    assert_eq!(to_http.stats().sent, 8);
    assert_eq!(to_file.stats().sent, 8);
    std::fs::remove_file(&path).expect("clean up");
}

#[test]
fn two_http_layers_with_two_tokens_each_get_every_item_once() {
    let start = |token: &str| {
        Collector::builder()
            .token(token)
            .start()
            .expect("collector starts")
    };
    let (a, b) = (start("a"), start("b"));
    let layer = |token: &str, collector: &Collector| {
        JKoolLayer::builder(token)
            .url(collector.url())
            .flush_interval(std::time::Duration::from_millis(50))
            .build()
            .expect("layer builds")
    };
    let (layer_a, layer_b) = (layer("a", &a), layer("b", &b));
    let (handle_a, handle_b) = (layer_a.handle(), layer_b.handle());
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer_a).with(layer_b));
    tracing::dispatcher::with_default(&dispatch, job);
    handle_a.flush(WAIT).expect("a delivered");
    handle_b.flush(WAIT).expect("b delivered");
    assert_job(&a.items());
    assert_job(&b.items());
    for handle in [handle_a, handle_b] {
        let stats = handle.stats();
        assert_eq!((stats.queued, stats.sent, stats.dropped), (8, 8, 0));
    }
}

/// Counts the events another layer sees: the jKool layer's level must not
/// hide anything from it.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>);

impl<S: Subscriber> Layer<S> for Counter {
    fn on_event(&self, _: &tracing::Event<'_>, _: Context<'_, S>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl Counter {
    fn seen(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// One INFO span with a DEBUG span, a DEBUG event and an INFO event inside:
/// at the default level INFO, one activity and one event go out.
fn leveled() {
    let _work = info_span!("work").entered();
    debug_span!("detail").in_scope(|| debug!("too verbose"));
    info!("kept");
}

fn assert_leveled(collector: &Collector, handle: &JKoolHandle) {
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    assert_eq!(items.len(), 2, "{items:#?}");
    let work = find(&items, "operation", "work");
    assert_eq!(work["type"], "ACTIVITY");
    let kept = find(&items, "msg-text", "kept");
    assert_eq!(kept["parent-id"], work["tracking-id"]);
    assert_eq!(handle.stats().queued, 2);
}

fn jkool(collector: &Collector) -> (JKoolLayer, JKoolHandle) {
    let layer = builder(collector).build().expect("layer builds");
    let handle = layer.handle();
    (layer, handle)
}

#[test]
fn inside_reload_and_after_a_reload() {
    let collector = collector();
    let (layer, handle) = jkool(&collector);
    let (reloadable, reload_handle) = reload::Layer::<_, Registry>::new(layer);
    let counter = Counter::default();
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(reloadable)
            .with(counter.clone()),
    );
    tracing::dispatcher::with_default(&dispatch, leveled);
    assert_leveled(&collector, &handle);
    // Behind `reload`, the layer filters itself: the other layer sees all.
    assert_eq!(counter.seen(), 2);

    // The new layer never sees `on_layer`: it checks its level itself,
    // exports all the same, and hides nothing from the other layers.
    let second = common::collector();
    let (layer, handle) = jkool(&second);
    // Reloading rebuilds every callsite's interest; while this dispatcher
    // is the process's only one, tracing-core asks the thread's current
    // default instead of each dispatcher: outside `with_default`, that is
    // the no-op subscriber, and every callsite would be cached as `never`.
    tracing::dispatcher::with_default(&dispatch, || {
        reload_handle.reload(layer).expect("reloaded");
    });
    tracing::dispatcher::with_default(&dispatch, leveled);
    assert_leveled(&second, &handle);
    assert_eq!(counter.seen(), 4);
    assert_eq!(collector.items().len(), 2, "nothing more to the first");
}

#[test]
fn as_an_option() {
    let collector = collector();
    let (layer, handle) = jkool(&collector);
    let counter = Counter::default();
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(Some(layer))
            .with(counter.clone()),
    );
    tracing::dispatcher::with_default(&dispatch, leveled);
    assert_leveled(&collector, &handle);
    assert_eq!(counter.seen(), 2);
}

#[test]
fn boxed_in_a_vec() {
    let collector = collector();
    let (layer, handle) = jkool(&collector);
    let counter = Counter::default();
    let layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> =
        vec![counter.clone().boxed(), layer.boxed()];
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layers));
    tracing::dispatcher::with_default(&dispatch, leveled);
    assert_leveled(&collector, &handle);
    assert_eq!(counter.seen(), 2);
}

#[test]
fn after_another_layer_with_and_then() {
    let collector = collector();
    let (layer, handle) = jkool(&collector);
    let counter = Counter::default();
    let dispatch =
        Dispatch::new(tracing_subscriber::registry().with(counter.clone().and_then(layer)));
    tracing::dispatcher::with_default(&dispatch, leveled);
    assert_leveled(&collector, &handle);
    // As with any `with_filter` layer under `and_then` in tracing-subscriber
    // 0.3, the layer before it sees only what passes the filter.
    assert_eq!(counter.seen(), 1);
}

/// The layer works on any subscriber that looks spans up, not only on
/// `Registry` itself.
#[test]
fn under_a_layered_subscriber() {
    fn install<S>(subscriber: S, layer: JKoolLayer) -> Dispatch
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
    {
        Dispatch::new(subscriber.with(layer))
    }
    let collector = collector();
    let (layer, handle) = jkool(&collector);
    let counter = Counter::default();
    let dispatch = install(tracing_subscriber::registry().with(counter.clone()), layer);
    tracing::dispatcher::with_default(&dispatch, leveled);
    assert_leveled(&collector, &handle);
    assert_eq!(counter.seen(), 2);
}

#[test]
fn two_layers_with_two_levels_keep_their_own_parent_chains() {
    let (info_collector, debug_collector) = (collector(), common::collector());
    let info_layer = builder(&info_collector).build().expect("layer builds");
    let debug_layer = builder(&debug_collector)
        .level(tracing::Level::DEBUG)
        .build()
        .expect("layer builds");
    let (info_handle, debug_handle) = (info_layer.handle(), debug_layer.handle());
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(info_layer)
            .with(debug_layer),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        let _outer = info_span!("outer").entered();
        let _detail = debug_span!("detail").entered();
        debug!("fine grained");
        info!("coarse");
    });
    info_handle.flush(WAIT).expect("delivered");
    debug_handle.flush(WAIT).expect("delivered");

    // The INFO layer skips the DEBUG span: its event hangs off `outer`.
    let items = info_collector.items();
    assert_eq!(items.len(), 2, "{items:#?}");
    let outer = find(&items, "operation", "outer");
    assert_eq!(
        find(&items, "msg-text", "coarse")["parent-id"],
        outer["tracking-id"]
    );

    let items = debug_collector.items();
    assert_eq!(items.len(), 4, "{items:#?}");
    let outer = find(&items, "operation", "outer");
    let detail = find(&items, "operation", "detail");
    assert_eq!(detail["parent-id"], outer["tracking-id"]);
    for text in ["fine grained", "coarse"] {
        assert_eq!(
            find(&items, "msg-text", text)["parent-id"],
            detail["tracking-id"]
        );
    }
}

#[test]
fn send_inside_another_subscribers_span_takes_no_parent_from_it() {
    let (ours, theirs) = (collector(), collector());
    let (our_dispatch, our_handle) = dispatch(builder(&ours));
    let (their_dispatch, _their_handle) = dispatch(builder(&theirs));
    // Each registry's first span gets the same id.
    let ours_open = tracing::dispatcher::with_default(&our_dispatch, || info_span!("ours"));
    tracing::dispatcher::with_default(&their_dispatch, || {
        info_span!("theirs").in_scope(|| {
            our_handle.send(tracing_jkool::JKoolEvent::new("sent from their span"));
        });
    });
    tracing::dispatcher::with_default(&our_dispatch, || {
        ours_open.in_scope(|| {
            our_handle.send(tracing_jkool::JKoolEvent::new("sent from our span"));
        });
    });
    drop(ours_open);
    our_handle.flush(WAIT).expect("delivered");
    let items = ours.items();
    let span = find(&items, "operation", "ours");
    let inside = find(&items, "msg-text", "sent from our span");
    assert_eq!(inside["parent-id"], span["tracking-id"]);
    let outside = find(&items, "msg-text", "sent from their span");
    assert!(outside.get("parent-id").is_none(), "{outside:#}");
}
