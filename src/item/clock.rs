//! Clocks, read straight from the OS on Unix, with `clock_gettime`: the
//! standard library's `SystemTime` and `Instant` check and normalize every
//! difference, which costs more than reading the clock, once per event and
//! several times per span on the application's thread.

/// Microseconds since the Unix epoch, jKool's unit of time.
pub(crate) fn now_usec() -> i64 {
    os::realtime_nanos() / 1_000
}

/// Nanoseconds on a clock that never goes back, from an arbitrary start:
/// for a span's busy and idle time.
pub(crate) fn monotonic_nanos() -> u64 {
    os::monotonic_nanos()
}

/// Every Unix has `clock_gettime` (the standard library reads its clocks
/// with it there too).
#[cfg(unix)]
mod os {
    use std::mem::MaybeUninit;

    fn read(clock: libc::clockid_t) -> Option<libc::timespec> {
        let mut time = MaybeUninit::<libc::timespec>::uninit();
        // SAFETY: `clock_gettime` writes a whole `timespec` into the
        // pointer it is given, which points to one, when it returns 0.
        match unsafe { libc::clock_gettime(clock, time.as_mut_ptr()) } {
            // SAFETY: written, as above.
            0 => Some(unsafe { time.assume_init() }),
            _ => None,
        }
    }

    // `time_t` and `c_long` are narrower than `i64` on some targets.
    #[allow(clippy::useless_conversion)]
    fn nanos(time: libc::timespec) -> i64 {
        i64::from(time.tv_sec) * 1_000_000_000 + i64::from(time.tv_nsec)
    }

    pub(super) fn realtime_nanos() -> i64 {
        read(libc::CLOCK_REALTIME).map_or(0, nanos)
    }

    pub(super) fn monotonic_nanos() -> u64 {
        read(libc::CLOCK_MONOTONIC).map_or(0, |time| nanos(time).max(0) as u64)
    }
}

/// Elsewhere, the standard library's clocks.
#[cfg(not(unix))]
mod os {
    use std::sync::OnceLock;
    use std::time::{Instant, SystemTime, UNIX_EPOCH};

    pub(super) fn realtime_nanos() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64)
    }

    pub(super) fn monotonic_nanos() -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_nanos() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    #[test]
    fn wall_clock_agrees_with_system_time() {
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        let now = now_usec();
        let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        assert!(before.as_micros() as i64 <= now, "{before:?} > {now}");
        assert!(now <= after.as_micros() as i64, "{now} > {after:?}");
    }

    #[test]
    fn monotonic_clock_measures_what_instant_does() {
        // Each read bracketed by `Instant`'s, on the same clock: exact,
        // however the thread is scheduled.
        let (before, start, after) = (Instant::now(), monotonic_nanos(), Instant::now());
        std::thread::sleep(Duration::from_millis(20));
        let (before_end, end, after_end) = (Instant::now(), monotonic_nanos(), Instant::now());
        let spent = Duration::from_nanos(end - start);
        assert!(spent >= before_end - after, "{spent:?}");
        assert!(spent <= after_end - before, "{spent:?}");
        assert!(spent >= Duration::from_millis(20), "{spent:?}");
    }
}
