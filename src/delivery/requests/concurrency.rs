//! How many requests may be in flight: a limit that follows the round
//! trip, between 1 and `max_concurrent_requests`, after Vector's adaptive
//! request concurrency (AIMD), with a slow start as TCP's.
//!
//! Time is cut into periods of one mean round trip. At the end of each:
//! - back-pressure (a retryable answer, a timeout), or a round trip well
//!   above its running mean, cuts the limit to 90 %;
//! - otherwise, if the limit was reached and the round trip held, the
//!   limit grows: doubled until the first cut (slow start), then by one;
//!   doubled again once jKool answers after an outage.
//!
//! Each attempt is timed on its own, from its start to its answer, never a
//! whole retry sequence (Vector bug #26123), and retries go through the
//! same limit as new requests.

use tokio::time::{Duration, Instant};

/// Weight of the newest period in the running mean and variance.
const ALPHA: f64 = 0.4;

/// A round trip more than this many deviations above the mean is
/// back-pressure...
const DEVIATIONS: f64 = 2.5;

/// ...and never less than this fraction of the mean above it: a server at
/// a steady distance has almost no deviation, and a busy client's own
/// scheduling adds milliseconds that are not congestion.
const MIN_RISE: f64 = 0.5;

/// What a cut leaves of the limit.
const CUT: f64 = 0.9;

/// The limit to start at, as TCP starts with a window of a few segments:
/// four requests in flight at once were this crate's fixed number before
/// the limit adapted.
const INITIAL: usize = 4;

/// The limit on requests in flight, and what it learned of the round trip.
#[derive(Debug)]
pub(super) struct Concurrency {
    max: usize,
    limit: usize,
    slow_start: bool,
    /// Running mean and variance of the round trip, in seconds, over past
    /// periods; none before the first period ends.
    mean: Option<f64>,
    variance: f64,
    period: Period,
}

/// What one period saw.
#[derive(Debug)]
struct Period {
    started: Instant,
    rtt_sum: f64,
    answers: u32,
    reached: bool,
    back_pressure: bool,
}

impl Period {
    fn new(started: Instant) -> Self {
        Period {
            started,
            rtt_sum: 0.0,
            answers: 0,
            reached: false,
            back_pressure: false,
        }
    }
}

impl Concurrency {
    /// Starts at [`INITIAL`] requests, or `max` if fewer.
    pub(super) fn new(max: usize, now: Instant) -> Self {
        Concurrency {
            max: max.max(1),
            limit: INITIAL.min(max.max(1)),
            slow_start: true,
            mean: None,
            variance: 0.0,
            period: Period::new(now),
        }
    }

    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    /// A request was started and `in_flight` are now out.
    pub(super) fn started(&mut self, in_flight: usize) {
        if in_flight >= self.limit {
            self.period.reached = true;
        }
    }

    /// An attempt that took `rtt` was answered at `now`; `back_pressure`
    /// when the answer asks to slow down. Returns whether the limit
    /// changed.
    pub(super) fn answered(&mut self, now: Instant, rtt: Duration, back_pressure: bool) -> bool {
        let period = &mut self.period;
        period.rtt_sum += rtt.as_secs_f64();
        period.answers += 1;
        period.back_pressure |= back_pressure;
        let length = self.mean.unwrap_or(rtt.as_secs_f64());
        if now.saturating_duration_since(period.started).as_secs_f64() < length {
            return false;
        }
        let before = self.limit;
        self.adjust();
        self.period = Period::new(now);
        self.limit != before
    }

    fn adjust(&mut self) {
        let Period {
            rtt_sum,
            answers,
            reached,
            back_pressure,
            ..
        } = self.period;
        let current = rtt_sum / f64::from(answers.max(1));
        let Some(mean) = self.mean else {
            self.mean = Some(current);
            if !back_pressure && reached {
                self.grow();
            } else if back_pressure {
                self.cut();
            }
            return;
        };
        let deviation = self.variance.sqrt();
        let rise = (DEVIATIONS * deviation).max(MIN_RISE * mean);
        if back_pressure || current > mean + rise {
            self.cut();
        } else if reached && current <= mean + deviation.max(MIN_RISE * mean / 2.0) {
            self.grow();
        }
        let delta = current - mean;
        self.mean = Some(mean + ALPHA * delta);
        self.variance = (1.0 - ALPHA) * (self.variance + ALPHA * delta * delta);
    }

