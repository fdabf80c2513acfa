//! Where a new span or an event belongs: the span the registry puts it
//! in, and the trace id an OpenTelemetry layer gave that span.

use tracing::span::Id;
use tracing::Subscriber;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::item::trace_id::TraceId;

/// The span an event or a new span belongs to, as the registry decides it:
/// none for a root, the current span for a contextual one, else its
/// explicit parent.
#[inline]
pub(crate) fn belongs_to<S: Subscriber>(
    root: bool,
    contextual: bool,
    parent: Option<&Id>,
    ctx: &Context<'_, S>,
) -> Option<Id> {
    match (root, contextual) {
        (true, _) => None,
        (false, true) => ctx.current_span().id().cloned(),
        (false, false) => parent.cloned(),
    }
}

/// The OpenTelemetry trace id of the span or its nearest parent, when a
/// tracing-opentelemetry layer made one.
#[cfg(feature = "opentelemetry")]
pub(crate) fn otel_trace_id<'a, S>(span: impl FnOnce() -> Option<SpanRef<'a, S>>) -> Option<TraceId>
where
    S: for<'l> LookupSpan<'l> + 'a,
{
    super::otel::trace_id_in(span()?.scope())
}

/// Without the `opentelemetry` feature: nothing, and no span lookup.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn otel_trace_id<'a, S>(
    _span: impl FnOnce() -> Option<SpanRef<'a, S>>,
) -> Option<TraceId>
where
    S: for<'l> LookupSpan<'l> + 'a,
{
    None
}
