//! Storm limits: a noisy callsite is capped per window and says how much
//! it dropped; every other callsite is untouched.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tracing::{info, warn};

/// A summary's `suppressed`, among the event's own properties.
fn suppressed_in(summary: &Value) -> Option<u64> {
    let properties = summary["properties"].as_array()?;
    let suppressed = properties.iter().find(|p| p["name"] == "suppressed")?;
    assert_eq!(suppressed["type"], "long");
    suppressed["value"].as_u64()
}

#[test]
fn a_storm_from_one_callsite_is_capped_and_counted_and_others_are_untouched() {
    let collector = collector();
    let builder = builder(&collector)
        .queue_capacity(20_000)
        .retry_buffer(20_000)
        .max_events_per_callsite(100, Duration::from_secs(1));
    let (dispatch, handle) = dispatch(builder);
    let started = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..10_000 {
            warn!(n, "disk almost full");
            if n % 200 == 0 {
                info!(n, "steady");
                // About half a second in all.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    });
    // However slow the machine: the windows the storm touched.
    let windows = started.elapsed().as_secs() + 2;
    first_flush(&handle);
    handle.shutdown(WAIT).expect("shut down");
    let items = collector.items();
    let noisy = items
        .iter()
        .filter(|i| i["msg-text"] == "disk almost full")
        .count();
    let steady = items.iter().filter(|i| i["msg-text"] == "steady").count();
    let summaries: Vec<&Value> = items
        .iter()
        .filter(|i| i["operation"] == "tracing-jkool.suppressed")
        .collect();
    let suppressed: u64 = summaries
        .iter()
        .map(|s| suppressed_in(s).expect("a long `suppressed`"))
        .sum();
    assert!(noisy >= 100, "{noisy} arrived");
    assert!(
        noisy as u64 <= 100 * windows,
        "{noisy} in {windows} windows"
    );
    assert_eq!(steady, 50, "the other callsite is untouched");
    assert_eq!(noisy as u64 + suppressed, 10_000, "{summaries:#?}");
    let summary = summaries.first().expect("a summary");
    assert_eq!(summary["severity"], "WARNING");
    let location = summary["location"].as_str().expect("a location");
    assert!(location.starts_with("tests/storms.rs:"), "{location}");
    let text = summary["msg-text"].as_str().expect("a text");
    assert!(text.contains("disk almost full"), "{text}");
}

#[test]
fn a_limit_of_no_events_is_refused() {
    let collector = collector();
    let refused = builder(&collector)
        .max_events_per_callsite(0, Duration::from_secs(1))
        .build();
    match refused {
        Err(tracing_jkool::Error::InvalidSetting { setting, .. }) => {
            assert_eq!(setting, "max_events_per_callsite");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn log_records_are_limited_by_their_own_line_and_the_summary_names_it() {
    // tracing-log gives every WARN record one metadata: the line is what
    // tells two `log::warn!` apart.
    tracing_log::LogTracer::init().expect("the log bridge installs once here");
    let collector = collector();
    let builder = builder(&collector)
        .queue_capacity(20_000)
        .retry_buffer(20_000)
        .max_events_per_callsite(100, Duration::from_secs(10));
    let (dispatch, handle) = dispatch(builder);
    let noisy_line = line!() + 3;
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..1_000 {
            log::warn!("disk almost full {n}");
            if n % 100 == 0 {
                log::warn!("steady {n}");
            }
        }
    });
    // The window has not ended: shutdown tells what it dropped.
    handle.shutdown(WAIT).expect("shut down");
    let items = collector.items();
    let quiet = items
        .iter()
        .filter(|i| {
            i["msg-text"]
                .as_str()
                .is_some_and(|t| t.starts_with("steady"))
        })
        .count();
    assert_eq!(quiet, 10, "the quiet line is its own callsite");
    let summary = find(&items, "operation", "tracing-jkool.suppressed");
    assert_eq!(
        summary["location"],
        format!("tests/storms.rs:{noisy_line}"),
        "{summary:#}"
    );
    let noisy = items
        .iter()
        .filter(|i| {
            i["msg-text"]
                .as_str()
                .is_some_and(|t| t.starts_with("disk"))
        })
        .count();
    assert_eq!(
        noisy as u64 + suppressed_in(summary).expect("a count"),
        1_000
    );
}
