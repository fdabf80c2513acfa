//! The web view: a page at `GET /`, its assets under `/ui/`, and the JSON it
//! polls under `/api/`. Every other request (a `POST` of items at any path,
//! a `GET /event`) goes on to the collector's usual checks: these routes
//! take no scripted fault, need no token and are not logged in
//! [`Collector::requests`](crate::Collector::requests).

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode, Uri};
use serde_json::{json, Value};

use super::index::{RootsQuery, TraceQuery};
use super::shared::Shared;

const INDEX_HTML: &str = include_str!("ui/index.html");
const STYLE_CSS: &str = include_str!("ui/style.css");
const LIST_JS: &str = include_str!("ui/list.js");
const TRACE_JS: &str = include_str!("ui/trace.js");
const DETAILS_JS: &str = include_str!("ui/details.js");
const ICON_SVG: &str = include_str!("ui/icon.svg");

/// Items of a trace view unless `limit` says otherwise.
const DEFAULT_TRACE_LIMIT: usize = 2_000;

/// A request for the web view.
#[derive(Debug)]
pub(super) enum Route {
    Asset(&'static str, &'static str),
    Roots(RootsQuery),
    Trace(TraceQuery),
    NotFound,
}

/// The web view's route for a request, or `None` for the collector's own
/// handling.
pub(super) fn route(method: &Method, uri: &Uri) -> Option<Route> {
    if method != Method::GET {
        return None;
    }
    let path = uri.path();
    let params = params(uri.query().unwrap_or(""));
    Some(match path {
        "/" | "/index.html" => Route::Asset(INDEX_HTML, "text/html; charset=utf-8"),
        "/ui/style.css" => Route::Asset(STYLE_CSS, "text/css; charset=utf-8"),
        "/ui/list.js" => Route::Asset(LIST_JS, "text/javascript; charset=utf-8"),
        "/ui/trace.js" => Route::Asset(TRACE_JS, "text/javascript; charset=utf-8"),
        "/ui/details.js" => Route::Asset(DETAILS_JS, "text/javascript; charset=utf-8"),
        "/ui/icon.svg" | "/favicon.ico" => Route::Asset(ICON_SVG, "image/svg+xml"),
        "/api/roots" => Route::Roots(roots_query(&params)),
        _ => match path.strip_prefix("/api/trace/") {
            Some(reference) if !reference.is_empty() => Route::Trace(TraceQuery {
                reference: decode(reference, false),
                limit: number(&params, "limit").unwrap_or(DEFAULT_TRACE_LIMIT),
            }),
            _ if path.starts_with("/ui/") || path.starts_with("/api/") => Route::NotFound,
            _ => return None,
        },
    })
}

/// Answers a web view request.
pub(super) fn answer(shared: &Shared, route: Route) -> Response<Full<Bytes>> {
    match route {
        Route::Asset(body, content_type) => respond(StatusCode::OK, body.into(), content_type),
        Route::Roots(query) => {
            let page = shared.lock().index.roots(&query);
            json_response(StatusCode::OK, &page)
        }
        Route::Trace(query) => {
            let mut state = shared.lock();
            let state = &mut *state;
            match state.index.trace(&query, &state.items) {
                Some(view) => json_response(StatusCode::OK, &view),
                None => json_response(
                    StatusCode::NOT_FOUND,
                    &json!({ "error": format!("no item {:?} received", query.reference) }),
                ),
            }
        }
        Route::NotFound => json_response(StatusCode::NOT_FOUND, &json!({ "error": "not found" })),
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    respond(status, body.to_string().into(), "application/json")
}

fn respond(status: StatusCode, body: Bytes, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn roots_query(params: &[(String, String)]) -> RootsQuery {
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let defaults = RootsQuery::default();
    RootsQuery {
        text: get("q").unwrap_or("").to_lowercase(),
        severity: get("severity")
            .and_then(super::index::severity_rank)
            .unwrap_or(0),
        source: get("source").map(str::to_string),
        offset: number(params, "offset").unwrap_or(0),
        limit: number(params, "limit").unwrap_or(defaults.limit),
        after: number(params, "after"),
        watch: get("watch").map(str::to_string),
    }
}

fn number(params: &[(String, String)], name: &str) -> Option<usize> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| v.trim().parse().ok())
}

/// The `name=value` pairs of a query string, decoded.
fn params(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name, true), decode(value, true))
        })
        .collect()
}

/// Percent-decodes `text` (and `+` to a space in a query); malformed
/// escapes are kept as they are.
fn decode(text: &str, query: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = |at: usize| {
            bytes
                .get(at)
                .and_then(|c| char::from(*c).to_digit(16))
                .and_then(|d| u8::try_from(d).ok())
        };
        match b {
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 3;
                    continue;
                }
                _ => out.push(b),
            },
            b'+' if query => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        assert_eq!(decode("a%20b+c%2", true), "a b c%2");
        assert_eq!(decode("%23123", false), "#123");
        let query = roots_query(&params("q=Check+Out&severity=error&offset=100&after=7"));
        assert_eq!(query.text, "check out");
        assert_eq!(query.severity, 6);
        assert_eq!((query.offset, query.after), (100, Some(7)));
    }

    #[test]
    fn only_gets_of_the_view_are_routed() {
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        assert!(route(&Method::GET, &uri("/")).is_some());
        assert!(route(&Method::GET, &uri("/api/trace/a%2Fb")).is_some());
        assert!(route(&Method::POST, &uri("/")).is_none());
        assert!(route(&Method::GET, &uri("/event")).is_none());
        assert!(route(&Method::GET, &uri("/JESL/event")).is_none());
    }
}
