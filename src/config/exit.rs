//! What happens when the process exits without a `shutdown`, or panics.

use std::time::Duration;

use crate::Builder;

/// # At exit and on a panic
///
/// ```
/// let builder = tracing_jkool::JKoolLayer::builder("my-access-token")
///     .exit_flush(std::time::Duration::from_secs(5))
///     .capture_panics(true);
/// # drop(builder);
/// ```
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

    /// Sends every panic to jKool, off by default; also
    /// `JKOOL_CAPTURE_PANICS=1`. A panic becomes one event (operation
    /// `panic`) with the panic message as `msg-text` and `exception`,
    /// `file:line` as `location`, the thread's name as the property
    /// `thread` and, when `RUST_BACKTRACE` asks for one, the backtrace as
    /// the property `backtrace`; its `parent-id` is the span it unwound
    /// from. The spans the panic unwinds through end with status
    /// `EXCEPTION` and the panic message as their `exception`.
    ///
    /// A panic that ends its thread or the process is `FATAL`, with the
    /// property `caught = false`. One the application catches
    /// (`catch_unwind`, or tokio in a task) is `ERROR`, with
    /// `caught = true`. A hook cannot tell the two apart, so the event
    /// is sent once the thread shows which: as caught at its next
    /// `tracing` span or event (or `send`, `flush`) outside unwinding, or
    /// its next panic; as fatal at the thread's end or at the process's
    /// exit on that thread. A `shutdown` sends what still waits, as
    /// caught (the threads lived on until then). A thread that catches a
    /// panic and then ends without another span or event reports it as
    /// fatal.
    ///
    /// The hook never blocks the panicking thread; only where panics
    /// abort does it send the event at once and wait up to 2 s for what
    /// is queued. A panic the layer itself catches (a field's `Debug`
    /// that panics) is not reported. One hook is installed per process,
    /// however many pipelines capture panics, each of which gets the
    /// event; the hook that was installed before still runs, after this
    /// one, and hooks installed later run before it. Once every such
    /// pipeline is dropped, the hook only calls the one it found (it stays
    /// installed: taking it out would also take out a hook installed
    /// after it).
    ///
    /// ```
    /// let builder = tracing_jkool::JKoolLayer::builder("my-access-token").capture_panics(true);
    /// ```
    pub fn capture_panics(mut self, yes: bool) -> Self {
        self.capture_panics = yes;
        self
    }
}
