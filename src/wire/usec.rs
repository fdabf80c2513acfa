//! Times in microseconds as JSON digits. Every time from 2001-09-09 to 2286
//! has sixteen digits: those are made eight at a time in one 64-bit word,
//! rather than two at a time as `itoa` does for any integer; and an
//! activity's times.

use super::json::{key, Object};
use crate::item::model::{ActivityRecord, Common};

/// A time in microseconds, written as its decimal digits.
pub(super) struct Usec {
    digits: [u8; 20],
    len: usize,
}

impl Usec {
    /// The digits of `usec`.
    #[inline]
    pub(super) fn new(usec: i64) -> Self {
        let mut digits = [0; 20];
        if (1_000_000_000_000_000..10_000_000_000_000_000).contains(&usec) {
            let usec = usec as u64;
            let high = (usec / 100_000_000) as u32;
            let low = (usec % 100_000_000) as u32;
            digits[..8].copy_from_slice(&eight_digits(high));
            digits[8..16].copy_from_slice(&eight_digits(low));
            return Usec { digits, len: 16 };
        }
        // Before 2001-09-09 or after 2286: any other integer.
        let mut buffer = itoa::Buffer::new();
        let text = buffer.format(usec).as_bytes();
        digits[..text.len()].copy_from_slice(text);
        Usec {
            digits,
            len: text.len(),
        }
    }

    /// The digits, as JSON writes the number.
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.digits[..self.len]
    }
}

/// The eight decimal digits of `n` (below 10^8), zeros in front, most
/// significant first: its halves are split into hundreds and the rest,
/// then into tens and ones, each step for all lanes of the word at once.
#[inline]
fn eight_digits(n: u32) -> [u8; 8] {
    // Two 32-bit lanes, each below 10,000; the first digits in the low one,
    // which is the first in memory.
    let mut x = u64::from(n / 10_000) | u64::from(n % 10_000) << 32;
    // v / 100 is (v * 5243) >> 19 for every v below 10,000; each lane's
    // product stays in its lane.
    let hundreds = ((x * 5243) >> 19) & 0x0000_007f_0000_007f;
    // Four 16-bit lanes, each below 100: hundreds low, the rest high.
    x = hundreds | (x - 100 * hundreds) << 16;
    // v / 10 is (v * 103) >> 10 for every v below 100.
    let tens = ((x * 103) >> 10) & 0x000f_000f_000f_000f;
    // Eight bytes, each a digit: tens low, ones high.
    x = tens | (x - 10 * tens) << 8;
    (x + 0x3030_3030_3030_3030).to_le_bytes()
}

/// Writes an activity's start, end, elapsed and wait times.
/// It ends at its time, `time_usec`, written before as digits.
pub(super) fn times(
    item: &mut Object<'_>,
    time_usec: &[u8],
    common: &Common,
    activity: &ActivityRecord,
) {
    item.key(key::START_TIME_USEC);
    item.raw(Usec::new(activity.start_usec).as_bytes());
    item.key(key::END_TIME_USEC);
    item.raw(time_usec);
    let elapsed = common.time_usec.saturating_sub(activity.start_usec).max(0);
    item.i64(key::ELAPSED_TIME_USEC, elapsed);
    item.u64(key::WAIT_TIME_USEC, activity.idle_usec);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn itoa(n: impl itoa::Integer) -> Vec<u8> {
        itoa::Buffer::new().format(n).as_bytes().to_owned()
    }

    #[test]
    fn eight_digits_are_what_format_writes_zero_padded() {
        // Every lane value at every place: all of 0..10,000 in either half,
        // and a stride through the rest.
        let ns = (0..10_000u32)
            .flat_map(|v| [v, v * 10_000, v * 10_000 + 9_999 - v])
            .chain((0..100_000_000).step_by(9_973))
            .chain([99_999_999]);
        for n in ns {
            assert_eq!(eight_digits(n), format!("{n:08}").as_bytes(), "{n}");
        }
    }

    #[test]
    fn times_are_written_as_itoa_writes_them() {
        let mut times = vec![
            0,
            1,
            -1,
            999_999_999_999_999,
            1_000_000_000_000_000,
            1_000_000_000_000_001,
            1_795_705_313_824_605,
            9_999_999_999_999_999,
            10_000_000_000_000_000,
            i64::MIN,
            i64::MAX,
        ];
        // Each digit place changing alone.
        for place in 0..16 {
            let step = 10i64.pow(place);
            times.extend((0..10).map(|d| 1_700_000_000_000_000 + d * step));
        }
        times.extend((0..100_000).map(|i| 1_795_705_313_824_605 + i * 7_919_001));
        for usec in times {
            assert_eq!(Usec::new(usec).as_bytes(), itoa(usec), "{usec}");
        }
    }
}
