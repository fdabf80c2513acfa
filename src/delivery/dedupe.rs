//! Optional duplicate suppression, as jKool's Java sink offers: the same
//! message from the same callsite within a window is sent once, with a
//! `repeat_count` property. Field values are not part of the key: repeats
//! that differ only in their fields are folded, and the first one's fields
//! are sent.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use compact_str::CompactString;
use tokio::time::Instant;

use crate::item::model::Item;
use crate::item::value::Value;

/// The property that says how often a held event happened in its window.
pub(crate) const REPEAT_COUNT: &str = "repeat_count";

/// Default for how many distinct events are held at once.
pub(crate) const DEFAULT_CAPACITY: usize = 10_000;

/// A callsite (its metadata's address) and a message.
type Key = (usize, CompactString);

/// Events held for their window. Every window has the same length, so
/// the order they were first seen in is the order they are due in: each
/// item costs O(1), however many are held.
#[derive(Debug)]
pub(crate) struct Dedupe {
    window: Duration,
    capacity: usize,
    held: HashMap<Key, HeldEvent>,
    due: VecDeque<(Instant, Key)>,
}

#[derive(Debug)]
struct HeldEvent {
    item: Item,
    /// Its place in the queue.
    seq: u64,
    count: u64,
}

/// Why [`Dedupe::admit`] kept an item back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Absorbed {
    /// The first of its kind: held until its window ends.
    Held,
    /// A repeat within the window: counted on the held one, not sent.
    Repeat,
}

impl Dedupe {
    pub(crate) fn new(window: Duration, capacity: usize) -> Self {
        Dedupe {
            window,
            capacity,
            held: HashMap::new(),
            due: VecDeque::new(),
        }
    }

    /// Gives back what is not an event of a tracing callsite, and what
    /// does not fit (more than `capacity` distinct events held), to deliver
    /// now; keeps the rest.
    pub(crate) fn admit(&mut self, item: Item, seq: u64, now: Instant) -> Result<Item, Absorbed> {
        let Item::Event(event) = &item else {
            return Ok(item);
        };
        // The callsite's metadata is 'static: its address identifies it.
        let callsite = std::ptr::from_ref(event.common.meta) as usize;
        let key = (
            callsite,
            event.common.fields.message.clone().unwrap_or_default(),
        );
        if let Some(held) = self.held.get_mut(&key) {
            held.count += 1;
            return Err(Absorbed::Repeat);
        }
        if self.held.len() >= self.capacity {
            return Ok(item);
        }
        self.due.push_back((now + self.window, key.clone()));
        let held = HeldEvent {
            item,
            seq,
            count: 1,
        };
        self.held.insert(key, held);
        Err(Absorbed::Held)
    }

    /// When the next held event is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.due.front().map(|(at, _)| *at)
    }

    /// The held events whose window ended by `now` (all of them for
    /// `None`), in the order they first happened, each with its
    /// `repeat_count` when it happened more than once, and its place in
    /// the queue.
    pub(crate) fn release(&mut self, now: Option<Instant>) -> Vec<(u64, Item)> {
        let mut released = Vec::new();
        while let Some((at, _)) = self.due.front() {
            if now.is_some_and(|now| *at > now) {
                break;
            }
            let Some((_, key)) = self.due.pop_front() else {
                break;
            };
            let Some(mut held) = self.held.remove(&key) else {
                continue;
            };
            if held.count > 1 {
                if let Item::Event(event) = &mut held.item {
                    let properties = &mut event.common.fields.properties;
                    properties.push((REPEAT_COUNT, Value::U64(held.count)));
                }
            }
            released.push((held.seq, held.item));
        }
        released
    }
}
