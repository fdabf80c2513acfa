//! The layer's callbacks: spans become jKool activities and events become
//! jKool events. Callbacks only capture owned data and `try_send` it; JSON,
//! UUID text and HTTP all happen on the background task.
//!
//! A span's data lives in the layer's own table of open spans
//! ([`OpenSpans`]), keyed by span id, not in the span's extensions: so
//! several layers in one subscriber each keep their own data, and the
//! handle can send the spans still open at shutdown.

use std::sync::Arc;

use tracing::span::{Attributes, Id, Record};
use tracing::{Event as TracingEvent, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Layer;

use super::parents::{belongs_to, otel_trace_id};
use crate::capture::keys::{self, FieldKeys, InheritFields};
use crate::control::storm::{self, Verdict};
use crate::control::Controls;
use crate::handle::JKoolHandle;
use crate::item::clock::now_usec;
use crate::item::fields::{Fields, Text, Value};
use crate::item::model::{Common, EventRecord, Item, LogOrigin, TrackingId};
use crate::item::thread::{in_delivery_thread, thread_number};
use crate::item::trace_id::TraceId;
use crate::spans::{OpenSpans, SpanData, Timing};

/// What the layer does beyond capturing: mapped fields and inherited span
/// fields, both off by default.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) max_value_bytes: usize,
    pub(crate) keys: FieldKeys,
    pub(crate) inherit: Option<InheritFields>,
    /// Spans closed by a captured panic's unwinding fail with its message.
    pub(crate) panics: bool,
    /// Per-callsite limits on events, when set, as the handle set them.
    pub(crate) controls: Arc<Controls>,
}

/// The layer's callbacks, behind [`JKoolLayer`](crate::JKoolLayer)'s level
/// filter: only spans and events at the configured level or above arrive.
pub(crate) struct Capture {
    options: Options,
    handle: JKoolHandle,
    open: Arc<OpenSpans>,
}

impl Capture {
    /// Callbacks that send to `handle`; registers with the handle the hook
    /// that sends the spans still open at shutdown, and the table that
    /// `JKoolHandle::send` finds the current span in.
    pub(crate) fn new(options: Options, handle: JKoolHandle) -> Self {
        let open = Arc::new(OpenSpans::new());
        let table = Arc::clone(&open);
        handle.before_shutdown(Box::new(move |handle: &JKoolHandle| {
            table.send_cut_short(|item| handle.enqueue(item));
        }));
        handle.set_open_spans(Arc::clone(&open));
        Capture {
            options,
            handle,
            open,
        }
    }

    /// The table of open spans, for [`JKoolSpanExt`](crate::propagation::JKoolSpanExt).
    pub(crate) fn open_spans(&self) -> Arc<OpenSpans> {
        Arc::clone(&self.open)
    }

    /// Whether this item should be made at all: not when it comes from the
    /// crate's own delivery thread, whose HTTP stack would otherwise feed
    /// its own events back in.
    fn wants(&self) -> bool {
        !in_delivery_thread()
    }

    /// Tells panic capture that this thread goes on: a panic it had
    /// before was caught.
    #[inline]
    fn went_on(&self) {
        if self.options.panics {
            crate::handle::panics::went_on();
        }
    }

    /// Fields as the field visitor records them, then mapped to jKool keys
    /// (`Builder::field_as`): no work at all when nothing is mapped. Made
    /// in place by the caller: moving `Fields` costs a copy.
    #[inline]
    fn map_keys(&self, fields: &mut Fields) {
        keys::map_fields(fields, &self.options.keys);
    }

