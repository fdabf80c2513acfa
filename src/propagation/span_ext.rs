//! [`JKoolSpanExt`]: a span's trace context, through the dispatcher and
//! the layer's [`Access`](crate::spans::access::Access).

use std::sync::Arc;

use super::{TraceContext, TraceId};
use crate::spans::access::{nearest, sampled_by, Access};
use crate::spans::Remote;

/// Trace context for a [`tracing::Span`], from the
/// [`JKoolLayer`](crate::JKoolLayer) in its subscriber.
///
/// With several `JKoolLayer`s in one subscriber, the outermost one (added
/// last) answers. A layer hidden from downcasts (inside
/// `tracing_subscriber::reload::Layer`) cannot answer: the methods then
/// return `None` or do nothing. A span the layer does not track (below its
/// level, or filtered out) answers with its nearest tracked parent.
///
/// ```
/// use tracing_jkool::propagation::{JKoolSpanExt, TraceContext};
///
/// let span = tracing::info_span!("request");
/// if let Some(remote) = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", None) {
///     // Before the span's first child or event.
///     span.set_parent_context(remote);
/// }
/// // Without a JKoolLayer installed, there is nothing to answer:
/// assert_eq!(span.trace_id(), None);
/// ```
pub trait JKoolSpanExt {
    /// Continues a remote trace: the span takes the trace id of `remote`
    /// and records its span id (the caller's) as the property
    /// `parent_span_id`; its `tracestate` is passed on by [`inject`].
    ///
    /// Call it before the span's first child span or event: those made
    /// earlier keep the trace id the span had then. With the
    /// `opentelemetry` feature it sets the span's OpenTelemetry parent too,
    /// which tracing-opentelemetry accepts only before the span is first
    /// entered. On a span the layer does not track (below its level,
    /// filtered out) it does nothing.
    ///
    /// [`inject`]: super::inject
    fn set_parent_context(&self, remote: TraceContext);

    /// The span's context for an outgoing request: its trace id, its own
    /// span id, the trace's `tracestate`, and flags `01` (sampled) unless
    /// this service's [`Sampler`](crate::Sampler) (or the caller the trace
    /// came from) leaves the trace out: then `00`.
    fn trace_context(&self) -> Option<TraceContext>;

    /// The span's trace id: the correlator its items carry in `corrid`.
    fn trace_id(&self) -> Option<TraceId>;

    /// The jKool tracking id of the span's activity: the `parent-id` of
    /// the items inside it.
    fn tracking_id(&self) -> Option<String>;
}

impl JKoolSpanExt for tracing::Span {
    fn set_parent_context(&self, remote: TraceContext) {
        #[cfg(feature = "opentelemetry")]
        super::otel::set_parent(self, &remote);
        self.with_subscriber(|(id, dispatch)| {
            let access = dispatch.downcast_ref::<Access>()?;
            access.open.with(id, |data| {
                data.trace_id = remote.trace_id;
                data.remote = Some(Arc::new(Remote {
                    parent_span_id: remote.span_id,
                    sampled: remote.flags & 1 == 1,
                    tracestate: remote.tracestate,
                }));
                data.continued = true;
            })
        });
    }

    fn trace_context(&self) -> Option<TraceContext> {
        let (trace_id, span_id, tracestate, remote_sampled) = nearest(self, None, |data| {
            let remote = data.remote.as_ref();
            let state = remote.and_then(|r| r.tracestate.clone());
            (
                data.trace_id,
                data.span_id,
                state,
                remote.map(|r| r.sampled),
            )
        })?;
        #[cfg(feature = "opentelemetry")]
        let (trace_id, span_id) = super::otel::span_context(self).unwrap_or((trace_id, span_id));
        let mut cx = TraceContext::new(trace_id, span_id)?;
        // This service's decision: the caller's, or its sampler's.
        let sampled = remote_sampled
            .or_else(|| sampled_by(self, trace_id))
            .unwrap_or(true);
        cx.flags = u8::from(sampled);
        Some(match tracestate {
            Some(state) => cx.with_tracestate(state),
            None => cx,
        })
    }

    fn trace_id(&self) -> Option<TraceId> {
        #[cfg(feature = "opentelemetry")]
        if let Some((trace_id, _)) = super::otel::span_context(self) {
            return Some(trace_id);
        }
        nearest(self, None, |data| data.trace_id)
    }

    fn tracking_id(&self) -> Option<String> {
        nearest(self, None, |data| {
            data.tracking_id
                .as_str(&mut uuid::Uuid::encode_buffer())
                .to_owned()
        })
    }
}
