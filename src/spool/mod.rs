//! The disk spool ([`Builder::spool_dir`](crate::Builder::spool_dir)): what
//! cannot be delivered now (jKool down, a retry pending, the retry buffer
//! full) is appended to disk by the delivery thread instead of being
//! evicted, and delivered from there, oldest first, once jKool answers
//! again — by this process or the next one on the same directory. Only
//! the delivery thread calls it.
//!
//! # Format
//!
//! Two logs, one per kind (events `e-*.seg`, activities `a-*.seg`), so that
//! each is a plain FIFO that batches of one kind are read from. A log is a
//! series of segment files of at most `max_bytes / 8` (64 KiB to 16 MiB),
//! numbered across both logs in the order they were started; a record is
//! `[len u32][crc32 u32][kind u8][json]` (little-endian; the CRC-32 covers
//! the kind and the JSON). A process only ever appends to segments it
//! started, so a torn write can only be at the end of a segment left by a
//! process that died: reading stops there, counts it
//! ([`Stats::spool_corrupt`](crate::Stats::spool_corrupt)), and goes on
//! with the next segment. `e.ack` and `a.ack` hold each log's read
//! position (segment, offset, CRC-32); a damaged one means "from the
//! oldest segment": duplicates, never loss.
//!
//! # Acknowledgement
//!
//! Records are read in chunks of one batch; a chunk is acknowledged once
//! every item of it was accepted by jKool or failed for good, and the
//! persisted read position moves past every acknowledged chunk in order
//! (written at once, synced with the fsync policy); whole segments behind
//! it are deleted. Delivery is at least once: a process that dies resends,
//! on the next start, the chunks it had read but not acknowledged: at most
//! `max_concurrent_requests` bodies of `batch_size` items (plus, after an
//! operating-system crash, what was acknowledged since the last sync).
//!
//! # Why not queue-file
//!
//! queue-file 2 (a single-file FIFO after Square's Tape: CRC per element,
//! crash-safe header) was weighed against this small segment log. It keeps
//! everything in one file that it grows and compacts by copying, and
//! removes elements only from the head, one at a time, with a header
//! rewrite (and its sync) for each; its element API is one element per
//! call. A segment log frees space by deleting whole files (no copying at
//! any size), writes many records in one `write` call, bounds the disk by
//! whole segments, keeps the read position apart from the data (so that
//! several batches can be in flight and acknowledged out of order), and
//! costs one dependency less: `crc32fast`, which queue-file uses too.
//!
//! # Compared with
//!
//! - Vector's disk buffer stops its own process on a disk error; here the
//!   spool falls back to memory (counted, one stderr line) and is tried
//!   again 30 s later. Vector syncs every 500 ms; here the policy is the
//!   user's (each write, an interval plus every 4 MiB, or never).
//! - Fluent Bit drops the oldest chunk at `total_limit_size`; here the
//!   choice is the user's (`SpoolFull`), and drops are counted apart.
//! - The OpenTelemetry Collector's persistent queue keeps no order and does
//!   not sync by default; here each kind is FIFO and the default syncs
//!   every second.
//! - TNT4J holds 10,000 items in memory and replays by hand; here a restart
//!   on the directory delivers what was left, by itself.
//!
//! # Locking
//!
//! A second process on the same directory gets an error from
//! [`Builder::build`](crate::Builder::build) naming the directory and the
//! process that holds it. The lock is an advisory lock (`flock` /
//! `LockFileEx`) on `lock` taken with the `fs4` crate: `File::try_lock` is
//! only stable since Rust 1.89, above this crate's 1.85, and a lock file
//! holding a PID needs stale-PID guessing after a `kill -9`, which an OS
//! lock does not (the kernel drops it with the process).

mod log;
mod segment;
mod store;
#[cfg(test)]
mod tests;

pub(crate) use store::Spool;

use std::path::PathBuf;
use std::time::Duration;

use crate::item::model::Kind;

/// When the spool makes what it wrote durable (`fsync`), for
/// [`Builder::spool_fsync`](crate::Builder::spool_fsync).
///
/// Writes reach the operating system at once either way, so a process
/// that dies (`kill -9`, `abort`, a panic) loses nothing that reached the
/// spool; the policy is about a power cut or a kernel crash.
///
/// ```
/// use std::time::Duration;
/// use tracing_jkool::FsyncPolicy;
///
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .spool_dir(std::env::temp_dir().join("my-app-spool"))
///     .spool_fsync(FsyncPolicy::Interval(Duration::from_millis(200)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FsyncPolicy {
    /// After every write: the safest and slowest.
    EveryWrite,
    /// At most this long after a write (the default: 1 s), and after
    /// every 4 MiB written, so that no single sync holds the delivery
    /// thread up for long.
    Interval(Duration),
    /// Never: the operating system writes when it sees fit.
    Never,
}

/// What the spool does at its size cap
/// ([`Builder::spool_max_bytes`](crate::Builder::spool_max_bytes)), for
/// [`Builder::spool_full`](crate::Builder::spool_full). Either way the
/// items dropped are counted
/// ([`Stats::spool_dropped`](crate::Stats::spool_dropped)).
///
/// ```
/// use tracing_jkool::SpoolFull;
///
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .spool_dir(std::env::temp_dir().join("my-app-spool"))
///     .spool_full(SpoolFull::DropNewest);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpoolFull {
    /// Deletes the oldest segment (the default): what is delivered after a
    /// long outage is the most recent.
    DropOldest,
    /// Drops each new item until there is room again.
    DropNewest,
}

/// The spool settings, as the builder holds them.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) dir: Option<PathBuf>,
    pub(crate) max_bytes: u64,
    pub(crate) fsync: FsyncPolicy,
    pub(crate) full: SpoolFull,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dir: None,
            max_bytes: 1 << 30,
            fsync: FsyncPolicy::Interval(Duration::from_secs(1)),
            full: SpoolFull::DropOldest,
        }
    }
}

/// A chunk read from the spool: the group that carries its items
/// acknowledges them when done with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkRef {
    pub(crate) kind: Kind,
    pub(crate) id: u64,
    /// Left by an earlier process: counted apart from this one's items.
    pub(crate) recovered: bool,
}
