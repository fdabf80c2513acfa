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
fn a_changed_window_or_limit_applies_at_once_and_never_sticks() {
    let storms = Storms::new(2, Duration::from_secs(1));
    let meta = callsite();
    let at = |usec| storms.admit(site(meta), usec);
    assert_eq!(at(5_000_000), Verdict::Pass);
    // The window grows to 10 s: the 1 s window begun at 5 s goes on
    // (its start is newer than the 10 s window's, 0 s)...
    storms.set(Some((2, Duration::from_secs(10))));
    assert_eq!(at(5_000_001), Verdict::Pass);
    assert_eq!(at(9_000_000), Verdict::Drop { first: true });
    // ...which the 10 s windows take over at the next one.
    assert_eq!(at(10_000_000), Verdict::Pass, "a new 10 s window");
    assert_eq!(at(19_999_000), Verdict::Pass);
    assert_eq!(at(19_999_001), Verdict::Drop { first: false });
    // Shorter again: the next 1 s window starts anew.
    storms.set(Some((1, Duration::from_secs(1))));
    assert_eq!(at(20_000_000), Verdict::Pass);
    assert_eq!(at(20_000_001), Verdict::Drop { first: false });
    storms.set(None);
    assert!(!storms.limited());
    // Windows too long for 32-bit milliseconds are taken as 24 days.
    storms.set(Some((1, Duration::from_secs(365 * 24 * 3600))));
    assert_eq!(storms.window(0).1, LONGEST.as_millis() as u32);
    storms.set(None);
    assert_eq!(at(20_000_002), Verdict::Pass, "no limit");
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

#[test]
fn a_limit_of_no_events_or_a_window_under_a_millisecond_is_refused() {
    assert!(check(None).is_ok());
    assert!(check(Some((1, Duration::from_millis(1)))).is_ok());
    assert!(check(Some((0, Duration::from_secs(1)))).is_err());
    assert!(check(Some((1, Duration::from_micros(999)))).is_err());
}
