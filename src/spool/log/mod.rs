//! One kind's FIFO on disk: segments appended at the back, read from the
//! front in chunks, deleted once every chunk read from them is
//! acknowledged; the read position that survives a restart is in a small
//! `ack` file.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use bytes::Bytes;

use super::segment;

mod read;
mod write;

/// A place in the log: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Pos {
    pub(super) seg: u64,
    pub(super) off: u64,
}

/// A segment file.
#[derive(Debug)]
struct Seg {
    id: u64,
    bytes: u64,
    /// Records in it, when this process wrote it.
    records: Option<u64>,
    /// The places in the queue of its records not yet read, when this
    /// process wrote it.
    seqs: VecDeque<u64>,
}

/// Records read and not yet acknowledged, up to `end`.
#[derive(Debug)]
struct Chunk {
    id: u64,
    end: Pos,
    outstanding: usize,
}

/// What [`Log::take`] read.
#[derive(Debug, Default)]
pub(super) struct Taken {
    /// Each record's JSON.
    pub(super) items: Vec<Bytes>,
    /// Their places in the queue, when this process wrote them.
    pub(super) seqs: Vec<u64>,
    /// The places of this process's records skipped as corrupt.
    pub(super) skipped: Vec<u64>,
    pub(super) chunk: u64,
    /// Left by an earlier process.
    pub(super) recovered: bool,
    /// Torn or corrupt stretches skipped on the way.
    pub(super) corrupt: u64,
}

/// What dropping the oldest segment cost.
#[derive(Debug, Default)]
pub(super) struct Dropped {
    /// The places in the queue of the unread records this process wrote.
    pub(super) own: Vec<u64>,
    /// Unread records an earlier process left.
    pub(super) recovered: u64,
}

/// One kind's records on disk.
#[derive(Debug)]
pub(super) struct Log {
    dir: PathBuf,
    kind: u8,
    segs: VecDeque<Seg>,
    /// Open on the last segment while this process appends to it.
    writer: Option<File>,
    /// Segments closed since the last sync, to sync then.
    retired: Vec<File>,
    /// A segment was created since the last sync: sync the directory too.
    created: bool,
    pending: Vec<u8>,
    /// The places in the queue of the records in `pending`.
    pending_seqs: Vec<u64>,
    read: Pos,
    reader: Option<(u64, File)>,
    /// Bytes read ahead from `buf_at` on.
    buf: Vec<u8>,
    buf_at: Pos,
    chunks: VecDeque<Chunk>,
    next_chunk: u64,
    acked: Pos,
    ack_file: File,
    /// Written to but not yet synced.
    pub(super) unsynced: bool,
    /// Records written since the spool last counted them.
    pub(super) written: u64,
    pub(super) bytes: u64,
    /// Segments numbered below this were left by an earlier process.
    pub(super) first_own: u64,
}

