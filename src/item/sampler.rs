//! Which traces are kept: a fraction decided from the trace id alone, as
//! OpenTelemetry's `TraceIdRatioBased` decides it, so that every service
//! (and an OpenTelemetry one) keeps the same traces; and the traces kept
//! whatever the fraction says.

use std::time::Duration;

use crate::item::trace_id::TraceId;

/// Keeps a fraction of traces, and every trace that failed or was slow.
///
/// Set with [`Builder::sampler`](crate::Builder::sampler). A trace is a
/// root span with everything inside it; events outside any span are not
/// sampled. A trace that another service began (its `traceparent` set
/// with [`JKoolSpanExt::set_parent_context`](crate::propagation::JKoolSpanExt::set_parent_context))
/// follows the caller's sampled flag, and the flag this service passes on
/// is its own decision.
///
/// A trace the fraction leaves out waits in memory until its root span
/// closes: it is sent whole when anything in it failed (an ERROR event, an
/// activity with status `EXCEPTION`) or, with
/// [`keep_slower_than`](Self::keep_slower_than), when its root took
/// longer; otherwise it is dropped and counted in
/// [`Stats::sampled_out`](crate::Stats::sampled_out). What waits is
/// bounded: at most [`MAX_TRACE_ITEMS`](Self::MAX_TRACE_ITEMS) items of
/// one trace and [`MAX_HELD_ITEMS`](Self::MAX_HELD_ITEMS) in all. Past
/// either, the trace (the oldest, past the second) is decided at once: it
/// is dropped, what it held and whatever else comes of it, but for its
/// failures: no ERROR event is lost to sampling. An ERROR event or failed
/// activity of a trace dropped so still goes, with the activities on its
/// path that close after it (its span and their parents), each marked with
/// the property `partial_trace = true`.
///
/// A decision made before the trace's root closed (a failure kept it, a
/// bound dropped it) is remembered until the root closes, for at most
/// [`MAX_DECISIONS`](Self::MAX_DECISIONS) traces at once (the oldest is
/// forgotten first; under 100 bytes each): until then no trace arrives in
/// part.
///
/// Each kept root activity carries the property `sample_rate` (double) in
/// its default snapshot: the fraction that applied, or `1.0` when it was
/// kept for an error or its duration, so that counts can be re-weighted.
///
/// With [`max_traces_per_second`](Self::max_traces_per_second), at most so
/// many of the traces the ratio keeps are kept each second; the others are
/// treated as left out (held, then kept whole only if they fail or are
/// slow), and `sample_rate` says the fraction that applied over the last
/// second (see there).
///
/// ```
/// use std::time::Duration;
/// use tracing_jkool::Sampler;
///
/// let sampler = Sampler::ratio(0.1)
///     .keep_slower_than(Duration::from_secs(2))
///     .max_traces_per_second(50);
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token").sampler(sampler);
/// # drop(builder);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampler {
    ratio: f64,
    keep_errors: bool,
    keep_slower_than: Option<Duration>,
    max_traces_per_second: Option<u32>,
}

impl Sampler {
    /// The most items of one sampled-out trace held until its root closes.
    pub const MAX_TRACE_ITEMS: usize = 1_000;

    /// The most items of sampled-out traces held at once.
    pub const MAX_HELD_ITEMS: usize = 10_000;

    /// The most decisions remembered for traces whose root has not closed.
    pub const MAX_DECISIONS: usize = 100_000;

    /// Keeps the fraction `ratio` (0 to 1) of traces, and, by default,
    /// every trace in which anything failed. A ratio outside 0 to 1 is
    /// refused by [`Builder::build`](crate::Builder::build).
    pub fn ratio(ratio: f64) -> Sampler {
        Sampler {
            ratio,
            keep_errors: true,
            keep_slower_than: None,
            max_traces_per_second: None,
        }
    }

    /// Whether a trace in which anything failed is kept whatever the
    /// ratio says (the default: yes).
    pub fn keep_errors(mut self, yes: bool) -> Self {
        self.keep_errors = yes;
        self
    }

    /// Keeps every trace whose root span took longer than `limit`.
    pub fn keep_slower_than(mut self, limit: Duration) -> Self {
        self.keep_slower_than = Some(limit);
        self
    }

