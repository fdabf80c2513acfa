//! The web view's page and JSON endpoints, over HTTP on 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use common::{get, get_json, post_items, request, send_workload, TRACE};
use serde_json::{json, Value};
use tracing_jkool_collector::{Collector, Fault};

fn ids(page: &Value) -> Vec<&str> {
    page["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_str().expect("id"))
        .collect()
}

fn summary<'p>(page: &'p Value, id: &str) -> &'p Value {
    page["roots"]
        .as_array()
        .expect("roots")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no summary of {id} in {page:#}"))
}

#[test]
fn page_and_assets_are_served_and_posts_still_work_everywhere() {
    let collector = Collector::builder().token("t").start().unwrap();
    let addr = collector.addr();
    // A fault queued for the application is not taken by the page.
    collector.inject(Fault::status(503), 1);
    let (status, html) = get(addr, "/");
    assert_eq!(status, 200);
    assert!(html.contains(r#"<ol id="roots""#), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "loads nothing from elsewhere"
    );
    for asset in [
        "/ui/style.css",
        "/ui/list.js",
        "/ui/trace.js",
        "/ui/details.js",
        "/ui/icon.svg",
    ] {
        let (status, body) = get(addr, asset);
        assert_eq!(status, 200, "{asset}");
        assert!(!body.is_empty(), "{asset}");
        assert!(
            !body.contains("://") || asset.ends_with(".svg"),
            "{asset} loads from elsewhere"
        );
    }
    assert_eq!(get(addr, "/ui/nope.js").0, 404);
    assert_eq!(get(addr, "/api/nope").0, 404);
    assert!(
        collector.requests().is_empty(),
        "the page's requests are not logged"
    );
    assert_eq!(collector.faults_pending(), 1);

    let item = r#"{"tracking-id": "x"}"#;
    let token = [("X-API-Key", "t")];
    assert_eq!(request(addr, "POST", "/", item).0, 503, "the fault");
    for path in ["/", "/JESL/event", "/event", "/api/roots", "/ui/list.js"] {
        let (status, body) = common::request_with(addr, "POST", path, &token, item);
        assert_eq!(status, 200, "POST {path}: {body}");
    }
    assert_eq!(request(addr, "POST", "/event", item).0, 401);
    assert_eq!(get(addr, "/event").0, 405);
    assert_eq!(collector.items().len(), 5);
}

#[test]
fn roots_are_summarised_newest_first_with_their_trees() {
    let collector = Collector::start().unwrap();
    let addr = collector.addr();
    let sent = send_workload(addr);
    let page = get_json(addr, "/api/roots");
    assert_eq!(page["received"], sent);
    assert_eq!(page["total"], 4);
    assert_eq!(
        ids(&page),
        ["ev-disk", "act-health", "act-checkout", "act-authorize"]
    );
    let checkout = summary(&page, "act-checkout");
    assert_eq!(checkout["name"], "checkout");
    assert_eq!(checkout["type"], "ACTIVITY");
    assert_eq!(checkout["duration"], 48_000);
    assert_eq!(checkout["items"], 6);
    assert_eq!(
        checkout["errors"], 1,
        "the EXCEPTION activity and the ERROR event that caused it: one failure"
    );
    assert_eq!(checkout["source"], "Shop");
    assert_eq!(checkout["corrids"], json!(["order-42", TRACE]));
    assert_eq!(checkout["traces"], json!([TRACE]));
    let disk = summary(&page, "ev-disk");
    assert_eq!(
        (disk["type"].as_str(), disk["items"].as_u64()),
        (Some("EVENT"), Some(1))
    );
    assert_eq!(disk["severity"], "WARNING");
    assert_eq!(page["sources"], json!(["Payments", "Reports", "Shop"]));

    let filtered = |query: &str| ids(&get_json(addr, &format!("/api/roots?{query}"))).join(",");
    assert_eq!(filtered("severity=ERROR"), "act-checkout");
    assert_eq!(
        filtered("severity=warning"),
        "ev-disk,act-checkout,act-authorize"
    );
    assert_eq!(filtered("source=Payments"), "act-authorize");
    assert_eq!(filtered("q=ORDER-42"), "act-checkout");
    assert_eq!(filtered("q=%2Fhealth"), "act-health");
    assert_eq!(filtered("q=disk+91"), "ev-disk");
    assert_eq!(filtered("q=nothing&severity=ERROR"), "");
}

#[test]
fn a_cursor_sends_only_what_changed() {
    let collector = Collector::start().unwrap();
    let addr = collector.addr();
    post_items(
        addr,
        "/",
        &[json!({"tracking-id": "a"}), json!({"tracking-id": "b"})],
    );
    let first = get_json(addr, "/api/roots");
    let cursor = first["cursor"].as_u64().unwrap();
    assert_eq!(cursor, 2);
    let same = get_json(addr, &format!("/api/roots?after={cursor}&watch=a"));
    assert_eq!(same["unchanged"], true);
    assert_eq!(same["watch"]["root"], "a");
    assert!(
        same.get("roots").is_none(),
        "nothing new, nothing sent: {same}"
    );

    // A child of `a` and a new root `c`: `b` is not sent again.
    post_items(
        addr,
        "/event",
        &[json!({"tracking-id": "a1", "parent-id": "a"})],
    );
    post_items(addr, "/event", &[json!({"tracking-id": "c"})]);
    let next = get_json(addr, &format!("/api/roots?after={cursor}&watch=a1"));
    assert_eq!(ids(&next), ["c", "b", "a"]);
    let sent: Vec<&str> = next["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(sent, ["c", "a"]);
    assert_eq!(summary(&next, "a")["items"], 2);
    assert_eq!(next["watch"]["root"], "a");
    assert_eq!(next["watch"]["updated"], 3);

    // The root of a tree arriving last takes its waiting children off the
    // list.
    post_items(
        addr,
        "/",
        &[
            json!({"tracking-id": "p"}),
            json!({"tracking-id": "x", "parent-id": "q"}),
        ],
    );
    post_items(addr, "/", &[json!({"tracking-id": "q"})]);
    let page = get_json(addr, "/api/roots?after=4");
    assert_eq!(ids(&page), ["q", "p", "c", "b", "a"]);
    assert_eq!(summary(&page, "q")["items"], 2);
}

#[test]
fn pages_hold_a_hundred_roots() {
    let collector = Collector::start().unwrap();
    let addr = collector.addr();
    let items: Vec<Value> = (0..250)
        .map(|n| json!({"type": "ACTIVITY", "tracking-id": format!("r{n}"), "operation": "job"}))
        .collect();
    post_items(addr, "/", &items);
    let first = get_json(addr, "/api/roots");
    assert_eq!(
        (first["total"].as_u64(), first["limit"].as_u64()),
        (Some(250), Some(100))
    );
    assert_eq!(ids(&first).len(), 100);
    assert_eq!(ids(&first)[0], "r249");
    let last = get_json(addr, "/api/roots?offset=200&limit=100");
    assert_eq!(ids(&last).len(), 50);
    assert_eq!(ids(&last)[49], "r0");
    let huge = get_json(addr, "/api/roots?limit=100000");
    assert_eq!(huge["limit"], 500, "a page is capped");
}

#[test]
fn a_trace_holds_its_tree_and_the_trees_sharing_its_trace_id() {
    let collector = Collector::start().unwrap();
    let addr = collector.addr();
    send_workload(addr);
    // Any item of the tree opens it.
    let view = get_json(addr, "/api/trace/ev-stock");
    assert_eq!(view["root"], "act-checkout");
    assert_eq!(view["focus"], "ev-stock");
    assert_eq!(view["traces"], json!([TRACE]));
    let rows: Vec<(String, u64, String)> = view["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let parent = e["parent"].as_str().unwrap_or("-").to_string();
            (
                e["ref"].as_str().unwrap().to_string(),
                e["depth"].as_u64().unwrap(),
                parent,
            )
        })
        .collect();
    let expect = [
        ("act-checkout", 0, "-"),
        ("ev-received", 1, "act-checkout"),
        ("act-stock", 1, "act-checkout"),
        ("ev-stock", 2, "act-stock"),
        ("act-charge", 1, "act-checkout"),
        ("ev-payment-failed", 2, "act-charge"),
        ("act-authorize", 0, "-"),
        ("act-fraud", 1, "act-authorize"),
        ("ev-risk", 2, "act-fraud"),
    ];
    let expect: Vec<(String, u64, String)> = expect
        .iter()
        .map(|(r, d, p)| (r.to_string(), *d, p.to_string()))
        .collect();
    assert_eq!(rows, expect);
    let groups = view["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(
        (groups[0]["source"].as_str(), groups[0]["joined"].as_bool()),
        (Some("Shop"), Some(false))
    );
    assert_eq!(
        (groups[1]["source"].as_str(), groups[1]["joined"].as_bool()),
        (Some("Payments"), Some(true))
    );
    assert_eq!(view["total"], 9);
    assert_eq!(view["truncated"], false);
    let failed = &view["items"][5]["item"];
    assert_eq!(
        failed["snapshots"][0]["properties"][0]["value-type"],
        "currency.usd"
    );

    // From the other service, the same two trees, its own first.
    let other = get_json(addr, "/api/trace/act-fraud");
    assert_eq!(other["groups"][0]["root"], "act-authorize");
    assert_eq!(other["groups"][1]["root"], "act-checkout");

    let cut = get_json(addr, "/api/trace/act-checkout?limit=4");
    assert_eq!(
        (cut["shown"].as_u64(), cut["truncated"].as_bool()),
        (Some(4), Some(true))
    );
    let (status, body) = get(addr, "/api/trace/no-such-item");
    assert_eq!(status, 404, "{body}");

    post_items(
        addr,
        "/",
        &[
            json!({"tracking-id": "a/b c#d", "msg-text": "odd id"}),
            json!({"msg-text": "no id"}),
        ],
    );
    assert_eq!(
        get_json(addr, "/api/trace/a%2Fb%20c%23d")["root"],
        "a/b c#d"
    );
    let anonymous = format!("/api/trace/%23{}", collector.items().len() - 1);
    assert_eq!(
        get_json(addr, &anonymous)["items"][0]["item"]["msg-text"],
        "no id"
    );
}

/// 100,000 items: the list and a big trace still answer quickly, a page at
/// a time.
#[test]
fn a_hundred_thousand_items_stay_responsive() {
    let collector = Collector::start().unwrap();
    let addr = collector.addr();
    const ITEMS: usize = 100_000;
    const BATCH: usize = 5_000;
    // 80,000 items in 1,000 traces of 80, and one trace of 20,000.
    let mut n = 0;
    while n < ITEMS {
        let batch: Vec<Value> = (n..n + BATCH)
            .map(|i| {
                if i < 20_000 {
                    if i == 19_999 {
                        json!({"type": "ACTIVITY", "tracking-id": "big", "operation": "big"})
                    } else {
                        json!({"tracking-id": format!("b{i}"), "parent-id": "big", "time-usec": i})
                    }
                } else if i % 80 == 79 {
                    json!({"type": "ACTIVITY", "tracking-id": format!("t{}", i / 80), "operation": format!("op{}", i / 80)})
                } else {
                    json!({"tracking-id": format!("e{i}"), "parent-id": format!("t{}", i / 80),
                           "severity": if i % 1000 == 3 { "ERROR" } else { "INFO" }})
                }
            })
            .collect();
        post_items(addr, "/", &batch);
        n += BATCH;
    }
    let started = Instant::now();
    let page = get_json(addr, "/api/roots");
    assert_eq!(page["received"], ITEMS);
    assert_eq!(page["total"], 1_001);
    assert_eq!(ids(&page).len(), 100);
    let errors = get_json(addr, "/api/roots?severity=ERROR&offset=0");
    assert_eq!(errors["total"], 80);
    let searched = get_json(addr, "/api/roots?q=op1249");
    assert_eq!(ids(&searched), ["t1249"]);
    let cursor = page["cursor"].as_u64().unwrap();
    assert_eq!(
        get_json(addr, &format!("/api/roots?after={cursor}"))["unchanged"],
        true
    );
    let big = get_json(addr, "/api/trace/b5");
    assert_eq!(
        (big["total"].as_u64(), big["shown"].as_u64()),
        (Some(20_000), Some(2_000))
    );
    assert_eq!(big["truncated"], true);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "five requests took {took:?}"
    );
}
