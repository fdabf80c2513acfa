use tracing::callsite::{DefaultCallsite, Identifier};
use tracing::field::FieldSet;
use tracing::metadata::Kind;
use tracing::Metadata;
use uuid::Uuid;

use std::time::Duration;

use super::budget::{Bucket, Window};
use super::*;
use crate::item::fields::Fields;
use crate::item::model::{ActivityRecord, EventRecord};

#[test]
fn the_bucket_holds_n_tokens_and_refills_n_a_second() {
    let start = Instant::now();
    let at = |ms| start + Duration::from_millis(ms);
    let mut bucket = Bucket::new(10, start);
    assert_eq!((0..12).filter(|_| bucket.take(start)).count(), 10, "full");
    assert!(!bucket.take(at(99)), "a tenth of a second makes one");
    assert!(bucket.take(at(100)));
    assert!(!bucket.take(at(100)));
    // Half a second: five, however it is asked.
    let taken = (101..=600).filter(|ms| bucket.take(at(*ms))).count();
    assert_eq!(taken, 5);
    // Idle for a minute: still no more than ten.
    assert_eq!((0..20).filter(|_| bucket.take(at(60_600))).count(), 10);
    // A token given back goes again, within the capacity.
    bucket.give_back();
    assert!(bucket.take(at(60_600)));
    assert!(!bucket.take(at(60_600)));
    (0..5).for_each(|_| bucket.give_back());
    assert_eq!((0..20).filter(|_| bucket.take(at(60_600))).count(), 5);
    // A time before the last one changes nothing.
    assert!(!bucket.take(at(1_000)));
    let mut none = Bucket::new(0, start);
    none.give_back();
    assert!(!none.take(at(10_000)), "a budget of 0 keeps none");
}

#[test]
fn the_window_counts_the_last_second_by_tenths() {
    let start = Instant::now();
    let at = |ms| start + Duration::from_millis(ms);
    let mut window = Window::new(start);
    assert_eq!(window.share(start), 1.0, "nothing counted");
    window.count(at(0), true);
    window.count(at(50), false);
    window.count(at(950), false);
    window.count(at(950), true);
    assert_eq!(window.share(at(999)), 0.5);
    // The first tenth has gone by.
    assert_eq!(window.share(at(1_000)), 0.5);
    window.count(at(1_000), true);
    assert_eq!(window.share(at(1_000)), 2.0 / 3.0);
    assert_eq!(window.share(at(1_899)), 2.0 / 3.0, "950 ms still counts");
    assert_eq!(window.share(at(1_900)), 1.0, "only the one at 1 s");
    assert_eq!(window.share(at(5_000)), 1.0);
}

static SPAN_SITE: DefaultCallsite = DefaultCallsite::new(&SPAN);
static SPAN: Metadata<'static> = Metadata::new(
    "span",
    "test",
    Level::INFO,
    None,
    None,
    None,
    FieldSet::new(&[], Identifier(&SPAN_SITE)),
    Kind::SPAN,
);
static INFO_SITE: DefaultCallsite = DefaultCallsite::new(&INFO);
static INFO: Metadata<'static> = Metadata::new(
    "info",
    "test",
    Level::INFO,
    None,
    None,
    None,
    FieldSet::new(&[], Identifier(&INFO_SITE)),
    Kind::EVENT,
);
static ERROR_SITE: DefaultCallsite = DefaultCallsite::new(&ERROR);
static ERROR: Metadata<'static> = Metadata::new(
    "error",
    "test",
    Level::ERROR,
    None,
    None,
    None,
    FieldSet::new(&[], Identifier(&ERROR_SITE)),
    Kind::EVENT,
);

/// An item of trace `trace`: an event (`error` or not) inside its root
/// span, or the root itself, of `elapsed_ms`.
fn item(trace: u8, what: &str, elapsed_ms: i64) -> Item {
    let root = TrackingId::Uuid(Uuid::from_u128(u128::from(trace)));
    let (meta, tracking_id, parent_id) = match what {
        "root" => (&SPAN, Some(root), None),
        "error" => (&ERROR, None, Some(root)),
        _ => (&INFO, None, Some(root)),
    };
    let common = Common {
        meta,
        log: None,
        tracking_id,
        parent_id,
        trace_id: TraceId::from_bytes([trace; 16]),
        remote_sampled: None,
        corrids: None,
        time_usec: 1_700_000_000_000_000,
        tid: 1,
        fields: Fields::default(),
    };
    match what {
        "root" => Item::Activity(ActivityRecord {
            common,
            start_usec: 1_700_000_000_000_000 - elapsed_ms * 1_000,
            failure: None,
            busy_usec: 0,
            idle_usec: 0,
        }),
        _ => Item::Event(EventRecord { common }),
    }
}

