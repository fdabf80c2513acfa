//! Storm limits, on the application's thread: past `limit` events in one
//! window from one callsite, that callsite's events are dropped and
//! counted, before anything is built for them. A callsite's counter is a
//! slot in a fixed table found by its metadata's address (for a `log`
//! record, which shares one metadata per level, by its file and line),
//! updated with atomics: no lock on the hot path. A task on the delivery thread's
//! runtime tells, once a window has ended, how many each callsite lost.

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
    /// The window number (high 32 bits) and the events in it so far.
    state: AtomicU64,
    /// Events dropped and not yet told.
    dropped: AtomicU64,
    /// The window of the first of them: told once it has ended.
    since: AtomicU32,
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
        let Some(slot) = self.slot(site) else {
            return Verdict::Pass;
        };
        let window = self.window(now_usec);
        let mut state = slot.state.load(Ordering::Relaxed);
        // A new window starts its count anew; bounded, as another thread
        // can only have started the same window. Only ever forward: a
        // thread that read the clock before another started a newer
        // window counts in that one, rather than taking the slot back to
        // its own older window and its count back to zero.
        for _ in 0..4 {
            let current = (state >> 32) as u32;
            // Window numbers wrap; a newer one is up to 2^31 ahead.
            if current.wrapping_sub(window) as i32 >= 0 {
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
        if before == 0 {
            slot.since.store(window, Ordering::Relaxed);
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
        let window = self.window(now_usec);
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

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use tracing::callsite::{Callsite, Identifier};
    use tracing::field::FieldSet;
    use tracing::metadata::Kind;
    use tracing::subscriber::Interest;
    use tracing::Level;

    use super::*;

    /// A callsite of its own, made at run time, as a macro makes one.
    struct Site(OnceLock<&'static Metadata<'static>>);

    impl Callsite for Site {
        fn set_interest(&self, _: Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            self.0.get().expect("set when made")
        }
    }

    fn callsite() -> &'static Metadata<'static> {
        let site: &'static Site = Box::leak(Box::new(Site(OnceLock::new())));
        let fields = FieldSet::new(&[], Identifier(site));
        let meta = Metadata::new(
            "noisy",
            "tests",
            Level::WARN,
            None,
            None,
            None,
            fields,
            Kind::EVENT,
        );
        let meta: &'static Metadata<'static> = Box::leak(Box::new(meta));
        let _ = site.0.set(meta);
        meta
    }

    #[test]
    fn past_the_limit_a_window_drops_and_the_next_starts_anew() {
        let storms = Storms::new(3, Duration::from_secs(1));
        let meta = callsite();
        let verdicts: Vec<_> = (0..5).map(|_| storms.admit(site(meta), 10)).collect();
        assert_eq!(verdicts[..3], [Verdict::Pass, Verdict::Pass, Verdict::Pass]);
        assert_eq!(
            verdicts[3..],
            [
                Verdict::Drop { first: true },
                Verdict::Drop { first: false }
            ]
        );
        storms.note(site(meta), "here".into(), "noisy".into());
        assert!(storms.summaries(500_000, false).is_empty(), "not ended yet");
        assert_eq!(
            storms.admit(site(meta), 1_000_001),
            Verdict::Pass,
            "a new window"
        );
        assert_eq!(storms.summaries(1_000_001, false).len(), 1);
        assert!(storms.summaries(1_000_001, true).is_empty(), "told once");
    }

    #[test]
    fn a_thread_late_with_an_older_window_does_not_start_the_count_anew() {
        let storms = Storms::new(2, Duration::from_secs(1));
        let meta = callsite();
        assert_eq!(storms.admit(site(meta), 1_000_000), Verdict::Pass);
        assert_eq!(storms.admit(site(meta), 1_000_001), Verdict::Pass);
        // Read the clock in window 0, preempted, then counted.
        assert_eq!(
            storms.admit(site(meta), 999_999),
            Verdict::Drop { first: true }
        );
        // Window 1 stays full: before, the late thread reset it to window
        // 0, and window 1 began again with a count of zero.
        assert_eq!(
            storms.admit(site(meta), 1_000_002),
            Verdict::Drop { first: false }
        );
    }

    #[test]
    fn many_threads_pass_at_most_the_limit_in_a_window() {
        let storms = Storms::new(1_000, Duration::from_secs(1));
        let meta = callsite();
        let passed = AtomicU64::new(0);
        // Each thread steps through windows 0..20 with clocks a little
        // apart, as threads read the time at different moments.
        std::thread::scope(|scope| {
            for thread in 0..8_i64 {
                let (storms, passed) = (&storms, &passed);
                scope.spawn(move || {
                    for step in 0..20_000_i64 {
                        let now = step * 1_000 + thread * 37;
                        if storms.admit(site(meta), now) == Verdict::Pass {
                            passed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        // 20 windows of 1,000, and at most 8 racing past each one's limit.
        let passed = passed.load(Ordering::Relaxed);
        assert!(passed <= 20 * (1_000 + 8), "{passed}");
    }

    #[test]
    fn log_records_of_one_level_are_limited_by_their_line() {
        let storms = Storms::new(1, Duration::from_secs(1));
        let noisy = log_site(Some("src/job.rs"), None, Some(10));
        let quiet = log_site(Some("src/job.rs"), None, Some(11));
        assert_ne!(noisy, quiet);
        assert_eq!(noisy, log_site(Some("src/job.rs"), Some("job"), Some(10)));
        assert_eq!(storms.admit(noisy, 0), Verdict::Pass);
        assert_eq!(storms.admit(noisy, 0), Verdict::Drop { first: true });
        assert_eq!(storms.admit(quiet, 0), Verdict::Pass, "another line");
        assert_eq!(
            place(Some("src/job.rs"), None, Some(10), "job"),
            "src/job.rs:10"
        );
    }

    #[test]
    fn at_most_the_table_s_callsites_are_limited_and_the_rest_never_dropped() {
        let storms = Storms::new(1, Duration::from_secs(1));
        let sites: Vec<_> = (0..CALLSITES + 1_000).map(|_| callsite()).collect();
        let limited = sites
            .iter()
            .filter(|meta| {
                assert_eq!(storms.admit(site(meta), 0), Verdict::Pass, "the first goes");
                storms.admit(site(meta), 0) != Verdict::Pass
            })
            .count();
        assert!(limited <= CALLSITES, "{limited}");
        assert!(limited >= CALLSITES / 2, "the table is used: {limited}");
    }
}
