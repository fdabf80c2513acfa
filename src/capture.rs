//! The layer's callbacks: spans become jKool activities and events become
//! jKool events. Callbacks only capture owned data and `try_send` it; JSON,
//! UUID text and HTTP all happen on the background task.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::span::{Attributes, Id, Record};
use tracing::{Event as TracingEvent, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Layer;

use crate::clock::now_usec;
use crate::fields::{Fields, Value};
use crate::handle::JKoolHandle;
use crate::model::{ActivityRecord, Common, EventRecord, Item, LogOrigin, TrackingId};
use crate::thread::{in_delivery_thread, thread_number};

/// The layer's callbacks, behind [`JKoolLayer`](crate::JKoolLayer)'s level
/// filter: only spans and events at the configured level or above arrive.
pub(crate) struct Capture {
    max_value_bytes: usize,
    handle: JKoolHandle,
}

impl Capture {
    pub fn new(max_value_bytes: usize, handle: JKoolHandle) -> Self {
        Capture {
            max_value_bytes,
            handle,
        }
    }

    /// Whether this item should be made at all: not when it comes from the
    /// crate's own delivery thread, whose HTTP stack would otherwise feed
    /// its own events back in.
    fn wants(&self) -> bool {
        !in_delivery_thread()
    }

    fn mark_timing<S>(&self, id: &Id, ctx: Context<'_, S>, leaving: bool)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(data) = extensions.get_mut::<SpanData>() {
            data.timing.mark(leaving);
        }
    }
}

/// What the layer keeps in a span's extensions from creation to close.
struct SpanData {
    tracking_id: TrackingId,
    parent_id: Option<TrackingId>,
    /// Inherited correlators plus this span's own `jkool.corr_id`.
    corrids: Option<Arc<[String]>>,
    /// Inherited correlators only, to rebuild `corrids` on `Span::record`.
    inherited: Option<Arc<[String]>>,
    start_usec: i64,
    fields: Fields,
    error_seen: AtomicBool,
    timing: Timing,
}

/// Busy and idle time, as tracing-subscriber's fmt layer measures them.
struct Timing {
    busy: Duration,
    idle: Duration,
    /// The last enter, exit or creation.
    last: Instant,
}

impl Timing {
    /// Adds the time since the last change to busy (leaving the span) or
    /// idle (entering it, or closing it).
    fn mark(&mut self, leaving: bool) {
        let now = Instant::now();
        let spent = now.saturating_duration_since(self.last);
        if leaving {
            self.busy += spent;
        } else {
            self.idle += spent;
        }
        self.last = now;
    }
}

impl SpanData {
    fn update_corrids(&mut self) {
        let own = self.fields.jkool().and_then(|j| j.corr_id.clone());
        self.corrids = match own {
            None => self.inherited.clone(),
            Some(own) => Some(
                self.inherited
                    .iter()
                    .flat_map(|ids| ids.iter().cloned())
                    .chain(Some(own))
                    .collect(),
            ),
        };
    }
}

/// The nearest span in `scope` that this layer tracks: a per-layer filter or
/// a lower level may hide some spans from it.
fn nearest_tracked<'a, S, I>(scope: I, visit: impl FnOnce(&SpanData))
where
    S: for<'l> LookupSpan<'l> + 'a,
    I: IntoIterator<Item = SpanRef<'a, S>>,
{
    for span in scope {
        if let Some(data) = span.extensions().get::<SpanData>() {
            visit(data);
            return;
        }
    }
}

impl<S> Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !self.wants() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::new(self.max_value_bytes, attrs.metadata().fields().len());
        attrs.record(&mut fields);
        if let Some(message) = fields.message.take() {
            fields
                .properties
                .insert(0, ("message", Value::Str(message)));
        }
        let mut parent_id = None;
        let mut inherited = None;
        nearest_tracked(span.scope().skip(1), |parent| {
            parent_id = Some(parent.tracking_id.clone());
            inherited = parent.corrids.clone();
        });
        let tracking_id = match fields.jkool().and_then(|j| j.tracking_id.as_deref()) {
            Some(custom) => TrackingId::Custom(custom.into()),
            None => TrackingId::new(),
        };
        let mut data = SpanData {
            tracking_id,
            parent_id,
            corrids: None,
            inherited,
            start_usec: now_usec(),
            fields,
            error_seen: AtomicBool::new(false),
            timing: Timing {
                busy: Duration::ZERO,
                idle: Duration::ZERO,
                last: Instant::now(),
            },
        };
        data.update_corrids();
        span.extensions_mut().insert(data);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(data) = extensions.get_mut::<SpanData>() {
            data.fields.record(values);
            data.update_corrids();
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.mark_timing(id, ctx, false);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.mark_timing(id, ctx, true);
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !self.wants() {
            return;
        }
        // The message is a field too, but not a property.
        let mut fields = Fields::new(self.max_value_bytes, meta.fields().len().saturating_sub(1));
        event.record(&mut fields);
        let log = event.normalized_metadata().map(|normalized| {
            // tracing-log's own `log.*` fields are the origin, not properties.
            fields
                .properties
                .retain(|(name, _)| !name.starts_with("log."));
            Box::new(LogOrigin {
                target: normalized.target().to_owned(),
                file: normalized.file().map(str::to_owned),
                line: normalized.line(),
            })
        });
        let mut parent_id = None;
        let mut corrids = None;
        if let Some(scope) = ctx.event_scope(event) {
            nearest_tracked(scope, |span| {
                parent_id = Some(span.tracking_id.clone());
                corrids = span.corrids.clone();
                if *meta.level() == Level::ERROR || fields.error.is_some() {
                    span.error_seen.store(true, Ordering::Relaxed);
                }
            });
        }
        self.handle.enqueue(Item::Event(EventRecord {
            common: Common {
                meta,
                log,
                tracking_id: None,
                parent_id,
                corrids,
                time_usec: now_usec(),
                tid: thread_number(),
                fields,
            },
        }));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(mut data) = span.extensions_mut().remove::<SpanData>() else {
            return;
        };
        data.timing.mark(false);
        self.handle.enqueue(Item::Activity(ActivityRecord {
            common: Common {
                meta: span.metadata(),
                log: None,
                tracking_id: Some(data.tracking_id),
                parent_id: data.parent_id,
                corrids: data.inherited,
                time_usec: now_usec(),
                tid: thread_number(),
                fields: data.fields,
            },
            start_usec: data.start_usec,
            error_seen: data.error_seen.into_inner(),
            busy_usec: data.timing.busy.as_micros() as u64,
            idle_usec: data.timing.idle.as_micros() as u64,
        }));
    }
}