    /// Keeps at most `n` of the traces the ratio keeps each second: a
    /// token bucket of `n` tokens, full at first and refilled at `n` a
    /// second on the delivery thread's monotonic clock (`0` keeps none by
    /// the ratio).
    ///
    /// A trace is charged when its first item reaches the delivery thread
    /// (its root closes last, and the items before it would otherwise have
    /// gone on already): with a token, the whole trace goes on as the ratio
    /// kept it; without one, it is treated as left out by the ratio, held
    /// until its root closes within the same bounds, and kept whole only if
    /// it failed or was slow (its root's `sample_rate` then `1.0`), else
    /// dropped and counted in [`Stats::sampled_out`](crate::Stats::sampled_out).
    /// Failed and slow traces use no token: one that fails on its first
    /// item takes none, and one that fails or turns out slow after taking
    /// one gives it back; either way its root's `sample_rate` is `1.0`,
    /// even when the ratio kept it. The decision is remembered until the
    /// root closes, with the others, for at most
    /// [`MAX_DECISIONS`](Self::MAX_DECISIONS) traces.
    ///
    /// A root kept by the ratio and the budget carries as `sample_rate` the
    /// ratio times the share of the traces the ratio kept whose roots
    /// closed in the last second (in tenths of a second, the current one
    /// included) that the budget kept too, this one among them; traces
    /// kept for a failure or their duration are not counted. The rate can
    /// only say what came before: at the start of a burst, the first `n`
    /// roots still say the ratio.
    ///
    /// A trace continued from another service's `traceparent` follows the
    /// caller's sampled flag and is not charged: the budget does not apply
    /// to it. The flag this service passes on is the ratio's decision, made
    /// before the budget's, so a service that follows it may keep a trace
    /// this one left out for its budget.
    ///
    /// ```
    /// use tracing_jkool::Sampler;
    ///
    /// // Every trace, but at most 100 a second (and every failed one).
    /// let sampler = Sampler::ratio(1.0).max_traces_per_second(100);
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token").sampler(sampler);
    /// # drop(builder);
    /// ```
    pub fn max_traces_per_second(mut self, n: u32) -> Self {
        self.max_traces_per_second = Some(n);
        self
    }

    /// The same, keeping the fraction `ratio` instead.
    pub(crate) fn with_ratio(mut self, ratio: f64) -> Self {
        self.ratio = ratio;
        self
    }

    /// The fraction of traces kept.
    pub fn fraction(&self) -> f64 {
        self.ratio
    }

    pub(crate) fn keeps_errors(&self) -> bool {
        self.keep_errors
    }

    pub(crate) fn slower_than(&self) -> Option<Duration> {
        self.keep_slower_than
    }

    pub(crate) fn budget(&self) -> Option<u32> {
        self.max_traces_per_second
    }

    /// Whether the ratio keeps the trace `id`: its low 64 bits, shifted
    /// right once, against the ratio's share of 2^63, as OpenTelemetry's
    /// `TraceIdRatioBased` decides.
    /// Refuses a ratio outside 0 to 1.
    pub(crate) fn check(&self) -> Result<(), crate::Error> {
        if (0.0..=1.0).contains(&self.ratio) {
            return Ok(());
        }
        Err(crate::Error::InvalidSetting {
            setting: "sampler",
            reason: format!("the ratio must be from 0 to 1, not {}", self.ratio),
        })
    }

    pub(crate) fn samples(&self, id: TraceId) -> bool {
        if self.ratio >= 1.0 {
            return true;
        }
        let bound = (self.ratio.max(0.0) * (1u64 << 63) as f64) as u64;
        let bytes = id.to_bytes();
        let mut low = [0; 8];
        low.copy_from_slice(&bytes[8..]);
        (u64::from_be_bytes(low) >> 1) < bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(low: u64) -> TraceId {
        let mut bytes = [0; 16];
        bytes[0] = 1;
        bytes[8..].copy_from_slice(&low.to_be_bytes());
        TraceId::from_bytes(bytes).unwrap()
    }

    #[test]
    fn the_low_half_of_the_trace_id_decides_as_opentelemetry_does() {
        let half = Sampler::ratio(0.5);
        // (low >> 1) < 2^62 exactly when the low half is below 2^63.
        assert!(half.samples(id((1 << 63) - 1)));
        assert!(!half.samples(id(1 << 63)));
        assert!(Sampler::ratio(1.0).samples(id(u64::MAX)));
        assert!(!Sampler::ratio(0.0).samples(id(0)));
        let kept = (0..10_000u64)
            .filter(|n| Sampler::ratio(0.1).samples(id(n.wrapping_mul(0x9e37_79b9_7f4a_7c15))))
            .count();
        assert!((800..1_200).contains(&kept), "{kept}");
    }
}