/// Runs the trace `trace` at `now`: `what` in order, the root last;
/// what became of each, and its root's `sample_rate` if it went.
fn run(
    sampling: &mut Sampling,
    now: Instant,
    trace: u8,
    what: &[&str],
    elapsed_ms: i64,
) -> (String, Option<f64>) {
    let mut fates = String::new();
    let mut rate = None;
    for (n, what) in what.iter().chain(&["root"]).enumerate() {
        let mut item = item(trace, what, elapsed_ms);
        let seq = u64::from(trace) * 100 + n as u64;
        let admitted = sampling.admit_at(seq, &mut item, &mut Vec::new(), now);
        let (fate, root) = match admitted {
            Admitted::Pass => ('p', Some(&item)),
            Admitted::Held => ('h', None),
            Admitted::Kept(ref items) => ('k', items.last().map(|(_, i)| i)),
            Admitted::Dropped(_) => ('d', None),
        };
        fates.push(fate);
        if let Some(Item::Activity(root)) = root {
            let properties = &root.common.fields.properties;
            rate = properties.iter().find_map(|(name, value)| match value {
                Value::F64(rate) if *name == SAMPLE_RATE => Some(*rate),
                _ => None,
            });
        }
    }
    (fates, rate)
}

#[test]
fn over_budget_a_trace_is_left_out_and_kept_only_for_a_failure_or_its_duration() {
    let sampler = Sampler::ratio(1.0)
        .keep_slower_than(Duration::from_secs(1))
        .max_traces_per_second(2);
    let mut sampling = Sampling::new(sampler);
    let start = Instant::now();
    let at = |ms| start + Duration::from_millis(ms);
    let ok = ["info", "info"];
    assert_eq!(
        run(&mut sampling, at(0), 1, &ok, 1),
        ("ppp".into(), Some(1.0))
    );
    assert_eq!(
        run(&mut sampling, at(0), 2, &ok, 1),
        ("ppp".into(), Some(1.0))
    );
    // Over budget: held, then dropped whole; or kept whole.
    assert_eq!(run(&mut sampling, at(0), 3, &ok, 1), ("hhd".into(), None));
    let failed = ["info", "error"];
    assert_eq!(
        run(&mut sampling, at(0), 4, &failed, 1),
        ("hkp".into(), Some(1.0))
    );
    assert_eq!(
        run(&mut sampling, at(0), 5, &ok, 2_000),
        ("hhk".into(), Some(1.0))
    );
    // Half a second: one token. Of the traces counted, 3 in 4 kept.
    assert_eq!(
        run(&mut sampling, at(500), 6, &ok, 1),
        ("ppp".into(), Some(0.75))
    );
    assert_eq!(run(&mut sampling, at(500), 7, &ok, 1), ("hhd".into(), None));
    // A trace that took a token and failed gives it back; one that
    // failed first thing takes none.
    let (fates, rate) = run(&mut sampling, at(1_000), 8, &failed, 1);
    assert_eq!((fates.as_str(), rate), ("ppp", Some(1.0)));
    let first = ["error", "info"];
    assert_eq!(
        run(&mut sampling, at(1_000), 9, &first, 1),
        ("ppp".into(), Some(1.0))
    );
    // So this one has a token. The first tenth of a second is no
    // longer counted: 2 kept of 3.
    let (fates, rate) = run(&mut sampling, at(1_000), 10, &ok, 1);
    assert_eq!((fates.as_str(), rate), ("ppp", Some(2.0 / 3.0)));
    assert_eq!(
        run(&mut sampling, at(1_000), 11, &ok, 1),
        ("hhd".into(), None)
    );
    assert_eq!(
        sampling.traces.len(),
        0,
        "nothing remembered past the roots"
    );
    assert_eq!((sampling.decisions, sampling.held), (0, 0));
}
