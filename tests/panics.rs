//! Panic capture: a panic becomes a FATAL event inside the span it unwound
//! from, and the spans it unwinds through fail with its message.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

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

/// A property of a panic's event (of the event itself, not of a
/// snapshot).
fn own_property<'a>(item: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let properties = item["properties"].as_array().into_iter().flatten();
    let found = properties.into_iter().find(|p| p["name"] == name);
    found.map_or(&serde_json::Value::Null, |p| &p["value"])
}

/// The `thread` property of a panic's event.
fn thread_of(item: &serde_json::Value) -> Option<&str> {
    own_property(item, "thread").as_str()
}

#[test]
fn a_panic_is_a_fatal_event_in_its_span_and_the_spans_it_unwinds_fail() {
    // The hook installed before still runs, after the layer's.
    static EARLIER_HOOK_RAN: AtomicUsize = AtomicUsize::new(0);
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        EARLIER_HOOK_RAN.fetch_add(1, Ordering::SeqCst);
        default(info);
    }));
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
    assert_eq!(panic["severity"], "FATAL", "the panic ended its thread");
    assert_eq!(own_property(panic, "caught"), false);
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
    assert!(EARLIER_HOOK_RAN.load(Ordering::SeqCst) >= 1);
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

/// Set in the child process of the main-thread test: where jKool is.
const CHILD_URL: &str = "TRACING_JKOOL_PANIC_CHILD_URL";

const CHILD: &str = "child_panics_on_a_thread_named_main_then_exits";

/// In the child: a panic on a thread named `main`, as the main thread is,
/// then the exit with code 101 that follows a panic out of `main`. What
/// waited for a batch goes out in the exit flush.
#[test]
fn child_panics_on_a_thread_named_main_then_exits() {
    let Some(url) = std::env::var_os(CHILD_URL) else {
        return;
    };
    let builder = tracing_jkool::JKoolLayer::builder(TOKEN)
        .url(url.to_string_lossy())
        .framing(tracing_jkool::Framing::Array)
        .flush_interval(std::time::Duration::from_secs(60))
        .capture_panics(true);
    let (dispatch, _handle) = dispatch(builder);
    let main = std::thread::Builder::new()
        .name("main".into())
        .spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                for i in 0..20 {
                    info!(i, "waits for its batch");
                }
                panic!("the end of main");
            })
        })
        .expect("thread");
    let _ = main.join();
    std::process::exit(101);
}

#[test]
fn a_panic_that_ends_main_is_sent_with_what_was_queued() {
    let collector = collector();
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", CHILD])
        .env(CHILD_URL, collector.url())
        .output()
        .expect("child runs");
    assert_eq!(output.status.code(), Some(101), "{output:?}");
    let items = collector.items();
    let waited = items
        .iter()
        .filter(|i| i["msg-text"] == "waits for its batch")
        .count();
    assert_eq!(waited, 20, "{items:#?}");
    let end = find(&items, "msg-text", "the end of main");
    assert_eq!(end["severity"], "FATAL", "the panic ended main: {end:#}");
    assert_eq!(own_property(end, "caught"), false);
}

/// A field whose `Debug` panics: the layer catches it.
struct Panicky;

impl std::fmt::Debug for Panicky {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("a Debug that panics")
    }
}

#[test]
fn a_panic_the_layer_catches_is_no_fatal_event() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector).capture_panics(true));
    std::thread::Builder::new()
        .name("main".into())
        .spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                for _ in 0..1_000 {
                    info!(v = ?Panicky, "formatted");
                }
            })
        })
        .expect("thread")
        .join()
        .expect("the layer caught every panic");
    first_flush(&handle);
    let items = collector.items();
    let formatted = items
        .iter()
        .filter(|i| i["msg-text"] == "formatted")
        .count();
    assert_eq!(formatted, 1_000);
    // Other tests' panics reach this pipeline's hook too; none of this
    // thread's is reported (before: a FATAL event, and a 2 s flush, each).
    let fatal_here = (items.iter())
        .filter(|i| i["severity"] == "FATAL" && thread_of(i) == Some("main"))
        .count();
    assert_eq!(fatal_here, 0, "{items:#?}");
}

const HOOKS_CHILD: &str = "child_chains_hooks_around_two_pipelines";

