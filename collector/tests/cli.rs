//! The `jkool-collector` binary, run as a child process on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
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

/// How the binary ended when it stopped before printing its URL.
#[derive(Debug)]
struct Exited {
    status: ExitStatus,
    /// Read through `Debug`, in failure messages.
    #[allow(dead_code)]
    stdout: Vec<String>,
    stderr: String,
}

/// Drains `pipe` line by line on a thread, so the child never blocks on a
/// full pipe; the lines arrive on the receiver until the pipe closes.
fn drain(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// Spawns the binary with `args` and reads its stdout up to the URL line;
/// every stderr line is passed on to the test's stderr and kept.
/// `Err` if the binary exits first.
fn start(args: &[&str]) -> Result<Running, Exited> {
    let spawned = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jkool-collector");
    let lines = drain(child.stdout.take().expect("stdout is piped"));
    let errors = drain(child.stderr.take().expect("stderr is piped"));
    let stderr = Arc::new(Mutex::new(String::new()));
    let kept = Arc::clone(&stderr);
    std::thread::spawn(move || {
        for line in errors {
            eprintln!("jkool-collector stderr: {line}");
            let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
            kept.push_str(&line);
            kept.push('\n');
        }
    });
    let deadline = spawned + WAIT;
    let mut seen = Vec::new();
    let url = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => match line.split_once("JKOOL_URL=") {
                Some((_, url)) => break url.trim().to_string(),
                None => seen.push(line),
            },
            Err(RecvTimeoutError::Disconnected) => {
                // Stdout closed: the child has exited, or is about to.
                let status = wait_for_exit(&mut child);
                // Its stderr is closed too; give the relay a moment.
                let until = Instant::now() + Duration::from_secs(2);
                while Arc::strong_count(&stderr) > 1 && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(5));
                }
                let stderr = stderr.lock().unwrap_or_else(|e| e.into_inner()).clone();
                return Err(Exited {
                    status,
                    stdout: seen,
                    stderr,
                });
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no JKOOL_URL line within {WAIT:?}; got {seen:#?}");
            }
        }
    };
    let printed_after = spawned.elapsed();
    let addr = url
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("not an http://IP:PORT URL: {url:?}"));
    Ok(Running {
        child,
        lines,
        addr,
        printed_after,
        spawned,
    })
}

/// [`start`], which must succeed. `args` must name a `--port` (`0` in
/// tests): the default port is fixed, and tests running in parallel would
/// collide on it.
fn spawn(args: &[&str]) -> Running {
    assert!(
        args.contains(&"--port"),
        "tests pass --port (0): the default port is fixed"
    );
    start(args).unwrap_or_else(|exited| panic!("jkool-collector exited: {exited:#?}"))
}

/// [`start`], which must fail: the binary exits, unsuccessfully, before
/// printing a URL.
fn start_fails(args: &[&str]) -> Exited {
    match start(args) {
        Ok(running) => panic!("jkool-collector started on {}", running.addr),
        Err(exited) => {
            assert!(!exited.status.success(), "{exited:#?}");
            exited
        }
    }
}

/// Waits, at most [`WAIT`], for `child` to exit; kills it after that.
fn wait_for_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running {WAIT:?} after closing its stdout");
        }
        std::thread::sleep(Duration::from_millis(20));
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
    let running = spawn(&["--port", "0", "--token", "s3cret", "--latency", "150ms"]);
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

#[test]
fn the_default_port_is_fixed_and_port_0_picks_a_free_one() {
    let help = Command::new(BIN)
        .arg("--help")
        .output()
        .expect("run --help");
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("[default: 47031]"), "{text}");

    // Without --port: port 47031, unless something else holds it (another
    // collector on this machine), which the binary then says.
    match start(&[]) {
        Ok(running) => assert_eq!(running.addr.port(), 47031, "{}", running.addr),
        Err(exited) => assert!(
            !exited.status.success() && exited.stderr.contains("port 47031 is in use"),
            "{exited:#?}"
        ),
    }

    let running = spawn(&["--port", "0"]);
    assert_ne!(running.addr.port(), 0);
    assert_ne!(running.addr.port(), 47031);
}

#[test]
fn a_taken_port_is_named_with_the_cure() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = taken.local_addr().expect("local_addr").port().to_string();
    let exited = start_fails(&["--port", &port]);
    assert!(
        exited
            .stderr
            .contains(&format!("port {port} is in use; try --port 0")),
        "{exited:#?}"
    );
    drop(taken);
}

#[test]
fn bind_takes_a_host_name() {
    let running = spawn(&["--port", "0", "--bind", "localhost"]);
    assert_eq!(
        running.addr.ip(),
        std::net::Ipv4Addr::LOCALHOST,
        "{}",
        running.addr
    );
    let (status, body) = request(running.addr, "POST", "/event", "", EVENT);
    assert_eq!(status, 200, "{body}");

    let exited = start_fails(&["--port", "0", "--bind", "no-such-host.invalid"]);
    assert!(
        exited.stderr.contains("--bind")
            && exited
                .stderr
                .contains("cannot resolve \"no-such-host.invalid\""),
        "{exited:#?}"
    );
}

#[test]
fn a_bad_record_path_names_the_flag() {
    let exited = start_fails(&["--port", "0", "--record", "/no/such/dir/x.jsonl"]);
    assert!(
        exited.stderr.contains(
            "jkool-collector: --record /no/such/dir/x.jsonl: No such file or directory (os error 2)"
        ),
        "{exited:#?}"
    );
    assert!(!exited.stderr.contains("record_to"), "{exited:#?}");
}

/// The lines of the fenced code blocks of `text` (```sh, ```toml, ...).
fn code_lines(text: &str) -> Vec<&str> {
    let mut inside = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
        } else if inside {
            lines.push(line);
        }
    }
    lines
}

#[test]
fn install_commands_work_before_the_crates_are_published() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for doc in [dir.join("../docs/collector.md"), dir.join("README.md")] {
        // A packaged crate has no docs/ beside it.
        let Ok(text) = std::fs::read_to_string(&doc) else {
            continue;
        };
        let code = code_lines(&text);
        assert!(
            code.iter()
                .any(|l| l.contains("cargo install --locked --path collector")),
            "{}: no `cargo install --locked --path collector`",
            doc.display()
        );
        for line in code {
            assert!(
                !line.contains("cargo install") || line.contains("--path"),
                "{}: a crates.io install, which fails until the crate is published: {line}",
                doc.display()
            );
            assert!(
                !line.contains("tracing-jkool-collector = { version"),
                "{}: a crates.io dependency: {line}",
                doc.display()
            );
        }
    }
}
