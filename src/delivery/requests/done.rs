//! What becomes of items done with: counted, and acknowledged in the spool
//! when they came from it; and the groups handed back to the worker.

use reqwest::StatusCode;

use crate::delivery::group::Group;
use crate::handle::notices::Notice;
use crate::handle::stats::Cure;
use crate::item::model::Kind;

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
    /// (Answers still to come on pipelined connections find no group.)
    pub(crate) fn abandon(&mut self) -> Vec<Group> {
        self.in_flight.abort_all();
        self.pipelined.clear();
        self.groups.take_all()
    }

    /// The groups of the kinds `spill` says, waiting to be tried again,
    /// that hold items from memory (not from the spool), oldest first:
    /// while jKool is down, the worker moves them to the spool.
    pub(crate) fn take_unspooled(&mut self, spill: impl Fn(Kind) -> bool) -> Vec<Group> {
        let spilled = |g: &Group| g.chunk.is_none() && g.retry_at.is_some() && spill(g.kind);
        self.groups.take_where(spilled)
    }

    /// A group's items are done with for good: acknowledged in the spool
    /// if they came from it, and counted (apart, when an earlier process
    /// left them).
    pub(super) fn done(&mut self, group: &Group, how: Done) {
        let chunk = group.chunk;
        let count = group.len();
        self.acks.extend(chunk.map(|chunk| (chunk, count)));
        let seqs = group.seqs();
        match (chunk.is_some_and(|c| c.recovered), how) {
            (false, Done::Sent(bytes)) => self.shared.sent(seqs, bytes),
            (false, Done::Failed) => self.shared.failed(seqs),
            (false, Done::GaveUp) => self.shared.abandoned(seqs),
            (true, Done::Sent(bytes)) => self.shared.recovered(count as u64, bytes),
            (true, _) => self.shared.spool_dropped(count as u64),
        }
    }

    /// The items at `seqs` given up for lack of time: failed, and for a
    /// shutdown, reported as undelivered.
    pub(crate) fn give_up(&mut self, seqs: impl ExactSizeIterator<Item = u64>, why: &str) {
        let count = seqs.len();
        self.reporter.say(
            Notice::GaveUp,
            format_args!("gave up on {count} item(s): {why}"),
        );
        self.shared.abandoned(seqs);
    }

    /// A group the server refused for good.
    pub(super) fn refused(&mut self, status: StatusCode, group: &Group) {
        let count = group.len();
        (self.shared).trouble(Cure::CheckUrl, format!("jKool refused items with {status}"));
        self.reporter.say(
            Notice::GaveUp,
            format_args!("jKool refused {count} item(s) with {status}; they are counted as failed"),
        );
        self.done(group, Done::Failed);
    }
}
