//! Reading a log: chunks of records from the front, a segment at a time,
//! skipping what is torn or corrupt.

use bytes::Bytes;

use super::{Chunk, Log, Pos, Result, Taken};
use crate::spool::segment::{self, Decoded};

impl Log {
    /// The oldest unread records written to disk, all from one segment: at
    /// most `max_items`, and no more than `max_bytes` (but at least one);
    /// nothing while `window` chunks are not yet acknowledged, so that a
    /// crash resends at most that many.
    pub(in crate::spool) fn take(
        &mut self,
        max_items: usize,
        max_bytes: usize,
        window: usize,
    ) -> Taken {
        let mut taken = Taken::default();
        if self.chunks.len() >= window {
            return taken;
        }
        // Each round moves to a later segment, or returns.
        for _ in 0..=self.segs.len() {
            let Some(seg) = self.segs.iter().find(|s| s.id >= self.read.seg) else {
                return taken;
            };
            let (id, end, last) = (
                seg.id,
                seg.bytes,
                self.segs.back().map(|s| s.id) == Some(seg.id),
            );
            if id != self.read.seg {
                self.read = Pos { seg: id, off: 0 };
            }
            if self.read.off >= end {
                if last {
                    return taken;
                }
                self.read = Pos {
                    seg: id + 1,
                    off: 0,
                };
                continue;
            }
            let read = self.read_records_from(end, max_items, max_bytes, &mut taken.items);
            let broken = !matches!(read, Ok(true));
            if let Some(seg) = self.segs.iter_mut().find(|s| s.id == id) {
                // This process's records: their places go with them.
                let read = taken.items.len().min(seg.seqs.len());
                taken.seqs.extend(seg.seqs.drain(..read));
                if broken {
                    taken.skipped.extend(seg.seqs.drain(..));
                }
            }
            if broken {
                // Torn or corrupt (or unreadable): the rest of the
                // segment is skipped.
                taken.corrupt += 1;
                self.read.off = end;
            }
            if !taken.items.is_empty() {
                taken.chunk = self.next_chunk;
                taken.recovered = id < self.first_own;
                self.next_chunk += 1;
                self.chunks.push_back(Chunk {
                    id: taken.chunk,
                    end: self.read,
                    outstanding: taken.items.len(),
                });
                return taken;
            }
        }
        taken
    }

    /// Reads records of the segment `self.read.seg` (which ends at `end`)
    /// into `items`; false at a record that is not valid.
    fn read_records_from(
        &mut self,
        end: u64,
        max_items: usize,
        max_bytes: usize,
        items: &mut Vec<Bytes>,
    ) -> Result<bool> {
        let ahead = |log: &Log| match (
            log.buf_at.seg == log.read.seg,
            log.read.off.checked_sub(log.buf_at.off),
        ) {
            (true, Some(skip)) if (skip as usize) < log.buf.len() => skip as usize,
            _ => usize::MAX,
        };
        let mut at = ahead(self);
        if at == usize::MAX
            || !matches!(
                segment::decode(&self.buf[at..], self.kind),
                Decoded::Record(..)
            )
        {
            let want = (end - self.read.off).min(1 << 20) as usize;
            self.fill(want)?;
            at = 0;
            if let Decoded::Short(size) = segment::decode(&self.buf, self.kind) {
                if self.read.off + size as u64 > end {
                    return Ok(false);
                }
                self.fill(size)?;
            }
        }
        let mut bytes = 2;
        while items.len() < max_items {
            let Decoded::Record(json, size) = segment::decode(&self.buf[at..], self.kind) else {
                break;
            };
            if !items.is_empty() && bytes + json.len() + 1 > max_bytes {
                break;
            }
            bytes += json.len() + 1;
            items.push(Bytes::copy_from_slice(json));
            at += size;
            self.read.off += size as u64;
        }
        if items.is_empty() {
            return Ok(false);
        }
        // Past the records read, within the segment: the next must be valid
        // or short (read on the next take).
        let rest = &self.buf[at..];
        let within = (end - self.read.off) as usize;
        Ok(!matches!(
            segment::decode(&rest[..rest.len().min(within)], self.kind),
            Decoded::Corrupt
        ))
    }

    /// Reads `want` bytes from the read position into the buffer.
    fn fill(&mut self, want: usize) -> Result {
        let seg = self.read.seg;
        if self.reader.as_ref().is_none_or(|(id, _)| *id != seg) {
            let file = crate::transport::files::private()
                .read(true)
                .open(segment::path(&self.dir, self.kind, seg))?;
            self.reader = Some((seg, file));
        }
        if let Some((_, file)) = self.reader.as_mut() {
            self.buf = segment::read_at(file, self.read.off, want)?;
            self.buf_at = self.read;
        }
        Ok(())
    }
}
