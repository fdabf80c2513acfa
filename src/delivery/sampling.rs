//! Sampling, on the delivery thread: the items of a trace the ratio keeps
//! go on at once; those of a trace it leaves out wait until the trace's
//! root activity arrives (parents close after their children), and then go
//! on whole if anything in the trace failed or the root was slow, or are
//! dropped whole. A failure decides at once: what waited goes on, and the
//! rest of the trace does not wait. A trace dropped early, for its size,
//! still sends its failures and the activities on their path.
//!
//! With a budget ([`Sampler::max_traces_per_second`]), a trace the ratio
//! keeps is charged a token when its first item comes: with one it goes
//! on as before; without one it is treated as left out.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use tracing::Level;

use crate::item::model::{Common, Item, TrackingId};
use crate::item::sampler::Sampler;
use crate::item::trace_id::TraceId;
use crate::item::value::Value;
use budget::Budget;

/// The property of a kept root activity that says which fraction applied.
pub(crate) const SAMPLE_RATE: &str = "sample_rate";

/// The property of what a trace dropped for its size still sends: its
/// failures and the activities on their path.
pub(crate) const PARTIAL_TRACE: &str = "partial_trace";

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
    /// Kept by the ratio and the budget (a token taken): the rest goes on
    /// at once; its root says the rate that applied.
    Passing,
    /// Decided early (a bound was reached): the rest is dropped, but for
    /// failures and the activities on their path: these parents, still
    /// to come.
    Dropped { path: Vec<TrackingId> },
}

impl Trace {
    /// Whether it is a decision remembered until the root comes.
    fn decision(&self) -> bool {
        !matches!(self, Trace::Holding(_))
    }
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
    /// Traces decided before their root came, in the order decided: past
    /// [`Sampler::MAX_DECISIONS`], the oldest decision is forgotten.
    decided: VecDeque<TraceId>,
    /// The entries of `traces` that are decisions.
    decisions: usize,
    /// With [`Sampler::max_traces_per_second`].
    budget: Option<Budget>,
    /// Since the sampler changed: the one before, and the traces under
    /// way then, which it decides until their roots come.
    before: Option<(Sampler, HashSet<TraceId>)>,
}

/// What sampling needs to know of an item of a trace.
struct Facts {
    trace: TraceId,
    sampled: bool,
    /// The ratio of the sampler that decides it.
    ratio: f64,
    /// The ratio keeps it (not a caller's flag), and there is a budget.
    budgeted: bool,
    root: bool,
    failed: bool,
    /// A root that took longer than [`Sampler::keep_slower_than`].
    slow: bool,
    now: Instant,
}

impl Sampling {
    pub(crate) fn new(sampler: Sampler) -> Self {
        Sampling {
            sampler,
            traces: HashMap::new(),
            order: VecDeque::new(),
            held: 0,
            decided: VecDeque::new(),
            decisions: 0,
            budget: Budget::of(sampler),
            before: None,
        }
    }

    /// Decides by `sampler` from now, but for the traces `under_way`,
    /// which the sampler before decides to the end.
    pub(crate) fn change(&mut self, sampler: Sampler, under_way: HashSet<TraceId>) {
        let before = std::mem::replace(&mut self.sampler, sampler);
        if before.budget() != sampler.budget() {
            self.budget = Budget::of(sampler);
        }
        self.before = (!under_way.is_empty()).then_some((before, under_way));
    }

    /// The sampler whose ratio decides `trace`.
    fn deciding(&self, trace: TraceId) -> &Sampler {
        match &self.before {
            Some((before, under_way)) if under_way.contains(&trace) => before,
            _ => &self.sampler,
        }
    }

    /// Once a trace under way at a change of sampler ended, the sampler
    /// before has one trace less to decide.
    fn ended(&mut self, trace: TraceId) {
        if let Some((_, under_way)) = &mut self.before {
            if under_way.remove(&trace) && under_way.is_empty() {
                self.before = None;
            }
        }
    }

    fn facts(&self, item: &Item, now: Instant) -> Option<Facts> {
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
        let remote = common.remote_sampled;
        let deciding = self.deciding(trace);
        let sampled = remote.unwrap_or_else(|| deciding.samples(trace));
        let slow = root
            && (self.sampler.slower_than())
                .is_some_and(|limit| elapsed_usec > limit.as_micros() as i64);
        Some(Facts {
            trace,
            sampled,
            ratio: deciding.fraction(),
            budgeted: sampled && remote.is_none() && self.budget.is_some(),
            root,
            failed: failed && self.sampler.keeps_errors(),
            slow,
            now,
        })
    }