impl Log {
    /// Opens the log of `kind` in `dir`, where an earlier process may have
    /// left segments and a read position.
    pub(super) fn open(dir: PathBuf, kind: u8) -> std::io::Result<Log> {
        let ack_path = dir.join(format!("{}.ack", kind as char));
        let mut ack_file = crate::transport::files::private()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&ack_path)?;
        let mut raw = Vec::new();
        // An ack record is 20 bytes: read no more, whatever the file is.
        (&mut ack_file).take(64).read_to_end(&mut raw)?;
        let acked = parse_ack(&raw).unwrap_or_default();
        let mut segs = VecDeque::new();
        for (id, bytes) in segment::list(&dir, kind)? {
            if id < acked.seg {
                // Acknowledged; deleting it was cut short.
                let _ = std::fs::remove_file(segment::path(&dir, kind, id));
                continue;
            }
            segs.push_back(Seg {
                id,
                bytes,
                records: None,
                seqs: VecDeque::new(),
            });
        }
        let read = match segs.front() {
            Some(first) if first.id == acked.seg => acked,
            Some(first) => Pos {
                seg: first.id,
                off: 0,
            },
            None => acked,
        };
        Ok(Log {
            bytes: segs.iter().map(|s| s.bytes).sum(),
            dir,
            kind,
            segs,
            writer: None,
            retired: Vec::new(),
            created: false,
            pending: Vec::new(),
            pending_seqs: Vec::new(),
            read,
            reader: None,
            buf: Vec::new(),
            buf_at: read,
            chunks: VecDeque::new(),
            next_chunk: 0,
            acked,
            ack_file,
            unsynced: false,
            written: 0,
            first_own: u64::MAX,
        })
    }

    /// The newest segment's number, if there is one.
    pub(super) fn last_id(&self) -> Option<u64> {
        self.segs.back().map(|s| s.id)
    }

    /// The oldest segment's number, if there is one.
    pub(super) fn first_id(&self) -> Option<u64> {
        self.segs.front().map(|s| s.id)
    }

    pub(super) fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Whether records wait to be read, on disk or in memory.
    pub(super) fn has_unread(&self) -> bool {
        !self.pending.is_empty()
            || self.segs.back().is_some_and(|last| {
                self.read
                    < Pos {
                        seg: last.id,
                        off: last.bytes,
                    }
            })
    }

    /// `count` records of chunk `chunk` are done with (delivered or failed
    /// for good): the read position that survives a restart moves past
    /// every chunk done with, and whole segments behind it are deleted.
    /// Returns the bytes freed.
    pub(super) fn ack(&mut self, chunk: u64, count: usize) -> Result<u64> {
        if let Ok(i) = self.chunks.binary_search_by_key(&chunk, |c| c.id) {
            let outstanding = &mut self.chunks[i].outstanding;
            *outstanding = outstanding.saturating_sub(count);
        }
        let before = self.acked;
        while let Some(front) = self.chunks.front().filter(|c| c.outstanding == 0) {
            self.acked = front.end;
            self.chunks.pop_front();
        }
        if self.acked == before {
            return Ok(0);
        }
        let mut record = [0; 20];
        record[..8].copy_from_slice(&self.acked.seg.to_le_bytes());
        record[8..16].copy_from_slice(&self.acked.off.to_le_bytes());
        let crc = crc32fast::hash(&record[..16]);
        record[16..].copy_from_slice(&crc.to_le_bytes());
        self.ack_file.seek(SeekFrom::Start(0))?;
        self.ack_file.write_all(&record)?;
        self.unsynced = true;
        let mut freed = 0;
        // Segments wholly behind the position, but the one being written.
        let behind = |log: &Log, seg: &Seg| {
            seg.id < log.acked.seg
                || seg.id == log.acked.seg
                    && log.acked.off >= seg.bytes
                    && (log.writer.is_none() || log.segs.len() > 1)
        };
        while let Some(front) = self.segs.front().filter(|s| behind(self, s)) {
            freed += front.bytes;
            let path = segment::path(&self.dir, self.kind, front.id);
            self.segs.pop_front();
            std::fs::remove_file(path)?;
        }
        self.bytes -= freed;
        Ok(freed)
    }

    /// Deletes the oldest segment, read or not, to make room.
    pub(super) fn drop_oldest(&mut self) -> Dropped {
        let Some(seg) = self.segs.pop_front() else {
            return Dropped::default();
        };
        if self.segs.is_empty() {
            // It was the one being written: the next record starts anew.
            self.retire();
        }
        let path = segment::path(&self.dir, self.kind, seg.id);
        let unread_from = match self.read.seg.cmp(&seg.id) {
            std::cmp::Ordering::Greater => None,
            std::cmp::Ordering::Equal => Some(self.read.off),
            std::cmp::Ordering::Less => Some(0),
        };
        let mut dropped = Dropped {
            own: seg.seqs.into(),
            recovered: 0,
        };
        if let (Some(off), None) = (unread_from, seg.records) {
            if let Ok(mut file) = crate::transport::files::private().read(true).open(&path) {
                dropped.recovered = segment::count(&mut file, self.kind, off, seg.bytes);
            }
        }
        let _ = std::fs::remove_file(&path);
        self.bytes -= seg.bytes;
        if self.read.seg <= seg.id {
            self.read = Pos {
                seg: seg.id + 1,
                off: 0,
            };
        }
        dropped
    }

    /// Closes the segment being written: the next record starts a new one.
    fn retire(&mut self) {
        self.retired.extend(self.writer.take());
    }

    /// Makes what was written durable when `durable`; either way, lets go
    /// of the segments closed since the last call.
    pub(super) fn sync(&mut self, durable: bool) -> Result {
        let retired = std::mem::take(&mut self.retired);
        if !std::mem::take(&mut self.unsynced) || !durable {
            return Ok(());
        }
        for file in retired.iter().chain(&self.writer) {
            file.sync_data()?;
        }
        self.ack_file.sync_data()?;
        if std::mem::take(&mut self.created) {
            // A new file's name is durable once its directory is synced
            // (where a directory can be opened: not on Windows).
            if let Ok(dir) = File::open(&self.dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }
}

type Result<T = ()> = std::io::Result<T>;

fn parse_ack(raw: &[u8]) -> Option<Pos> {
    let raw: &[u8; 20] = raw.get(..20)?.try_into().ok()?;
    let crc = u32::from_le_bytes([raw[16], raw[17], raw[18], raw[19]]);
    if crc32fast::hash(&raw[..16]) != crc {
        return None;
    }
    let word = |at: usize| {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(&raw[at..at + 8]);
        u64::from_le_bytes(bytes)
    };
    Some(Pos {
        seg: word(0),
        off: word(8),
    })
}
