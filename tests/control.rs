//! What the handle changes while the application runs: the layer's level
//! (for callsites already seen, also under `with_filter`, from any thread)
//! and its sampler (traces under way finish as they began).

mod common;

use common::*;
use tracing::level_filters::LevelFilter;
use tracing::{debug, info, info_span};
use tracing_jkool::{Error, JKoolHandle, Sampler};
use tracing_subscriber::prelude::*;

/// A `debug!` callsite, the same one each call.
fn detail(step: u32) {
    debug!(step, "detail");
}

fn steps(items: &[serde_json::Value]) -> Vec<i64> {
    let mut steps: Vec<i64> = (items.iter())
        .filter(|i| i["msg-text"] == "detail")
        .map(|i| property(i, "step")["value"].as_i64().unwrap_or(-1))
        .collect();
    steps.sort_unstable();
    steps
}

/// Sets the level from another thread, as an admin endpoint would.
fn set_level_elsewhere(handle: &JKoolHandle, level: LevelFilter) {
    let handle = handle.clone();
    std::thread::spawn(move || handle.set_level(level))
        .join()
        .expect("thread")
        .expect("running");
}

/// Debug events at INFO, then at DEBUG, then at INFO again: only the
/// middle ones arrive, from one callsite seen from the start.
fn level_follows_the_handle(dispatch: tracing::Dispatch, handle: JKoolHandle) {
    tracing::dispatcher::with_default(&dispatch, || {
        detail(1);
        assert_eq!(handle.level(), LevelFilter::INFO);
        set_level_elsewhere(&handle, LevelFilter::DEBUG);
        detail(2);
        detail(3);
        set_level_elsewhere(&handle, LevelFilter::INFO);
        detail(4);
        info!("after");
    });
    first_flush(&handle);
}

#[test]
fn set_level_takes_effect_for_a_callsite_already_seen_and_back() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector));
    level_follows_the_handle(dispatch, handle);
    let items = collector.items();
    assert_eq!(steps(&items), [2, 3], "{items:#?}");
    assert!(items.iter().any(|i| i["msg-text"] == "after"));
}

#[test]
fn set_level_takes_effect_under_with_filter() {
    let collector = collector();
    let layer = builder(&collector).build().expect("layer");
    let handle = layer.handle();
    // A filter that caches each callsite's interest, as `LevelFilter` and
    // `EnvFilter` do: the layer's own must be asked again.
    let filtered = layer.with_filter(LevelFilter::TRACE);
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(filtered));
    level_follows_the_handle(dispatch, handle);
    let items = collector.items();
    assert_eq!(steps(&items), [2, 3], "{items:#?}");
}

/// A trace: a root span with an event inside; `fail` makes the event an
/// ERROR.
fn trace(name: &'static str, fail: bool) {
    let _root = info_span!("request", case = name).entered();
    if fail {
        tracing::error!("failed");
    } else {
        info!("inside");
    }
}

fn names(items: &[serde_json::Value]) -> Vec<&str> {
    let mut names: Vec<&str> = (items.iter())
        .filter(|i| i["type"] == "ACTIVITY")
        .filter_map(|i| property(i, "case")["value"].as_str())
        .collect();
    names.sort_unstable();
    names
}

#[test]
fn set_sampler_applies_to_traces_begun_after_it_and_never_splits_one_under_way() {
    let collector = collector();
    // Built without a sampler: everything is kept.
    let (dispatch, handle) = dispatch(builder(&collector));
    tracing::dispatcher::with_default(&dispatch, || {
        trace("before", false);
        // Under way at the change: kept whole, as it began.
        let root = info_span!("request", case = "under_way").entered();
        info!("early");
        handle.set_sampler(Sampler::ratio(0.0)).expect("running");
        info!("late");
        drop(root);
        trace("after", false);
        trace("failing", true);
    });
    let stats = first_flush(&handle);
    let items = collector.items();
    assert_eq!(
        names(&items),
        ["before", "failing", "under_way"],
        "{items:#?}"
    );
    for text in ["early", "late"] {
        assert!(items.iter().any(|i| i["msg-text"] == text), "{text}");
    }
    assert_eq!(stats.sampled_out, 2, "the root and event of `after`");
}

