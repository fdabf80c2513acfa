//! [`ShutdownGuard`]: `shutdown` when a scope ends.

use std::time::Duration;

use super::JKoolHandle;

impl JKoolHandle {
    /// A guard that calls [`shutdown`](Self::shutdown) with `timeout` when
    /// dropped: keep it alive until the end of `main`.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let layer = tracing_jkool::JKoolLayer::new("my-access-token");
    /// let _guard = layer.handle().shutdown_guard(Duration::from_secs(5));
    /// tracing_subscriber::registry().with(layer).init();
    /// tracing::info!("sent before main returns");
    /// ```
    pub fn shutdown_guard(&self, timeout: Duration) -> ShutdownGuard {
        ShutdownGuard {
            handle: self.clone(),
            timeout,
        }
    }
}

/// Shuts the pipeline down when dropped; made by
/// [`JKoolHandle::shutdown_guard`].
#[derive(Debug)]
#[must_use = "the guard shuts down when dropped: bind it to a variable"]
pub struct ShutdownGuard {
    handle: JKoolHandle,
    timeout: Duration,
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        if let Err(err) = self.handle.shutdown(self.timeout) {
            crate::handle::notices::stderr(format_args!("{err}"));
        }
    }
}
