//! What the delivery thread says on stderr: plainly, rarely, and never
//! through tracing (its lines must not feed back into the layer).

use std::io::Write;

use tokio::time::{Duration, Instant};

/// Writes `tracing-jkool: <message>` on stderr. A closed or full stderr
/// (`app 2>&1 | head`, a log shipper that went away) loses the line and
/// nothing else: `eprintln!` would panic there, on the delivery thread or,
/// in a destructor, the application's.
pub(crate) fn stderr(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "tracing-jkool: {message}");
}

/// The kinds of line, each rate-limited on its own so that a stream of
/// "will retry" cannot hide a "gave up".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    /// A request failed for a passing reason and will be tried again.
    Retrying,
    /// Items were given up: out of time, or refused by the server.
    GaveUp,
    /// Items were lost before delivery: queue full or evicted.
    Lost,
    /// The pipeline changed how it sends (one object per request).
    Format,
    /// The disk spool failed; items are held in memory.
    Spool,
}

const KINDS: usize = 5;

/// At most one line of a kind per this interval.
const INTERVAL: Duration = Duration::from_secs(60);

/// Rate-limited stderr lines, one clock per [`Notice`].
#[derive(Debug, Default)]
pub(crate) struct Reporter {
    last: [Option<Instant>; KINDS],
    token_rejected: bool,
}

impl Reporter {
    /// Prints `message` unless a line of this kind went out within the
    /// last minute.
    pub(crate) fn say(&mut self, notice: Notice, message: std::fmt::Arguments<'_>) {
        let now = Instant::now();
        let last = &mut self.last[notice as usize];
        if last.is_some_and(|at| now.duration_since(at) < INTERVAL) {
            return;
        }
        *last = Some(now);
        stderr(message);
    }

    /// Says once per pipeline that the token was refused; never shows it.
    pub(crate) fn token_rejected(&mut self, status: reqwest::StatusCode) {
        if !std::mem::replace(&mut self.token_rejected, true) {
            stderr(format_args!(
                "jKool rejected the access token ({status}); items are counted as failed"
            ));
        }
    }
}
