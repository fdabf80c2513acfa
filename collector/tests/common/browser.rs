//! Driving a headless Chromium, and reading the DOM it dumps.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Chromium runs at most this long per page.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

/// The Chromium binary (`$CHROMIUM`, else `chromium`), if it runs. When it
/// does not, the test is skipped (it says so), unless `REQUIRE_CHROMIUM` is
/// set: then it fails.
pub fn chromium() -> Option<String> {
    let name = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let found = Command::new(&name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        let why = "`chromium` not found (apt-get install -y chromium, or set CHROMIUM)";
        assert!(
            std::env::var_os("REQUIRE_CHROMIUM").is_none(),
            "REQUIRE_CHROMIUM is set but {why}"
        );
        eprintln!("SKIPPED: {why}");
    }
    found.then_some(name)
}

/// Runs Chromium headless on `url` with `extra` flags; its standard output.
pub fn run_chromium(chromium: &str, extra: &[String], url: &str) -> String {
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

/// A new empty directory under the target's temporary directory.
pub fn tempdir(name: &str) -> PathBuf {
    // Tests run in parallel: each Chromium needs a profile of its own.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "browser-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The start tag of the first element carrying attribute `attr` (e.g.
/// `data-ref="x"`) whose tag also contains every one of `also`.
pub fn tag<'d>(dom: &'d str, attr: &str, also: &[&str]) -> Option<&'d str> {
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

pub fn must_have<'d>(dom: &'d str, attr: &str, also: &[&str]) -> &'d str {
    tag(dom, attr, also).unwrap_or_else(|| {
        panic!("no element with {attr} and {also:?} in the page:\n{dom}");
    })
}

/// Relays the page's requests to the collector, one per connection, and
/// runs `on_second_poll` just before relaying the second `GET /api/roots`:
/// items that arrive between two polls, at a known point of the page's life.
pub fn relay(
    collector: std::net::SocketAddr,
    on_second_poll: impl FnOnce() + Send + 'static,
) -> std::net::SocketAddr {
    relay_injecting(collector, "", on_second_poll)
}

/// What a [`probe`] script writes into the page, read from the dumped DOM.
pub const PROBE_ID: &str = "test-probe";

/// A script that measures the page as it settles: every 200 ms (virtual
/// time) it writes, as JSON in `<pre id="test-probe">`, the window's size
/// and the bounding box of the first element matching each of `selectors`
/// (`null` when none does), with its `scrollWidth` and `clientWidth` (more
/// scroll than client width: its content is cut), so that the last one before the DOM is dumped
/// tells where things ended up.
pub fn probe(selectors: &[&str]) -> String {
    let list = serde_json::to_string(selectors).expect("selectors as JSON");
    format!(
        r#"<script>
setInterval(() => {{
  const boxes = {{}};
  for (const s of {list}) {{
    const node = document.querySelector(s);
    const r = node && node.getBoundingClientRect();
    boxes[s] = r ? {{ top: r.top, bottom: r.bottom, left: r.left, right: r.right,
      width: r.width, height: r.height, scrollWidth: node.scrollWidth,
      clientWidth: node.clientWidth }} : null;
  }}
  let out = document.getElementById("{PROBE_ID}");
  if (!out) {{
    out = document.createElement("pre");
    out.id = "{PROBE_ID}";
    out.hidden = true;
    document.body.append(out);
  }}
  out.textContent = JSON.stringify({{ width: innerWidth, height: innerHeight, boxes }});
}}, 200);
</script>"#
    )
}

/// The last measurements of a [`probe`] in a dumped DOM.
pub fn probed(dom: &str) -> serde_json::Value {
    let open = format!(r#"<pre id="{PROBE_ID}" hidden="">"#);
    let at = dom
        .find(&open)
        .unwrap_or_else(|| panic!("no probe in the page:\n{dom}"));
    let text = &dom[at + open.len()..];
    let text = &text[..text.find("</pre>").expect("the probe's end")];
    let json = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("probe {json:?}: {e}"))
}

/// [`relay`], adding `script` at the end of the page's HTML.
pub fn relay_injecting(
    collector: std::net::SocketAddr,
    script: &str,
    on_second_poll: impl FnOnce() + Send + 'static,
) -> std::net::SocketAddr {
    let script = script.to_string();
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
            let (status, mut body) = super::get(collector, &path);
            if !script.is_empty() && (path == "/" || path.starts_with("/#")) {
                let at = body.rfind("</body>").unwrap_or(body.len());
                body.insert_str(at, &script);
            }
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
