//! Sampling, on the delivery thread: the items of a trace the ratio keeps
//! go on at once; those of a trace it leaves out wait until the trace's
//! root activity arrives (parents close after their children), and then go
//! on whole if anything in the trace failed or the root was slow, or are
//! dropped whole. A failure decides at once: what waited goes on, and the
//! rest of the trace does not wait.

use std::collections::{HashMap, VecDeque};

use tracing::Level;

use crate::item::model::Item;
use crate::item::sampler::Sampler;
use crate::item::trace_id::TraceId;
use crate::item::value::Value;

/// The property of a kept root activity that says which fraction applied.
pub(crate) const SAMPLE_RATE: &str = "sample_rate";

/// What became of an item.
#[derive(Debug)]
pub(crate) enum Admitted {
    /// It goes on now (it was left where it was).
    Pass,
    /// It waits for its trace's decision.
    Held,
    /// Its trace is kept: these go on, in the order they came, the item
    /// last. Each with its place in the queue.
    Kept(Vec<(u64, Item)>),
    /// Its trace is dropped: the places in the queue of what it held, and
    /// of the item.
    Dropped(Vec<u64>),
}

/// Where a sampled-out trace stands.
#[derive(Debug)]
enum Trace {
    /// Waiting for its root, or for a failure.
    Holding(Vec<(u64, Item)>),
    /// Something failed: the rest goes on at once.
    Kept,
    /// Decided early (a bound was reached): the rest is dropped.
    Dropped,
}

/// The sampled-out traces not yet decided.
#[derive(Debug)]
pub(crate) struct Sampling {
    sampler: Sampler,
    traces: HashMap<TraceId, Trace>,
    /// Traces in the order they were first held: past the bound on all
    /// held items, the oldest is decided first.
    order: VecDeque<TraceId>,
    held: usize,
}

/// What sampling needs to know of an item of a trace.
struct Facts {
    trace: TraceId,
    sampled: bool,
    root: bool,
    failed: bool,
    /// A root's duration, in microseconds.
    elapsed_usec: i64,
}

impl Sampling {
    pub(crate) fn new(sampler: Sampler) -> Self {
        Sampling {
            sampler,
            traces: HashMap::new(),
            order: VecDeque::new(),
            held: 0,
        }
    }

    fn facts(&self, item: &Item) -> Option<Facts> {
        let (common, root, failed, elapsed_usec) = match item {
            Item::Event(event) => {
                let common = &event.common;
                let error = *common.meta.level() == Level::ERROR || common.fields.error.is_some();
                (common, false, error, 0)
            }
            Item::Activity(activity) => {
                let common = &activity.common;
                let elapsed = common.time_usec - activity.start_usec;
                (
                    common,
                    common.parent_id.is_none(),
                    activity.failure.is_some(),
                    elapsed,
                )
            }
            Item::JKoolEvent(_) | Item::Raw { .. } => return None,
        };
        let trace = common.trace_id?;
        let sampled = (common.remote_sampled).unwrap_or_else(|| self.sampler.samples(trace));
        Some(Facts {
            trace,
            sampled,
            root,
            failed: failed && self.sampler.keeps_errors(),
            elapsed_usec,
        })
    }

