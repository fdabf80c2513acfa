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

use common::browser::{
    chromium, must_have, probe, probed, relay, relay_injecting, run_chromium, tag, tempdir,
};
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
        &[r#"data-items="6""#, r#"data-errors="1""#],
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
        ">250.0<", // a double, sent as 250.0
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

/// What a tokio service with 50 instrumented tasks sends: a root span
/// `serve`, 50 `request` spans with their fields (`job`, `status`) in their
/// default snapshot beside `busy` and `idle`, 49 of them with a `lookup`
/// span inside: 100 activities in one tree. `request` 13 fails: an ERROR
/// event, then the span's EXCEPTION. Two events outside any span, whose
/// operation is their target, `service`. Sent inside out, as spans close.
fn service_workload() -> Vec<serde_json::Value> {
    use serde_json::json;
    const T0: i64 = 1_764_150_000_000_000;
    let fqn = "APPL=shop-api#SERVER=host1";
    let prop = |name: &str, kind: &str, value: serde_json::Value| json!({"name": name, "type": kind, "value": value});
    let timing = |busy: i64| {
        [
            json!({"name": "busy", "type": "long", "value": busy, "value-type": "age.usec"}),
            json!({"name": "idle", "type": "long", "value": 17, "value-type": "age.usec"}),
        ]
    };
    let span = |id: &str,
                parent: Option<&str>,
                op: &str,
                from: i64,
                to: i64,
                props: Vec<serde_json::Value>| {
        let mut item = json!({
            "type": "ACTIVITY", "tracking-id": id, "operation": op, "source-fqn": fqn,
            "status": "END", "severity": "INFO", "start-time-usec": T0 + from,
            "end-time-usec": T0 + to, "elapsed-time-usec": to - from, "time-usec": T0 + to,
            "snapshots": [{"type": "SNAPSHOT", "name": op, "category": "service",
                           "time-usec": T0 + to, "parent-id": id, "properties": props}],
        });
        if let Some(parent) = parent {
            item["parent-id"] = json!(parent);
        }
        item
    };
    let mut items = Vec::new();
    for n in 0..49_i64 {
        let mut props = vec![prop("key", "string", json!(format!("user-{n}")))];
        props.extend(timing(900));
        let from = 2_000 + n * 15_000;
        items.push(span(
            &format!("lookup-{n}"),
            Some(&format!("req-{n}")),
            "lookup",
            from,
            from + 4_000,
            props,
        ));
    }
    items.push(json!({
        "type": "EVENT", "tracking-id": "ev-declined", "parent-id": "req-13",
        "operation": "service", "severity": "ERROR", "msg-text": "payment declined",
        "source-fqn": fqn, "time-usec": T0 + 1_000 + 13 * 15_000 + 8_000,
    }));
    for n in 0..50_i64 {
        let status = if n % 5 == 3 { "declined" } else { "ok" };
        let mut props = vec![
            prop("job", "long", json!(n)),
            prop("status", "string", json!(status)),
            prop(
                "customer",
                "string",
                json!(format!("customer number {n} of a rather long list")),
            ),
        ];
        props.extend(timing(4_000 + n));
        if n == 49 {
            props.push(prop("cut_short", "boolean", json!(true)));
        }
        let from = 1_000 + n * 15_000;
        let mut request = span(
            &format!("req-{n}"),
            Some("serve"),
            "request",
            from,
            from + 10_000,
            props,
        );
        if n == 13 {
            request["status"] = json!("EXCEPTION");
            request["severity"] = json!("ERROR");
            request["exception"] = json!("payment declined");
        }
        items.push(request);
    }
    let mut props = vec![prop("addr", "string", json!("0.0.0.0:8080"))];
    props.extend(timing(100));
    items.push(span("serve", None, "serve", 0, 760_000, props));
    for (id, msg, at) in [
        ("ev-listen", "listening on 0.0.0.0:8080", -5_000),
        ("ev-stop", "shutting down", 800_000),
    ] {
        items.push(json!({
            "type": "EVENT", "tracking-id": id, "operation": "service", "severity": "INFO",
            "msg-text": msg, "source-fqn": fqn, "time-usec": T0 + at,
        }));
    }
    items
}

/// The markup from the start tag of the waterfall row `reference` to the
/// next row's (or the waterfall's end).
fn wf_row<'d>(dom: &'d str, reference: &str) -> &'d str {
    let tag = must_have(
        dom,
        &format!(r#"data-ref="{reference}""#),
        &["<div", "wf-row"],
    );
    let at = dom.find(tag).unwrap();
    let rest = &dom[at + tag.len()..];
    let end = [r#"class="wf-row"#, r#"id="trace-more""#]
        .iter()
        .filter_map(|next| rest.find(next))
        .min()
        .unwrap_or(rest.len());
    &dom[at..at + tag.len() + end]
}

/// The text of some markup, tags left out.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

#[test]
#[ignore = "needs chromium; run with --ignored"]
fn a_real_services_trace_counts_each_failure_once_and_tells_its_rows_apart() {
    let Some(chromium) = chromium() else { return };
    let collector = Collector::start().unwrap();
    common::post_items(collector.addr(), "/", &service_workload());
    let selectors = ["#details", "#waterfall .wf-row.selected", "#trace"];
    let relay = relay_injecting(collector.addr(), &probe(&selectors), || {});
    let window = [
        "--dump-dom".to_string(),
        "--window-size=1400,900".to_string(),
    ];
    // A deep link to request 45's row, the 92nd of 100.
    let url = format!("http://{relay}/#/trace/serve/item/req-45");
    let dom = run_chromium(&chromium, &window, &url);
    assert_eq!(dom.matches(r#"class="wf-row "#).count(), 100, "{dom}");

    // (a) One failure, one error: the EXCEPTION and the ERROR event under it.
    let serve = must_have(&dom, r#"data-id="serve""#, &["<li"]);
    assert!(serve.contains(r#"data-errors="1""#), "{serve}");
    let li = &dom[dom.find(serve).unwrap()..];
    let li = &li[..li.find("</li>").unwrap()];
    assert!(text_of(li).contains("1 error"), "{li}");
    let meta_at = dom.find(r#"id="trace-meta""#).expect("trace meta");
    let meta = &dom[meta_at..];
    let meta = text_of(&meta[..meta.find("</div>").unwrap()]);
    assert!(
        meta.contains("1 error") && !meta.contains("errors"),
        "{meta}"
    );

    // (b) Events outside any span are roots told by their message and target.
    for (id, msg) in [
        ("ev-listen", "listening on 0.0.0.0:8080"),
        ("ev-stop", "shutting down"),
    ] {
        let tag = must_have(&dom, &format!(r#"data-id="{id}""#), &["<li"]);
        let li = &dom[dom.find(tag).unwrap()..];
        let li = text_of(&li[..li.find("</li>").unwrap()]);
        assert!(li.contains(msg) && li.contains("service"), "{id}: {li}");
    }

    // (c) Each request row shows its fields, not its timing.
    let row13 = text_of(wf_row(&dom, "req-13"));
    assert!(row13.contains(r#"job=13 status="declined""#), "{row13}");
    let row7 = text_of(wf_row(&dom, "req-7"));
    assert!(row7.contains(r#"job=7 status="ok""#), "{row7}");
    let row49 = text_of(wf_row(&dom, "req-49"));
    assert!(row49.contains("job=49"), "{row49}");
    for row in [&row13, &row7, &row49] {
        for internal in ["busy", "idle", "cut_short"] {
            assert!(!row.contains(internal), "{internal} shown: {row}");
        }
        assert!(row.chars().count() < 200, "not cut: {row}");
    }
    assert!(text_of(wf_row(&dom, "lookup-3")).contains(r#"key="user-3""#));

    // (d) The deep link's item panel and its row are both in the window,
    // neither hiding the other.
    must_have(&dom, r#"id="details""#, &[r#"data-ref="req-45""#]);
    must_have(&dom, r#"data-ref="req-45""#, &["wf-row", "selected"]);
    // The window is 1400x900; the page gets what its frame leaves.
    let probe = probed(&dom);
    let (width, height) = (
        probe["width"].as_f64().unwrap(),
        probe["height"].as_f64().unwrap(),
    );
    assert!(
        width == 1400.0 && (600.0..=900.0).contains(&height),
        "{probe}"
    );
    let inside = |name: &str| {
        let b = &probe["boxes"][name];
        assert!(b.is_object(), "{name} not on the page: {probe}");
        let (top, bottom) = (b["top"].as_f64().unwrap(), b["bottom"].as_f64().unwrap());
        let (left, right) = (b["left"].as_f64().unwrap(), b["right"].as_f64().unwrap());
        assert!(
            bottom - top > 10.0 && right - left > 100.0,
            "{name} is too small: {b}"
        );
        assert!(
            top >= 0.0 && bottom <= height && left >= 0.0 && right <= width,
            "{name} is outside the {width}x{height} viewport: {b}"
        );
        (top, bottom, left, right)
    };
    let panel = inside("#details");
    let row = inside("#waterfall .wf-row.selected");
    let apart = row.1 <= panel.0 || panel.1 <= row.0 || row.3 <= panel.2 || panel.3 <= row.2;
    assert!(apart, "the item panel covers its row: {probe}");
    // Nor is the row scrolled out of the waterfall's sight.
    let seen = inside("#trace");
    assert!(
        seen.0 <= row.0 && row.1 <= seen.1,
        "the row is out of the waterfall's sight: {probe}"
    );

    let shot = tempdir("deep-link").join("deep-link.png");
    run_chromium(
        &chromium,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1400,900".to_string(),
        ],
        &url,
    );
    assert!(std::fs::read(&shot)
        .expect("screenshot")
        .starts_with(b"\x89PNG"));
    eprintln!("the deep link's screenshot: {}", shot.display());

    // A root event's own trace: its row is its message, with its target.
    let url = format!("http://{relay}/#/trace/ev-listen");
    let dom = run_chromium(&chromium, &window, &url);
    let row = text_of(wf_row(&dom, "ev-listen"));
    assert!(
        row.contains("listening on 0.0.0.0:8080") && row.contains("service"),
        "{row}"
    );
    let title_at = dom.find(r#"id="trace-title""#).expect("trace title");
    let title = &dom[title_at..];
    assert!(text_of(&title[..title.find("</h2>").unwrap()]).contains("listening on 0.0.0.0:8080"));
}

/// A 40-character operation two levels down, an EXCEPTION with fields, an
/// event on it with a double property of 5000.0, all under a root whose
/// `parent-id` names an item never sent.
fn orphan_workload() -> Vec<serde_json::Value> {
    use serde_json::json;
    const T0: i64 = 1_764_150_000_000_000;
    let activity = |id: &str, parent: &str, op: &str, from: i64, to: i64| {
        json!({"type": "ACTIVITY", "tracking-id": id, "parent-id": parent, "operation": op,
               "source-fqn": "APPL=Shop#SERVER=web1", "status": "END", "severity": "INFO",
               "start-time-usec": T0 + from, "end-time-usec": T0 + to,
               "elapsed-time-usec": to - from})
    };
    let mut long = activity("op-long", "mid", LONG_OPERATION, 2_000, 40_000);
    long["status"] = json!("EXCEPTION");
    long["snapshots"] = json!([{"type": "SNAPSHOT", "name": LONG_OPERATION, "properties": [
        {"name": "order_id", "type": "string", "value": "order-12345"},
        {"name": "attempt", "type": "long", "value": 2}]}]);
    vec![
        json!({"type": "EVENT", "tracking-id": "ev-mark", "parent-id": "op-long",
               "severity": "INFO", "msg-text": "card authorised after retry",
               "time-usec": T0 + 30_000, "source-fqn": "APPL=Shop#SERVER=web1",
               "properties": [{"name": "amount", "type": "double", "value": 5000.0},
                              {"name": "count", "type": "long", "value": 5000}]}),
        long,
        activity("mid", "orphan-root", "middle_layer", 1_000, 45_000),
        activity("orphan-root", "never-sent", "handle_request", 0, 50_000),
        json!({"type": "ACTIVITY", "tracking-id": "whole-root", "operation": "has_no_parent",
               "start-time-usec": T0, "end-time-usec": T0 + 10}),
    ]
}

const LONG_OPERATION: &str = "payments::gateway::authorize_card_charge";

#[test]
#[ignore = "needs chromium; run with --ignored"]
fn long_names_are_whole_and_orphans_events_and_doubles_are_told() {
    assert_eq!(LONG_OPERATION.chars().count(), 40);
    let Some(chromium) = chromium() else { return };
    let collector = Collector::start().unwrap();
    common::post_items(collector.addr(), "/", &orphan_workload());
    let op = r#"#waterfall [data-ref="op-long"] .op"#;
    let label = r#"#waterfall [data-ref="op-long"] .wf-label"#;
    let relay = relay_injecting(collector.addr(), &probe(&[op, label]), || {});
    let window = [
        "--dump-dom".to_string(),
        "--window-size=1400,900".to_string(),
    ];
    let url = format!("http://{relay}/#/trace/orphan-root/item/ev-mark");
    let dom = run_chromium(&chromium, &window, &url);

    // The long name: all of it in the markup, in a hover title, and in
    // sight: neither cut by its own box nor by its label's.
    let row = wf_row(&dom, "op-long");
    assert!(text_of(row).contains(LONG_OPERATION), "{row}");
    assert!(
        row.contains(&format!(r#"title="{LONG_OPERATION}""#)),
        "no title with the whole name: {row}"
    );
    let probe = probed(&dom);
    let (op_box, label_box) = (&probe["boxes"][op], &probe["boxes"][label]);
    assert!(op_box.is_object() && label_box.is_object(), "{probe}");
    let f = |b: &serde_json::Value, k: &str| b[k].as_f64().unwrap();
    assert!(
        f(op_box, "scrollWidth") <= f(op_box, "clientWidth"),
        "the name is cut inside its box: {probe}"
    );
    assert!(
        f(op_box, "left") >= f(label_box, "left") && f(op_box, "right") <= f(label_box, "right"),
        "the name runs out of its label: {probe}"
    );

    // The root whose parent never came is marked, in the waterfall and in
    // the list; a root without a parent-id is not.
    let root = text_of(wf_row(&dom, "orphan-root"));
    assert!(root.contains("orphan: parent not received"), "{root}");
    let li = |id: &str| {
        let tag = must_have(&dom, &format!(r#"data-id="{id}""#), &["<li"]);
        let li = &dom[dom.find(tag).unwrap()..];
        text_of(&li[..li.find("</li>").unwrap()])
    };
    assert!(li("orphan-root").contains("orphan: parent not received"));
    assert!(!li("whole-root").contains("orphan"), "{}", li("whole-root"));
    assert!(!text_of(wf_row(&dom, "mid")).contains("orphan"));

    // The event's mark tells its message on hover.
    let mark = must_have(&dom, r#"data-ref="ev-mark""#, &["mark"]);
    assert!(mark.contains("card authorised after retry"), "{mark}");

    // A double of 5000.0 is shown as sent; a long 5000 stays 5000.
    let details_at = dom.find(r#"id="details""#).expect("details panel");
    let details = &dom[details_at..];
    let value_of = |name: &str| {
        let at = details
            .find(&format!(r#"data-name="{name}""#))
            .unwrap_or_else(|| panic!("no property {name}: {details}"));
        let tr = &details[at..];
        text_of(&tr[..tr.find("</tr>").unwrap()])
    };
    assert!(
        value_of("amount").contains("5000.0"),
        "{}",
        value_of("amount")
    );
    assert!(
        value_of("count").contains("5000") && !value_of("count").contains("5000.0"),
        "{}",
        value_of("count")
    );
}