    /// Takes the item at `seq` in the queue. Traces decided early to keep
    /// within the bounds add the places of what they held to `dropped`.
    pub(crate) fn admit(&mut self, seq: u64, item: &mut Item, dropped: &mut Vec<u64>) -> Admitted {
        self.admit_at(seq, item, dropped, Instant::now())
    }

    /// The same, at `now` on the monotonic clock.
    fn admit_at(
        &mut self,
        seq: u64,
        item: &mut Item,
        dropped: &mut Vec<u64>,
        now: Instant,
    ) -> Admitted {
        let Some(facts) = self.facts(item, now) else {
            return Admitted::Pass;
        };
        if facts.root {
            self.ended(facts.trace);
        }
        if facts.sampled && !facts.budgeted {
            if facts.root {
                set_rate(item, facts.ratio);
            }
            return Admitted::Pass;
        }
        if facts.budgeted {
            if let Some(admitted) = self.within_budget(&facts, item) {
                return admitted;
            }
            // Over budget: as if the ratio left it out.
        }
        let slow = facts.slow;
        let decided = facts.root || facts.failed || slow;
        let trace = match self.traces.get_mut(&facts.trace) {
            Some(trace) => trace,
            None if decided => {
                // Nothing held: a trace of one item, or one that failed
                // first thing.
                return self.decide(facts, Vec::new(), seq, item, slow);
            }
            None => {
                self.tidy_order();
                self.order.push_back(facts.trace);
                self.traces
                    .entry(facts.trace)
                    .or_insert(Trace::Holding(Vec::new()))
            }
        };
        match trace {
            Trace::Dropped { path } => {
                let goes = on_path(path, item, facts.failed);
                if facts.root {
                    self.forget(facts.trace);
                    if facts.budgeted && !facts.failed {
                        self.count(now, false);
                    }
                }
                if !goes {
                    return Admitted::Dropped(vec![seq]);
                }
                if let Some(common) = common_mut(item) {
                    let properties = &mut common.fields.properties;
                    properties.push((PARTIAL_TRACE, Value::Bool(true)));
                }
                Admitted::Pass
            }
            // Passing only if the caller's flag changed within the trace.
            Trace::Kept | Trace::Passing => {
                if facts.root {
                    self.forget(facts.trace);
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
                self.remember(facts.trace, Trace::Kept);
            }
            if items.is_empty() {
                return Admitted::Pass;
            }
            items.push((seq, std::mem::replace(item, Item::taken())));
            return Admitted::Kept(items);
        }
        if facts.root && facts.budgeted {
            self.count(facts.now, false);
        }
        let mut seqs: Vec<u64> = items.into_iter().map(|(seq, _)| seq).collect();
        seqs.push(seq);
        Admitted::Dropped(seqs)
    }

    /// The pipeline stops: what is still held is dropped; its places.
    pub(crate) fn drop_all(&mut self) -> Vec<u64> {
        self.order.clear();
        self.decided.clear();
        self.held = 0;
        self.decisions = 0;
        let traces = std::mem::take(&mut self.traces).into_values();
        let held = traces.flat_map(|trace| match trace {
            Trace::Holding(items) => items,
            Trace::Kept | Trace::Passing | Trace::Dropped { .. } => Vec::new(),
        });
        held.map(|(seq, _)| seq).collect()
    }
}

/// Whether an item of a trace dropped early still goes: a failure, or an
/// activity on a failure's path. Either way, its parent is then on the
/// path in its place.
fn on_path(path: &mut Vec<TrackingId>, item: &mut Item, failed: bool) -> bool {
    let activity = matches!(item, Item::Activity(_));
    let Some(common) = common_mut(item) else {
        return false;
    };
    let at = common.tracking_id.as_ref();
    let waited = activity && at.is_some_and(|id| path.contains(id));
    if !(failed || waited) {
        return false;
    }
    path.retain(|id| Some(id) != at);
    if let Some(parent) = &common.parent_id {
        if !path.contains(parent) {
            path.push(parent.clone());
        }
    }
    true
}

/// The fields every event and activity has.
fn common_mut(item: &mut Item) -> Option<&mut Common> {
    match item {
        Item::Event(event) => Some(&mut event.common),
        Item::Activity(activity) => Some(&mut activity.common),
        Item::JKoolEvent(_) | Item::Raw { .. } => None,
    }
}

/// Gives a kept root activity its `sample_rate`.
fn set_rate(item: &mut Item, rate: f64) {
    if let Item::Activity(activity) = item {
        let properties = &mut activity.common.fields.properties;
        properties.push((SAMPLE_RATE, Value::F64(rate)));
    }
}

mod budget;
mod memory;
#[cfg(test)]
mod tests;
