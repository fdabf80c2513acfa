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

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::send_workload;
use tracing_jkool_collector::Collector;

/// Chromium runs at most this long per page.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

fn chromium() -> Option<String> {
    let name = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let found = Command::new(&name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    found.then_some(name)
}

/// Runs Chromium headless on `url` with `extra` flags; its standard output.
fn run_chromium(chromium: &str, extra: &[String], url: &str) -> String {
    let profile = tempdir("profile");
    let mut child = Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut { stdout }, &mut out);
        out
    });
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    loop {
        match child.try_wait().expect("wait for chromium") {
            Some(_) => break,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within {CHROMIUM_TIMEOUT:?}");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let out = reader.join().expect("reader");
    let _ = std::fs::remove_dir_all(&profile);
    out
}

fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "browser-{name}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The start tag of the first element carrying attribute `attr` (e.g.
/// `data-ref="x"`) whose tag also contains every one of `also`.
fn tag<'d>(dom: &'d str, attr: &str, also: &[&str]) -> Option<&'d str> {
    let mut from = 0;
    while let Some(at) = dom[from..].find(attr) {
        let at = from + at;
        let start = dom[..at].rfind('<')?;
        let end = at + dom[at..].find('>')?;
        let tag = &dom[start..=end];
        if also.iter().all(|a| tag.contains(a)) {
            return Some(tag);
        }
        from = end;
    }
    None
}

fn must_have<'d>(dom: &'d str, attr: &str, also: &[&str]) -> &'d str {
    tag(dom, attr, also).unwrap_or_else(|| {
        panic!("no element with {attr} and {also:?} in the page:\n{dom}");
    })
}

#[test]
#[ignore = "needs chromium; run with --ignored"]
fn the_page_shows_the_list_the_waterfall_and_the_details() {
    let Some(chromium) = chromium() else {
        let why = "`chromium` not found (apt-get install -y chromium, or set CHROMIUM)";
        assert!(
            std::env::var_os("REQUIRE_CHROMIUM").is_none(),
            "REQUIRE_CHROMIUM is set but {why}"
        );
        eprintln!("SKIPPED: {why}");
        return;
    };
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

/// Relays the page's requests to the collector, one per connection, and
/// runs `on_second_poll` just before relaying the second `GET /api/roots`:
/// items that arrive between two polls, at a known point of the page's life.
fn relay(
    collector: std::net::SocketAddr,
    on_second_poll: impl FnOnce() + Send + 'static,
) -> std::net::SocketAddr {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the relay");
    let addr = listener.local_addr().expect("relay address");
    std::thread::spawn(move || {
        let mut polls = 0;
        let mut hook = Some(on_second_poll);
        // Bounded: the page makes a few dozen requests in its 5 s budget.
        for stream in listener.incoming().take(500) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            // The page only GETs: the head ends at the first empty line.
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = line.split(' ').nth(1).unwrap_or("/").to_string();
            if path.starts_with("/api/roots") {
                polls += 1;
                if polls == 2 {
                    if let Some(hook) = hook.take() {
                        hook();
                    }
                }
            }
            let (status, body) = common::get(collector, &path);
            let kind = if path.starts_with("/api/") {
                "application/json"
            } else if path.ends_with(".css") {
                "text/css"
            } else if path.ends_with(".js") {
                "text/javascript"
            } else if path.ends_with(".svg") || path == "/favicon.ico" {
                "image/svg+xml"
            } else {
                "text/html; charset=utf-8"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

#[test]
#[ignore = "needs chromium; run with --ignored"]
fn the_list_and_the_open_trace_follow_new_items() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("REQUIRE_CHROMIUM").is_none(),
            "no chromium"
        );
        eprintln!("SKIPPED: `chromium` not found (apt-get install -y chromium)");
        return;
    };
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
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("REQUIRE_CHROMIUM").is_none(),
            "no chromium"
        );
        eprintln!("SKIPPED: `chromium` not found (apt-get install -y chromium)");
        return;
    };
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
