//! The pipeline end to end: async code across tasks and threads, flush and
//! shutdown in every kind of `main`, a full queue, filters, and the crate's
//! own HTTP stack kept out of the layer.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use tracing::{info, info_span, instrument, Dispatch, Instrument};
use tracing_jkool::Framing;
use tracing_subscriber::prelude::*;

/// A tokio runtime whose every thread uses `dispatch`.
fn runtime(dispatch: &Dispatch, multi_thread: bool) -> tokio::runtime::Runtime {
    let for_threads = dispatch.clone();
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    builder
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            // The guard would reset the default when dropped; the thread
            // keeps this dispatcher for its whole life instead.
            std::mem::forget(tracing::dispatcher::set_default(&for_threads));
        })
        .build()
        .expect("runtime")
}

#[instrument]
async fn handle_order(order_no: u64) {
    info!("received");
    let task = tokio::spawn(
        async move {
            tokio::task::yield_now().await;
            info!("charged in a task");
        }
        .instrument(info_span!("charge")),
    );
    task.await.expect("task ran");
    tokio::task::spawn_blocking(ship).await.expect("shipped");
}

#[instrument]
fn ship() {
    info!("shipped");
}

fn async_tree(multi_thread: bool) {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector));
    let rt = runtime(&dispatch, multi_thread);
    tracing::dispatcher::with_default(&dispatch, || {
        rt.block_on(
            async {
                let parent = tracing::Span::current();
                tokio::spawn(handle_order(7).instrument(parent))
                    .await
                    .expect("spawned")
            }
            .instrument(info_span!("request")),
        );
    });
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    assert_eq!(items.len(), 7, "{items:#?}");
    items.iter().for_each(assert_contract);
    let request = find(&items, "operation", "request");
    let order = find(&items, "operation", "handle_order");
    let charge = find(&items, "operation", "charge");
    assert_eq!(order["parent-id"], request["tracking-id"]);
    assert_eq!(charge["parent-id"], order["tracking-id"]);
    assert_eq!(
        find(&items, "msg-text", "received")["parent-id"],
        order["tracking-id"]
    );
    assert_eq!(
        find(&items, "msg-text", "charged in a task")["parent-id"],
        charge["tracking-id"]
    );
    // `spawn_blocking` does not carry the span: `ship` starts a new tree.
    assert!(find(&items, "operation", "ship").get("parent-id").is_none());
    assert_eq!(property(order, "order_no")["value"], 7);
}

#[test]
fn async_spans_keep_their_parents_across_spawn_on_a_multi_thread_runtime() {
    async_tree(true);
}

#[test]
fn async_spans_keep_their_parents_across_spawn_on_a_current_thread_runtime() {
    async_tree(false);
}

fn emit(n: usize) {
    let _span = info_span!("batch").entered();
    for i in 0..n {
        info!(i, "item");
    }
}

#[test]
fn shutdown_from_plain_main_delivers_everything_queued() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector).flush_interval(Duration::from_secs(60)));
    tracing::dispatcher::with_default(&dispatch, || emit(100));
    handle.shutdown(WAIT).expect("shut down in time");
    assert_eq!(collector.items().len(), 101);
    let stats = handle.stats();
    assert_eq!(
        (stats.queued, stats.sent, stats.dropped, stats.failed),
        (101, 101, 0, 0)
    );
    // After shutdown, new items are dropped and counted, never sent.
    tracing::dispatcher::with_default(&dispatch, || info!("late"));
    assert_eq!(handle.stats().dropped, 1);
    // A flush has nothing to wait for, and tells that loss.
    match handle.flush(Duration::from_millis(100)) {
        Err(tracing_jkool::Error::Undelivered {
            failed: 0,
            evicted: 0,
            dropped: 1,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn shutdown_inside_a_current_thread_runtime_does_not_deadlock() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector).flush_interval(Duration::from_secs(60)));
    let _guard = tracing::dispatcher::set_default(&dispatch);
    emit(10);
    handle.shutdown(WAIT).expect("shut down in time");
    assert_eq!(collector.items().len(), 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_guard_inside_a_multi_thread_runtime_delivers_on_drop() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector).flush_interval(Duration::from_secs(60)));
    {
        let _shutdown = handle.shutdown_guard(WAIT);
        let _guard = tracing::dispatcher::set_default(&dispatch);
        emit(10);
    }
    assert_eq!(collector.items().len(), 11);
    assert_eq!(handle.stats().sent, 11);
}

