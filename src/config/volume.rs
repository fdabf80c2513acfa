//! What keeps the volume sent down: which traces are kept.

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
}
