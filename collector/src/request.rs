//! Answers one request: a scripted fault if one is queued, otherwise the
//! checks of a real endpoint, in this order: method (`405`), token
//! (`401`), body size (`413`), body syntax (`400`), one item per body (the
//! configured status), rejected items (their configured status), then
//! `200`. Any latency is added to every answer.

use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    HeaderMap, HeaderValue, ALLOW, CONTENT_ENCODING, CONTENT_TYPE, LOCATION, RETRY_AFTER,
};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};

use super::body::{parse_items, RawItem};
use super::fault::Planned;
use super::shared::{Settings, Shared};
use super::{ReceivedRequest, REDACTED};

/// Past the size limit a body is still read (and thrown away) up to this
/// many more bytes: closing a socket with unread data makes the kernel send
/// a reset, and the client could lose the `413` it was about to read.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Headers whose values are secrets and never stored.
const SECRET_HEADERS: [&str; 3] = ["x-api-key", "token", "authorization"];

/// What to do with the connection a request came on.
pub(super) enum Reply {
    Answer(Response<Full<Bytes>>),
    /// Close the connection with a reset, answering nothing.
    Reset,
}

/// The request body as read.
enum Body {
    Complete(Vec<u8>),
    TooLarge,
    Failed(String),
}

impl Body {
    /// A copy of a whole body, for the log, when bodies are kept.
    fn kept(&self, keep: bool) -> Option<Vec<u8>> {
        match self {
            Body::Complete(bytes) if keep => Some(bytes.clone()),
            _ => None,
        }
    }
}

/// Answers one request that arrived at `at` and had `fault` drawn for it,
/// and logs it. Faults come before every check: a fault script stands for
/// the whole server.
pub(super) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    at: Instant,
    fault: Option<Planned>,
) -> Reply {
    let _handling = shared.handling();
    let (parts, body) = req.into_parts();
    let mut log = ReceivedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        headers: redacted_headers(&parts.headers),
        items: 0,
        status: 0,
        at,
        body: None,
    };
    let keep = shared.settings.keep_bodies;
    let max = shared.settings.max_body;
    let (response, items) = match fault {
        Some(Planned::Reset) => {
            shared.record(log, Vec::new());
            latency(&shared).await;
            return Reply::Reset;
        }
        Some(Planned::Status {
            status,
            retry_after,
        }) => {
            // Read the body even though the answer is known; see DRAIN_LIMIT.
            log.body = read_body(body, max).await.kept(keep);
            let mut response = respond(status, json!({ "fault": "injected status" }));
            if let Some(value) = retry_after {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
            (response, Vec::new())
        }
        Some(Planned::Redirect(location)) => {
            log.body = read_body(body, max).await.kept(keep);
            let status = StatusCode::TEMPORARY_REDIRECT;
            let mut response = respond(status, json!({ "fault": "injected redirect" }));
            response.headers_mut().insert(LOCATION, location);
            (response, Vec::new())
        }
        Some(Planned::Delay(delay)) => {
            let body = read_body(body, max).await;
            log.body = body.kept(keep);
            tokio::time::sleep(delay).await;
            judge(&shared.settings, &parts, body)
        }
        None => {
            let body = read_body(body, max).await;
            log.body = body.kept(keep);
            judge(&shared.settings, &parts, body)
        }
    };
    log.status = response.status().as_u16();
    log.items = items.len();
    shared.record(log, items);
    latency(&shared).await;
    Reply::Answer(response)
}

/// Waits the configured latency. Each request waits in its own task, so
/// concurrent requests wait in parallel.
async fn latency(shared: &Shared) {
    let latency = shared.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
}

/// The status and message for a body holding an item whose JSON contains a
/// rejected string, if it does.
fn rejected(settings: &Settings, items: &[RawItem]) -> Option<(StatusCode, String)> {
    settings.reject.iter().find_map(|(needle, status)| {
        let i = items
            .iter()
            .position(|item| item.get().contains(needle.as_str()))?;
        Some((*status, format!("item {i} contains {needle:?}")))
    })
}

/// The answer of a well-behaved endpoint, and the items it keeps.
fn judge(settings: &Settings, parts: &Parts, body: Body) -> (Response<Full<Bytes>>, Vec<RawItem>) {
    let outcome = if parts.method != Method::POST {
        Err((
            StatusCode::METHOD_NOT_ALLOWED,
            "only POST is accepted".into(),
        ))
    } else if !token_ok(settings.token.as_deref(), &parts.headers) {
        Err((StatusCode::UNAUTHORIZED, "missing or wrong token".into()))
    } else {
        match body {
            Body::Complete(bytes) => decode(&parts.headers, bytes, settings.max_body)
                .and_then(|bytes| parse_items(&bytes))
                .map_err(|msg| (StatusCode::BAD_REQUEST, msg)),
            Body::TooLarge => Err((StatusCode::PAYLOAD_TOO_LARGE, "body too large".into())),
            Body::Failed(e) => Err((StatusCode::BAD_REQUEST, format!("body read failed: {e}"))),
        }
    };
    let outcome = outcome.and_then(|items| match settings.single_objects {
        Some(status) if items.len() > 1 => Err((
            status,
            format!("one object per request, got {}", items.len()),
        )),
        _ => match rejected(settings, &items) {
            Some(rejection) => Err(rejection),
            None => Ok(items),
        },
    });
    match outcome {
        Ok(items) => (
            respond(
                StatusCode::OK,
                json!({ "status": "ok", "accepted": items.len() }),
            ),
            items,
        ),
        Err((status, msg)) => {
            let mut response = respond(status, json!({ "error": msg }));
            if status == StatusCode::METHOD_NOT_ALLOWED {
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("POST"));
            }
            (response, Vec::new())
        }
    }
}

/// The body as sent, or gunzipped when `Content-Encoding: gzip` says so
/// (at most `max` bytes once decompressed).
fn decode(headers: &HeaderMap, body: Vec<u8>, max: usize) -> Result<Vec<u8>, String> {
    use std::io::Read;
    match headers.get(CONTENT_ENCODING).map(HeaderValue::as_bytes) {
        None | Some(b"identity") => Ok(body),
        Some(b"gzip") => {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .take(max as u64 + 1)
                .read_to_end(&mut plain)
                .map_err(|e| format!("bad gzip body: {e}"))?;
            if plain.len() > max {
                return Err("gzip body too large once decompressed".into());
            }
            Ok(plain)
        }
        Some(other) => Err(format!(
            "unsupported content-encoding {:?}",
            String::from_utf8_lossy(other)
        )),
    }
}

/// Reads the whole body, keeping at most `max` bytes of it.
async fn read_body(mut body: Incoming, max: usize) -> Body {
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let data = match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => data,
                // Trailers carry no items.
                Err(_) => continue,
            },
            Err(_) if total > max => return Body::TooLarge,
            Err(e) => return Body::Failed(e.to_string()),
        };
        total = total.saturating_add(data.len());
        if total <= max {
            kept.extend_from_slice(&data);
        } else if total > max.saturating_add(DRAIN_LIMIT) {
            return Body::TooLarge;
        } else {
            kept = Vec::new();
        }
    }
    if total > max {
        Body::TooLarge
    } else {
        Body::Complete(kept)
    }
}

fn respond(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
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
