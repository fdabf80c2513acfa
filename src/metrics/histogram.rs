//! A histogram's samples over one report interval, and their summary:
//! count, min, max, mean, and nearest-rank quantiles. Used by the
//! `metrics` facade's recorder and by the operation metrics.

#[cfg(feature = "metrics")]
use crate::{Snapshot, ValueType};

/// The most samples a histogram keeps per interval for its quantiles,
/// unless made with [`Window::with_limit`].
pub(super) const MAX_SAMPLES: usize = 4096;
/// The quantiles reported, with their property suffixes.
#[cfg(feature = "metrics")]
const QUANTILES: [(&str, f64); 3] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)];

/// A histogram's samples since the last report.
#[derive(Debug, Default)]
pub(super) struct Window {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    samples: Vec<f64>,
    /// The most samples kept; 0 is [`MAX_SAMPLES`].
    limit: usize,
    /// xorshift64 state for reservoir sampling; never 0.
    rng: u64,
}

impl Window {
    /// An empty window that keeps at most `limit` samples (at least 1).
    pub(super) fn with_limit(limit: usize) -> Self {
        Window {
            limit: limit.max(1),
            ..Window::default()
        }
    }

    fn limit(&self) -> usize {
        match self.limit {
            0 => MAX_SAMPLES,
            limit => limit,
        }
    }

    pub(super) fn record(&mut self, value: f64) {
        if self.count == 0 {
            (self.min, self.max, self.sum) = (value, value, 0.0);
        }
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if self.samples.len() < self.limit() {
            self.samples.push(value);
            return;
        }
        // Algorithm R: the new sample replaces a kept one with probability
        // limit / count.
        if self.rng == 0 {
            self.rng = 0x9E37_79B9_7F4A_7C15;
        }
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let slot = self.rng % self.count;
        if let Some(kept) = self.samples.get_mut(slot as usize) {
            *kept = value;
        }
    }

    /// The largest sample recorded, exact; `None` when empty.
    pub(super) fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// The nearest-rank quantile `p` (0 to 1) of each of `ps`: the
    /// ceil(p * n)-th smallest of the n samples kept; `None` when empty.
    pub(super) fn quantiles<const N: usize>(&mut self, ps: [f64; N]) -> Option<[f64; N]> {
        if self.samples.is_empty() {
            return None;
        }
        self.samples.sort_unstable_by(f64::total_cmp);
        let n = self.samples.len();
        Some(ps.map(|p| {
            let rank = (p * n as f64).ceil() as usize;
            self.samples[rank.clamp(1, n) - 1]
        }))
    }

    /// The window's properties, named `name.*`.
    #[cfg(feature = "metrics")]
    pub(super) fn report(mut self, snapshot: Snapshot, name: &str, unit: ValueType) -> Snapshot {
        let count = format!("{name}.count");
        let mut snapshot = snapshot.property_with_unit(count, self.count, ValueType::Gauge);
        let Some(values) = self.quantiles(QUANTILES.map(|(_, p)| p)) else {
            return snapshot;
        };
        let mean = self.sum / self.count as f64;
        let stats = [("min", self.min), ("max", self.max), ("mean", mean)];
        let quantiles = (QUANTILES.iter().map(|(suffix, _)| *suffix)).zip(values);
        for (suffix, value) in stats.into_iter().chain(quantiles) {
            snapshot = snapshot.property_with_unit(format!("{name}.{suffix}"), value, unit);
        }
        snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_reservoir_count_min_max_and_mean_stay_exact() {
        let mut window = Window::default();
        for i in 1..=10_000u32 {
            window.record(f64::from(i));
        }
        assert_eq!(window.samples.len(), MAX_SAMPLES);
        assert_eq!(
            (window.count, window.min, window.max),
            (10_000, 1.0, 10_000.0)
        );
        assert_eq!(window.sum / 10_000.0, 5_000.5);
    }

    #[test]
    fn a_limited_window_keeps_its_limit_and_ranks_what_it_kept() {
        let mut window = Window::with_limit(100);
        assert_eq!(window.quantiles([0.5]), None);
        assert_eq!(window.max(), None);
        for i in (1..=100u32).rev() {
            window.record(f64::from(i));
        }
        assert_eq!(window.quantiles([0.5, 0.9, 0.99]), Some([50.0, 90.0, 99.0]));
        for i in 101..=1_000u32 {
            window.record(f64::from(i));
        }
        assert_eq!(window.samples.len(), 100);
        assert_eq!((window.count, window.max()), (1_000, Some(1_000.0)));
        let [p50] = window.quantiles([0.5]).unwrap();
        assert!((1.0..=1_000.0).contains(&p50), "{p50}");
    }
}