/// In the child: a hook before the layer's, two pipelines capturing
/// panics, a hook after, and two caught panics: one while the pipelines
/// live, one after they were shut down and dropped.
#[test]
fn child_chains_hooks_around_two_pipelines() {
    let Some(url) = std::env::var_os(CHILD_URL) else {
        return;
    };
    std::panic::set_hook(Box::new(|_| eprintln!("hook before")));
    let pipelines: Vec<_> = (0..2)
        .map(|n| {
            let builder = tracing_jkool::JKoolLayer::builder(TOKEN)
                .url(url.to_string_lossy())
                .source_fqn(format!("APPL=Pipeline{n}"))
                .capture_panics(true);
            dispatch(builder)
        })
        .collect();
    let ours = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("hook after");
        ours(info);
    }));
    let _ = std::panic::catch_unwind(|| panic!("while they live"));
    for (dispatch, handle) in pipelines {
        handle.shutdown(WAIT).expect("shut down");
        drop((dispatch, handle));
    }
    let _ = std::panic::catch_unwind(|| panic!("after they went"));
}

#[test]
fn hooks_before_and_after_still_run_in_order_and_one_hook_serves_every_pipeline() {
    let collector = collector();
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", HOOKS_CHILD, "--nocapture"])
        .env(CHILD_URL, collector.url())
        .output()
        .expect("child runs");
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let hooks: Vec<&str> = stderr.lines().filter(|l| l.starts_with("hook ")).collect();
    assert_eq!(
        hooks,
        ["hook after", "hook before", "hook after", "hook before"],
        "{stderr}"
    );
    let items = collector.items();
    let reported: Vec<_> = items
        .iter()
        .filter(|i| i["msg-text"] == "while they live")
        .map(|i| i["source-fqn"].as_str().unwrap_or_default())
        .collect();
    let mut pipelines = reported.clone();
    pipelines.dedup();
    assert_eq!(reported.len(), 2, "one for each pipeline: {items:#?}");
    assert_eq!(pipelines.len(), 2, "{reported:?}");
    // Caught: the thread went on to shut the pipelines down.
    for caught in items.iter().filter(|i| i["msg-text"] == "while they live") {
        assert_eq!(caught["severity"], "ERROR", "{caught:#}");
        assert_eq!(own_property(caught, "caught"), true);
    }
    assert!(items.iter().all(|i| i["msg-text"] != "after they went"));
}

#[instrument]
fn risky(attempt: u32) {
    panic!("attempt {attempt} failed");
}

#[test]
fn panics_the_application_catches_are_errors_in_their_span_and_never_fatal() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector).capture_panics(true));
    std::thread::Builder::new()
        .name("catches-panics".into())
        .spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                for attempt in 0..1_000 {
                    let caught = std::panic::catch_unwind(|| risky(attempt));
                    assert!(caught.is_err());
                }
                // The last one is told caught by this event.
                info!("went on");
            })
        })
        .expect("thread")
        .join()
        .expect("every panic was caught");
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    let here: Vec<&serde_json::Value> = (items.iter())
        .filter(|i| i["operation"] == "panic" && thread_of(i) == Some("catches-panics"))
        .collect();
    assert_eq!(here.len(), 1_000, "one event for each panic");
    for panic in &here {
        assert_eq!(panic["severity"], "ERROR", "{panic:#}");
        assert_eq!(own_property(panic, "caught"), true, "{panic:#}");
    }
    // Each in the span it unwound from, which failed with it.
    let first = find(&items, "msg-text", "attempt 0 failed");
    let span = (items.iter())
        .find(|i| i["tracking-id"] == first["parent-id"])
        .expect("the span of the first attempt");
    assert_eq!(span["operation"], "risky");
    assert_eq!(span["status"], "EXCEPTION");
    assert!(items.iter().any(|i| i["msg-text"] == "went on"));
}

#[test]
fn a_panic_tokio_catches_in_a_task_is_an_error_event_once_the_thread_goes_on() {
    #[instrument]
    async fn task(order_no: u64) {
        tokio::task::yield_now().await;
        panic!("task for order {order_no} failed");
    }
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector).capture_panics(true));
    let _default = tracing::dispatcher::set_default(&dispatch);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let joined = runtime.block_on(async { tokio::spawn(task(42)).await });
    assert!(joined.expect_err("the task panicked").is_panic());
    // The flush on the thread that went on sends it.
    handle.flush(WAIT).expect("delivered");
    let items = collector.items();
    let panic = find(&items, "msg-text", "task for order 42 failed");
    assert_eq!(panic["severity"], "ERROR", "{panic:#}");
    assert_eq!(own_property(panic, "caught"), true);
    let span = find(&items, "operation", "task");
    assert_eq!(panic["parent-id"], span["tracking-id"]);
    assert_eq!(span["status"], "EXCEPTION");
}
