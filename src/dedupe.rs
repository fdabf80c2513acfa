//! Optional duplicate suppression, as jKool's Java sink offers: the same
//! message from the same callsite within a window is sent once, with a
//! `repeat_count` property.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

use crate::model::Item;
use crate::value::Value;

/// The property that says how often a held event happened in its window.
pub(crate) const REPEAT_COUNT: &str = "repeat_count";

/// Events held for their window, by callsite and message.
#[derive(Debug)]
pub(crate) struct Dedupe {
    window: Duration,
    held: HashMap<(usize, String), HeldEvent>,
}

#[derive(Debug)]
struct HeldEvent {
    item: Item,
    count: u64,
    until: Instant,
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
    pub fn new(window: Duration) -> Self {
        Dedupe {
            window,
            held: HashMap::new(),
        }
    }

    /// Gives back what is not an event of a tracing callsite, to deliver
    /// now; keeps the rest.
    pub fn admit(&mut self, item: Item, now: Instant) -> Result<Item, Absorbed> {
        let Item::Event(event) = &item else {
            return Ok(item);
        };
        // The callsite's metadata is 'static: its address identifies it.
        let callsite = std::ptr::from_ref(event.common.meta) as usize;
        let key = (
            callsite,
            event.common.fields.message.clone().unwrap_or_default(),
        );
        match self.held.get_mut(&key) {
            Some(held) => {
                held.count += 1;
                Err(Absorbed::Repeat)
            }
            None => {
                let until = now + self.window;
                self.held.insert(
                    key,
                    HeldEvent {
                        item,
                        count: 1,
                        until,
                    },
                );
                Err(Absorbed::Held)
            }
        }
    }

    /// When the next held event is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.held.values().map(|h| h.until).min()
    }

    /// The held events whose window ended by `now` (all of them for `None`),
    /// each with its `repeat_count` when it happened more than once.
    pub fn release(&mut self, now: Option<Instant>) -> Vec<Item> {
        let due: Vec<_> = self
            .held
            .iter()
            .filter(|(_, h)| now.is_none_or(|now| h.until <= now))
            .map(|(key, _)| key.clone())
            .collect();
        let mut released: Vec<(Instant, Item)> = due
            .into_iter()
            .filter_map(|key| self.held.remove(&key))
            .map(|mut held| {
                if held.count > 1 {
                    if let Item::Event(event) = &mut held.item {
                        let properties = &mut event.common.fields.properties;
                        properties.push((REPEAT_COUNT, Value::U64(held.count)));
                    }
                }
                (held.until, held.item)
            })
            .collect();
        // In the order they first happened.
        released.sort_by_key(|(until, _)| *until);
        released.into_iter().map(|(_, item)| item).collect()
    }
}
