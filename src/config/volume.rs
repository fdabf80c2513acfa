//! What keeps the volume sent down: which traces are kept, and how many
//! events one callsite may send.

use std::time::Duration;

use crate::{Builder, Sampler};

/// # Volume
///
/// Keep a fraction of traces, and every trace that failed.
///
/// ```
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .sampler(tracing_jkool::Sampler::ratio(0.1));
/// # drop(builder);
/// ```
impl Builder {
    /// Keeps the traces `sampler` says, and drops the rest (counted in
    /// [`Stats::sampled_out`](crate::Stats::sampled_out)); without one,
    /// every trace is sent. `JKOOL_SAMPLE_RATIO` sets the ratio from the
    /// environment ([`with_env`](Self::with_env)).
    ///
    /// ```
    /// use tracing_jkool::Sampler;
    ///
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .sampler(Sampler::ratio(0.25).keep_errors(true));
    /// # drop(builder);
    /// ```
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.settings.sampler = Some(sampler);
        self
    }

    /// Caps log storms: past `events` events from one callsite in a
    /// window of `per`, that callsite's events are dropped until the
    /// window ends, before anything is built for them; then one WARNING
    /// event (operation `tracing-jkool.suppressed`) says which callsite
    /// (`file:line`, in `location` and its text, with the first dropped
    /// message) and how many were dropped, in the property `suppressed`
    /// (long). Other callsites are untouched; a `log` record's callsite is
    /// its own file and line. ERROR events count too; as
    /// `events` is at least 1, a callsite's first event of each window,
    /// an error or not, always goes. At most
    /// 4,096 callsites are limited; events of any beyond are never
    /// dropped. `shutdown` tells what the last windows dropped. Windows
    /// are counted in whole milliseconds (at least 1 ms; over 24 days are
    /// taken as 24 days). [`JKoolHandle::set_max_events_per_callsite`](crate::JKoolHandle::set_max_events_per_callsite)
    /// changes the limit while the application runs.
    ///
    /// On the application's thread it costs a counter per callsite,
    /// updated without a lock.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .max_events_per_callsite(100, Duration::from_secs(1));
    /// # drop(builder);
    /// ```
    pub fn max_events_per_callsite(mut self, events: u32, per: Duration) -> Self {
        self.storm_limit = Some((events, per));
        self
    }
}
