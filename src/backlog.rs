//! Serialized items waiting for a request: two FIFO queues, one per kind,
//! bounded by the retry buffer, and how a batch and its body are made.

use std::collections::VecDeque;

use bytes::Bytes;
use tokio::time::{Duration, Instant};

use crate::model::Kind;
use crate::settings::Framing;

/// One serialized item waiting to be sent.
#[derive(Debug)]
struct Waiting {
    /// Arrival order across both kinds, to find the oldest.
    seq: u64,
    arrived: Instant,
    json: Bytes,
}

/// The items of both kinds that wait for a request.
#[derive(Debug)]
pub(crate) struct Backlog {
    events: VecDeque<Waiting>,
    activities: VecDeque<Waiting>,
    next_seq: u64,
    /// A request goes once this many items of a kind wait...
    batch_size: usize,
    /// ...or once the oldest has waited this long...
    flush_interval: Duration,
    /// ...or when it arrived before this sequence number: a flush or a
    /// shutdown asked for it.
    flush_below: u64,
}

impl Backlog {
    pub(crate) fn new(batch_size: usize, flush_interval: Duration) -> Self {
        Backlog {
            events: VecDeque::new(),
            activities: VecDeque::new(),
            next_seq: 0,
            batch_size,
            flush_interval,
            flush_below: 0,
        }
    }

    /// Whether a batch of `kind` should go now: full, old enough, or asked
    /// for by a flush or shutdown; or, when bodies hold one item each
    /// (`eager`), whenever one waits.
    pub(crate) fn due(&self, kind: Kind, now: Instant, eager: bool) -> bool {
        let Some(waiting) = self.queue_ref(kind).front() else {
            return false;
        };
        eager
            || self.kind_len(kind) >= self.batch_size
            || waiting.seq < self.flush_below
            || waiting.arrived + self.flush_interval <= now
    }

    /// Everything waiting now goes without waiting for its batch to fill.
    pub(crate) fn flush_what_waits(&mut self) {
        self.flush_below = self.next_seq;
    }

    /// Everything, now and later, goes without waiting: the pipeline stops.
    pub(crate) fn flush_everything(&mut self) {
        self.flush_below = u64::MAX;
    }

    fn queue(&mut self, kind: Kind) -> &mut VecDeque<Waiting> {
        match kind {
            Kind::Event => &mut self.events,
            Kind::Activity => &mut self.activities,
        }
    }

    fn queue_ref(&self, kind: Kind) -> &VecDeque<Waiting> {
        match kind {
            Kind::Event => &self.events,
            Kind::Activity => &self.activities,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.events.len() + self.activities.len()
    }

    pub(crate) fn kind_len(&self, kind: Kind) -> usize {
        self.queue_ref(kind).len()
    }

    /// Adds an item; past `limit` items, drops the oldest of either kind
    /// and returns true.
    pub(crate) fn push(&mut self, kind: Kind, json: Bytes, now: Instant, limit: usize) -> bool {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue(kind).push_back(Waiting {
            seq,
            arrived: now,
            json,
        });
        if self.len() <= limit {
            return false;
        }
        let oldest = match (self.events.front(), self.activities.front()) {
            (Some(e), Some(a)) if a.seq < e.seq => Kind::Activity,
            (Some(_), _) => Kind::Event,
            _ => Kind::Activity,
        };
        self.queue(oldest).pop_front();
        true
    }

    /// The oldest item of `kind`: its sequence number and arrival time.
    pub(crate) fn front(&self, kind: Kind) -> Option<(u64, Instant)> {
        self.queue_ref(kind).front().map(|w| (w.seq, w.arrived))
    }

    /// The oldest items of `kind`, FIFO: at most `max_items`, and no more
    /// than `max_bytes` of body (but always at least one item).
    pub(crate) fn take(&mut self, kind: Kind, max_items: usize, max_bytes: usize) -> Vec<Bytes> {
        let queue = self.queue(kind);
        let mut batch = Vec::new();
        let mut bytes = 2; // an array's brackets
        while let Some(next) = queue.front() {
            let size = next.json.len() + 1;
            if batch.len() == max_items || (!batch.is_empty() && bytes + size > max_bytes) {
                break;
            }
            bytes += size;
            batch.extend(queue.pop_front().map(|w| w.json));
        }
        batch
    }

    /// Empties the backlog, returning how many items it held.
    pub(crate) fn clear(&mut self) -> usize {
        let count = self.len();
        self.events.clear();
        self.activities.clear();
        count
    }
}

/// The request body for `items` in `format`, gzipped when asked.
pub(crate) fn body(items: &[Bytes], framing: Framing, gzip: bool) -> Bytes {
    let mut body = Vec::with_capacity(items.iter().map(|j| j.len() + 1).sum::<usize>() + 2);
    match framing {
        Framing::Array => {
            body.push(b'[');
            for (i, json) in items.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(json);
            }
            body.push(b']');
        }
        Framing::Object | Framing::Lines => {
            for json in items {
                // Newline-terminated, as JESL sends.
                body.extend_from_slice(json);
                body.push(b'\n');
            }
        }
    }
    if gzip {
        return Bytes::from(gzipped(&body));
    }
    Bytes::from(body)
}

#[cfg(feature = "gzip")]
fn gzipped(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

#[cfg(not(feature = "gzip"))]
fn gzipped(body: &[u8]) -> Vec<u8> {
    body.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_fifo_by_count_and_bytes_and_evicts_the_oldest_of_either_kind() {
        let now = Instant::now();
        let mut backlog = Backlog::new(10, Duration::from_secs(1));
        let json = |s: &'static [u8]| Bytes::from_static(s);
        assert!(!backlog.push(Kind::Event, json(b"{\"e\":1}"), now, 3));
        assert!(!backlog.push(Kind::Activity, json(b"{\"a\":1}"), now, 3));
        assert!(!backlog.push(Kind::Event, json(b"{\"e\":2}"), now, 3));
        // The fourth item evicts the oldest: event 1.
        assert!(backlog.push(Kind::Event, json(b"{\"e\":3}"), now, 3));
        assert_eq!(backlog.front(Kind::Event).map(|f| f.0), Some(2));
        // 2 + 8 fits 10 bytes; a second item would not.
        assert_eq!(backlog.take(Kind::Event, 10, 10), [json(b"{\"e\":2}")]);
        assert_eq!(backlog.take(Kind::Event, 10, 1).len(), 1, "at least one");
        assert_eq!(backlog.len(), 1);
        let batch = backlog.take(Kind::Activity, 10, 1 << 20);
        assert_eq!(&body(&batch, Framing::Array, false)[..], b"[{\"a\":1}]");
    }

    #[test]
    fn bodies_are_arrays_or_newline_terminated_objects() {
        let items = [Bytes::from_static(b"{}"), Bytes::from_static(b"{}")];
        assert_eq!(&body(&items, Framing::Array, false)[..], b"[{},{}]");
        assert_eq!(&body(&items, Framing::Lines, false)[..], b"{}\n{}\n");
    }
}
