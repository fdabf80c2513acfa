//! A histogram's samples over one report interval, and their summary:
//! count, min, max, mean, and nearest-rank quantiles.

use crate::{Snapshot, ValueType};

/// The most samples a histogram keeps per interval for its quantiles.
pub(super) const MAX_SAMPLES: usize = 4096;
/// The quantiles reported, with their property suffixes.
const QUANTILES: [(&str, f64); 3] = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)];

/// A histogram's samples since the last report.
#[derive(Debug, Default)]
pub(super) struct Window {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    samples: Vec<f64>,
    /// xorshift64 state for reservoir sampling; never 0.
    rng: u64,
}

impl Window {
    pub(super) fn record(&mut self, value: f64) {
        if self.count == 0 {
            (self.min, self.max, self.sum) = (value, value, 0.0);
        }
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(value);
            return;
        }
        // Algorithm R: the new sample replaces a kept one with probability
        // MAX_SAMPLES / count.
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

    /// The window's properties, named `name.*`.
    pub(super) fn report(mut self, snapshot: Snapshot, name: &str, unit: ValueType) -> Snapshot {
        let count = format!("{name}.count");
        let mut snapshot = snapshot.property_with_unit(count, self.count, ValueType::Gauge);
        if self.count == 0 {
            return snapshot;
        }
        self.samples.sort_unstable_by(f64::total_cmp);
        let n = self.samples.len();
        let mean = self.sum / self.count as f64;
        let stats = [("min", self.min), ("max", self.max), ("mean", mean)];
        let quantiles = QUANTILES.map(|(suffix, p)| {
            // Nearest rank: the ceil(p * n)-th smallest sample.
            let rank = (p * n as f64).ceil() as usize;
            (suffix, self.samples[rank.clamp(1, n) - 1])
        });
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
}
