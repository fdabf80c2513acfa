//! How a `tracing::Span` reaches the layer's data for it: the layer answers
//! `Dispatch::downcast_ref::<Access>()` with its table of open spans and a
//! function, made for the subscriber's type, that walks a span's scope, as
//! tracing-opentelemetry's `OpenTelemetrySpanExt` reaches its own.

use std::sync::{Arc, OnceLock};

use tracing::span::Id;
use tracing::{Dispatch, Subscriber};
use tracing_subscriber::registry::LookupSpan;

use crate::control::Controls;
use crate::item::trace_id::TraceId;
use crate::spans::{OpenSpans, SpanData};

/// Walks the scope of span `id` (the span, then its parents), calling the
/// closure on each until it returns `true`.
pub(crate) type Walk = fn(&Dispatch, &Id, &mut dyn FnMut(&Id) -> bool);

/// What a [`JKoolLayer`](crate::JKoolLayer) gives `downcast_raw` for its
/// own type id: its open spans, and the walk for its subscriber's type.
pub(crate) struct Access {
    pub(crate) open: Arc<OpenSpans>,
    /// Set when the layer joins a subscriber (`on_layer`) or a dispatcher.
    pub(crate) walk: OnceLock<Walk>,
    /// Which traces the layer keeps (the flag `traceparent` passes on),
    /// as the handle last set it.
    pub(crate) controls: Arc<Controls>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access").finish_non_exhaustive()
    }
}

/// The walk for subscriber type `S`.
pub(crate) fn walk<S>(dispatch: &Dispatch, id: &Id, f: &mut dyn FnMut(&Id) -> bool)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = dispatch
        .downcast_ref::<S>()
        .and_then(|subscriber| subscriber.span(id))
    else {
        return;
    };
    for span in span.scope() {
        if f(&span.id()) {
            return;
        }
    }
}

/// Runs `f` on the data of `span`, or of its nearest parent, in `open`
/// (by default the first `JKoolLayer`'s table).
pub(crate) fn nearest<R>(
    span: &tracing::Span,
    open: Option<&OpenSpans>,
    f: impl FnOnce(&mut SpanData) -> R,
) -> Option<R> {
    span.with_subscriber(|(id, dispatch)| {
        let access = dispatch.downcast_ref::<Access>()?;
        let open = open.unwrap_or(&access.open);
        let walk = *access.walk.get()?;
        let mut f = Some(f);
        let mut out = None;
        walk(dispatch, id, &mut |id| {
            open.with(id, |data| {
                if let Some(f) = f.take() {
                    out = Some(f(data));
                }
            })
            .is_some()
        });
        out
    })
    .flatten()
}

/// Whether the sampler of the layer that tracks `span` keeps trace `id`,
/// if it has a sampler.
pub(crate) fn sampled_by(span: &tracing::Span, id: TraceId) -> Option<bool> {
    span.with_subscriber(|(_, dispatch)| dispatch.downcast_ref::<Access>()?.controls.samples(id))
        .flatten()
}
