//! The collector's server thread, accept loop and request handling.

use std::convert::Infallible;
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderMap, HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::body::parse_items;
use super::{ReceivedRequest, REDACTED};

/// Larger bodies are answered `413`, so a runaway client cannot exhaust
/// memory in a test.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Headers whose values are secrets and never stored.
const SECRET_HEADERS: [&str; 3] = ["x-api-key", "token", "authorization"];

/// State shared by the server thread and the [`super::Collector`] handle.
pub(super) struct Shared {
    pub(super) token: Option<String>,
    state: Mutex<State>,
    /// Notified whenever items or requests are added.
    pub(super) arrived: Condvar,
}

/// Items and requests live under one lock so a waiter woken by new items
/// also sees the request that carried them.
#[derive(Default)]
pub(super) struct State {
    pub(super) items: Vec<Value>,
    pub(super) requests: Vec<ReceivedRequest>,
}

impl Shared {
    pub(super) fn new(token: Option<String>) -> Self {
        Shared {
            token,
            state: Mutex::new(State::default()),
            arrived: Condvar::new(),
        }
    }

    /// Locks the state; a panic while holding the lock cannot leave it
    /// half-updated (every update is a push), so poisoning is ignored.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, request: ReceivedRequest, items: Vec<Value>) {
        let mut state = self.lock();
        state.requests.push(request);
        state.items.extend(items);
        drop(state);
        self.arrived.notify_all();
    }
}

/// Starts the server thread and waits until it is ready to accept.
pub(super) fn spawn(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stop: oneshot::Receiver<()>,
) -> std::io::Result<JoinHandle<()>> {
    let (ready_tx, ready_rx) = mpsc::sync_channel(1);
    let thread = std::thread::Builder::new()
        .name("jkool-collector".into())
        .spawn(move || {
            // The runtime is built and dropped on this thread only: dropping
            // a runtime on the caller's thread panics when the caller is
            // itself inside a tokio runtime.
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let listener = {
                let _context = runtime.enter();
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                }
            };
            let _ = ready_tx.send(Ok(()));
            runtime.block_on(serve(listener, shared, stop));
        })?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(thread),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => {
            let _ = thread.join();
            Err(std::io::Error::other(
                "collector thread died while starting",
            ))
        }
    }
}

/// Accepts connections until `stop` fires. Returning drops the runtime,
/// which cancels every connection task and closes its socket.
async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        let stream = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Usually out of file descriptors: back off instead of
                    // spinning, the condition may clear.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(Arc::clone(&shared), req));
            // Clients closing mid-request is expected (and later
            // scripted), not a collector failure.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Answers one request and records it. Every request goes through here, so
/// this is where scripted misbehaviour (forced statuses, delays, dropped
/// connections) will hook in.
async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let mut log = ReceivedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        headers: redacted_headers(&parts.headers),
        items: 0,
        status: 0,
    };
    // Read the body even when the answer is already known: closing a socket
    // with unread data makes the kernel send RST, and the client may then
    // lose the response it was about to read.
    let body = Limited::new(body, MAX_BODY_BYTES).collect().await;
    let outcome = if parts.method != Method::POST {
        Err((
            StatusCode::METHOD_NOT_ALLOWED,
            "only POST is accepted".into(),
        ))
    } else if !token_ok(shared.token.as_deref(), &parts.headers) {
        Err((StatusCode::UNAUTHORIZED, "missing or wrong token".into()))
    } else {
        match body {
            Ok(collected) => {
                parse_items(&collected.to_bytes()).map_err(|msg| (StatusCode::BAD_REQUEST, msg))
            }
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                Err((StatusCode::PAYLOAD_TOO_LARGE, "body too large".into()))
            }
            Err(e) => Err((StatusCode::BAD_REQUEST, format!("body read failed: {e}"))),
        }
    };
    let (status, body, items) = match outcome {
        Ok(items) => (
            StatusCode::OK,
            json!({ "status": "ok", "accepted": items.len() }),
            items,
        ),
        Err((status, msg)) => (status, json!({ "error": msg }), Vec::new()),
    };
    log.status = status.as_u16();
    log.items = items.len();
    shared.record(log, items);

    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(ALLOW, HeaderValue::from_static("POST"));
    }
    Ok(response)
}

/// Accepts when no token is configured, or when `X-API-Key` or `token`
/// carries it (jKool's clients send one or both).
fn token_ok(expected: Option<&str>, headers: &HeaderMap) -> bool {
    let Some(expected) = expected else {
        return true;
    };
    ["x-api-key", "token"].iter().any(|name| {
        headers
            .get_all(*name)
            .iter()
            .any(|v| v.as_bytes() == expected.as_bytes())
    })
}

fn redacted_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().to_string();
            let value = if SECRET_HEADERS.contains(&name.as_str()) {
                REDACTED.to_string()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect()
}
