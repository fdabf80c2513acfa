//! Storm limits, on the application's thread: past `limit` events in one
//! window from one callsite, that callsite's events are dropped and
//! counted, before anything is built for them. A callsite's counter is a
//! slot in a fixed table found by its metadata's address (for a `log`
//! record, which shares one metadata per level, by its file and line),
//! updated with atomics: no lock on the hot path. A task on the delivery thread's
//! runtime tells, once a window has ended, how many each callsite lost.
//! The limit and the window may change while events come
//! (`JKoolHandle::set_max_events_per_callsite`): a window is known by the
//! millisecond it began, whatever its length, so that a thread that read
//! the old length counts, at worst, in a window one new window long.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
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
    /// The callsite ([`site`] or [`log_site`]); 0 while the slot is free.
    site: AtomicUsize,
    /// The millisecond its window began, in 32 bits (high), and the events
    /// in it so far.
    state: AtomicU64,
    /// Events dropped and not yet told.
    dropped: AtomicU64,
    /// The window of the first of them (its first millisecond): told once
    /// it has ended.
    since: AtomicU32,
    /// What the summary names: `file:line` and the first dropped message.
    about: Mutex<Option<(String, String)>>,
}

/// The limits and every limited callsite's counters.
#[derive(Debug)]
pub(crate) struct Storms {
    /// Events a callsite may send in a window; 0: no limit.
    limit: AtomicU32,
    /// The window, in milliseconds.
    per_ms: AtomicU32,
    slots: Box<[Slot]>,
}

/// The longest window: longer ones are taken as this, so that windows
/// known by their first millisecond in 32 bits compare as signed numbers.
pub(crate) const LONGEST: Duration = Duration::from_secs(24 * 24 * 3600);

/// How far a window's start may lie ahead of a thread's clock (a thread
/// late with its clock) and still be the one it counts in.
const LATE_MS: u32 = 60_000;

/// The callsite of an event from a tracing macro: its metadata's address.
pub(crate) fn site(meta: &'static Metadata<'static>) -> usize {
    std::ptr::from_ref(meta) as usize
}

