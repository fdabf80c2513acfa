//! W3C Trace Context (`traceparent`, `tracestate`): one request that
//! crosses several services shows in jKool as one transaction.
//!
//! Every root span gets a trace id (random, or continued from a remote
//! caller with [`JKoolSpanExt::set_parent_context`]); the spans inside
//! inherit it. Every activity and event inside carries it in `corrid`, as
//! 32 lowercase hex digits beside the application's own `jkool.corr_id`
//! values, so jKool stitches the items of all services together. An
//! activity that continued a remote trace records the caller's span id in
//! the property `parent_span_id` (16 lowercase hex digits) of its default
//! snapshot.
//!
//! The caller [`inject`]s the current span's context into its request's
//! headers; the callee [`extract`]s it and continues it:
//!
//! ```
//! use tracing_jkool::propagation::{self, JKoolSpanExt};
//!
//! // Calling side, inside a span:
//! let mut headers = http::HeaderMap::new();
//! propagation::inject(&mut headers);
//!
//! // Serving side:
//! let span = tracing::info_span!("handle request");
//! if let Some(remote) = propagation::extract(&headers) {
//!     span.set_parent_context(remote);
//! }
//! let _entered = span.enter();
//! tracing::info!("handled");
//! ```
//!
//! With the `opentelemetry` feature and a tracing-opentelemetry layer in
//! the same subscriber, the trace and span ids are OpenTelemetry's, so
//! jKool and the OpenTelemetry backend show the same trace id.

use http::header::{HeaderMap, HeaderValue};

#[cfg(feature = "opentelemetry")]
pub(crate) mod otel;
pub(crate) mod span_ext;

use crate::item::trace_id::write_hex;
pub use crate::item::trace_id::TraceId;
pub use span_ext::JKoolSpanExt;

/// The header that carries the trace and the caller's span.
pub const TRACEPARENT: &str = "traceparent";
/// The header that carries vendors' own trace data, passed on unchanged.
pub const TRACESTATE: &str = "tracestate";

/// The longest `tracestate` passed on; the W3C recommendation asks for at
/// least 512 characters. A longer one is dropped.
const MAX_TRACESTATE: usize = 512;

/// A span's place in a distributed trace, as `traceparent` and
/// `tracestate` carry it: the trace id, the span id of the caller's span,
/// the trace flags and the vendors' `tracestate`.
///
/// ```
/// use tracing_jkool::propagation::TraceContext;
///
/// let cx = TraceContext::parse(
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
///     Some("congo=t61rcWkgMzE"),
/// )
/// .unwrap();
/// assert_eq!(cx.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(cx.span_id(), 0x00f0_67aa_0ba9_02b7);
/// assert_eq!(cx.tracestate(), Some("congo=t61rcWkgMzE"));
/// assert_eq!(cx.traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
///
/// // Malformed headers are ignored.
/// assert!(TraceContext::parse("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", None).is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    trace_id: TraceId,
    span_id: u64,
    flags: u8,
    tracestate: Option<String>,
}

impl TraceContext {
    /// A context with trace flags `01` (sampled) and no `tracestate`;
    /// `None` when `span_id` is 0, which W3C reserves.
    pub fn new(trace_id: TraceId, span_id: u64) -> Option<TraceContext> {
        (span_id != 0).then_some(TraceContext {
            trace_id,
            span_id,
            flags: 1,
            tracestate: None,
        })
    }

