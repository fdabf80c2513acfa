//! What happens when the process exits without a `shutdown`.

use std::time::Duration;

use crate::Builder;

impl Builder {
    /// How long the last-chance flush may take when the process exits
    /// normally (returns from `main`, calls `std::process::exit`) before
    /// [`JKoolHandle::shutdown`](crate::JKoolHandle::shutdown) was called:
    /// what is queued is sent within this time, and whatever is still
    /// undelivered then is said on one stderr line. Default 2 s; zero
    /// turns it off. It runs after `main` has returned, on the exiting
    /// thread, on Unix (through `atexit`); elsewhere call `shutdown`.
    /// After `shutdown` it does nothing.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
    ///     .exit_flush(Duration::from_secs(5));
    /// ```
    pub fn exit_flush(mut self, timeout: Duration) -> Self {
        self.exit_flush = timeout;
        self
    }
}
