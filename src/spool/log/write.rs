//! Writing a log: records wait in memory and are written in one call,
//! into segments of a bounded size.

use std::collections::VecDeque;
use std::io::Write;

use bytes::Bytes;

use super::{Log, Result, Seg};
use crate::spool::segment::{self, Decoded};

impl Log {
    /// Adds the record of the item at `seq` in the queue, in memory until
    /// [`flush`](Self::flush), which also happens here once a megabyte
    /// waits or the segment is full (the next record goes to a new
    /// segment). On an error, the record is still waiting.
    pub(in crate::spool) fn append(
        &mut self,
        json: &[u8],
        seq: u64,
        seg_limit: u64,
        next_id: &mut u64,
    ) -> Result {
        let size = (segment::HEADER + json.len()) as u64;
        let current = match self.writer {
            Some(_) => self.segs.back().map_or(0, |s| s.bytes),
            None => 0,
        };
        let used = current + self.pending.len() as u64;
        let roll = used > 0 && used + size > seg_limit;
        if roll {
            // The new record goes on with the next segment.
            let flushed = self.flush(next_id);
            self.retire();
            segment::encode(&mut self.pending, self.kind, json);
            self.pending_seqs.push(seq);
            flushed?;
            return Ok(());
        }
        segment::encode(&mut self.pending, self.kind, json);
        self.pending_seqs.push(seq);
        if self.pending.len() >= 1 << 20 {
            self.flush(next_id)?;
        }
        Ok(())
    }

    /// Writes what waits in one call, starting a segment if needed;
    /// returns how many records were written. On an error, they still wait
    /// and the segment is closed (its size stays what was written before).
    pub(in crate::spool) fn flush(&mut self, next_id: &mut u64) -> Result<u64> {
        if self.pending.is_empty() {
            return Ok(0);
        }
        if self.writer.is_none() {
            let id = *next_id;
            // Not `create_new`: the lock makes the name this process's.
            let file = crate::transport::files::private()
                .create(true)
                .append(true)
                .open(segment::path(&self.dir, self.kind, id))?;
            *next_id += 1;
            self.created = true;
            self.segs.push_back(Seg {
                id,
                bytes: 0,
                records: Some(0),
                seqs: VecDeque::new(),
            });
            self.writer = Some(file);
        }
        let (Some(writer), Some(seg)) = (self.writer.as_mut(), self.segs.back_mut()) else {
            return Ok(0);
        };
        if let Err(err) = writer.write_all(&self.pending) {
            self.retire();
            return Err(err);
        }
        let len = self.pending.len() as u64;
        let records = self.pending_seqs.len() as u64;
        seg.bytes += len;
        seg.records = seg.records.map(|r| r + records);
        seg.seqs.extend(self.pending_seqs.drain(..));
        self.bytes += len;
        self.pending.clear();
        self.unsynced = true;
        self.written += records;
        Ok(records)
    }

    /// The records still waiting in memory, taken back after an error,
    /// each with its place in the queue.
    pub(in crate::spool) fn take_pending(&mut self) -> Vec<(u64, Bytes)> {
        let pending = std::mem::take(&mut self.pending);
        let mut items = Vec::new();
        let mut at = 0;
        for seq in std::mem::take(&mut self.pending_seqs) {
            let Decoded::Record(json, size) = segment::decode(&pending[at..], self.kind) else {
                break;
            };
            items.push((seq, Bytes::copy_from_slice(json)));
            at += size;
        }
        items
    }
}
