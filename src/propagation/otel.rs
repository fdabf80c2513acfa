//! The `opentelemetry` feature: trace ids from a tracing-opentelemetry
//! layer in the same subscriber, so that jKool and the OpenTelemetry
//! backend show the same trace.

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId as OtelTraceId, TraceState,
};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::{TraceContext, TraceId};

/// The span's OpenTelemetry trace and span ids, when a tracing-opentelemetry
/// layer gives it a valid context.
pub(crate) fn span_context(span: &tracing::Span) -> Option<(TraceId, u64)> {
    let cx = span.context();
    let otel = cx.span();
    let sc = otel.span_context();
    if !sc.is_valid() {
        return None;
    }
    let trace_id = TraceId::from_bytes(sc.trace_id().to_bytes())?;
    Some((trace_id, u64::from_be_bytes(sc.span_id().to_bytes())))
}

/// Makes `remote` the span's OpenTelemetry parent.
pub(crate) fn set_parent(span: &tracing::Span, remote: &TraceContext) {
    let state = remote
        .tracestate()
        .and_then(|s| s.parse::<TraceState>().ok())
        .unwrap_or_default();
    let sc = SpanContext::new(
        OtelTraceId::from_bytes(remote.trace_id.to_bytes()),
        SpanId::from_bytes(remote.span_id.to_be_bytes()),
        TraceFlags::new(remote.flags),
        true,
        state,
    );
    // Fails only when the OpenTelemetry span already started: then the
    // jKool side still continues the remote trace.
    let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(sc));
}
