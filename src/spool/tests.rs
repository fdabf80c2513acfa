//! The spool on its own: order, acknowledgement across a reopen, the cap,
//! a damaged `ack` file.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::time::Instant;

use super::{FsyncPolicy, Options, Spool, SpoolFull};
use crate::handle::stats::Shared;
use crate::item::model::Kind;
use crate::wire::Serialized;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "tracing-jkool-unit-{}-{name}-{nanos}",
            std::process::id()
        ));
        Dir(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open(dir: &Dir, max_bytes: u64, full: SpoolFull) -> (Spool, Arc<Shared>) {
    let shared = Arc::new(Shared::default());
    let options = Options {
        dir: Some(dir.0.clone()),
        max_bytes,
        fsync: FsyncPolicy::Never,
        full,
    };
    let spool = Spool::open(options, dir.0.clone(), 4, shared.clone()).unwrap();
    (spool, shared)
}

/// The item at `i` in the queue.
fn item(i: usize) -> Serialized {
    let json = format!(r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(100));
    Serialized {
        seq: i as u64,
        json: json.into(),
    }
}

#[test]
fn items_come_back_in_order_and_only_unacknowledged_ones_after_a_reopen() {
    let dir = Dir::new("order");
    let (mut spool, _) = open(&dir, 1 << 30, SpoolFull::DropOldest);
    for i in 0..1000 {
        spool.append(Kind::Event, &item(i)).unwrap();
    }
    spool.flush(Instant::now()).unwrap();
    let (first, a) = spool.take(Kind::Event, 100, 1 << 20).unwrap();
    let (second, b) = spool.take(Kind::Event, 100, 1 << 20).unwrap();
    assert_eq!((&first[0], &second[0]), (&item(0), &item(100)));
    // The second is done first: nothing moves until the first is too.
    spool.ack(b, 100);
    spool.ack(a, 60);
    drop(spool);
    let (mut spool, _) = open(&dir, 1 << 30, SpoolFull::DropOldest);
    let (again, chunk) = spool.take(Kind::Event, 1000, 1 << 20).unwrap();
    assert!(chunk.recovered);
    assert_eq!(again.len(), 1000, "all again: the first was not done");
    spool.ack(chunk, 1000);
    assert!(!spool.has(Kind::Event));
    drop(spool);
    let (spool, shared) = open(&dir, 1 << 30, SpoolFull::DropOldest);
    assert!(!spool.has(Kind::Event), "all acknowledged");
    assert_eq!(shared.counters.spool_bytes.load(Ordering::Relaxed), 0);
}

#[test]
fn at_the_cap_whole_segments_go_oldest_first_or_new_items_are_refused() {
    let dir = Dir::new("cap");
    let (mut spool, shared) = open(&dir, 1 << 20, SpoolFull::DropOldest);
    for i in 0..20_000 {
        spool.append(Kind::Event, &item(i)).unwrap();
    }
    spool.flush(Instant::now()).unwrap();
    let c = &shared.counters;
    let dropped = c.spool_dropped.load(Ordering::Relaxed);
    assert_eq!(dropped, c.evicted.load(Ordering::Relaxed));
    let bytes = c.spool_bytes.load(Ordering::Relaxed);
    assert!(bytes <= 1 << 20, "{bytes}");
    let (first, _) = spool.take(Kind::Event, 1, 1 << 20).unwrap();
    assert_eq!(
        first[0],
        item(dropped as usize),
        "the oldest kept follows the dropped"
    );
    let done = shared.progress().done.low();
    assert_eq!(done, dropped, "the items dropped are done with, by place");
    drop(spool);

    let dir = Dir::new("newest");
    let (mut spool, shared) = open(&dir, 1 << 20, SpoolFull::DropNewest);
    for i in 0..20_000 {
        spool.append(Kind::Activity, &item(i)).unwrap();
    }
    let dropped = shared.counters.spool_dropped.load(Ordering::Relaxed);
    assert!(dropped > 10_000, "{dropped}");
    let (first, _) = spool.take(Kind::Activity, 1, 1 << 20).unwrap();
    assert_eq!(first[0], item(0), "the oldest are kept");
}

#[test]
fn a_damaged_ack_file_means_from_the_oldest_segment() {
    let dir = Dir::new("ack");
    let (mut spool, _) = open(&dir, 1 << 30, SpoolFull::DropOldest);
    for i in 0..10 {
        spool.append(Kind::Event, &item(i)).unwrap();
    }
    spool.flush(Instant::now()).unwrap();
    let (_, chunk) = spool.take(Kind::Event, 5, 1 << 20).unwrap();
    spool.ack(chunk, 5);
    drop(spool);
    std::fs::write(dir.0.join("e.ack"), b"garbage that is not an ack record").unwrap();
    let (mut spool, _) = open(&dir, 1 << 30, SpoolFull::DropOldest);
    let (items, _) = spool.take(Kind::Event, 100, 1 << 20).unwrap();
    assert_eq!(items.len(), 10, "duplicates, never loss");
}
