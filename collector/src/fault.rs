//! Scripted misbehaviour: the faults a test queues with
//! [`Collector::inject`](super::Collector::inject), checked and kept in a
//! FIFO script that the server consumes one per request.

use std::collections::VecDeque;
use std::time::Duration;

use hyper::header::HeaderValue;
use hyper::StatusCode;

/// What the collector does instead of accepting a request; queue it with
/// [`Collector::inject`](super::Collector::inject).
///
/// ```
/// use std::time::Duration;
/// use tracing_jkool_collector::{Collector, Fault};
///
/// let collector = Collector::start()?;
/// collector.inject(Fault::retry_after(429, "2"), 1);
/// collector.inject(Fault::Delay(Duration::from_millis(50)), 1);
/// collector.inject(Fault::Reset, 1);
/// collector.inject(Fault::Redirect("http://127.0.0.1:9/elsewhere".into()), 1);
/// assert_eq!(collector.faults_pending(), 4);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer this status (items not kept), with an optional `Retry-After`
    /// header value (seconds or an HTTP date, sent verbatim). The status
    /// must be in `200..=999`.
    Status {
        /// The status to answer.
        status: u16,
        /// The `Retry-After` header value, if any.
        retry_after: Option<String>,
    },
    /// Wait this long, then handle the request normally (accept and keep the
    /// items). Used to exceed a client's request timeout. The body is read
    /// before the wait and the request is completed, logged and its items
    /// kept even when the client has given up meanwhile, as a slow real
    /// server would: a retry after a timeout then shows up as a duplicate.
    Delay(Duration),
    /// Read the request head, then close the TCP connection abruptly (with a
    /// reset) without answering and without reading the body: the client
    /// sees a connection error, not a response. Logged with status `0`.
    Reset,
    /// Answer `307 Temporary Redirect` with `Location: <url>` (items not
    /// kept).
    Redirect(String),
}

impl Fault {
    /// Answer `status` without a `Retry-After` header.
    ///
    /// ```
    /// use tracing_jkool_collector::Fault;
    ///
    /// assert_eq!(
    ///     Fault::status(503),
    ///     Fault::Status { status: 503, retry_after: None }
    /// );
    /// ```
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            retry_after: None,
        }
    }

    /// Answer `status` with `Retry-After: <value>`, e.g. `"3"` (seconds) or
    /// `"Wed, 21 Oct 2015 07:28:00 GMT"`.
    ///
    /// ```
    /// use tracing_jkool_collector::Fault;
    ///
    /// let fault = Fault::retry_after(429, "3");
    /// assert_eq!(
    ///     fault,
    ///     Fault::Status { status: 429, retry_after: Some("3".into()) }
    /// );
    /// ```
    pub fn retry_after(status: u16, value: impl Into<String>) -> Fault {
        Fault::Status {
            status,
            retry_after: Some(value.into()),
        }
    }
}

/// A [`Fault`] checked and converted to what the server sends.
#[derive(Debug, Clone)]
pub(super) enum Planned {
    Status {
        status: StatusCode,
        retry_after: Option<HeaderValue>,
    },
    Delay(Duration),
    Reset,
    Redirect(HeaderValue),
}

impl Planned {
    /// Checks `fault`; the error says what is wrong with it.
    pub(super) fn new(fault: Fault) -> Result<Planned, String> {
        Ok(match fault {
            Fault::Status {
                status,
                retry_after,
            } => Planned::Status {
                status: answer_status(status)?,
                retry_after: retry_after
                    .map(|value| header_value("Retry-After", &value))
                    .transpose()?,
            },
            Fault::Delay(delay) => Planned::Delay(delay),
            Fault::Reset => Planned::Reset,
            Fault::Redirect(url) => Planned::Redirect(header_value("Location", &url)?),
        })
    }
}

/// A status the collector can answer instead of accepting: a final status
/// (`200..=999`), not an informational one.
pub(super) fn answer_status(status: u16) -> Result<StatusCode, String> {
    match StatusCode::from_u16(status) {
        Ok(code) if status >= 200 => Ok(code),
        _ => Err(format!("status {status} is not in 200..=999")),
    }
}

fn header_value(name: &str, value: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(value)
        .map_err(|_| format!("{name} value {value:?} is not a valid header"))
}

/// The queued faults, as runs of one fault repeated: `inject(f, 1_000_000)`
/// costs one entry.
#[derive(Debug, Default)]
pub(super) struct Script {
    runs: VecDeque<(Planned, usize)>,
}

impl Script {
    pub(super) fn push(&mut self, fault: Planned, times: usize) {
        if times > 0 {
            self.runs.push_back((fault, times));
        }
    }

    /// The fault for the next request, if any.
    pub(super) fn pop(&mut self) -> Option<Planned> {
        let (fault, left) = self.runs.front_mut()?;
        *left -= 1;
        if *left > 0 {
            return Some(fault.clone());
        }
        self.runs.pop_front().map(|(fault, _)| fault)
    }

    pub(super) fn pending(&self) -> usize {
        self.runs
            .iter()
            .fold(0, |sum, (_, times)| sum.saturating_add(*times))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(planned: Option<Planned>) -> Option<u16> {
        match planned? {
            Planned::Status { status, .. } => Some(status.as_u16()),
            other => panic!("not a status: {other:?}"),
        }
    }

    #[test]
    fn script_is_fifo_run_by_run() {
        let mut script = Script::default();
        script.push(Planned::new(Fault::status(500)).unwrap(), 2);
        script.push(Planned::new(Fault::status(501)).unwrap(), 0);
        script.push(Planned::new(Fault::status(502)).unwrap(), 1);
        assert_eq!(script.pending(), 3);
        assert_eq!(status_of(script.pop()), Some(500));
        assert_eq!(script.pending(), 2);
        assert_eq!(status_of(script.pop()), Some(500));
        assert_eq!(status_of(script.pop()), Some(502));
        assert_eq!(script.pending(), 0);
        assert!(script.pop().is_none());
    }

    #[test]
    fn pending_saturates() {
        let mut script = Script::default();
        script.push(Planned::Reset, usize::MAX);
        script.push(Planned::Reset, usize::MAX);
        assert_eq!(script.pending(), usize::MAX);
    }

    #[test]
    fn bad_faults_are_refused() {
        for fault in [
            Fault::status(99),
            Fault::status(101),
            Fault::status(1000),
            Fault::retry_after(503, "1\r\nX-Evil: 1"),
            Fault::Redirect("http://x/\n".into()),
        ] {
            assert!(Planned::new(fault.clone()).is_err(), "{fault:?}");
        }
        assert!(Planned::new(Fault::retry_after(299, "Wed, 21 Oct 2015 07:28:00 GMT")).is_ok());
    }
}
