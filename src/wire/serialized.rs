//! What `wire` makes of an item: its JSON, kept with its place in the
//! queue, as the backlog, the requests and the spool hold it.

use bytes::Bytes;

/// An item's JSON, and its place in the queue: the items before a flush
/// are those with a lower `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Serialized {
    pub(crate) seq: u64,
    pub(crate) json: Bytes,
}
