//! The spool as the delivery thread uses it: both logs, the lock, the cap,
//! the fsync policy, and the fall back to memory on a disk error.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::time::{Duration, Instant};

use super::log::Log;
use super::{ChunkRef, FsyncPolicy, Options, SpoolFull};
use crate::handle::notices::{Notice, Reporter};
use crate::handle::stats::Shared;
use crate::item::model::Kind;
use crate::wire::Serialized;
use crate::Error;

/// After a disk error, items stay in memory this long before the spool
/// is tried again.
const PAUSE_AFTER_ERROR: Duration = Duration::from_secs(30);

/// Items handed back to memory after a disk error, with their kinds.
pub(crate) type Back = Vec<(Kind, Serialized)>;

/// With [`FsyncPolicy::Interval`], a sync also once this much was written.
const SYNC_BYTES: u64 = 4 << 20;

/// The disk spool of one pipeline.
#[derive(Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
    /// Held for the spool's life: the lock goes with it.
    _lock: File,
    events: Log,
    activities: Log,
    next_id: u64,
    seg_limit: u64,
    options: Options,
    shared: Arc<Shared>,
    /// Set after a disk error: items stay in memory until then.
    paused_until: Option<Instant>,
    last_sync: Instant,
    reporter: Reporter,
    /// Chunks of a kind read and not yet acknowledged, at most.
    window: usize,
    /// Bytes written since the last sync.
    unsynced_bytes: u64,
}

