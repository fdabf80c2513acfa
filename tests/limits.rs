//! No argument makes the builder or the pipeline panic: every setter at
//! its extremes either builds a layer that delivers, or is refused with an
//! `InvalidSetting` naming it, before anything is opened.

mod common;

use std::time::Duration;

use common::*;
use tracing::info;
use tracing_jkool::{Builder, Error, FsyncPolicy, JKoolLayer};
use tracing_jkool_collector::Collector;
use tracing_subscriber::prelude::*;

type Setter = fn(Builder) -> Builder;

/// Every size and duration setter at zero and at its largest value.
fn extremes() -> Vec<(&'static str, &'static str, Setter)> {
    vec![
        ("queue_capacity", "0", |b| b.queue_capacity(0)),
        ("queue_capacity", "MAX", |b| b.queue_capacity(usize::MAX)),
        ("batch_size", "0", |b| b.batch_size(0)),
        ("batch_size", "MAX", |b| b.batch_size(usize::MAX)),
        ("max_body_bytes", "0", |b| b.max_body_bytes(0)),
        ("max_body_bytes", "MAX", |b| b.max_body_bytes(usize::MAX)),
        ("retry_buffer", "0", |b| b.retry_buffer(0)),
        ("retry_buffer", "MAX", |b| b.retry_buffer(usize::MAX)),
        ("max_concurrent_requests", "0", |b| {
            b.max_concurrent_requests(0)
        }),
        ("max_concurrent_requests", "MAX", |b| {
            b.max_concurrent_requests(usize::MAX)
        }),
        ("suppress_duplicates_capacity", "0", |b| {
            b.suppress_duplicates(Duration::from_millis(10))
                .suppress_duplicates_capacity(0)
        }),
        ("suppress_duplicates_capacity", "MAX", |b| {
            b.suppress_duplicates(Duration::from_millis(10))
                .suppress_duplicates_capacity(usize::MAX)
        }),
        ("max_value_bytes", "0", |b| b.max_value_bytes(0)),
        ("max_value_bytes", "MAX", |b| b.max_value_bytes(usize::MAX)),
        ("flush_interval", "0", |b| b.flush_interval(Duration::ZERO)),
        ("flush_interval", "MAX", |b| b.flush_interval(Duration::MAX)),
        ("max_retry_wait", "0", |b| b.max_retry_wait(Duration::ZERO)),
        ("max_retry_wait", "MAX", |b| b.max_retry_wait(Duration::MAX)),
        ("give_up_after", "0", |b| b.give_up_after(Duration::ZERO)),
        ("give_up_after", "MAX", |b| b.give_up_after(Duration::MAX)),
        ("give_up_refused_after", "0", |b| {
            b.give_up_refused_after(Duration::ZERO)
        }),
        ("give_up_refused_after", "MAX", |b| {
            b.give_up_refused_after(Duration::MAX)
        }),
        ("request_timeout", "0", |b| {
            b.request_timeout(Duration::ZERO)
        }),
        ("request_timeout", "MAX", |b| {
            b.request_timeout(Duration::MAX)
        }),
        ("connect_timeout", "0", |b| {
            b.connect_timeout(Duration::ZERO)
        }),
        ("connect_timeout", "MAX", |b| {
            b.connect_timeout(Duration::MAX)
        }),
        ("suppress_duplicates", "0", |b| {
            b.suppress_duplicates(Duration::ZERO)
        }),
        ("suppress_duplicates", "MAX", |b| {
            b.suppress_duplicates(Duration::MAX)
        }),
        ("spool_fsync", "Interval(0)", |b| {
            b.spool_dir(spool_dir())
                .spool_fsync(FsyncPolicy::Interval(Duration::ZERO))
        }),
        ("spool_fsync", "Interval(MAX)", |b| {
            b.spool_dir(spool_dir())
                .spool_fsync(FsyncPolicy::Interval(Duration::MAX))
        }),
        ("spool_max_bytes", "MAX", |b| {
            b.spool_dir(spool_dir()).spool_max_bytes(u64::MAX)
        }),
    ]
}

/// One spool directory for the cases that need one, used in turn.
fn spool_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tracing-jkool-limits-{}", std::process::id()))
}

