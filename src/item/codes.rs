//! jKool's enumerated words: severities, completion codes and event types,
//! each spelled once.

use serde::ser::{Serialize, Serializer};

/// jKool's severity levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum Severity {
    None,
    Trace,
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Failure,
    Critical,
    Fatal,
    Halt,
}

impl Severity {
    /// The severity as jKool spells it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::None => "NONE",
            Severity::Trace => "TRACE",
            Severity::Debug => "DEBUG",
            Severity::Info => "INFO",
            Severity::Notice => "NOTICE",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
            Severity::Failure => "FAILURE",
            Severity::Critical => "CRITICAL",
            Severity::Fatal => "FATAL",
            Severity::Halt => "HALT",
        }
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Serialize for CompCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<tracing::Level> for Severity {
    fn from(level: tracing::Level) -> Self {
        match level {
            tracing::Level::ERROR => Severity::Error,
            tracing::Level::WARN => Severity::Warning,
            tracing::Level::INFO => Severity::Info,
            tracing::Level::DEBUG => Severity::Debug,
            tracing::Level::TRACE => Severity::Trace,
        }
    }
}

/// jKool's completion codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum CompCode {
    Success,
    Warning,
    Error,
}

impl CompCode {
    /// The code an event at `level` gets unless told otherwise: ERROR and
    /// WARNING for those levels, SUCCESS below.
    pub(crate) fn for_level(level: tracing::Level) -> Self {
        match level {
            tracing::Level::ERROR => CompCode::Error,
            tracing::Level::WARN => CompCode::Warning,
            _ => CompCode::Success,
        }
    }

    /// The code as jKool spells it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CompCode::Success => "SUCCESS",
            CompCode::Warning => "WARNING",
            CompCode::Error => "ERROR",
        }
    }
}

/// jKool's event types (`type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[allow(missing_docs)]
#[non_exhaustive]
pub enum EventType {
    Event,
    Other,
    Noop,
    Call,
    Start,
    Stop,
    Open,
    Close,
    Send,
    Receive,
    Inquire,
    Set,
    Browse,
    Add,
    Update,
    Remove,
    Clear,
    Log,
    Dataset,
}