impl Spool {
    /// Opens (creating it if needed) and locks the spool directory. At
    /// most `window` chunks of a kind are out (read, not acknowledged).
    pub(crate) fn open(
        options: Options,
        dir: PathBuf,
        window: usize,
        shared: Arc<Shared>,
    ) -> Result<Spool, Error> {
        let fail = |reason: String| Error::Spool {
            dir: dir.clone(),
            reason,
        };
        crate::transport::files::private_dir(&dir).map_err(|e| fail(e.to_string()))?;
        let mut lock = crate::transport::files::private()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("lock"))
            .map_err(|e| fail(e.to_string()))?;
        if let Err(err) = fs4::FileExt::try_lock(&lock) {
            let mut holder = String::new();
            let _ = lock.read_to_string(&mut holder);
            return Err(fail(match err {
                fs4::TryLockError::WouldBlock => {
                    format!("another process (pid {}) is using it", holder.trim())
                }
                fs4::TryLockError::Error(err) => format!("could not lock it: {err}"),
            }));
        }
        // For the error another process gets; the lock is what counts.
        let _ = lock.set_len(0);
        let _ = write!(lock, "{}", std::process::id());
        let open = |kind| Log::open(dir.clone(), kind).map_err(|e| fail(e.to_string()));
        let (mut events, mut activities) = (open(b'e')?, open(b'a')?);
        let next_id = [events.last_id(), activities.last_id()]
            .into_iter()
            .flatten()
            .max()
            .map_or(1, |id| id + 1);
        events.first_own = next_id;
        activities.first_own = next_id;
        let spool = Spool {
            seg_limit: (options.max_bytes / 8).clamp(64 << 10, 16 << 20),
            dir,
            _lock: lock,
            events,
            activities,
            next_id,
            options,
            shared,
            paused_until: None,
            last_sync: Instant::now(),
            reporter: Reporter::default(),
            window,
            unsynced_bytes: 0,
        };
        spool.gauge();
        Ok(spool)
    }

    fn log(&mut self, kind: Kind) -> &mut Log {
        match kind {
            Kind::Event => &mut self.events,
            Kind::Activity => &mut self.activities,
        }
    }

    /// Whether new items may go to disk: not within the pause after a disk
    /// error.
    pub(crate) fn usable(&self, now: Instant) -> bool {
        self.paused_until.is_none_or(|until| now >= until)
    }

    /// Whether items of `kind` wait in the spool: new ones go behind them.
    pub(crate) fn has(&self, kind: Kind) -> bool {
        match kind {
            Kind::Event => self.events.has_unread(),
            Kind::Activity => self.activities.has_unread(),
        }
    }

    /// Adds an item behind those of its kind, making room at the cap as
    /// [`SpoolFull`] says (an item dropped is counted). `Err` holds what
    /// goes back to memory after a disk error: this item and those not yet
    /// written.
    pub(crate) fn append(&mut self, kind: Kind, item: &Serialized) -> Result<(), Back> {
        let size = (item.json.len() + 9) as u64;
        // Each round deletes a segment, or stops.
        for _ in 0..64 {
            let used = self.events.bytes
                + self.activities.bytes
                + (self.events.pending_len() + self.activities.pending_len()) as u64;
            if used + size <= self.options.max_bytes {
                break;
            }
            if self.options.full == SpoolFull::DropNewest {
                self.count_dropped(vec![item.seq], 0);
                return Ok(());
            }
            let oldest = match (self.events.first_id(), self.activities.first_id()) {
                (Some(e), Some(a)) if a < e => Kind::Activity,
                (Some(_), _) => Kind::Event,
                (None, Some(_)) => Kind::Activity,
                (None, None) => break,
            };
            let dropped = self.log(oldest).drop_oldest();
            self.count_dropped(dropped.own, dropped.recovered);
        }
        let (seg_limit, mut next_id) = (self.seg_limit, self.next_id);
        let appended = self
            .log(kind)
            .append(&item.json, item.seq, seg_limit, &mut next_id);
        self.next_id = next_id;
        match appended {
            Ok(()) => Ok(()),
            Err(err) => Err(self.failed(&err)),
        }
    }

    /// Items dropped at the cap: this process's (at `own` in the queue)
    /// count as evicted too.
    fn count_dropped(&self, own: Vec<u64>, recovered: u64) {
        let c = &self.shared.counters;
        let count = own.len() as u64 + recovered;
        c.spool_dropped.fetch_add(count, Ordering::Relaxed);
        if !own.is_empty() {
            self.shared.evicted(own.into_iter());
        }
    }

    /// Writes what waits, each log in one call, and syncs as the policy
    /// says. `Err` holds what goes back to memory after a disk error.
    pub(crate) fn flush(&mut self, now: Instant) -> Result<(), Back> {
        let mut next_id = self.next_id;
        let before = self.events.bytes + self.activities.bytes;
        let mut written = 0;
        let mut result = Ok(());
        for log in [&mut self.events, &mut self.activities] {
            if let Err(err) = log.flush(&mut next_id) {
                result = Err(err);
            }
            written += std::mem::take(&mut log.written);
        }
        self.next_id = next_id;
        let c = &self.shared.counters;
        c.spooled.fetch_add(written, Ordering::Relaxed);
        if let Err(err) = result {
            return Err(self.failed(&err));
        }
        let after = self.events.bytes + self.activities.bytes;
        self.unsynced_bytes += after.saturating_sub(before);
        let durable = match self.options.fsync {
            FsyncPolicy::EveryWrite => true,
            // Also every few megabytes: one sync of a second's worth of
            // writes at full speed would hold the thread up for long.
            FsyncPolicy::Interval(every) => {
                now >= self.last_sync + every || self.unsynced_bytes >= SYNC_BYTES
            }
            FsyncPolicy::Never => false,
        };
        if durable || self.options.fsync == FsyncPolicy::Never {
            self.sync(now, durable);
        }
        self.gauge();
        Ok(())
    }

    fn sync(&mut self, now: Instant, durable: bool) {
        self.last_sync = now;
        self.unsynced_bytes = 0;
        for kind in [Kind::Event, Kind::Activity] {
            if let Err(err) = self.log(kind).sync(durable) {
                self.tell(&err);
            }
        }
    }

    /// When the interval policy wants a sync of what was written.
    pub(crate) fn next_sync(&self) -> Option<Instant> {
        let unsynced = self.events.unsynced || self.activities.unsynced;
        match self.options.fsync {
            FsyncPolicy::Interval(every) if unsynced => Some(self.last_sync + every),
            _ => None,
        }
    }

    /// A disk error: says so (rate-limited), pauses the spool, and hands
    /// back the items not yet written.
    fn failed(&mut self, err: &std::io::Error) -> Back {
        self.tell(err);
        self.paused_until = Some(Instant::now() + PAUSE_AFTER_ERROR);
        let mut back = Vec::new();
        for kind in [Kind::Event, Kind::Activity] {
            let pending = self.log(kind).take_pending().into_iter();
            back.extend(pending.map(|(seq, json)| (kind, Serialized { seq, json })));
        }
        back
    }

    fn tell(&mut self, err: &std::io::Error) {
        let c = &self.shared.counters;
        c.spool_errors.fetch_add(1, Ordering::Relaxed);
        self.reporter.say(
            Notice::Spool,
            format_args!(
                "could not write the spool in {}: {err}; holding items in memory for {} s",
                self.dir.display(),
                PAUSE_AFTER_ERROR.as_secs()
            ),
        );
    }

    /// The oldest items of `kind` on disk: at most `max_items` and
    /// `max_bytes`, from one segment. This process's items skipped as
    /// corrupt count as failed.
    pub(crate) fn take(
        &mut self,
        kind: Kind,
        max_items: usize,
        max_bytes: usize,
    ) -> Option<(Vec<Serialized>, ChunkRef)> {
        let window = self.window;
        let taken = self.log(kind).take(max_items, max_bytes, window);
        let c = &self.shared.counters;
        c.spool_corrupt.fetch_add(taken.corrupt, Ordering::Relaxed);
        if !taken.skipped.is_empty() {
            self.shared.failed(taken.skipped.into_iter());
        }
        if taken.items.is_empty() {
            return None;
        }
        let chunk = ChunkRef {
            kind,
            id: taken.chunk,
            recovered: taken.recovered,
        };
        // An earlier process's items have no place in this one's queue.
        let seqs = taken.seqs.into_iter().chain(std::iter::repeat(u64::MAX));
        let items = (taken.items.into_iter().zip(seqs))
            .map(|(json, seq)| Serialized { seq, json })
            .collect();
        Some((items, chunk))
    }

    /// `count` items of `chunk` were delivered or failed for good.
    pub(crate) fn ack(&mut self, chunk: ChunkRef, count: usize) {
        if let Err(err) = self.log(chunk.kind).ack(chunk.id, count) {
            self.tell(&err);
        }
        if self.options.fsync == FsyncPolicy::EveryWrite {
            self.sync(Instant::now(), true);
        }
        self.gauge();
    }

    /// Syncs when the interval policy says it is time.
    pub(crate) fn tick(&mut self, now: Instant) {
        if self.next_sync().is_some_and(|at| at <= now) {
            self.sync(now, true);
        }
    }

    /// At the end: writes and syncs what is left (unless the policy is
    /// `Never`). What cannot be written is counted as given up.
    pub(crate) fn close(&mut self) {
        let now = Instant::now();
        if let Err(items) = self.flush(now) {
            self.shared
                .abandoned(items.iter().map(|(_, item)| item.seq));
        }
        self.sync(now, self.options.fsync != FsyncPolicy::Never);
        self.gauge();
        if self.has(Kind::Event) || self.has(Kind::Activity) {
            let bytes = self.events.bytes + self.activities.bytes;
            crate::handle::notices::stderr(format_args!(
                "{bytes} bytes of items wait in the spool in {}; the next start on it \
                 delivers them",
                self.dir.display()
            ));
        }
    }

    fn gauge(&self) {
        let bytes = self.events.bytes + self.activities.bytes;
        let c = &self.shared.counters;
        c.spool_bytes.store(bytes, Ordering::Relaxed);
    }
}
