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
use std::time::{Duration, Instant};

use tracing::Level;

use crate::item::model::{Common, Item, TrackingId};
use crate::item::sampler::Sampler;
use crate::item::trace_id::TraceId;
use crate::item::value::Value;

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

/// How many of the traces the ratio keeps are kept each second, and how
/// many were, to say the rate that applied.
#[derive(Debug)]
struct Budget {
    bucket: Bucket,
    window: Window,
}

impl Budget {
    fn of(sampler: Sampler) -> Option<Budget> {
        let now = Instant::now();
        (sampler.budget()).map(|n| Budget {
            bucket: Bucket::new(n, now),
            window: Window::new(now),
        })
    }
}

/// A token bucket: `n` tokens at most, refilled at `n` a second. Counted
/// in billionths of a token, so that refills add up exactly.
#[derive(Debug)]
struct Bucket {
    per_second: u64,
    /// Billionths of a token.
    nanos: u64,
    at: Instant,
}

/// A token, in billionths.
const TOKEN: u64 = 1_000_000_000;

impl Bucket {
    /// A full bucket of `n` tokens.
    fn new(n: u32, now: Instant) -> Self {
        Bucket {
            per_second: u64::from(n),
            nanos: u64::from(n) * TOKEN,
            at: now,
        }
    }

    /// Takes a token at `now`, if there is one.
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_nanos();
        let capacity = self.per_second * TOKEN;
        let refill = elapsed.saturating_mul(u128::from(self.per_second));
        let nanos = (u128::from(self.nanos) + refill).min(u128::from(capacity));
        self.nanos = nanos as u64;
        self.at = self.at.max(now);
        if self.nanos < TOKEN {
            return false;
        }
        self.nanos -= TOKEN;
        true
    }

    /// Gives back a token a trace kept for a failure or its duration took.
    fn give_back(&mut self) {
        self.nanos = (self.nanos + TOKEN).min(self.per_second * TOKEN);
    }
}

/// The traces the ratio kept whose roots came in the last second, in
/// tenths of a second, and how many of them the budget kept.
#[derive(Debug)]
struct Window {
    epoch: Instant,
    /// By tenth of a second since `epoch` (modulo their number): which
    /// tenth, the traces counted, and those kept.
    slots: [(u64, u64, u64); SLOTS],
}

/// The tenths of a second of a [`Window`].
const SLOTS: usize = 10;

/// The length of a slot of a [`Window`].
const SLOT: Duration = Duration::from_millis(100);

impl Window {
    fn new(now: Instant) -> Self {
        Window {
            epoch: now,
            slots: [(0, 0, 0); SLOTS],
        }
    }

    fn slot(&self, now: Instant) -> u64 {
        (now.saturating_duration_since(self.epoch).as_nanos() / SLOT.as_nanos()) as u64
    }

    /// Counts a trace whose root came at `now`, and whether it was kept.
    fn count(&mut self, now: Instant, kept: bool) {
        let slot = self.slot(now);
        let entry = &mut self.slots[(slot % SLOTS as u64) as usize];
        if entry.0 != slot {
            *entry = (slot, 0, 0);
        }
        entry.1 += 1;
        entry.2 += u64::from(kept);
    }

    /// The share kept over the last second; 1 when none was counted.
    fn share(&self, now: Instant) -> f64 {
        let slot = self.slot(now);
        let recent = self
            .slots
            .iter()
            .filter(|(s, ..)| *s <= slot && *s + SLOTS as u64 > slot);
        let (seen, kept) = recent.fold((0, 0), |(seen, kept), (_, s, k)| (seen + s, kept + k));
        if seen == 0 {
            return 1.0;
        }
        kept as f64 / seen as f64
    }
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