    /// jKool answers again after an outage, whose answers cut the limit to
    /// its floor: grow by doubling again, as TCP starts slowly again after
    /// a timeout, so that what waited goes out quickly.
    pub(super) fn slow_start_again(&mut self) {
        self.slow_start = true;
    }

    fn grow(&mut self) {
        let next = match self.slow_start {
            true => self.limit.saturating_mul(2),
            false => self.limit + 1,
        };
        self.limit = next.min(self.max);
    }

    fn cut(&mut self) {
        self.slow_start = false;
        self.limit = ((self.limit as f64 * CUT) as usize).max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs periods of `rtt` with the limit always reached; the limits
    /// after each.
    fn periods(c: &mut Concurrency, now: &mut Instant, rtt: Duration, n: usize) -> Vec<usize> {
        (0..n)
            .map(|_| {
                c.started(c.limit());
                *now += rtt;
                c.answered(*now, rtt, false);
                c.limit()
            })
            .collect()
    }

    #[test]
    fn starts_slow_doubles_then_stops_at_the_max() {
        let mut now = Instant::now();
        let mut c = Concurrency::new(100, now);
        let ms = Duration::from_millis(20);
        assert_eq!(periods(&mut c, &mut now, ms, 6), [8, 16, 32, 64, 100, 100]);
    }

    #[test]
    fn back_pressure_cuts_and_growth_after_it_is_by_one() {
        let mut now = Instant::now();
        let mut c = Concurrency::new(1000, now);
        let rtt = Duration::from_millis(50);
        periods(&mut c, &mut now, rtt, 3);
        assert_eq!(c.limit(), 32);
        c.started(32);
        now += rtt;
        assert!(c.answered(now, rtt, true));
        assert_eq!(c.limit(), 28);
        assert_eq!(periods(&mut c, &mut now, rtt, 3), [29, 30, 31]);
    }

    #[test]
    fn a_round_trip_far_above_its_mean_cuts_until_it_is_the_new_mean() {
        let mut now = Instant::now();
        let mut c = Concurrency::new(64, now);
        periods(&mut c, &mut now, Duration::from_millis(50), 10);
        assert_eq!(c.limit(), 64);
        let slow = periods(&mut c, &mut now, Duration::from_millis(500), 12);
        assert!(slow[0] < 64, "{slow:?}");
        let lowest = *slow.iter().min().unwrap();
        // Once 500 ms is the mean, the limit grows again.
        assert!(slow[11] > lowest, "{slow:?}");
        let fast = periods(&mut c, &mut now, Duration::from_millis(50), 40);
        assert_eq!(fast[39], 64, "{fast:?}");
    }

    #[test]
    fn an_unreached_limit_does_not_grow() {
        let mut now = Instant::now();
        let mut c = Concurrency::new(64, now);
        for _ in 0..10 {
            now += Duration::from_millis(20);
            c.answered(now, Duration::from_millis(20), false);
        }
        assert_eq!(c.limit(), INITIAL);
    }

    #[test]
    fn after_an_outage_the_limit_doubles_again() {
        let mut now = Instant::now();
        let mut c = Concurrency::new(256, now);
        let rtt = Duration::from_millis(50);
        for _ in 0..30 {
            c.started(c.limit());
            now += rtt;
            c.answered(now, rtt, true);
        }
        assert_eq!(c.limit(), 1);
        c.slow_start_again();
        assert_eq!(periods(&mut c, &mut now, rtt, 4), [2, 4, 8, 16]);
    }

    #[test]
    fn never_more_than_the_max_from_the_start() {
        assert_eq!(Concurrency::new(1, Instant::now()).limit(), 1);
    }
}
