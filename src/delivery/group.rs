//! A group: items sent in one body, and retried together until an answer
//! says to split them.

use tokio::time::Instant;

use crate::item::model::Kind;
use crate::spool::ChunkRef;
use crate::wire::Serialized;

/// Items sent together, and retried together until the answer says to
/// split them.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) kind: Kind,
    /// Each item's JSON.
    pub(crate) items: Vec<Serialized>,
    /// When its first try started.
    pub(crate) first_try: Instant,
    /// When its latest try started.
    pub(crate) last_try: Instant,
    /// Failed tries so far, for the backoff.
    pub(crate) failures: u32,
    /// When the try that began its current run of 5xx answers started:
    /// a body jKool accepted since is singled out.
    pub(crate) failing_since: Option<Instant>,
    /// When the server first failed on it while accepting others.
    pub(crate) refused_since: Option<Instant>,
    /// Waiting to be tried again at this time (not in flight).
    pub(crate) retry_at: Option<Instant>,
    /// jKool asked (`Retry-After`) not to send it again before this: held
    /// to, whatever other requests' answers say meanwhile.
    pub(crate) not_before: Option<Instant>,
    /// Half of a two-item body the server refused: if both halves alone
    /// are accepted, the endpoint refuses batches, not these items.
    pub(crate) pair: Option<u64>,
    /// Its last try found jKool unavailable: it goes again, ahead of new
    /// batches, as soon as jKool answers.
    pub(crate) waits_for_jkool: bool,
    /// Read from the spool: acknowledged there once done with.
    pub(crate) chunk: Option<ChunkRef>,
}

impl Group {
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Its items' places in the queue.
    pub(crate) fn seqs(&self) -> impl ExactSizeIterator<Item = u64> + '_ {
        self.items.iter().map(|item| item.seq)
    }

    /// The two halves, each to be tried again now. They keep the time
    /// their whole began failing: once one half is accepted, the other,
    /// failing still, is singled out, whatever order they go in.
    pub(crate) fn split(mut self, now: Instant) -> [Group; 2] {
        let second = self.items.split_off(self.items.len() / 2);
        let first = std::mem::take(&mut self.items);
        let half = |items| Group {
            items,
            retry_at: Some(now),
            pair: None,
            ..self
        };
        [half(first), half(second)]
    }
}
