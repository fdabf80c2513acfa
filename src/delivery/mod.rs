//! Delivery, on the crate's own thread: the worker takes items from the
//! queue, folds repeats, writes their JSON into the backlog, batches it,
//! keeps requests in flight, retries, and spills to the spool; what it says
//! on stderr it says plainly and rarely. It calls [`wire`](crate::wire),
//! [`transport`](crate::transport) and [`spool`](crate::spool), and
//! reports progress through the handle's counters.

pub(crate) mod backlog;
pub(crate) mod dedupe;
pub(crate) mod group;
pub(crate) mod requests;
pub(crate) mod sampling;
pub(crate) mod settings;
pub(crate) mod worker;
