//! Wall-clock time in jKool's unit.

use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch, jKool's unit of time.
pub(crate) fn now_usec() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