#[test]
fn batches_fill_by_count_and_bodies_hold_one_kind() {
    let collector = collector();
    // Only full batches go before the flush: 8 and 8 events; the flush
    // sends the other 4 events and, alone, the activity.
    let builder = builder(&collector)
        .framing(Framing::Array)
        .batch_size(8)
        .flush_interval(Duration::from_secs(60));
    let items = run(&collector, builder, || emit(20));
    assert_eq!(items.len(), 21);
    let requests = collector.requests();
    assert!(requests.iter().all(|r| r.status == 200), "{requests:#?}");
    let mut sizes: Vec<usize> = requests.iter().map(|r| r.items).collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [1, 4, 8, 8], "{requests:#?}");
    let first = &requests[0];
    assert_eq!(first.method, "POST");
    assert_eq!(first.header("x-api-key"), Some("<redacted>"));
    assert_eq!(first.header("token"), Some("<redacted>"));
    assert_eq!(
        first.header("content-type"),
        Some("application/json; charset=utf-8")
    );
}

#[test]
fn paths_per_kind_and_one_object_per_request_by_default() {
    let collector = collector();
    let builder = builder(&collector)
        .event_path("/JESL/event")
        .activity_path("/JESL/activity");
    let items = run(&collector, builder, || emit(3));
    assert_eq!(items.len(), 4);
    let requests = collector.requests();
    assert_eq!(requests.len(), 4, "{requests:#?}");
    assert!(requests.iter().all(|r| r.items == 1));
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths.iter().filter(|p| **p == "/JESL/event").count(),
        3,
        "{paths:?}"
    );
    assert_eq!(
        paths.iter().filter(|p| **p == "/JESL/activity").count(),
        1,
        "{paths:?}"
    );
}

#[test]
fn a_rejected_token_counts_items_as_failed_and_shutdown_says_so() {
    let collector = collector();
    let builder = tracing_jkool::JKoolLayer::builder("wrong-token")
        .url(collector.url())
        .flush_interval(Duration::from_millis(20));
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || emit(2));
    first_flush(&handle);
    assert!(collector.items().is_empty());
    assert!(collector.requests().iter().all(|r| r.status == 401));
    let stats = handle.stats();
    assert_eq!((stats.sent, stats.failed), (0, 3));
    let err = handle.shutdown(WAIT).unwrap_err();
    assert!(
        matches!(
            err,
            tracing_jkool::Error::Undelivered {
                failed: 3,
                evicted: 0,
                dropped: 0,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "not every item reached jKool: 3 failed, 0 evicted, 0 dropped (queue full); \
         last failure: 401 Unauthorized: jKool refused the token"
    );
}

#[test]
fn shutdown_counts_what_a_full_queue_dropped_before_it() {
    let collector = collector();
    let builder = builder(&collector).queue_capacity(1);
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || emit(200));
    let before = handle.stats();
    assert!(before.dropped > 0, "{before:?}");
    match handle.shutdown(WAIT) {
        Err(tracing_jkool::Error::Undelivered {
            failed: 0,
            evicted: 0,
            dropped,
            ..
        }) => assert_eq!(dropped, before.dropped),
        other => panic!("{other:?} {before:?}"),
    }
    assert_eq!(collector.items().len() as u64, handle.stats().sent);
}