    /// An item of a trace the ratio keeps, with a budget: what becomes of
    /// it when the trace is kept, by the budget, or for a failure or its
    /// duration before it took a token; `None` when the trace is over
    /// budget, to be treated as left out by the ratio.
    fn within_budget(&mut self, facts: &Facts, item: &mut Item) -> Option<Admitted> {
        match self.traces.get(&facts.trace) {
            Some(Trace::Passing) => return Some(self.passing(facts, item)),
            Some(_) => return None,
            None => {}
        }
        // The first item of the trace.
        if facts.failed || facts.slow {
            if facts.root {
                set_rate(item, 1.0);
            } else {
                self.remember(facts.trace, Trace::Kept);
            }
            return Some(Admitted::Pass);
        }
        let budget = self.budget.as_mut()?;
        if !budget.bucket.take(facts.now) {
            return None;
        }
        if facts.root {
            let rate = self.count(facts.now, true);
            set_rate(item, rate);
        } else {
            self.remember(facts.trace, Trace::Passing);
        }
        Some(Admitted::Pass)
    }

    /// An item of a trace that took a token: it goes on. A failure or a
    /// slow root gives the token back, and the trace is kept for that.
    fn passing(&mut self, facts: &Facts, item: &mut Item) -> Admitted {
        let anyway = facts.failed || facts.slow;
        if let (true, Some(budget)) = (anyway, &mut self.budget) {
            budget.bucket.give_back();
        }
        if facts.root {
            self.forget(facts.trace);
            let rate = if anyway {
                1.0
            } else {
                self.count(facts.now, true)
            };
            set_rate(item, rate);
        } else if anyway {
            // Still a decision: the count of them stays.
            self.traces.insert(facts.trace, Trace::Kept);
        }
        Admitted::Pass
    }

    /// Counts a trace the ratio kept whose root came at `now`, and whether
    /// the budget kept it too; the rate that applied, counting it.
    fn count(&mut self, now: Instant, kept: bool) -> f64 {
        let Some(budget) = &mut self.budget else {
            return self.sampler.fraction();
        };
        budget.window.count(now, kept);
        self.sampler.fraction() * budget.window.share(now)
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
        self.held -= items.len();
        self.remember(trace, Trace::Dropped { path: Vec::new() });
        items.into_iter().map(|(seq, _)| seq).collect()
    }

    /// Records the decision for `trace` until its root comes; past
    /// [`Sampler::MAX_DECISIONS`], forgets the oldest.
    fn remember(&mut self, trace: TraceId, decision: Trace) {
        if let Some(Trace::Holding(_)) | None = self.traces.insert(trace, decision) {
            self.decisions += 1;
        }
        self.decided.push_back(trace);
        while self.decisions > Sampler::MAX_DECISIONS {
            let Some(oldest) = self.decided.pop_front() else {
                break;
            };
            if self.traces.get(&oldest).is_some_and(Trace::decision) {
                self.traces.remove(&oldest);
                self.decisions -= 1;
            }
        }
        if self.decided.len() > 2 * Sampler::MAX_DECISIONS {
            let traces = &self.traces;
            (self.decided).retain(|t| traces.get(t).is_some_and(Trace::decision));
        }
    }

    /// Forgets a trace whose root came.
    fn forget(&mut self, trace: TraceId) {
        if self
            .traces
            .remove(&trace)
            .as_ref()
            .is_some_and(Trace::decision)
        {
            self.decisions -= 1;
        }
    }