#[test]
fn a_trace_under_way_when_sampling_is_lifted_is_still_left_out_whole() {
    let collector = collector();
    let (dispatch, handle) = dispatch(builder(&collector).sampler(Sampler::ratio(0.0)));
    tracing::dispatcher::with_default(&dispatch, || {
        let root = info_span!("request", case = "under_way").entered();
        info!("early");
        handle.set_sampler(Sampler::ratio(1.0)).expect("running");
        info!("late");
        drop(root);
        trace("after", false);
    });
    let stats = first_flush(&handle);
    let items = collector.items();
    assert_eq!(names(&items), ["after"], "{items:#?}");
    assert!(items.iter().all(|i| i["msg-text"] != "late"), "{items:#?}");
    assert_eq!(stats.sampled_out, 3, "early, late and the root");
}

fn noisy(n: u32) {
    tracing::warn!(n, "noisy");
}

#[test]
fn storm_limits_set_and_lifted_while_running() {
    let collector = collector();
    // Built without storm limits.
    let (dispatch, handle) = dispatch(builder(&collector));
    tracing::dispatcher::with_default(&dispatch, || {
        noisy(0);
        let limit = Some((5, std::time::Duration::from_secs(3_600)));
        handle.set_max_events_per_callsite(limit).expect("running");
        for n in 1..=20 {
            noisy(n);
        }
        handle.set_max_events_per_callsite(None).expect("running");
        for n in 21..=30 {
            noisy(n);
        }
    });
    handle.shutdown(WAIT).expect("delivered");
    let items = collector.items();
    let mut sent: Vec<i64> = (items.iter())
        .filter(|i| i["msg-text"] == "noisy")
        .map(|i| property(i, "n")["value"].as_i64().unwrap_or(-1))
        .collect();
    sent.sort_unstable();
    let expected: Vec<i64> = (0..=5).chain(21..=30).collect();
    assert_eq!(sent, expected, "{items:#?}");
    let summary = find(&items, "operation", "tracing-jkool.suppressed");
    let suppressed = summary["properties"].as_array().into_iter().flatten();
    let suppressed = suppressed.into_iter().find(|p| p["name"] == "suppressed");
    assert_eq!(
        suppressed.map(|p| p["value"].clone()),
        Some(15.into()),
        "{summary:#}"
    );
    let err = handle.set_max_events_per_callsite(Some((0, std::time::Duration::from_secs(1))));
    assert!(matches!(err, Err(Error::InvalidSetting { .. })), "{err:?}");
    assert!(matches!(
        handle.set_max_events_per_callsite(None),
        Err(Error::Closed {
            setting: "max_events_per_callsite"
        })
    ));
}

#[test]
fn a_bad_ratio_or_a_closed_pipeline_changes_nothing_and_says_why() {
    let collector = collector();
    let (_dispatch, handle) = dispatch(builder(&collector));
    let err = handle
        .set_sampler(Sampler::ratio(1.5))
        .expect_err("refused");
    assert!(
        matches!(
            err,
            Error::InvalidSetting {
                setting: "sampler",
                ..
            }
        ),
        "{err}"
    );
    handle.shutdown(WAIT).expect("shut down");
    let err = handle.set_level(LevelFilter::DEBUG).expect_err("closed");
    assert_eq!(
        err.to_string(),
        "level not changed: the jKool pipeline is shut down and sends nothing more"
    );
    assert!(matches!(
        handle.set_sampler(Sampler::ratio(0.5)),
        Err(Error::Closed { setting: "sampler" })
    ));
    assert_eq!(handle.level(), LevelFilter::INFO);
}
