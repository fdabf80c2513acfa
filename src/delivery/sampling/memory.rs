//! What sampling remembers, and within which bounds: the traces held,
//! the decisions made before a root came, and what is forgotten first.

use super::{Sampling, Trace};
use crate::item::sampler::Sampler;
use crate::item::trace_id::TraceId;

/// Bounds on what is held and remembered.
impl Sampling {
    /// Decides `trace` now, to keep within the bounds: what it held, and
    /// whatever else comes of it, is dropped.
    pub(super) fn drop_early(&mut self, trace: TraceId) -> Vec<u64> {
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
    pub(super) fn remember(&mut self, trace: TraceId, decision: Trace) {
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
    pub(super) fn forget(&mut self, trace: TraceId) {
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
    pub(super) fn tidy_order(&mut self) {
        if self.order.len() > 2 * Sampler::MAX_HELD_ITEMS {
            let traces = &self.traces;
            (self.order).retain(|t| matches!(traces.get(t), Some(Trace::Holding(_))));
        }
    }
}
