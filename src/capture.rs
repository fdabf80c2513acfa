//! The layer's callbacks: spans become jKool activities and events become
//! jKool events. Callbacks only capture owned data and `try_send` it; JSON,
//! UUID text and HTTP all happen on the background task.
//!
//! A span's data lives in the layer's own table of open spans
//! ([`OpenSpans`]), keyed by span id, not in the span's extensions: so
//! several layers in one subscriber each keep their own data, and the
//! handle can send the spans still open at shutdown.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tracing::span::{Attributes, Id, Record};
use tracing::{Event as TracingEvent, Level, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Layer;

use crate::clock::now_usec;
use crate::fields::{Fields, Value};
use crate::handle::JKoolHandle;
use crate::model::{ActivityRecord, Common, EventRecord, Item, LogOrigin, TrackingId};
use crate::thread::{in_delivery_thread, thread_number};

/// The property that marks an activity sent at shutdown while its span was
/// still open: `cut_short = true`.
pub(crate) const CUT_SHORT: &str = "cut_short";

/// The layer's callbacks, behind [`JKoolLayer`](crate::JKoolLayer)'s level
/// filter: only spans and events at the configured level or above arrive.
pub(crate) struct Capture {
    max_value_bytes: usize,
    handle: JKoolHandle,
    open: Arc<OpenSpans>,
}

impl Capture {
    /// Callbacks that send to `handle`; registers with the handle the hook
    /// that sends the spans still open at shutdown.
    pub(crate) fn new(max_value_bytes: usize, handle: JKoolHandle) -> Self {
        let open = Arc::new(OpenSpans::new());
        let table = Arc::clone(&open);
        handle.on_shutdown(Box::new(move |handle: &JKoolHandle| {
            table.send_cut_short(handle);
        }));
        Capture {
            max_value_bytes,
            handle,
            open,
        }
    }

    /// Whether this item should be made at all: not when it comes from the
    /// crate's own delivery thread, whose HTTP stack would otherwise feed
    /// its own events back in.
    fn wants(&self) -> bool {
        !in_delivery_thread()
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

/// What the layer keeps for an open span, from creation to close.
struct SpanData {
    meta: &'static Metadata<'static>,
    tracking_id: TrackingId,
    parent_id: Option<TrackingId>,
    /// Inherited correlators plus this span's own `jkool.corr_id`.
    corrids: Option<Arc<[String]>>,
    /// Inherited correlators only, to rebuild `corrids` on `Span::record`.
    inherited: Option<Arc<[String]>>,
    start_usec: i64,
    fields: Fields,
    error_seen: bool,
    timing: Timing,
}

/// Busy and idle time, as tracing-subscriber's fmt layer measures them.
struct Timing {
    busy: Duration,
    idle: Duration,
    /// The last enter, exit or creation.
    last: Instant,
    /// How many times the span is entered now (on any thread).
    entered: u32,
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

    /// The activity for this span, ending now.
    fn into_activity(self, tid: u64) -> Item {
        Item::Activity(ActivityRecord {
            common: Common {
                meta: self.meta,
                log: None,
                tracking_id: Some(self.tracking_id),
                parent_id: self.parent_id,
                corrids: self.inherited,
                time_usec: now_usec(),
                tid,
                fields: self.fields,
            },
            start_usec: self.start_usec,
            error_seen: self.error_seen,
            busy_usec: self.timing.busy.as_micros() as u64,
            idle_usec: self.timing.idle.as_micros() as u64,
        })
    }
}

/// How many locks the table of open spans is split into, so that threads
/// working on different spans rarely wait on each other.
const SHARDS: usize = 16;

/// One layer's open spans by span id. Every callback locks one shard
/// briefly, never while running application code (`Debug` impls) or
/// sending; with one thread the lock is never contended.
pub(crate) struct OpenSpans {
    shards: [Shard; SHARDS],
}

/// A cache line of its own, so that shards used by different threads do not
/// slow each other down.
#[repr(align(128))]
#[derive(Default)]
struct Shard(Mutex<HashMap<u64, SpanData, BuildHasherDefault<IdHasher>>>);

impl OpenSpans {
    fn new() -> Self {
        OpenSpans {
            shards: std::array::from_fn(|_| Shard::default()),
        }
    }

    fn shard(
        &self,
        id: u64,
    ) -> MutexGuard<'_, HashMap<u64, SpanData, BuildHasherDefault<IdHasher>>> {
        // The top bits of the mixed id: the low bits pick the hash bucket.
        let index = (mix(id) >> 60) as usize % SHARDS;
        self.shards[index]
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn insert(&self, id: &Id, data: SpanData) {
        let id = id.into_u64();
        self.shard(id).insert(id, data);
    }

    /// Runs `f` on the span's data, if this layer tracks the span.
    fn with<R>(&self, id: &Id, f: impl FnOnce(&mut SpanData) -> R) -> Option<R> {
        let id = id.into_u64();
        self.shard(id).get_mut(&id).map(f)
    }

    fn remove(&self, id: &Id) -> Option<SpanData> {
        let id = id.into_u64();
        self.shard(id).remove(&id)
    }

    /// Sends every span still open as an activity ending now, marked as cut
    /// short, and forgets it: its close later sends nothing.
    fn send_cut_short(&self, handle: &JKoolHandle) {
        let tid = thread_number();
        for shard in &self.shards {
            let spans: Vec<SpanData> = {
                let mut map = shard.0.lock().unwrap_or_else(PoisonError::into_inner);
                map.drain().map(|(_, data)| data).collect()
            };
            for mut data in spans {
                let inside = data.timing.entered > 0;
                data.timing.mark(inside);
                mark_cut_short(&mut data);
                handle.enqueue(data.into_activity(tid));
            }
        }
    }
}

/// Marks an activity cut short by shutdown: the property `cut_short =
/// true` and, unless the span failed or set `jkool.comp_code` itself,
/// completion code `WARNING`. The status stays as computed.
fn mark_cut_short(data: &mut SpanData) {
    data.fields.properties.push((CUT_SHORT, Value::Bool(true)));
    let failed = data.error_seen
        || data.fields.error.is_some()
        || data.fields.jkool().is_some_and(|j| j.exception.is_some());
    let jkool = data.fields.jkool.get_or_insert_with(Default::default);
    if !failed && jkool.comp_code.is_none() {
        jkool.comp_code = Some("WARNING".to_owned());
    }
}

/// Spreads span ids (small, often sequential slab keys) over all bits.
fn mix(id: u64) -> u64 {
    let h = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 29)
}

/// The table's hasher: span ids need no SipHash, only spreading.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = mix(self.0 ^ u64::from(*byte));
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = mix(id);
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
        // Recorded before any lock: a `Debug` impl may log.
        let mut fields = Fields::new(self.max_value_bytes, attrs.metadata().fields().len());
        attrs.record(&mut fields);
        if let Some(message) = fields.message.take() {
            fields
                .properties
                .insert(0, ("message", Value::Str(message)));
        }
        let mut parent_id = None;
        let mut inherited = None;
        self.nearest_tracked(span.scope().skip(1), |parent| {
            parent_id = Some(parent.tracking_id.clone());
            inherited = parent.corrids.clone();
        });
        let tracking_id = match fields.jkool().and_then(|j| j.tracking_id.as_deref()) {
            Some(custom) => TrackingId::Custom(custom.into()),
            None => TrackingId::new(),
        };
        let mut data = SpanData {
            meta: span.metadata(),
            tracking_id,
            parent_id,
            corrids: None,
            inherited,
            start_usec: now_usec(),
            fields,
            error_seen: false,
            timing: Timing {
                busy: Duration::ZERO,
                idle: Duration::ZERO,
                last: Instant::now(),
                entered: 0,
            },
        };
        data.update_corrids();
        self.open.insert(id, data);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        // Recorded before the lock: a `Debug` impl may log, and its event
        // looks up this very span.
        let mut later = Fields::new(self.max_value_bytes, values.len());
        values.record(&mut later);
        self.open.with(id, |data| {
            data.fields.merge(later);
            data.update_corrids();
        });
    }

    fn on_enter(&self, id: &Id, _ctx: Context<'_, S>) {
        self.open.with(id, |data| {
            data.timing.mark(false);
            data.timing.entered += 1;
        });
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        self.open.with(id, |data| {
            data.timing.mark(true);
            data.timing.entered = data.timing.entered.saturating_sub(1);
        });
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
            let failing = *meta.level() == Level::ERROR || fields.error.is_some();
            self.nearest_tracked(scope, |span| {
                parent_id = Some(span.tracking_id.clone());
                corrids = span.corrids.clone();
                span.error_seen |= failing;
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

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        let Some(mut data) = self.open.remove(&id) else {
            return;
        };
        data.timing.mark(false);
        self.handle.enqueue(data.into_activity(thread_number()));
    }
}