#[test]
fn a_full_queue_drops_and_counts_without_blocking() {
    // A server that accepts connections and never answers keeps the
    // delivery thread busy, so the queue of two fills.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let builder = tracing_jkool::JKoolLayer::builder(TOKEN)
        .url(url)
        .queue_capacity(2)
        .batch_size(1)
        .retry_buffer(1)
        .max_concurrent_requests(1);
    let (dispatch, handle) = dispatch(builder);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..100 {
            info!(i, "item");
        }
    });
    let stats = handle.stats();
    assert_eq!(stats.queued + stats.dropped, 100);
    // At most the queue (2), the backlog (1) and the request in flight (1).
    assert!(stats.queued <= 4, "{stats:?}");
    let err = handle.flush(Duration::from_millis(200)).unwrap_err();
    assert!(matches!(err, tracing_jkool::Error::Timeout { pending, .. } if pending > 0));
}

#[test]
fn a_per_layer_filter_that_hides_a_parent_does_not_panic() {
    let collector = collector();
    let layer = builder(&collector).build().expect("layer");
    let handle = layer.handle();
    let filtered = layer.with_filter(tracing_subscriber::filter::filter_fn(|meta| {
        meta.name() != "hidden"
    }));
    // Another layer sees every span, so the hidden one exists and is the
    // current span while entered.
    let seen = Arc::new(AtomicUsize::new(0));
    let subscriber = tracing_subscriber::registry()
        .with(filtered)
        .with(Count(seen.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let _top = info_span!("top").entered();
        let _hidden = info_span!("hidden").entered();
        info!("in hidden");
        let _leaf = info_span!("leaf").entered();
        info!("deep");
    });
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    assert_eq!(items.len(), 4, "{items:#?}");
    let top = find(&items, "operation", "top");
    let leaf = find(&items, "operation", "leaf");
    assert_eq!(leaf["parent-id"], top["tracking-id"]);
    // The current span is hidden: the event attaches to the nearest one sent.
    let in_hidden = find(&items, "msg-text", "in hidden");
    assert_eq!(in_hidden["parent-id"], top["tracking-id"]);
    assert_eq!(
        find(&items, "msg-text", "deep")["parent-id"],
        leaf["tracking-id"]
    );
}

/// Counts the events it sees.
struct Count(Arc<AtomicUsize>);
impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
    fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn the_layers_level_does_not_hide_events_from_other_layers() {
    let collector = collector();
    let seen = Arc::new(AtomicUsize::new(0));
    let layer = builder(&collector).build().expect("layer");
    let handle = layer.handle();
    let subscriber = tracing_subscriber::registry()
        .with(Count(seen.clone()))
        .with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::debug!("debug");
        tracing::trace!("trace");
        info!("info");
    });
    handle.flush(WAIT).expect("delivered");
    assert_eq!(seen.load(Ordering::Relaxed), 3);
    assert_eq!(collector.items().len(), 1);
}

#[test]
fn a_runtime_shutting_down_mid_emit_loses_nothing_that_was_queued() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector));
    let rt = runtime(&dispatch, true);
    for task in 0..4 {
        rt.spawn(async move {
            for i in 0.. {
                info!(task, i, "tick");
                tokio::task::yield_now().await;
            }
        });
    }
    std::thread::sleep(Duration::from_millis(50));
    // As at the end of `#[tokio::main]`: tasks are cancelled mid-loop.
    rt.shutdown_timeout(Duration::from_secs(1));
    // Four tasks emitting flat out may fill the queue: drops are said, and
    // nothing else may be lost.
    match handle.shutdown(WAIT) {
        Ok(()) => {}
        Err(tracing_jkool::Error::Undelivered {
            failed: 0,
            evicted: 0,
            dropped,
            ..
        }) => assert!(dropped > 0),
        Err(err) => panic!("{err}"),
    }
    let stats = handle.stats();
    assert!(stats.queued > 0);
    assert_eq!(stats.sent, stats.queued, "{stats:?}");
    assert_eq!(collector.items().len() as u64, stats.queued);
}