    /// The nearest span in `scope` that this layer tracks: a per-layer
    /// filter or a lower level may hide some spans from it.
    fn nearest_tracked<'a, S, I>(&self, scope: I, visit: impl FnOnce(&mut SpanData))
    where
        S: for<'l> LookupSpan<'l> + 'a,
        I: IntoIterator<Item = SpanRef<'a, S>>,
    {
        let mut visit = Some(visit);
        for span in scope {
            let found = self.open.with(&span.id(), |data| {
                if let Some(visit) = visit.take() {
                    visit(data);
                }
            });
            if found.is_some() {
                return;
            }
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
        self.went_on();
        // Recorded before any lock: a `Debug` impl may log.
        let expected = attrs.metadata().fields().len();
        let mut fields = Fields::new(self.options.max_value_bytes, expected);
        attrs.record(&mut fields);
        self.map_keys(&mut fields);
        if let Some(message) = fields.message.take() {
            fields
                .properties
                .insert(0, ("message", Value::Str(Text(message))));
        }
        let mut parent = None;
        let mut visit = |p: &mut SpanData| {
            parent = Some((
                p.tracking_id.clone(),
                p.corrids.clone(),
                p.trace_id,
                p.remote.clone(),
            ));
        };
        // The parent, looked up in this layer's table first: a root span
        // looks nothing up, and the registry is asked for the ancestors
        // only when this layer does not track the parent.
        let direct = belongs_to(attrs.is_root(), attrs.is_contextual(), attrs.parent(), &ctx);
        if let Some(direct) = direct {
            if self.open.with(&direct, &mut visit).is_none() {
                let span = ctx.span(id);
                let ancestors =
                    std::iter::successors(span.and_then(|s| s.parent()), SpanRef::parent);
                self.nearest_tracked(ancestors, visit);
            }
        }
        let tracking_id = match fields.jkool().and_then(|j| j.tracking_id.as_deref()) {
            Some(custom) => TrackingId::Custom(custom.into()),
            None => TrackingId::new(),
        };
        // The span id is the activity's UUID's low half; a root's trace id
        // is the whole UUID, halves swapped: no more random numbers than
        // before, and the trace id's low half, which samplers read as a
        // random number (OpenTelemetry's `TraceIdRatioBased`), holds none
        // of the UUID's variant bits.
        let random = match &tracking_id {
            TrackingId::Uuid(uuid) => *uuid.as_bytes(),
            TrackingId::Custom(_) => *uuid::Uuid::new_v4().as_bytes(),
        };
        let mut low = [0; 8];
        low.copy_from_slice(&random[8..]);
        // A v4 UUID's variant bits make its low half non-zero.
        let span_id = u64::from_be_bytes(low).max(1);
        let (parent_id, inherited, trace_id, remote) = match parent {
            Some((id, corrids, trace_id, state)) => (Some(id), corrids, trace_id, state),
            None => {
                let mut swapped = [0; 16];
                swapped[..8].copy_from_slice(&random[8..]);
                swapped[8..].copy_from_slice(&random[..8]);
                let trace_id = TraceId::from_bytes(swapped).unwrap_or(TraceId::ONE);
                (None, None, trace_id, None)
            }
        };
        let trace_id = otel_trace_id(|| ctx.span(id)).unwrap_or(trace_id);
        let mut data = Box::new(SpanData {
            meta: attrs.metadata(),
            tracking_id,
            parent_id,
            trace_id,
            span_id,
            remote,
            continued: false,
            corrids: None,
            inherited,
            start_usec: now_usec(),
            fields,
            failure: None,
            timing: Timing::new(),
        });
        data.update_corrids();
        self.open.insert(id, data);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        // Recorded before the lock: a `Debug` impl may log, and its event
        // looks up this very span.
        let mut later = Fields::new(self.options.max_value_bytes, values.len());
        values.record(&mut later);
        self.map_keys(&mut later);
        self.open.with(id, |data| {
            data.fields.merge(later);
            data.update_corrids();
        });
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, _ctx: Context<'_, S>) {
        let Some((trace_id, corrids)) = self
            .open
            .with(follows, |data| (data.trace_id, data.corrids.clone()))
        else {
            return;
        };
        self.open.with(id, |data| {
            let own_trace = (trace_id != data.trace_id).then(|| trace_id.to_string());
            let theirs = corrids.iter().flat_map(|c| c.iter().cloned());
            data.add_correlators(own_trace.into_iter().chain(theirs));
        });
    }

    fn on_enter(&self, id: &Id, _ctx: Context<'_, S>) {
        self.open.with(id, |data| {
            data.timing.mark(false);
            data.timing.entered += 1;
        });
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        // OpenTelemetry's context is built by now, whichever layer entered
        // first: its trace id, kept for when the span closes.
        let otel = otel_trace_id(|| ctx.span(id));
        self.open.with(id, |data| {
            data.timing.mark(true);
            data.timing.entered = data.timing.entered.saturating_sub(1);
            if let Some(trace_id) = otel {
                data.trace_id = trace_id;
            }
        });
    }

    fn on_event(&self, event: &TracingEvent<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !self.wants() {
            return;
        }
        self.went_on();
        let now = now_usec();
        // tracing-log names every record's metadata so: a cheap test that
        // spares every other event tracing-log's own.
        let from_log = meta.name() == "log event" && meta.target() == "log";
        if let Some(storms) = self.options.controls.storms() {
            // A log record's metadata is its level's: its line is its own.
            let normalized = from_log.then(|| event.normalized_metadata()).flatten();
            let site = match &normalized {
                Some(log) => storm::log_site(log.file(), log.module_path(), log.line()),
                None => storm::site(meta),
            };
            if let Verdict::Drop { first } = storms.admit(site, now) {
                if first {
                    // Once a window: what the summary names.
                    let at = normalized.as_ref().unwrap_or(meta);
                    let place = storm::place(at.file(), at.module_path(), at.line(), at.target());
                    let mut fields = Fields::new(self.options.max_value_bytes, 1);
                    event.record(&mut fields);
                    storms.note(site, place, fields.message.unwrap_or_default().into());
                }
                return;
            }
        }
        // The message is a field too, but not a property.
        let expected = meta.fields().len().saturating_sub(1);
        let mut fields = Fields::new(self.options.max_value_bytes, expected);
        event.record(&mut fields);
        self.map_keys(&mut fields);
        let log = from_log.then(|| event.normalized_metadata());
        let log = log.flatten().map(|normalized| {
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
        let mut trace_id = None;
        let mut remote_sampled = None;
        let failing = *meta.level() == Level::ERROR || fields.error.is_some();
        let mut visit = |span: &mut SpanData| {
            parent_id = Some(span.tracking_id.clone());
            corrids = span.corrids.clone();
            trace_id = Some(span.trace_id);
            remote_sampled = span.remote.as_ref().map(|r| r.sampled);
            if failing && span.failure.is_none() {
                span.failure = Some(failure_text(&fields).into());
            }
        };
        // The event's own span, looked up in this layer's table first: the
        // registry's lookup is needed only when this layer does not track
        // it (a per-layer filter hid it), to search its ancestors.
        let own = belongs_to(event.is_root(), event.is_contextual(), event.parent(), &ctx);
        if let Some(own) = own {
            if self.open.with(&own, &mut visit).is_none() {
                if let Some(scope) = ctx.event_scope(event) {
                    self.nearest_tracked(scope, visit);
                }
            }
        }
        if let Some(which) = &self.options.inherit {
            for span in ctx.event_scope(event).into_iter().flatten() {
                self.open.with(&span.id(), |data| {
                    keys::inherit(&mut fields, &data.fields, which);
                });
            }
        }
        if trace_id.is_some() {
            trace_id = otel_trace_id(|| ctx.event_span(event)).or(trace_id);
        }
        self.handle.enqueue(Item::Event(EventRecord {
            common: Common {
                meta,
                log,
                tracking_id: None,
                parent_id,
                trace_id,
                remote_sampled,
                corrids,
                time_usec: now,
                tid: thread_number(),
                fields,
            },
        }));
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let otel = otel_trace_id(|| ctx.span(&id));
        let Some(mut data) = self.open.remove(&id) else {
            return;
        };
        if let Some(trace_id) = otel {
            data.trace_id = trace_id;
        }
        data.timing.mark(false);
        if self.options.panics && data.failure.is_none() {
            data.failure = crate::handle::unwinding();
        }
        self.handle.enqueue(data.into_activity(thread_number()));
    }
}

/// What an event that fails its span tells the span's activity: its
/// `jkool.exception`, its `error` field, or its message.
fn failure_text(fields: &Fields) -> &str {
    (fields.jkool.as_ref())
        .and_then(|j| j.exception.as_deref())
        .or(fields.error.as_deref())
        .or(fields.message.as_deref())
        .unwrap_or_default()
}
