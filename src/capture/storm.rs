//! Storm limits, on the application's thread: past `limit` events in one
//! window from one callsite, that callsite's events are dropped and
//! counted, before anything is built for them. A callsite's counter is a
//! slot in a fixed table found by its metadata's address, updated with
//! atomics: no lock on the hot path. A task on the delivery thread's
//! runtime tells, once a window has ended, how many each callsite lost.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tracing::Metadata;

use crate::item::hashing::mix;
use crate::{JKoolEvent, Severity};

/// How many callsites are limited at most; events of callsites past these
/// are never dropped.
pub(crate) const CALLSITES: usize = 4_096;

/// How far a callsite's slot may lie from where its address points.
const PROBES: usize = 16;

/// The property of a summary that holds how many events were dropped.
pub(crate) const SUPPRESSED: &str = "suppressed";

/// One callsite's counters.
#[derive(Debug, Default)]
struct Slot {
    /// The callsite's metadata address; 0 while the slot is free.
    site: AtomicUsize,
    /// The window number (high 32 bits) and the events in it so far.
    state: AtomicU64,
    /// Events dropped and not yet told.
    dropped: AtomicU64,
    /// What the summary names: `file:line` and the first dropped message.
    about: Mutex<Option<(String, String)>>,
}

/// The limits and every limited callsite's counters.
#[derive(Debug)]
pub(crate) struct Storms {
    limit: u32,
    per_usec: u64,
    slots: Box<[Slot]>,
}

/// Whether an event goes on.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Pass,
    /// Dropped; `first` when it is the window's first dropped event of its
    /// callsite, whose message the summary names.
    Drop {
        first: bool,
    },
}

impl Storms {
    pub(crate) fn new(limit: u32, per: Duration) -> Self {
        Storms {
            limit,
            per_usec: (per.as_micros() as u64).max(1),
            slots: (0..CALLSITES).map(|_| Slot::default()).collect(),
        }
    }

    pub(crate) fn per(&self) -> Duration {
        Duration::from_micros(self.per_usec)
    }

    fn window(&self, now_usec: i64) -> u32 {
        (now_usec.max(0) as u64 / self.per_usec) as u32
    }

    /// The slot of `meta`, claimed if it has none yet; `None` when the
    /// table is full where it points.
    fn slot(&self, meta: &'static Metadata<'static>) -> Option<&Slot> {
        let site = std::ptr::from_ref(meta) as usize;
        let start = mix(site as u64) as usize;
        for probe in 0..PROBES {
            let slot = &self.slots[(start + probe) % CALLSITES];
            match slot.site.load(Ordering::Acquire) {
                found if found == site => return Some(slot),
                0 => match slot
                    .site
                    .compare_exchange(0, site, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => return Some(slot),
                    Err(found) if found == site => return Some(slot),
                    Err(_) => {}
                },
                _ => {}
            }
        }
        None
    }

    /// Counts an event of `meta` at `now_usec`.
    pub(crate) fn admit(&self, meta: &'static Metadata<'static>, now_usec: i64) -> Verdict {
        let Some(slot) = self.slot(meta) else {
            return Verdict::Pass;
        };
        let window = self.window(now_usec);
        let mut state = slot.state.load(Ordering::Relaxed);
        // A new window starts its count anew; bounded, as another thread
        // can only have started the same window.
        for _ in 0..4 {
            if (state >> 32) as u32 == window {
                break;
            }
            let fresh = u64::from(window) << 32;
            match slot
                .state
                .compare_exchange(state, fresh, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => state = fresh,
                Err(now) => state = now,
            }
        }
        let count = (slot.state.fetch_add(1, Ordering::Relaxed) + 1) as u32;
        if count <= self.limit {
            return Verdict::Pass;
        }
        let before = slot.dropped.fetch_add(1, Ordering::Relaxed);
        Verdict::Drop { first: before == 0 }
    }

    /// Notes what a summary of `meta`'s dropped events names.
    pub(crate) fn note(&self, meta: &'static Metadata<'static>, message: String) {
        let Some(slot) = self.slot(meta) else { return };
        let place = match (meta.file(), meta.line()) {
            (Some(file), Some(line)) => format!("{file}:{line}"),
            _ => meta.target().to_owned(),
        };
        let mut about = slot.about.lock().unwrap_or_else(|e| e.into_inner());
        about.get_or_insert((place, message));
    }

    /// One WARNING event for each callsite that dropped events, when its
    /// window ended (or `all`, at the end), saying which and how many.
    pub(crate) fn summaries(&self, now_usec: i64, all: bool) -> Vec<JKoolEvent> {
        let window = self.window(now_usec);
        let mut told = Vec::new();
        for slot in self.slots.iter() {
            if slot.dropped.load(Ordering::Relaxed) == 0 {
                continue;
            }
            let ended = (slot.state.load(Ordering::Relaxed) >> 32) as u32 != window;
            if !ended && !all {
                continue;
            }
            let dropped = slot.dropped.swap(0, Ordering::Relaxed);
            let about = slot.about.lock().unwrap_or_else(|e| e.into_inner()).take();
            let (place, message) = about.unwrap_or_default();
            let text = format!(
                "suppressed {dropped} event(s) from {place} (\"{message}\"): more than {} \
                 in {} ms",
                self.limit,
                self.per_usec / 1_000
            );
            told.push(
                JKoolEvent::new(text)
                    .severity(Severity::Warning)
                    .operation("tracing-jkool.suppressed")
                    .location(place)
                    .property(SUPPRESSED, dropped),
            );
        }
        told
    }
}
