//! When to try a request again: exponential backoff with jitter, and the
//! server's `Retry-After`, both capped.

use std::time::{Duration, SystemTime};

/// The first retry waits about this long; each further one doubles it.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The wait before retry number `attempt` (1 for the first retry):
/// exponential backoff with jitter, or the server's `Retry-After` when it
/// asks for longer (a `Retry-After: 0`, or a date in the past, never makes
/// a retry come sooner); never more than `cap`.
pub(crate) fn wait_before(attempt: u32, retry_after: Option<Duration>, cap: Duration) -> Duration {
    let full = FIRST_BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    // "Equal jitter": half fixed, half random, so that clients that failed
    // together do not retry together.
    let half = full.min(cap) / 2;
    let backoff = half + half.mul_f64(random_fraction());
    retry_after.unwrap_or_default().max(backoff).min(cap)
}

/// A `Retry-After` value: delay seconds, or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A number in [0, 1), random enough for jitter.
fn random_fraction() -> f64 {
    (uuid::Uuid::new_v4().as_u128() as u64 >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stays_under_the_cap() {
        let cap = Duration::from_secs(30);
        for attempt in 1..=5 {
            let full = FIRST_BACKOFF * (1 << (attempt - 1));
            let wait = wait_before(attempt, None, cap);
            assert!(
                wait >= full / 2 && wait <= full,
                "attempt {attempt}: {wait:?}"
            );
        }
        assert!(wait_before(40, None, cap) <= cap);
        assert!(wait_before(40, None, cap) >= cap / 2);
    }

    #[test]
    fn a_longer_retry_after_wins_but_is_capped() {
        let cap = Duration::from_secs(10);
        let after = Some(Duration::from_secs(3));
        assert_eq!(wait_before(1, after, cap), Duration::from_secs(3));
        assert_eq!(wait_before(1, Some(Duration::from_secs(99)), cap), cap);
    }

    #[test]
    fn a_retry_after_of_zero_still_waits_the_backoff() {
        let cap = Duration::from_secs(30);
        for attempt in 1..=4 {
            let half = FIRST_BACKOFF * (1 << (attempt - 1)) / 2;
            assert!(wait_before(attempt, Some(Duration::ZERO), cap) >= half);
        }
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
        let in_a_minute = SystemTime::now() + Duration::from_secs(60);
        let parsed = parse_retry_after(&httpdate::fmt_http_date(in_a_minute)).unwrap();
        assert!(parsed > Duration::from_secs(58) && parsed <= Duration::from_secs(60));
        let past = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH);
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
