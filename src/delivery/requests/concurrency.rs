//! How many requests may be in flight: a limit between 1 and
//! `max_concurrent_requests`, after Vector's adaptive request concurrency
//! (AIMD), with a slow start as TCP's.
//!
//! Time is cut into periods of one mean round trip. At the end of each:
//! - back-pressure (a retryable answer, a timeout) cuts the limit to 90 %;
//! - otherwise, if the limit was reached, it grows: doubled until the
//!   first cut (slow start), then by an eighth; doubled again once jKool
//!   answers after an outage.
//!
//! A longer round trip alone is not back-pressure: it needs more requests
//! in flight, not fewer. A period ends at its length even when no answer
//! came in it (the round trip grew past it), so the limit grows with the
//! round trip: 2,000 events/s over a round trip that goes from 20 ms to
//! 2 s need 4,000 requests in flight within a few of the old round trips.
//!
//! Each attempt is timed on its own, from its start to its answer, never a
//! whole retry sequence (Vector bug #26123), and retries go through the
//! same limit as new requests.

use tokio::time::{Duration, Instant};

/// Weight of the newest period in the running mean of the round trip.
const ALPHA: f64 = 0.4;

/// What a cut leaves of the limit.
const CUT: f64 = 0.9;

/// After the first cut, the limit grows by this fraction of itself per
/// period (and at least one): a limit far below the need gets there in
/// tens of round trips, not thousands.
const GROWTH: usize = 8;

/// The limit to start at, as TCP starts with a window of a few segments:
/// four requests in flight at once were this crate's fixed number before
/// the limit adapted.
const INITIAL: usize = 4;

/// The shortest period: below it, the limit would double on the
/// scheduling of one busy thread.
const MIN_PERIOD: f64 = 0.001;

/// The limit on requests in flight, and what it learned of the round trip.
#[derive(Debug)]
pub(super) struct Concurrency {
    max: usize,
    limit: usize,
    slow_start: bool,
    /// Running mean of the round trip, in seconds, over past periods; none
    /// before the first answer.
    mean: Option<f64>,
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
        if self.mean.is_none() {
            self.mean = Some(rtt.as_secs_f64());
        }
        self.tick(now)
    }

    /// When the period ends, once a round trip is known.
    pub(super) fn period_end(&self) -> Option<Instant> {
        let length = Duration::from_secs_f64(self.mean?.max(MIN_PERIOD));
        Some(self.period.started + length)
    }

    /// Ends the period if it is over at `now`, answered or not. Returns
    /// whether the limit changed.
    pub(super) fn tick(&mut self, now: Instant) -> bool {
        let (Some(mean), Some(end)) = (self.mean, self.period_end()) else {
            return false;
        };
        if now < end {
            return false;
        }
        let before = self.limit;
        let Period {
            rtt_sum,
            answers,
            reached,
            back_pressure,
            ..
        } = self.period;
        if back_pressure {
            self.cut();
        } else if reached {
            self.grow();
        }
        if answers > 0 {
            let current = rtt_sum / f64::from(answers);
            self.mean = Some(mean + ALPHA * (current - mean));
        }
        self.period = Period::new(now);
        self.limit != before
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
            false => self.limit + (self.limit / GROWTH).max(1),
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
    fn back_pressure_cuts_and_growth_after_it_is_by_an_eighth() {
        let mut now = Instant::now();
        let mut c = Concurrency::new(1000, now);
        let rtt = Duration::from_millis(50);
        periods(&mut c, &mut now, rtt, 3);
        assert_eq!(c.limit(), 32);
        c.started(32);
        now += rtt;
        assert!(c.answered(now, rtt, true));
        assert_eq!(c.limit(), 28);
        assert_eq!(periods(&mut c, &mut now, rtt, 3), [31, 34, 38]);
    }

    #[test]
    fn a_longer_round_trip_is_not_back_pressure_the_limit_grows_to_cover_it() {
        let mut now = Instant::now();
        let mut c = Concurrency::new(4096, now);
        let rtt = Duration::from_millis(20);
        assert_eq!(periods(&mut c, &mut now, rtt, 4), [8, 16, 32, 64]);
        // The round trip grows to 2 s: no answer comes for a while, and
        // every slot stays busy. The limit doubles each old round trip.
        c.started(c.limit());
        let mut limits = Vec::new();
        for _ in 0..8 {
            now += rtt;
            c.tick(now);
            limits.push(c.limit());
            c.started(c.limit());
        }
        assert_eq!(limits, [128, 256, 512, 1024, 2048, 4096, 4096, 4096]);
        // Answers of 2 s neither cut it nor shrink it.
        now += Duration::from_secs(2);
        c.answered(now, Duration::from_secs(2), false);
        assert_eq!(c.limit(), 4096);
    }

    #[test]
    fn a_free_slot_stops_the_growth_of_a_period_without_answers() {
        let mut now = Instant::now();
        let mut c = Concurrency::new(4096, now);
        let rtt = Duration::from_millis(20);
        periods(&mut c, &mut now, rtt, 2);
        assert_eq!(c.limit(), 16);
        now += rtt;
        c.tick(now);
        now += rtt;
        c.tick(now);
        assert_eq!(c.limit(), 16);
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