    /// Takes the item at `seq` in the queue. Traces decided early to keep
    /// within the bounds add the places of what they held to `dropped`.
    pub(crate) fn admit(&mut self, seq: u64, item: &mut Item, dropped: &mut Vec<u64>) -> Admitted {
        let Some(facts) = self.facts(item) else {
            return Admitted::Pass;
        };
        if facts.sampled {
            if facts.root {
                set_rate(item, self.sampler.fraction());
            }
            return Admitted::Pass;
        }
        let slow = facts.root
            && (self.sampler.slower_than())
                .is_some_and(|limit| facts.elapsed_usec > limit.as_micros() as i64);
        let decided = facts.root || facts.failed || slow;
        let trace = match self.traces.get_mut(&facts.trace) {
            Some(trace) => trace,
            None if decided => {
                // Nothing held: a trace of one item, or one that failed
                // first thing.
                return self.decide(facts, Vec::new(), seq, item, slow);
            }
            None => {
                self.tidy();
                self.order.push_back(facts.trace);
                self.traces
                    .entry(facts.trace)
                    .or_insert(Trace::Holding(Vec::new()))
            }
        };
        match trace {
            Trace::Dropped => {
                if facts.root {
                    self.traces.remove(&facts.trace);
                }
                Admitted::Dropped(vec![seq])
            }
            Trace::Kept => {
                if facts.root {
                    self.traces.remove(&facts.trace);
                    set_rate(item, 1.0);
                }
                Admitted::Pass
            }
            Trace::Holding(items) if decided => {
                let items = std::mem::take(items);
                self.held -= items.len();
                self.traces.remove(&facts.trace);
                self.decide(facts, items, seq, item, slow)
            }
            Trace::Holding(items) => {
                items.push((seq, std::mem::replace(item, Item::taken())));
                self.held += 1;
                if items.len() > Sampler::MAX_TRACE_ITEMS {
                    let seqs = self.drop_early(facts.trace);
                    return Admitted::Dropped(seqs);
                }
                while self.held > Sampler::MAX_HELD_ITEMS {
                    let Some(oldest) = self.order.pop_front() else {
                        break;
                    };
                    dropped.extend(self.drop_early(oldest));
                }
                Admitted::Held
            }
        }
    }

    /// The decision for a trace whose root came (or that failed), with
    /// what it held: a failure inside keeps the rest of the trace too.
    fn decide(
        &mut self,
        facts: Facts,
        mut items: Vec<(u64, Item)>,
        seq: u64,
        item: &mut Item,
        slow: bool,
    ) -> Admitted {
        if facts.failed || slow {
            if facts.root {
                set_rate(item, 1.0);
            } else {
                self.traces.entry(facts.trace).or_insert(Trace::Kept);
            }
            if items.is_empty() {
                return Admitted::Pass;
            }
            items.push((seq, std::mem::replace(item, Item::taken())));
            return Admitted::Kept(items);
        }
        let mut seqs: Vec<u64> = items.into_iter().map(|(seq, _)| seq).collect();
        seqs.push(seq);
        Admitted::Dropped(seqs)
    }

    /// Decides `trace` now, to keep within the bounds: what it held, and
    /// whatever else comes of it, is dropped.
    fn drop_early(&mut self, trace: TraceId) -> Vec<u64> {
        let Some(entry) = self.traces.get_mut(&trace) else {
            return Vec::new();
        };
        let Trace::Holding(items) = entry else {
            return Vec::new();
        };
        let items = std::mem::take(items);
        *entry = Trace::Dropped;
        self.held -= items.len();
        items.into_iter().map(|(seq, _)| seq).collect()
    }

    /// Forgets what no longer needs remembering, once there is much of it:
    /// traces decided whose root never came, and the order of traces done.
    fn tidy(&mut self) {
        let limit = 2 * Sampler::MAX_HELD_ITEMS;
        if self.traces.len() > limit {
            self.traces.retain(|_, t| matches!(t, Trace::Holding(_)));
        }
        if self.order.len() > limit {
            let traces = &self.traces;
            (self.order).retain(|t| matches!(traces.get(t), Some(Trace::Holding(_))));
        }
    }

    /// The pipeline stops: what is still held is dropped; its places.
    pub(crate) fn drop_all(&mut self) -> Vec<u64> {
        self.order.clear();
        self.held = 0;
        let traces = std::mem::take(&mut self.traces).into_values();
        let held = traces.flat_map(|trace| match trace {
            Trace::Holding(items) => items,
            Trace::Kept | Trace::Dropped => Vec::new(),
        });
        held.map(|(seq, _)| seq).collect()
    }
}

/// Gives a kept root activity its `sample_rate`.
fn set_rate(item: &mut Item, rate: f64) {
    if let Item::Activity(activity) = item {
        let properties = &mut activity.common.fields.properties;
        properties.push((SAMPLE_RATE, Value::F64(rate)));
    }
}
