//! The layer's table of open spans ([`OpenSpans`]) and what it keeps for
//! each ([`SpanData`]), from creation to close.
//!
//! A span's data lives in the layer's own table, keyed by span id, not in
//! the span's extensions: so several layers in one subscriber each keep
//! their own data, and the handle can send the spans still open at
//! shutdown. How a `tracing::Span` reaches its data is in [`access`]. Below
//! the layer, the handle and propagation, which all read the table.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::span::Id;
use tracing::Metadata;

pub(crate) mod access;

use crate::item::clock::monotonic_nanos;
use crate::item::fields::{Fields, Value};
use crate::item::hashing::{mix, KeyHasher};
use crate::item::model::{ActivityRecord, Common, Item, TrackingId};
use crate::item::thread::thread_number;
use crate::item::trace_id::{hex_u64, TraceId};

/// The property that marks an activity sent at shutdown while its span was
/// still open: `cut_short = true`.
pub(crate) const CUT_SHORT: &str = "cut_short";

/// The property of an activity that continued a remote trace: the remote
/// caller's span id, 16 lowercase hex digits.
pub(crate) const PARENT_SPAN_ID: &str = "parent_span_id";

/// What the layer keeps for an open span, from creation to close.
pub(crate) struct SpanData {
    pub(crate) meta: &'static Metadata<'static>,
    pub(crate) tracking_id: TrackingId,
    pub(crate) parent_id: Option<TrackingId>,
    /// The trace this span belongs to: its root's, or a remote caller's.
    pub(crate) trace_id: TraceId,
    /// This span's W3C span id, for `traceparent`.
    pub(crate) span_id: u64,
    /// The remote caller, when the trace came from another service: shared
    /// by every span of the trace, which pass its `tracestate` on.
    pub(crate) remote: Option<Arc<Remote>>,
    /// This span continued the remote trace: its activity records the
    /// caller's span id.
    pub(crate) continued: bool,
    /// Inherited correlators plus this span's own `jkool.corr_id`.
    pub(crate) corrids: Option<Arc<[String]>>,
    /// Inherited correlators only, to rebuild `corrids` on `Span::record`.
    pub(crate) inherited: Option<Arc<[String]>>,
    pub(crate) start_usec: i64,
    pub(crate) fields: Fields,
    /// The text of the first error inside, once one happened: an ERROR
    /// event or an event with an `error` field.
    pub(crate) failure: Option<Box<str>>,
    pub(crate) timing: Timing,
}

/// A remote caller's part of the trace context (kept apart, so that span
/// data stays small: it is moved whole on the application's thread).
pub(crate) struct Remote {
    pub(crate) parent_span_id: u64,
    pub(crate) tracestate: Option<String>,
    /// The caller's sampled flag: it decides for the whole trace.
    pub(crate) sampled: bool,
}

/// Busy and idle time, as tracing-subscriber's fmt layer measures them, in
/// nanoseconds.
pub(crate) struct Timing {
    pub(crate) busy: u64,
    pub(crate) idle: u64,
    /// The last enter, exit or creation, on [`monotonic_nanos`]' clock.
    pub(crate) last: u64,
    /// How many times the span is entered now (on any thread).
    pub(crate) entered: u32,
}

impl Timing {
    pub(crate) fn new() -> Self {
        Timing {
            busy: 0,
            idle: 0,
            last: monotonic_nanos(),
            entered: 0,
        }
    }

    /// Adds the time since the last change to busy (leaving the span) or
    /// idle (entering it, or closing it).
    pub(crate) fn mark(&mut self, leaving: bool) {
        let now = monotonic_nanos();
        let spent = now.saturating_sub(self.last);
        if leaving {
            self.busy += spent;
        } else {
            self.idle += spent;
        }
        self.last = now;
    }
}

