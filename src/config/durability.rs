//! The builder's settings for what is kept on disk: the spool, and the
//! `file://` sink's rotation.

use std::path::PathBuf;

use crate::spool::{FsyncPolicy, SpoolFull};
use crate::Builder;

/// # Durability
///
/// What waits on disk while jKool is away (the spool), and how a `file://`
/// sink rotates.
///
/// ```
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .spool_dir(std::env::temp_dir().join("my-app-spool"))
///     .spool_max_bytes(1 << 30);
/// # drop(builder);
/// ```
impl Builder {
    /// Keeps what cannot be delivered now on disk in `dir` instead of
    /// evicting it: while jKool is unreachable, while a retry is pending,
    /// or once the retry buffer is full, items are appended to the spool
    /// by the delivery thread (never the application's), and delivered
    /// from it in order, oldest first, once jKool answers again. A process
    /// started later on the same directory delivers what an earlier one
    /// left, after a crash or `kill -9` too.
    ///
    /// One process at a time: [`build`](Self::build) fails with
    /// [`Error::Spool`](crate::Error::Spool) when another holds the
    /// directory. Delivery from the spool is at least once: after a crash,
    /// up to [`max_concurrent_requests`](Self::max_concurrent_requests)
    /// bodies of [`batch_size`](Self::batch_size) items that were in flight
    /// are sent again. On a disk error (full disk, read-only directory),
    /// items are held in memory as without a spool, counted in
    /// [`Stats::spool_errors`](crate::Stats::spool_errors), and the spool is
    /// tried again 30 s later. Also `JKOOL_SPOOL_DIR`.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("doc-spool-{}", std::process::id()));
    /// let layer = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .spool_dir(&dir)
    ///     .spool_max_bytes(256 << 20)
    ///     .build()?;
    /// # drop(layer);
    /// # std::thread::sleep(std::time::Duration::from_millis(100));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// # Ok::<(), tracing_jkool::Error>(())
    /// ```
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool.dir = Some(dir.into());
        self
    }

    /// The spool's largest size on disk; default 1 GiB, at least 1 MiB. It
    /// is written in segments of an eighth of it (64 KiB to 16 MiB); the
    /// disk used stays within the cap plus one segment. At the cap, items
    /// are dropped as [`spool_full`](Self::spool_full) says and counted in
    /// [`Stats::spool_dropped`](crate::Stats::spool_dropped). Also
    /// `JKOOL_SPOOL_MAX_BYTES`.
    pub fn spool_max_bytes(mut self, bytes: u64) -> Self {
        self.spool.max_bytes = bytes;
        self
    }

    /// When the spool syncs what it wrote to disk; default
    /// [`FsyncPolicy::Interval`] of 1 s.
    pub fn spool_fsync(mut self, policy: FsyncPolicy) -> Self {
        self.spool.fsync = policy;
        self
    }

    /// What the spool drops at its cap; default [`SpoolFull::DropOldest`].
    pub fn spool_full(mut self, full: SpoolFull) -> Self {
        self.spool.full = full;
        self
    }

    /// With a `file://` URL, starts a new file once the current one would
    /// pass `bytes`: `app.jsonl` is renamed `app.jsonl.1` (`.1` becomes
    /// `.2`, and so on) and a new `app.jsonl` is begun. Off by default. A
    /// body of items is never split across files; bodies are made no
    /// larger than `bytes` (a single larger item makes a file of its own).
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("doc-rotate-{}.jsonl", std::process::id()));
    /// let layer = tracing_jkool::JKoolLayer::builder("unused")
    ///     .url(format!("file://{}", path.display()))
    ///     .max_file_bytes(10 << 20)
    ///     .max_files(5)
    ///     .build()?;
    /// # drop(layer);
    /// # std::thread::sleep(std::time::Duration::from_millis(100));
    /// # let _ = std::fs::remove_file(&path);
    /// # Ok::<(), tracing_jkool::Error>(())
    /// ```
    pub fn max_file_bytes(mut self, bytes: u64) -> Self {
        self.file_rotation.max_bytes = Some(bytes);
        self
    }

    /// With [`max_file_bytes`](Self::max_file_bytes), how many files are
    /// kept, the current one included: the oldest beyond are deleted.
    /// Default 5, at least 1.
    pub fn max_files(mut self, files: usize) -> Self {
        self.file_rotation.max_files = files;
        self
    }
}
