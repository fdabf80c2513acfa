//! A raw HTTP/1.1 server on 127.0.0.1 whose every byte the test decides:
//! each time whole requests arrive on a connection, a script says what to
//! write back. For the faults a real server would not make on purpose.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server writes.
pub enum Reply {
    /// These bytes, as they are.
    Bytes(String),
    /// Closes the connection, unanswered requests and all.
    Close,
}

/// An answer with `status`, extra header lines and no body.
pub fn answer(status: &str, headers: &str) -> Reply {
    Reply::Bytes(format!(
        "HTTP/1.1 {status}\r\n{headers}content-length: 0\r\n\r\n"
    ))
}

/// `200 OK`.
pub fn ok() -> Reply {
    answer("200 OK", "")
}

/// A request as it arrived: its connection and body.
#[derive(Debug, Clone)]
pub struct Request {
    pub connection: usize,
    pub body: String,
}

/// What a script is told: the connection's number (from 0), the requests
/// that arrived on it so far, and how many of them it answered.
pub type Script = dyn Fn(usize, &[Request], usize) -> Vec<Reply> + Send + Sync;

pub struct RawServer {
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    connections: Arc<AtomicUsize>,
}

impl RawServer {
    /// Every request received, in the order they arrived.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Starts a server that answers as `script` says. Each connection lives at
/// most a minute: no test waits on it for longer.
pub fn raw_server(
    script: impl Fn(usize, &[Request], usize) -> Vec<Reply> + Send + Sync + 'static,
) -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let script: Arc<Script> = Arc::new(script);
    let (all, count) = (Arc::clone(&requests), Arc::clone(&connections));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let n = count.fetch_add(1, Ordering::SeqCst);
            let (all, script) = (Arc::clone(&all), Arc::clone(&script));
            std::thread::spawn(move || serve(stream, n, &all, &*script));
        }
    });
    RawServer {
        url,
        requests,
        connections,
    }
}

fn serve(mut stream: TcpStream, connection: usize, all: &Mutex<Vec<Request>>, script: &Script) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let end = Instant::now() + Duration::from_secs(60);
    let (mut buf, mut mine, mut answered) = (Vec::new(), Vec::new(), 0);
    let mut chunk = [0u8; 16 * 1024];
    while Instant::now() < end {
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return,
        }
        let before = mine.len();
        while let Some((len, body)) = whole_request(&buf) {
            buf.drain(..len);
            let request = Request { connection, body };
            all.lock().unwrap().push(request.clone());
            mine.push(request);
        }
        if mine.len() == before && answered == mine.len() {
            continue;
        }
        for reply in script(connection, &mine, answered) {
            match reply {
                Reply::Bytes(bytes) => {
                    answered += 1;
                    if stream.write_all(bytes.as_bytes()).is_err() {
                        return;
                    }
                }
                Reply::Close => return,
            }
        }
    }
}

/// The length and body of the whole request at the front of `buf`.
fn whole_request(buf: &[u8]) -> Option<(usize, String)> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let body = buf.get(head_end..head_end + length)?;
    Some((
        head_end + length,
        String::from_utf8_lossy(body).into_owned(),
    ))
}