impl SpanData {
    pub(crate) fn update_corrids(&mut self) {
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

    /// Adds correlators to the inherited ones (`follows_from`), skipping
    /// those already there.
    pub(crate) fn add_correlators(&mut self, more: impl IntoIterator<Item = String>) {
        let mut all: Vec<String> = self
            .inherited
            .iter()
            .flat_map(|i| i.iter().cloned())
            .collect();
        let before = all.len();
        for corrid in more {
            if !all.contains(&corrid) {
                all.push(corrid);
            }
        }
        if all.len() != before {
            self.inherited = Some(all.into());
            self.update_corrids();
        }
    }

    /// The activity for this span, ending now: its timing marked last.
    pub(crate) fn into_activity(mut self: Box<Self>, tid: u64) -> Item {
        if let Some(remote) = self.remote.as_ref().filter(|_| self.continued) {
            let text = Value::from(hex_u64(remote.parent_span_id));
            self.fields.properties.push((PARENT_SPAN_ID, text));
        }
        Item::Activity(ActivityRecord {
            common: Common {
                meta: self.meta,
                log: None,
                tracking_id: Some(self.tracking_id),
                parent_id: self.parent_id,
                trace_id: Some(self.trace_id),
                remote_sampled: self.remote.as_ref().map(|r| r.sampled),
                corrids: self.inherited,
                // Ends now: every moment since it began is counted as
                // busy or idle, the last one as its close was marked.
                time_usec: self.start_usec
                    + (self.timing.busy.saturating_add(self.timing.idle) / 1_000) as i64,
                tid,
                fields: self.fields,
            },
            start_usec: self.start_usec,
            failure: self.failure,
            busy_usec: self.timing.busy / 1_000,
            idle_usec: self.timing.idle / 1_000,
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

impl std::fmt::Debug for OpenSpans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSpans").finish_non_exhaustive()
    }
}

/// A cache line of its own, so that shards used by different threads do not
/// slow each other down.
#[repr(align(128))]
#[derive(Default)]
struct Shard(Mutex<Spans>);

/// A shard's spans. Boxed: span data is large, and a box moves in and out
/// of the map as a pointer rather than as a copy of the whole.
type Spans = HashMap<u64, Box<SpanData>, BuildHasherDefault<KeyHasher>>;

impl OpenSpans {
    pub(crate) fn new() -> Self {
        OpenSpans {
            shards: std::array::from_fn(|_| Shard::default()),
        }
    }

    #[inline]
    fn shard(&self, id: u64) -> MutexGuard<'_, Spans> {
        // The top bits of the mixed id: the low bits pick the hash bucket.
        let index = (mix(id) >> 60) as usize % SHARDS;
        self.shards[index]
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn insert(&self, id: &Id, data: Box<SpanData>) {
        let id = id.into_u64();
        self.shard(id).insert(id, data);
    }

    /// Runs `f` on the span's data, if this layer tracks the span.
    #[inline]
    pub(crate) fn with<R>(&self, id: &Id, f: impl FnOnce(&mut SpanData) -> R) -> Option<R> {
        let id = id.into_u64();
        self.shard(id).get_mut(&id).map(|data| f(data))
    }

    pub(crate) fn remove(&self, id: &Id) -> Option<Box<SpanData>> {
        let id = id.into_u64();
        self.shard(id).remove(&id)
    }

    /// The traces of the spans open now.
    pub(crate) fn trace_ids(&self) -> std::collections::HashSet<TraceId> {
        let mut traces = std::collections::HashSet::new();
        for shard in &self.shards {
            let map = shard.0.lock().unwrap_or_else(PoisonError::into_inner);
            traces.extend(map.values().map(|data| data.trace_id));
        }
        traces
    }

    /// Sends every span still open as an activity ending now, marked as cut
    /// short, and forgets it: its close later sends nothing.
    /// Children go before their parents, as spans close: a trace's root
    /// comes last, and sampling decides with everything in view.
    pub(crate) fn send_cut_short(&self, mut enqueue: impl FnMut(Item)) {
        let tid = thread_number();
        let mut spans: Vec<Box<SpanData>> = Vec::new();
        for shard in &self.shards {
            let mut map = shard.0.lock().unwrap_or_else(PoisonError::into_inner);
            spans.extend(map.drain().map(|(_, data)| data));
        }
        let depths = depths(&spans);
        let mut spans: Vec<_> = depths.into_iter().zip(spans).collect();
        spans.sort_by_key(|(depth, _)| std::cmp::Reverse(*depth));
        for (_, mut data) in spans {
            let inside = data.timing.entered > 0;
            data.timing.mark(inside);
            mark_cut_short(&mut data);
            enqueue(data.into_activity(tid));
        }
    }
}

/// How many of its ancestors are among `spans`, for each span.
fn depths(spans: &[Box<SpanData>]) -> Vec<usize> {
    let parents: HashMap<&TrackingId, Option<&TrackingId>> = spans
        .iter()
        .map(|s| (&s.tracking_id, s.parent_id.as_ref()))
        .collect();
    let depth = |span: &SpanData| {
        let mut at = span.parent_id.as_ref();
        let mut depth = 0;
        // At most every span: a bound, whatever the links say.
        while let Some(parent) = at.filter(|_| depth < spans.len()) {
            let Some(next) = parents.get(parent) else {
                break;
            };
            depth += 1;
            at = *next;
        }
        depth
    };
    spans.iter().map(|s| depth(s)).collect()
}

/// Marks an activity cut short by shutdown: the property `cut_short =
/// true` and, unless the span failed or set `jkool.comp_code` itself,
/// completion code `WARNING`. The status stays as computed.
fn mark_cut_short(data: &mut SpanData) {
    data.fields.properties.push((CUT_SHORT, Value::Bool(true)));
    let failed = data.failure.is_some()
        || data.fields.error.is_some()
        || data.fields.jkool().is_some_and(|j| j.exception.is_some());
    let jkool = data.fields.jkool.get_or_insert_with(Default::default);
    if !failed && jkool.comp_code.is_none() {
        jkool.comp_code = Some("WARNING".to_owned());
    }
}