    /// Forgets the order of traces no longer held, once there is much of it.
    fn tidy_order(&mut self) {
        if self.order.len() > 2 * Sampler::MAX_HELD_ITEMS {
            let traces = &self.traces;
            (self.order).retain(|t| matches!(traces.get(t), Some(Trace::Holding(_))));
        }
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

#[cfg(test)]
mod tests {
    use tracing::callsite::{DefaultCallsite, Identifier};
    use tracing::field::FieldSet;
    use tracing::metadata::Kind;
    use tracing::Metadata;
    use uuid::Uuid;

    use super::*;
    use crate::item::fields::Fields;
    use crate::item::model::{ActivityRecord, EventRecord};

    #[test]
    fn the_bucket_holds_n_tokens_and_refills_n_a_second() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut bucket = Bucket::new(10, start);
        assert_eq!((0..12).filter(|_| bucket.take(start)).count(), 10, "full");
        assert!(!bucket.take(at(99)), "a tenth of a second makes one");
        assert!(bucket.take(at(100)));
        assert!(!bucket.take(at(100)));
        // Half a second: five, however it is asked.
        let taken = (101..=600).filter(|ms| bucket.take(at(*ms))).count();
        assert_eq!(taken, 5);
        // Idle for a minute: still no more than ten.
        assert_eq!((0..20).filter(|_| bucket.take(at(60_600))).count(), 10);
        // A token given back goes again, within the capacity.
        bucket.give_back();
        assert!(bucket.take(at(60_600)));
        assert!(!bucket.take(at(60_600)));
        (0..5).for_each(|_| bucket.give_back());
        assert_eq!((0..20).filter(|_| bucket.take(at(60_600))).count(), 5);
        // A time before the last one changes nothing.
        assert!(!bucket.take(at(1_000)));
        let mut none = Bucket::new(0, start);
        none.give_back();
        assert!(!none.take(at(10_000)), "a budget of 0 keeps none");
    }

    #[test]
    fn the_window_counts_the_last_second_by_tenths() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut window = Window::new(start);
        assert_eq!(window.share(start), 1.0, "nothing counted");
        window.count(at(0), true);
        window.count(at(50), false);
        window.count(at(950), false);
        window.count(at(950), true);
        assert_eq!(window.share(at(999)), 0.5);
        // The first tenth has gone by.
        assert_eq!(window.share(at(1_000)), 0.5);
        window.count(at(1_000), true);
        assert_eq!(window.share(at(1_000)), 2.0 / 3.0);
        assert_eq!(window.share(at(1_899)), 2.0 / 3.0, "950 ms still counts");
        assert_eq!(window.share(at(1_900)), 1.0, "only the one at 1 s");
        assert_eq!(window.share(at(5_000)), 1.0);
    }

