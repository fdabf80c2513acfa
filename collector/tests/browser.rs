//! The web view in a real headless Chromium: a scripted workload is posted
//! to a collector, the page is loaded with `--dump-dom`, and the DOM must
//! show the list, the waterfall's nesting, the EXCEPTION and an event's
//! details. Also takes the waterfall's screenshot.
//!
//! Ignored by default (it needs the `chromium` binary); run it with
//!
//! ```text
//! cargo test -p tracing-jkool-collector --test browser -- --ignored
//! ```
//!
//! Without Chromium it says so and passes, unless `REQUIRE_CHROMIUM` is set
//! (as `.ci/run` does). `WATERFALL_PNG=docs/waterfall.png`
//! (a path relative to the workspace root) writes the screenshot there too.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::browser::{chromium, must_have, relay, run_chromium, tag, tempdir};
use common::send_workload;
use tracing_jkool_collector::Collector;

#[test]
#[ignore = "needs chromium; run with --ignored"]
fn the_page_shows_the_list_the_waterfall_and_the_details() {
    let Some(chromium) = chromium() else { return };
    let started = Instant::now();
    let collector = Collector::start().unwrap();
    send_workload(collector.addr());
    let url = format!(
        "{}#/trace/act-checkout/item/ev-payment-failed",
        collector.view_url()
    );
    let dom = run_chromium(&chromium, &["--dump-dom".to_string()], &url);
    assert!(dom.contains("<html"), "no DOM dumped: {dom:?}");
    for junk in [">null<", "[object ", "undefined", "NaN"] {
        assert!(!dom.contains(junk), "the page shows {junk:?}:\n{dom}");
    }

    // The list: every root, newest first, with counts.
    for id in ["ev-disk", "act-health", "act-checkout", "act-authorize"] {
        must_have(&dom, &format!(r#"data-id="{id}""#), &["<li"]);
    }
    for id in ["act-stock", "act-charge", "ev-stock"] {
        assert!(
            tag(&dom, &format!(r#"data-id="{id}""#), &[]).is_none(),
            "{id} is no root"
        );
    }
    let pos = |id: &str| dom.find(&format!(r#"data-id="{id}""#)).unwrap();
    assert!(pos("ev-disk") < pos("act-checkout") && pos("act-checkout") < pos("act-authorize"));
    must_have(
        &dom,
        r#"data-id="act-checkout""#,
        &[r#"data-items="6""#, r#"data-errors="2""#],
    );

    // The waterfall: nesting by depth and parent.
    must_have(
        &dom,
        r#"data-ref="act-checkout""#,
        &["wf-row", r#"data-depth="0""#],
    );
    for child in ["act-stock", "act-charge"] {
        must_have(
            &dom,
            &format!(r#"data-ref="{child}""#),
            &[
                "wf-row",
                r#"data-depth="1""#,
                r#"data-parent="act-checkout""#,
            ],
        );
    }
    // The EXCEPTION: a red bar and a label.
    must_have(
        &dom,
        r#"data-ref="act-charge""#,
        &["wf-row", "exception", r#"data-status="EXCEPTION""#],
    );
    must_have(&dom, r#"data-ref="act-charge""#, &["bar", "exception"]);
    assert!(dom.contains(r#"<span class="badge exc">EXCEPTION</span>"#));
    // Events are marks coloured by severity.
    must_have(
        &dom,
        r#"data-ref="ev-payment-failed""#,
        &["mark", "sev-error", r#"data-severity="ERROR""#],
    );
    must_have(&dom, r#"data-ref="ev-stock""#, &["mark", "sev-info"]);
    // The other service's tree, joined by the trace id and labelled.
    must_have(&dom, r#"data-source="Payments""#, &["wf-group", "joined"]);
    must_have(
        &dom,
        r#"data-ref="act-fraud""#,
        &[
            "wf-row",
            r#"data-depth="1""#,
            r#"data-parent="act-authorize""#,
        ],
    );

    // The details of the selected event: its properties, units, exception.
    let details_at = dom.find(r#"id="details""#).expect("details panel");
    let details = &dom[details_at..];
    must_have(
        &dom,
        r#"id="details""#,
        &[r#"data-ref="ev-payment-failed""#],
    );
    for needle in [
        r#"data-name="amount""#,
        ">250<",
        ">double<",
        ">currency.usd<",
        ">CardDeclined: insufficient funds<",
        ">Atlanta, GA<",
        ">order-42<",
        r#"data-key="snapshots""#,
    ] {
        assert!(
            details.contains(needle),
            "details lack {needle}:\n{details}"
        );
    }

    // The screenshot, from the same Chromium.
    let shot = tempdir("shot").join("waterfall.png");
    run_chromium(
        &chromium,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,800".to_string(),
        ],
        &url,
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    if let Ok(target) = std::env::var("WATERFALL_PNG") {
        let target = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(target);
        std::fs::write(&target, &png).expect("write WATERFALL_PNG");
        eprintln!("screenshot written to {}", target.display());
    }
    eprintln!(
        "browser test took {:.1} s; screenshot at {}",
        started.elapsed().as_secs_f64(),
        shot.display()
    );
}

#[test]
#[ignore = "needs chromium; run with --ignored"]
fn the_list_and_the_open_trace_follow_new_items() {
    let Some(chromium) = chromium() else { return };
    let collector = Collector::start().unwrap();
    let target = collector.addr();
    send_workload(target);
    let relay = relay(target, move || {
        let late = serde_json::json!([
            {"type": "EVENT", "tracking-id": "ev-late", "parent-id": "act-checkout",
             "severity": "WARNING", "msg-text": "refund requested",
             "time-usec": 1_764_150_000_047_000_i64},
            {"type": "ACTIVITY", "tracking-id": "act-live", "operation": "late_order",
             "source-fqn": "APPL=Shop#SERVER=web2", "status": "END",
             "start-time-usec": 1_764_150_000_080_000_i64, "end-time-usec": 1_764_150_000_090_000_i64},
        ]);
        let (status, body) = common::request(target, "POST", "/event", &late.to_string());
        assert_eq!(status, 200, "{body}");
    });
    let url = format!("http://{relay}/#/trace/act-checkout");
    let dom = run_chromium(&chromium, &["--dump-dom".to_string()], &url);
    assert_eq!(
        collector.items().len(),
        13,
        "the relay posted between two polls"
    );
    // The new root went on top, the changed one was patched, none twice.
    let first = dom.find(r#"data-id=""#).expect("a root in the list");
    assert!(dom[first..].starts_with(r#"data-id="act-live""#), "{dom}");
    must_have(&dom, r#"data-id="act-checkout""#, &[r#"data-items="7""#]);
    for id in [
        "act-live",
        "act-checkout",
        "act-authorize",
        "act-health",
        "ev-disk",
    ] {
        assert_eq!(
            dom.matches(&format!(r#"data-id="{id}""#)).count(),
            1,
            "{id}"
        );
    }
    assert!(
        dom.contains(">1–5 of 5<"),
        "the pager counts the new root: {dom}"
    );
    // The open trace reloaded: the late event is a mark on its activity.
    must_have(&dom, r#"data-ref="ev-late""#, &["mark", "sev-warning"]);
}

#[test]
#[ignore = "needs chromium; run with --ignored"]
fn a_hundred_thousand_items_show_a_page_and_a_cut_waterfall() {
    let Some(chromium) = chromium() else { return };
    let collector = Collector::start().unwrap();
    let addr = collector.addr();
    // A tree of 20,000 activities under `big`, then 1,000 trees of 80.
    const BATCH: usize = 5_000;
    for start in (0..100_000).step_by(BATCH) {
        let batch: Vec<serde_json::Value> = (start..start + BATCH)
            .map(|i| {
                let at = 1_764_150_000_000_000_i64 + i as i64 * 10;
                if i < 20_000 {
                    let (id, parent) = match i {
                        19_999 => ("big".to_string(), None),
                        _ => (format!("b{i}"), Some("big")),
                    };
                    serde_json::json!({"type": "ACTIVITY", "tracking-id": id, "parent-id": parent,
                        "operation": format!("step {i}"), "start-time-usec": at, "end-time-usec": at + 25})
                } else if i % 80 == 79 {
                    serde_json::json!({"type": "ACTIVITY", "tracking-id": format!("t{}", i / 80),
                        "operation": format!("job {}", i / 80), "source-fqn": "APPL=Batch"})
                } else {
                    serde_json::json!({"tracking-id": format!("e{i}"),
                        "parent-id": format!("t{}", i / 80), "severity": "INFO", "msg-text": "tick"})
                }
            })
            .collect();
        common::post_items(addr, "/", &batch);
    }
    let started = Instant::now();
    let url = format!("{}#/trace/b17", collector.view_url());
    let dom = run_chromium(&chromium, &["--dump-dom".to_string()], &url);
    let took = started.elapsed();
    assert_eq!(dom.matches("<li ").count(), 100, "one page of roots");
    assert!(dom.contains(">1–100 of 1,001<"), "the pager");
    assert_eq!(dom.matches(r#"class="wf-row activity"#).count(), 2_000);
    assert!(dom.contains("Showing the first 2,000 of 20,000 items."));
    eprintln!("100,000 items: page and a 2,000-bar waterfall in {took:?}");
    assert!(took < Duration::from_secs(60), "{took:?}");
}
