//! Serialized items waiting for a request: two FIFO queues, one per kind,
//! bounded by the retry buffer, and how a batch and its body are made.

use std::collections::VecDeque;

use bytes::Bytes;
use tokio::time::{Duration, Instant};

use crate::delivery::settings::Framing;
use crate::item::model::Kind;
use crate::wire::Serialized;

/// One serialized item waiting to be sent.
#[derive(Debug)]
struct Waiting {
    arrived: Instant,
    /// Its place in the queue orders both kinds, to find the oldest.
    item: Serialized,
}

/// The items of both kinds that wait for a request.
#[derive(Debug)]
pub(crate) struct Backlog {
    events: VecDeque<Waiting>,
    activities: VecDeque<Waiting>,
    /// A request goes once this many items of a kind wait...
    batch_size: usize,
    /// ...or once the oldest has waited this long...
    flush_interval: Duration,
    /// ...or when it was queued before this place: a flush or a shutdown
    /// asked for it.
    flush_below: u64,
}

impl Backlog {
    pub(crate) fn new(batch_size: usize, flush_interval: Duration) -> Self {
        Backlog {
            events: VecDeque::new(),
            activities: VecDeque::new(),
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
            || waiting.item.seq < self.flush_below
            || waiting.arrived + self.flush_interval <= now
    }

    /// Everything queued before the `upto`th item goes without waiting for
    /// its batch to fill.
    pub(crate) fn flush_below(&mut self, upto: u64) {
        self.flush_below = self.flush_below.max(upto);
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
    /// and returns its place in the queue.
    pub(crate) fn push(
        &mut self,
        kind: Kind,
        item: Serialized,
        now: Instant,
        limit: usize,
    ) -> Option<u64> {
        self.queue(kind).push_back(Waiting { arrived: now, item });
        if self.len() <= limit {
            return None;
        }
        let oldest = match (self.events.front(), self.activities.front()) {
            (Some(e), Some(a)) if a.item.seq < e.item.seq => Kind::Activity,
            (Some(_), _) => Kind::Event,
            _ => Kind::Activity,
        };
        self.queue(oldest).pop_front().map(|w| w.item.seq)
    }

    /// The oldest item of `kind`: its place in the queue and arrival time.
    pub(crate) fn front(&self, kind: Kind) -> Option<(u64, Instant)> {
        self.queue_ref(kind)
            .front()
            .map(|w| (w.item.seq, w.arrived))
    }

    /// The oldest items of `kind`, FIFO: at most `max_items`, and no more
    /// than `max_bytes` of body (but always at least one item).
    pub(crate) fn take(
        &mut self,
        kind: Kind,
        max_items: usize,
        max_bytes: usize,
    ) -> Vec<Serialized> {
        let queue = self.queue(kind);
        let mut batch = Vec::new();
        let mut bytes = 2; // an array's brackets
        while let Some(next) = queue.front() {
            let size = next.item.json.len() + 1;
            if batch.len() == max_items || (!batch.is_empty() && bytes + size > max_bytes) {
                break;
            }
            bytes += size;
            batch.extend(queue.pop_front().map(|w| w.item));
        }
        batch
    }

    /// Empties the backlog, returning the places of the items it held.
    pub(crate) fn clear(&mut self) -> Vec<u64> {
        let waiting = self.events.drain(..).chain(self.activities.drain(..));
        waiting.map(|w| w.item.seq).collect()
    }
}

/// The request body for `items` in `format`, gzipped when asked.
pub(crate) fn body(items: &[Serialized], framing: Framing, gzip: bool) -> Bytes {
    let size = items.iter().map(|i| i.json.len() + 1).sum::<usize>();
    let mut body = Vec::with_capacity(size + 2);
    match framing {
        Framing::Array => {
            body.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(&item.json);
            }
            body.push(b']');
        }
        Framing::Object | Framing::Lines => {
            for item in items {
                // Newline-terminated, as JESL sends.
                body.extend_from_slice(&item.json);
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

    fn item(seq: u64, json: &'static [u8]) -> Serialized {
        let json = Bytes::from_static(json);
        Serialized { seq, json }
    }

    #[test]
    fn takes_fifo_by_count_and_bytes_and_evicts_the_oldest_of_either_kind() {
        let now = Instant::now();
        let mut backlog = Backlog::new(10, Duration::from_secs(1));
        assert_eq!(
            backlog.push(Kind::Event, item(0, b"{\"e\":1}"), now, 3),
            None
        );
        assert_eq!(
            backlog.push(Kind::Activity, item(1, b"{\"a\":1}"), now, 3),
            None
        );
        assert_eq!(
            backlog.push(Kind::Event, item(2, b"{\"e\":2}"), now, 3),
            None
        );
        // The fourth item evicts the oldest: event 1.
        let evicted = backlog.push(Kind::Event, item(3, b"{\"e\":3}"), now, 3);
        assert_eq!(evicted, Some(0));
        assert_eq!(backlog.front(Kind::Event).map(|f| f.0), Some(2));
        // 2 + 8 fits 10 bytes; a second item would not.
        assert_eq!(backlog.take(Kind::Event, 10, 10), [item(2, b"{\"e\":2}")]);
        assert_eq!(backlog.take(Kind::Event, 10, 1).len(), 1, "at least one");
        assert_eq!(backlog.len(), 1);
        let batch = backlog.take(Kind::Activity, 10, 1 << 20);
        assert_eq!(&body(&batch, Framing::Array, false)[..], b"[{\"a\":1}]");
    }

    #[test]
    fn bodies_are_arrays_or_newline_terminated_objects() {
        let items = [item(0, b"{}"), item(1, b"{}")];
        assert_eq!(&body(&items, Framing::Array, false)[..], b"[{},{}]");
        assert_eq!(&body(&items, Framing::Lines, false)[..], b"{}\n{}\n");
    }
}
