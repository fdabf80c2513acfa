//! What becomes of items done with: counted, and acknowledged in the spool
//! when they came from it; and the groups handed back to the worker.

use reqwest::StatusCode;

use crate::group::Group;
use crate::report::Notice;
use crate::spool::ChunkRef;

use super::Delivery;

/// How items were done with.
#[derive(Debug, Clone, Copy)]
pub(super) enum Done {
    /// Accepted, in a body of this many bytes.
    Sent(u64),
    /// Refused.
    Failed,
    /// Given up after retrying for too long.
    GaveUp,
}

impl Delivery {
    /// Stops every request and hands back every group, oldest first.
    pub(crate) fn abandon(&mut self) -> Vec<Group> {
        self.in_flight.abort_all();
        self.groups.take_all()
    }

    /// The groups waiting to be tried again that hold items from memory
    /// (not from the spool), oldest first: while jKool is down, the worker
    /// moves them to the spool.
    pub(crate) fn take_unspooled(&mut self) -> Vec<Group> {
        (self.groups).take_where(|g| g.chunk.is_none() && g.retry_at.is_some())
    }

    /// `count` items of a group are done with for good: acknowledged in
    /// the spool if they came from it, and counted (apart, when an earlier
    /// process left them).
    pub(super) fn done(&mut self, chunk: Option<ChunkRef>, count: usize, how: Done) {
        self.acks.extend(chunk.map(|chunk| (chunk, count)));
        let count = count as u64;
        match (chunk.is_some_and(|c| c.recovered), how) {
            (false, Done::Sent(bytes)) => self.shared.sent(count, bytes),
            (false, Done::Failed) => self.shared.failed(count),
            (false, Done::GaveUp) => self.shared.abandoned(count),
            (true, Done::Sent(bytes)) => self.shared.recovered(count, bytes),
            (true, _) => self.shared.spool_dropped(count),
        }
    }

    /// Items given up for lack of time: failed, and for a shutdown,
    /// reported as undelivered.
    pub(crate) fn give_up(&mut self, count: u64, why: &str) {
        self.reporter.say(
            Notice::GaveUp,
            format_args!("gave up on {count} item(s): {why}"),
        );
        self.shared.abandoned(count);
    }

    /// Items the server refused for good.
    pub(super) fn refused(&mut self, status: StatusCode, chunk: Option<ChunkRef>, count: usize) {
        self.reporter.say(
            Notice::GaveUp,
            format_args!("jKool refused {count} item(s) with {status}; they are counted as failed"),
        );
        self.done(chunk, count, Done::Failed);
    }
}