#[test]
fn every_setter_at_its_extremes_is_refused_by_name_or_works() {
    let collector = collector();
    let mut built = 0;
    let mut refused = Vec::new();
    for (setting, value, set) in extremes() {
        let case = format!("{setting}({value})");
        // The default flush interval: the flush, not the timer, sends.
        let builder = JKoolLayer::builder(TOKEN)
            .url(collector.url())
            .source_fqn("APPL=Tests#SERVER=ci");
        let layer = match set(builder).build() {
            Ok(layer) => layer,
            Err(Error::InvalidSetting {
                setting: named,
                reason,
            }) => {
                assert!(
                    named == setting || reason.contains(setting),
                    "{case}: refused as {named}: {reason}"
                );
                refused.push(case);
                continue;
            }
            Err(err) => panic!("{case}: {err}"),
        };
        let handle = layer.handle();
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&dispatch, || info!(case = case.as_str(), "works"));
        handle.flush(WAIT).unwrap_or_else(|e| panic!("{case}: {e}"));
        let stats = handle.stats();
        assert_eq!((stats.queued, stats.sent), (1, 1), "{case}: {stats:?}");
        handle
            .shutdown(WAIT)
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        built += 1;
    }
    assert_eq!(collector.items().len(), built);
    let _ = std::fs::remove_dir_all(spool_dir());
    assert_eq!(
        refused,
        [
            "queue_capacity(0)",
            "queue_capacity(MAX)",
            "batch_size(0)",
            "batch_size(MAX)",
            "max_body_bytes(0)",
            "retry_buffer(0)",
            "max_concurrent_requests(0)",
            "suppress_duplicates_capacity(0)",
            "flush_interval(0)",
            "max_retry_wait(0)",
            "request_timeout(0)",
            "connect_timeout(0)",
        ]
    );
}

#[test]
fn the_largest_batch_and_buffer_together_work() {
    let collector = collector();
    let builder = builder(&collector)
        .batch_size(usize::MAX)
        .retry_buffer(usize::MAX)
        .max_body_bytes(usize::MAX);
    let items = run(&collector, builder, || {
        for i in 0..3 {
            info!(i, "big limits");
        }
    });
    assert_eq!(items.len(), 3);
}

fn refused_setting(builder: Builder) -> &'static str {
    match builder.build() {
        Err(Error::InvalidSetting { setting, .. }) => setting,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn gzip_to_a_file_and_a_retry_buffer_below_the_batch_are_refused() {
    let collector = Collector::start().expect("collector");
    assert_eq!(
        refused_setting(builder(&collector).batch_size(100).retry_buffer(99)),
        "retry_buffer"
    );
    let path =
        std::env::temp_dir().join(format!("tracing-jkool-limits-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("file://{}", path.display());
    let file = || JKoolLayer::builder(TOKEN).url(url.as_str());
    assert_eq!(refused_setting(file().gzip(true)), "gzip");
    assert_eq!(refused_setting(file().batch_size(0)), "batch_size");
    assert_eq!(refused_setting(file().queue_capacity(0)), "queue_capacity");
    assert_eq!(
        refused_setting(file().batch_size(10).retry_buffer(5)),
        "retry_buffer"
    );
    assert_eq!(
        refused_setting(file().flush_interval(Duration::ZERO)),
        "flush_interval"
    );
    assert!(
        !path.exists(),
        "a refused setting opened {}",
        path.display()
    );
}

#[test]
fn flush_and_shutdown_take_any_timeout() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector));
    tracing::dispatcher::with_default(&dispatch, || info!("one"));
    // Zero waits for nothing: done or not, it returns at once.
    let _ = handle.flush(Duration::ZERO);
    handle.flush(Duration::MAX).expect("flushed");
    tracing::dispatcher::with_default(&dispatch, || info!("two"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let _ = handle.flush_async(Duration::ZERO).await;
        handle.flush_async(Duration::MAX).await.expect("flushed");
    });
    handle.shutdown(Duration::MAX).expect("stopped");
    handle.shutdown(Duration::ZERO).expect("already stopped");
    runtime
        .block_on(handle.shutdown_async(Duration::MAX))
        .expect("already stopped");
    let stats = handle.stats();
    assert_eq!((stats.queued, stats.sent, stats.failed), (2, 2, 0));
    assert_eq!(collector.items().len(), 2);
}
