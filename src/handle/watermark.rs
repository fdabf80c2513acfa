//! Which items the delivery thread is done with, by their place in the
//! queue: a flush waits until every item queued before it is done with,
//! whatever became of items queued after it.

use std::collections::VecDeque;

/// The items done with, each named by its place in the queue (its
/// sequence number: the first item the delivery thread took is 0). All
/// below `base` are done with; above it, one bit per item.
#[derive(Debug, Default)]
pub(crate) struct Watermark {
    /// A multiple of 64: the first item of `words[0]`.
    base: u64,
    words: VecDeque<u64>,
}

impl Watermark {
    /// Item `seq` is done with. Its bit is kept only while an earlier item
    /// is not, so memory follows how far the oldest item lags behind.
    pub(crate) fn done(&mut self, seq: u64) {
        let Some(offset) = seq.checked_sub(self.base) else {
            return;
        };
        let word = (offset / 64) as usize;
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (offset % 64);
        while self.words.front() == Some(&u64::MAX) {
            self.words.pop_front();
            self.base += 64;
        }
    }

    /// The first item not done with: every item before it is.
    pub(crate) fn low(&self) -> u64 {
        let front = self.words.front().map_or(0, |w| w.trailing_ones());
        self.base + u64::from(front)
    }

    /// How many of the items before `end` are not done with.
    pub(crate) fn not_done_below(&self, end: u64) -> u64 {
        let mut count = 0;
        let mut start = self.base;
        for word in &self.words {
            if start >= end {
                return count;
            }
            let in_range = (end - start).min(64);
            let mask = if in_range == 64 {
                u64::MAX
            } else {
                (1 << in_range) - 1
            };
            count += u64::from((!word & mask).count_ones());
            start += 64;
        }
        count + end.saturating_sub(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_low_mark_stops_at_the_first_item_not_done_with() {
        let mut mark = Watermark::default();
        assert_eq!((mark.low(), mark.not_done_below(3)), (0, 3));
        for seq in [1, 2, 200] {
            mark.done(seq);
        }
        assert_eq!(mark.low(), 0, "item 0 is not done with");
        assert_eq!(mark.not_done_below(3), 1);
        assert_eq!(mark.not_done_below(201), 198);
        mark.done(0);
        assert_eq!(mark.low(), 3);
        for seq in 3..200 {
            mark.done(seq);
        }
        assert_eq!(mark.low(), 201);
        assert_eq!(mark.not_done_below(201), 0);
        assert_eq!(mark.words.len(), 1, "whole words behind the mark go");
        mark.done(5);
        assert_eq!(mark.low(), 201, "an item done twice changes nothing");
        assert_eq!(mark.not_done_below(1_000), 799);
    }
}
