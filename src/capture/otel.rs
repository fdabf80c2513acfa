//! The `opentelemetry` feature, as spans are captured: the trace id a
//! tracing-opentelemetry layer in the same subscriber gave a span, so that
//! jKool and the OpenTelemetry backend show the same trace.

use opentelemetry::trace::TraceId as OtelTraceId;
use tracing_opentelemetry::OtelData;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::item::trace_id::TraceId;

/// The OpenTelemetry trace id of the first span in `scope` whose
/// OpenTelemetry context is built (tracing-opentelemetry builds it when the
/// span is first entered).
pub(crate) fn trace_id_in<'a, S, I>(scope: I) -> Option<TraceId>
where
    S: for<'l> LookupSpan<'l> + 'a,
    I: IntoIterator<Item = SpanRef<'a, S>>,
{
    for span in scope {
        let extensions = span.extensions();
        let id = extensions.get::<OtelData>().and_then(OtelData::trace_id);
        if let Some(id) = id.filter(|id| *id != OtelTraceId::INVALID) {
            return TraceId::from_bytes(id.to_bytes());
        }
    }
    None
}