/// The callsite of a `log` record, which tracing-log gives one metadata
/// per level: its file (or module) and line, hashed, with the top bit set
/// so that it is never a metadata address, nor 0.
pub(crate) fn log_site(file: Option<&str>, module: Option<&str>, line: Option<u32>) -> usize {
    let place = file.or(module).unwrap_or_default();
    let mut hash = u64::from(line.unwrap_or_default());
    for chunk in place.as_bytes().chunks(8) {
        let mut word = [0; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        hash = mix(hash ^ u64::from_le_bytes(word));
    }
    (hash as usize) | (1 << (usize::BITS - 1))
}

/// What a summary names as a callsite: `file:line`, or `module:line`, or
/// the target.
pub(crate) fn place(
    file: Option<&str>,
    module: Option<&str>,
    line: Option<u32>,
    target: &str,
) -> String {
    match (file.or(module), line) {
        (Some(at), Some(line)) => format!("{at}:{line}"),
        _ => target.to_owned(),
    }
}

/// Refuses a storm limit that cannot work: no events, or no window.
pub(crate) fn check(limit: Option<(u32, Duration)>) -> Result<(), crate::Error> {
    let Some((events, per)) = limit else {
        return Ok(());
    };
    let invalid = |reason: &str| crate::Error::InvalidSetting {
        setting: "max_events_per_callsite",
        reason: reason.into(),
    };
    if events == 0 {
        return Err(invalid("must allow at least 1 event"));
    }
    if per < Duration::from_millis(1) {
        return Err(invalid("the window must be at least 1 ms"));
    }
    Ok(())
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
        let storms = Storms {
            limit: AtomicU32::new(0),
            per_ms: AtomicU32::new(1),
            slots: (0..CALLSITES).map(|_| Slot::default()).collect(),
        };
        storms.set(Some((limit, per)));
        storms
    }

    /// Sets the limit (`None`: none), for the events from now on.
    pub(crate) fn set(&self, limit: Option<(u32, Duration)>) {
        let (events, per) = limit.unwrap_or((0, Duration::from_secs(1)));
        let per_ms = per.min(LONGEST).as_millis().max(1) as u32;
        self.per_ms.store(per_ms, Ordering::Relaxed);
        self.limit.store(events, Ordering::Relaxed);
    }

    /// Whether events are limited now.
    #[inline]
    pub(crate) fn limited(&self) -> bool {
        self.limit.load(Ordering::Relaxed) > 0
    }

    /// The first millisecond of the window `now_usec` is in, in 32 bits,
    /// and the window's length.
    fn window(&self, now_usec: i64) -> (u32, u32) {
        let per = self.per_ms.load(Ordering::Relaxed).max(1);
        let now_ms = now_usec.max(0) as u64 / 1_000;
        ((now_ms - now_ms % u64::from(per)) as u32, per)
    }

    /// The slot of callsite `site`, claimed if it has none yet; `None`
    /// when the table is full where it points.
    fn slot(&self, site: usize) -> Option<&Slot> {
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

    /// Counts an event of callsite `site` at `now_usec`.
    pub(crate) fn admit(&self, site: usize, now_usec: i64) -> Verdict {
        let limit = self.limit.load(Ordering::Relaxed);
        if limit == 0 {
            return Verdict::Pass;
        }
        let Some(slot) = self.slot(site) else {
            return Verdict::Pass;
        };
        let (window, per) = self.window(now_usec);
        let mut state = slot.state.load(Ordering::Relaxed);
        // A new window starts its count anew; bounded, as another thread
        // can only have started the same window. Only ever forward: a
        // thread that read the clock before another started a newer
        // window counts in that one, rather than taking the slot back to
        // its own older window and its count back to zero. So does one
        // that read a shorter window's length before it changed.
        for _ in 0..4 {
            let ahead = ((state >> 32) as u32).wrapping_sub(window);
            if ahead < per.max(LATE_MS) {
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
        let state = slot.state.fetch_add(1, Ordering::Relaxed) + 1;
        if state as u32 <= limit {
            return Verdict::Pass;
        }
        let before = slot.dropped.fetch_add(1, Ordering::Relaxed);
        if before == 0 {
            slot.since.store((state >> 32) as u32, Ordering::Relaxed);
        }
        Verdict::Drop { first: before == 0 }
    }

    /// Notes what a summary of `site`'s dropped events names: the
    /// callsite's `place` and the first dropped message.
    pub(crate) fn note(&self, site: usize, place: String, message: String) {
        let Some(slot) = self.slot(site) else { return };
        let mut about = slot.about.lock().unwrap_or_else(|e| e.into_inner());
        about.get_or_insert((place, message));
    }

    /// One WARNING event for each callsite that dropped events, when its
    /// window ended (or `all`, at the end), saying which and how many.
    pub(crate) fn summaries(&self, now_usec: i64, all: bool) -> Vec<JKoolEvent> {
        let (window, per) = self.window(now_usec);
        let limit = self.limit.load(Ordering::Relaxed);
        let mut told = Vec::new();
        for slot in self.slots.iter() {
            if slot.dropped.load(Ordering::Relaxed) == 0 {
                continue;
            }
            // A callsite that keeps emitting is in the window now, but what
            // it dropped began in one that ended.
            let ended = slot.since.load(Ordering::Relaxed) != window;
            if !ended && !all {
                continue;
            }
            let dropped = slot.dropped.swap(0, Ordering::Relaxed);
            let about = slot.about.lock().unwrap_or_else(|e| e.into_inner()).take();
            let (place, message) = about.unwrap_or_default();
            let text = format!(
                "suppressed {dropped} event(s) from {place} (\"{message}\"): more than \
                 {limit} in {per} ms"
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

#[cfg(test)]
mod tests;
