//! The `jkool-collector` binary, run as a child process on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jkool-collector");
/// Start-up, a request, a shutdown: each gets at most this long.
const WAIT: Duration = Duration::from_secs(30);

/// The child, killed (by its own handle) if a test ends without stopping it.
struct Running {
    child: Child,
    lines: Receiver<String>,
    addr: SocketAddr,
    /// From spawn to the line with `JKOOL_URL=`.
    printed_after: Duration,
    spawned: Instant,
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Spawns the binary with `args` and reads its stdout up to the URL line.
fn spawn(args: &[&str]) -> Running {
    let spawned = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn jkool-collector");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, lines) = mpsc::channel();
    // Drains stdout to the end, so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = spawned + WAIT;
    let mut seen = Vec::new();
    let url = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("no JKOOL_URL line ({e}); got {seen:#?}"));
        if let Some((_, url)) = line.split_once("JKOOL_URL=") {
            break url.trim().to_string();
        }
        seen.push(line);
    };
    let printed_after = spawned.elapsed();
    let addr = url
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("not an http://IP:PORT URL: {url:?}"));
    Running {
        child,
        lines,
        addr,
        printed_after,
        spawned,
    }
}

impl Running {
    /// Sends `signal` (by the child's pid) and waits, at most [`WAIT`], for
    /// the child to exit; its status and the rest of its stdout.
    #[cfg(unix)]
    fn stop(mut self, signal: &str) -> (ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([signal, pid.as_str()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill {signal} {pid}");
        let deadline = Instant::now() + WAIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "still running {WAIT:?} after {signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        // The child has exited: the reader thread sees the end of the pipe.
        let rest = self.lines.iter().take(1_000).collect();
        (status, rest)
    }
}

/// One request per connection; the status and body.
fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(WAIT))?;
    stream.set_write_timeout(Some(WAIT))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line in {response:?}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn request(addr: SocketAddr, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    try_request(addr, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// A path in the temp directory, unused by any other test or run.
fn temp_file(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("jkool-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

const EVENT: &str = r#"{"type":"EVENT","tracking-id":"cli-1","severity":"INFO","msg-text":"hello from the test","time-usec":1764150000000000}"#;

#[test]
fn serves_the_view_records_items_and_stops_on_ctrl_c() {
    let record = temp_file("record.ndjson");
    let record_arg = record.to_str().expect("UTF-8 temp path");
    let running = spawn(&["--port", "0", "--record", record_arg]);
    assert!(running.addr.ip().is_loopback(), "{}", running.addr);

    // Start-up: from spawn to the first page served. The port is bound
    // before the URL is printed, so the first try normally succeeds.
    let mut tries = 0;
    let served_after = loop {
        tries += 1;
        if let Ok((200, page)) = try_request(running.addr, "GET", "/", "", "") {
            assert!(
                page.contains("<html") || page.contains("<!doctype"),
                "{page}"
            );
            break running.spawned.elapsed();
        }
        assert!(tries < 200, "GET / never answered 200");
        std::thread::sleep(Duration::from_millis(25));
    };
    eprintln!(
        "jkool-collector start-up: URL printed after {:?}, GET / answered 200 after {:?} ({tries} tries)",
        running.printed_after, served_after
    );

    let (status, body) = request(
        running.addr,
        "POST",
        "/event",
        "X-API-Key: any-token-at-all\r\n",
        EVENT,
    );
    assert_eq!(status, 200, "{body}");

    // The item is in the file once it has been accepted.
    let text = std::fs::read_to_string(&record).expect("record file");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let recorded: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(recorded["msg-text"], "hello from the test");

    #[cfg(unix)]
    {
        let (status, rest) = running.stop("-INT");
        assert!(status.success(), "{status:?}; {rest:#?}");
        assert!(
            rest.iter()
                .any(|l| l.contains("stopped (Ctrl-C); 1 item(s) received")),
            "{rest:#?}"
        );
    }
    #[cfg(not(unix))]
    drop(running);
    let _ = std::fs::remove_file(&record);
}

#[test]
fn checks_the_token_and_adds_latency() {
    let running = spawn(&["--token", "s3cret", "--latency", "150ms"]);
    let (status, _) = request(running.addr, "POST", "/event", "", EVENT);
    assert_eq!(status, 401);
    let (status, _) = request(
        running.addr,
        "POST",
        "/event",
        "X-API-Key: wrong\r\n",
        EVENT,
    );
    assert_eq!(status, 401);
    let sent = Instant::now();
    let (status, body) = request(running.addr, "POST", "/event", "token: s3cret\r\n", EVENT);
    assert_eq!(status, 200, "{body}");
    assert!(
        sent.elapsed() >= Duration::from_millis(150),
        "{:?}",
        sent.elapsed()
    );
    #[cfg(unix)]
    {
        let (status, rest) = running.stop("-TERM");
        assert!(status.success(), "{status:?}; {rest:#?}");
        assert!(
            rest.iter().any(|l| l.contains("stopped (SIGTERM)")),
            "{rest:#?}"
        );
    }
}

#[test]
fn help_names_every_option_and_bad_values_are_refused() {
    let help = Command::new(BIN)
        .arg("--help")
        .output()
        .expect("run --help");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for option in [
        "--port",
        "--token",
        "--latency",
        "--record",
        "--bind",
        "Ctrl-C",
        "milliseconds",
    ] {
        assert!(text.contains(option), "{option} missing from:\n{text}");
    }
    let bad = Command::new(BIN)
        .args(["--latency", "fast"])
        .output()
        .expect("run with a bad latency");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("milliseconds"));
}
