//! The budget of [`Sampler::max_traces_per_second`]: a token bucket that
//! charges each trace the ratio keeps, and a one-second window of what
//! was kept, to say the rate that applied.

use std::time::{Duration, Instant};

use super::{set_rate, Admitted, Facts, Sampling, Trace};
use crate::item::model::Item;
use crate::item::sampler::Sampler;

/// How many of the traces the ratio keeps are kept each second, and how
/// many were, to say the rate that applied.
#[derive(Debug)]
pub(super) struct Budget {
    pub(super) bucket: Bucket,
    pub(super) window: Window,
}

impl Budget {
    pub(super) fn of(sampler: Sampler) -> Option<Budget> {
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
pub(super) struct Bucket {
    per_second: u64,
    /// Billionths of a token.
    nanos: u64,
    at: Instant,
}

/// A token, in billionths.
const TOKEN: u64 = 1_000_000_000;

impl Bucket {
    /// A full bucket of `n` tokens.
    pub(super) fn new(n: u32, now: Instant) -> Self {
        Bucket {
            per_second: u64::from(n),
            nanos: u64::from(n) * TOKEN,
            at: now,
        }
    }

    /// Takes a token at `now`, if there is one.
    pub(super) fn take(&mut self, now: Instant) -> bool {
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
    pub(super) fn give_back(&mut self) {
        self.nanos = (self.nanos + TOKEN).min(self.per_second * TOKEN);
    }
}

/// The traces the ratio kept whose roots came in the last second, in
/// tenths of a second, and how many of them the budget kept.
#[derive(Debug)]
pub(super) struct Window {
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
    pub(super) fn new(now: Instant) -> Self {
        Window {
            epoch: now,
            slots: [(0, 0, 0); SLOTS],
        }
    }

    fn slot(&self, now: Instant) -> u64 {
        (now.saturating_duration_since(self.epoch).as_nanos() / SLOT.as_nanos()) as u64
    }

    /// Counts a trace whose root came at `now`, and whether it was kept.
    pub(super) fn count(&mut self, now: Instant, kept: bool) {
        let slot = self.slot(now);
        let entry = &mut self.slots[(slot % SLOTS as u64) as usize];
        if entry.0 != slot {
            *entry = (slot, 0, 0);
        }
        entry.1 += 1;
        entry.2 += u64::from(kept);
    }

    /// The share kept over the last second; 1 when none was counted.
    pub(super) fn share(&self, now: Instant) -> f64 {
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

/// What the budget decides of a trace the ratio keeps.
impl Sampling {
    /// An item of a trace the ratio keeps, with a budget: what becomes of
    /// it when the trace is kept, by the budget, or for a failure or its
    /// duration before it took a token; `None` when the trace is over
    /// budget, to be treated as left out by the ratio.
    pub(super) fn within_budget(&mut self, facts: &Facts, item: &mut Item) -> Option<Admitted> {
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
    pub(super) fn passing(&mut self, facts: &Facts, item: &mut Item) -> Admitted {
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
    pub(super) fn count(&mut self, now: Instant, kept: bool) -> f64 {
        let Some(budget) = &mut self.budget else {
            return self.sampler.fraction();
        };
        budget.window.count(now, kept);
        self.sampler.fraction() * budget.window.share(now)
    }
}