    /// Reads a `traceparent` value and an optional `tracestate` value.
    /// Anything malformed (version `ff`, all-zero ids, wrong lengths,
    /// anything but lowercase hex) gives `None`, as the W3C specification
    /// asks. An over-long `tracestate` is dropped, keeping the rest.
    pub fn parse(traceparent: &str, tracestate: Option<&str>) -> Option<TraceContext> {
        let b = traceparent.as_bytes();
        // version 2 - trace id 32 - span id 16 - flags 2 = 55 bytes; later
        // versions may append fields after another dash.
        if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        let version = parse_hex::<1>(&b[..2])?[0];
        match version {
            0xff => return None,
            0 if b.len() != 55 => return None,
            _ if b.len() > 55 && b[55] != b'-' => return None,
            _ => {}
        }
        let trace_id = TraceId::from_bytes(parse_hex::<16>(&b[3..35])?)?;
        let span_id = u64::from_be_bytes(parse_hex::<8>(&b[36..52])?);
        let flags = parse_hex::<1>(&b[53..55])?[0];
        let mut cx = TraceContext::new(trace_id, span_id)?;
        cx.flags = flags;
        cx.tracestate = tracestate
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= MAX_TRACESTATE)
            .map(str::to_owned);
        Some(cx)
    }

    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id of the span this context points at: the caller's span
    /// for an extracted context.
    pub fn span_id(&self) -> u64 {
        self.span_id
    }

    /// The trace flags; bit `01` is "sampled".
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// The vendors' `tracestate`, passed on unchanged.
    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    /// The same context with this `tracestate`.
    pub fn with_tracestate(mut self, tracestate: impl Into<String>) -> TraceContext {
        self.tracestate = Some(tracestate.into());
        self
    }

    /// The `traceparent` value: `00-<trace id>-<span id>-<flags>`.
    pub fn traceparent(&self) -> String {
        let mut out = [0u8; 55];
        out[..3].copy_from_slice(b"00-");
        out[3..35].copy_from_slice(&self.trace_id.to_hex());
        out[35] = b'-';
        write_hex(&mut out[36..52], &self.span_id.to_be_bytes());
        out[52] = b'-';
        write_hex(&mut out[53..55], &[self.flags]);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Writes the current span's `traceparent` (its trace id and its own span
/// id, flags `01`) and, when its trace came with one, `tracestate` into
/// `headers`. Outside any span the layer tracks, it writes nothing.
///
/// With several [`JKoolLayer`](crate::JKoolLayer)s in one subscriber, the
/// outermost one (added last) answers.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// tracing_jkool::propagation::inject(&mut headers);
/// // `headers` go on the outgoing request, e.g. `reqwest::RequestBuilder::headers`.
/// ```
pub fn inject(headers: &mut HeaderMap) {
    let Some(cx) = tracing::Span::current().trace_context() else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&cx.traceparent()) {
        headers.insert(TRACEPARENT, value);
    }
    if let Some(value) = cx
        .tracestate()
        .and_then(|state| HeaderValue::from_str(state).ok())
    {
        headers.insert(TRACESTATE, value);
    }
}

/// Reads `traceparent` and `tracestate` from `headers`; `None` when there
/// is no `traceparent` or it is malformed (see [`TraceContext::parse`]).
/// Several `tracestate` headers are joined with commas.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert(
///     "traceparent",
///     http::HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
/// );
/// let cx = tracing_jkool::propagation::extract(&headers).unwrap();
/// assert_eq!(cx.span_id(), 0x00f0_67aa_0ba9_02b7);
/// ```
pub fn extract(headers: &HeaderMap) -> Option<TraceContext> {
    let mut parents = headers.get_all(TRACEPARENT).iter();
    let parent = parents.next()?.to_str().ok()?;
    // Two `traceparent` headers: ambiguous, so neither.
    if parents.next().is_some() {
        return None;
    }
    let mut state = String::new();
    for value in headers.get_all(TRACESTATE).iter().take(32) {
        let Ok(value) = value.to_str() else {
            state.clear();
            break;
        };
        if !state.is_empty() {
            state.push(',');
        }
        state.push_str(value);
    }
    TraceContext::parse(parent, Some(&state))
}

/// `N` bytes from `2 * N` lowercase hex digits; `None` for anything else.
fn parse_hex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::trace_id::hex_u64;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn round_trips_and_rejects_malformed_values() {
        let cx = TraceContext::parse(GOOD, None).unwrap();
        assert_eq!(cx.traceparent(), GOOD);
        assert_eq!(cx.flags(), 1);
        let future = format!("01{}-extra", &GOOD[2..]);
        assert!(TraceContext::parse(&future, None).is_some());
        for bad in [
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "",
            "é",
        ] {
            assert_eq!(TraceContext::parse(bad, None), None, "{bad}");
        }
    }

    #[test]
    fn span_ids_are_16_hex_digits() {
        assert_eq!(hex_u64(0xab), "00000000000000ab");
    }
}