    static SPAN_SITE: DefaultCallsite = DefaultCallsite::new(&SPAN);
    static SPAN: Metadata<'static> = Metadata::new(
        "span",
        "test",
        Level::INFO,
        None,
        None,
        None,
        FieldSet::new(&[], Identifier(&SPAN_SITE)),
        Kind::SPAN,
    );
    static INFO_SITE: DefaultCallsite = DefaultCallsite::new(&INFO);
    static INFO: Metadata<'static> = Metadata::new(
        "info",
        "test",
        Level::INFO,
        None,
        None,
        None,
        FieldSet::new(&[], Identifier(&INFO_SITE)),
        Kind::EVENT,
    );
    static ERROR_SITE: DefaultCallsite = DefaultCallsite::new(&ERROR);
    static ERROR: Metadata<'static> = Metadata::new(
        "error",
        "test",
        Level::ERROR,
        None,
        None,
        None,
        FieldSet::new(&[], Identifier(&ERROR_SITE)),
        Kind::EVENT,
    );

    /// An item of trace `trace`: an event (`error` or not) inside its root
    /// span, or the root itself, of `elapsed_ms`.
    fn item(trace: u8, what: &str, elapsed_ms: i64) -> Item {
        let root = TrackingId::Uuid(Uuid::from_u128(u128::from(trace)));
        let (meta, tracking_id, parent_id) = match what {
            "root" => (&SPAN, Some(root), None),
            "error" => (&ERROR, None, Some(root)),
            _ => (&INFO, None, Some(root)),
        };
        let common = Common {
            meta,
            log: None,
            tracking_id,
            parent_id,
            trace_id: TraceId::from_bytes([trace; 16]),
            remote_sampled: None,
            corrids: None,
            time_usec: 1_700_000_000_000_000,
            tid: 1,
            fields: Fields::default(),
        };
        match what {
            "root" => Item::Activity(ActivityRecord {
                common,
                start_usec: 1_700_000_000_000_000 - elapsed_ms * 1_000,
                failure: None,
                busy_usec: 0,
                idle_usec: 0,
            }),
            _ => Item::Event(EventRecord { common }),
        }
    }

    /// Runs the trace `trace` at `now`: `what` in order, the root last;
    /// what became of each, and its root's `sample_rate` if it went.
    fn run(
        sampling: &mut Sampling,
        now: Instant,
        trace: u8,
        what: &[&str],
        elapsed_ms: i64,
    ) -> (String, Option<f64>) {
        let mut fates = String::new();
        let mut rate = None;
        for (n, what) in what.iter().chain(&["root"]).enumerate() {
            let mut item = item(trace, what, elapsed_ms);
            let seq = u64::from(trace) * 100 + n as u64;
            let admitted = sampling.admit_at(seq, &mut item, &mut Vec::new(), now);
            let (fate, root) = match admitted {
                Admitted::Pass => ('p', Some(&item)),
                Admitted::Held => ('h', None),
                Admitted::Kept(ref items) => ('k', items.last().map(|(_, i)| i)),
                Admitted::Dropped(_) => ('d', None),
            };
            fates.push(fate);
            if let Some(Item::Activity(root)) = root {
                let properties = &root.common.fields.properties;
                rate = properties.iter().find_map(|(name, value)| match value {
                    Value::F64(rate) if *name == SAMPLE_RATE => Some(*rate),
                    _ => None,
                });
            }
        }
        (fates, rate)
    }

    #[test]
    fn over_budget_a_trace_is_left_out_and_kept_only_for_a_failure_or_its_duration() {
        let sampler = Sampler::ratio(1.0)
            .keep_slower_than(Duration::from_secs(1))
            .max_traces_per_second(2);
        let mut sampling = Sampling::new(sampler);
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let ok = ["info", "info"];
        assert_eq!(
            run(&mut sampling, at(0), 1, &ok, 1),
            ("ppp".into(), Some(1.0))
        );
        assert_eq!(
            run(&mut sampling, at(0), 2, &ok, 1),
            ("ppp".into(), Some(1.0))
        );
        // Over budget: held, then dropped whole; or kept whole.
        assert_eq!(run(&mut sampling, at(0), 3, &ok, 1), ("hhd".into(), None));
        let failed = ["info", "error"];
        assert_eq!(
            run(&mut sampling, at(0), 4, &failed, 1),
            ("hkp".into(), Some(1.0))
        );
        assert_eq!(
            run(&mut sampling, at(0), 5, &ok, 2_000),
            ("hhk".into(), Some(1.0))
        );
        // Half a second: one token. Of the traces counted, 3 in 4 kept.
        assert_eq!(
            run(&mut sampling, at(500), 6, &ok, 1),
            ("ppp".into(), Some(0.75))
        );
        assert_eq!(run(&mut sampling, at(500), 7, &ok, 1), ("hhd".into(), None));
        // A trace that took a token and failed gives it back; one that
        // failed first thing takes none.
        let (fates, rate) = run(&mut sampling, at(1_000), 8, &failed, 1);
        assert_eq!((fates.as_str(), rate), ("ppp", Some(1.0)));
        let first = ["error", "info"];
        assert_eq!(
            run(&mut sampling, at(1_000), 9, &first, 1),
            ("ppp".into(), Some(1.0))
        );
        // So this one has a token. The first tenth of a second is no
        // longer counted: 2 kept of 3.
        let (fates, rate) = run(&mut sampling, at(1_000), 10, &ok, 1);
        assert_eq!((fates.as_str(), rate), ("ppp", Some(2.0 / 3.0)));
        assert_eq!(
            run(&mut sampling, at(1_000), 11, &ok, 1),
            ("hhd".into(), None)
        );
        assert_eq!(
            sampling.traces.len(),
            0,
            "nothing remembered past the roots"
        );
        assert_eq!((sampling.decisions, sampling.held), (0, 0));
    }
}
