//! What the web view needs to know about one item, read once on arrival.

use serde_json::Value;

/// Names and messages are cut to this many characters in summaries.
const MAX_NAME_CHARS: usize = 200;

/// jKool's severities, lowest first; an item's rank is its place here.
pub(crate) const SEVERITIES: [&str; 11] = [
    "NONE", "TRACE", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "FAILURE", "CRITICAL", "FATAL",
    "HALT",
];

/// The rank of `ERROR`: this and every severity above it is an error.
pub(crate) const ERROR_RANK: u8 = 6;

/// The rank of a severity name (case-insensitive), if it is one.
pub(crate) fn severity_rank(name: &str) -> Option<u8> {
    SEVERITIES
        .iter()
        .position(|s| s.eq_ignore_ascii_case(name))
        .and_then(|rank| u8::try_from(rank).ok())
}

/// The name of a severity rank.
pub(crate) fn severity_name(rank: u8) -> &'static str {
    SEVERITIES.get(usize::from(rank)).copied().unwrap_or("NONE")
}

/// One received item as the indexes see it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Info {
    pub(crate) id: Option<String>,
    pub(crate) parent: Option<String>,
    /// `type`, upper-cased; `EVENT` when absent.
    pub(crate) kind: String,
    /// An activity's operation, else its message, else its name; an
    /// event's message, else its operation, else its name.
    pub(crate) name: String,
    /// An event's operation (its target, for a `tracing` event) when the
    /// name is its message: where the event came from.
    pub(crate) target: Option<String>,
    pub(crate) status: Option<String>,
    /// Own severity rank: the `severity` sent, `ERROR` for an `EXCEPTION`
    /// activity without one, `NONE` otherwise.
    pub(crate) severity: u8,
    /// An `EXCEPTION` activity or an event at `ERROR` or above.
    pub(crate) error: bool,
    /// An activity with status `EXCEPTION`: a failure, which the `ERROR`
    /// events directly under it only tell about.
    pub(crate) exception: bool,
    pub(crate) start: Option<i64>,
    pub(crate) duration: Option<i64>,
    /// The `APPL` of `source-fqn` (else its first value).
    pub(crate) source: String,
    pub(crate) fqn: String,
    pub(crate) corrids: Vec<String>,
}

fn text<'v>(item: &'v Value, key: &str) -> Option<&'v str> {
    item.get(key)?.as_str()
}

/// An integer sent as a number or as a string of digits.
fn int(item: &Value, key: &str) -> Option<i64> {
    match item.get(key)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn cut(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_NAME_CHARS + 1)
        .collect();
    if one_line.chars().count() > MAX_NAME_CHARS {
        let mut short: String = one_line.chars().take(MAX_NAME_CHARS - 1).collect();
        short.push('…');
        short
    } else {
        one_line
    }
}

/// The application named in a `source-fqn` such as `APPL=Shop#SERVER=web1`.
pub(crate) fn appl(fqn: &str) -> String {
    let mut first = None;
    for part in fqn.split('#') {
        if let Some((key, value)) = part.split_once('=') {
            if key.trim().eq_ignore_ascii_case("APPL") {
                return value.trim().to_string();
            }
            first.get_or_insert(value.trim());
        }
    }
    first.unwrap_or(fqn).to_string()
}

/// A correlator that looks like a W3C trace id: 32 lowercase hex digits.
pub(crate) fn is_trace_id(corrid: &str) -> bool {
    corrid.len() == 32
        && corrid
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && corrid.bytes().any(|b| b != b'0')
}

impl Info {
    /// Reads what the indexes need; tolerant of missing keys and wrong types.
    pub(crate) fn of(item: &Value) -> Info {
        let kind = text(item, "type")
            .map(str::to_ascii_uppercase)
            .unwrap_or_else(|| "EVENT".to_string());
        let status = text(item, "status").map(str::to_string);
        let exception = kind == "ACTIVITY"
            && status
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("EXCEPTION"));
        let sent = text(item, "severity").and_then(severity_rank);
        let severity = match sent {
            Some(rank) => rank.max(if exception { ERROR_RANK } else { 0 }),
            None if exception => ERROR_RANK,
            None => 0,
        };
        let error = exception || (kind != "ACTIVITY" && severity >= ERROR_RANK);
        let operation = text(item, "operation").filter(|o| !o.is_empty());
        let message = text(item, "msg-text").filter(|m| !m.is_empty());
        // An event is told by its message: its operation is often only the
        // target it was logged from, the same for many events.
        let (name, target) = match (kind == "ACTIVITY", operation, message) {
            (false, Some(op), Some(msg)) => (msg, (op != msg).then(|| cut(op))),
            (false, op, msg) => (
                msg.or(op).or_else(|| text(item, "name")).unwrap_or(""),
                None,
            ),
            (true, op, msg) => (
                op.or(msg).or_else(|| text(item, "name")).unwrap_or(""),
                None,
            ),
        };
        let start = int(item, "start-time-usec").or_else(|| int(item, "time-usec"));
        let duration = int(item, "elapsed-time-usec")
            .or_else(|| int(item, "end-time-usec")?.checked_sub(start?));
        let fqn = text(item, "source-fqn").unwrap_or("").to_string();
        let corrids = match item.get("corrid").or_else(|| item.get("corr-id")) {
            Some(Value::String(id)) => vec![id.clone()],
            Some(Value::Array(ids)) => ids
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        Info {
            id: text(item, "tracking-id").map(str::to_string),
            parent: text(item, "parent-id")
                .or_else(|| text(item, "parent-tracking-id"))
                .map(str::to_string),
            kind,
            name: cut(name),
            target,
            status,
            severity,
            error,
            exception,
            start,
            duration,
            source: appl(&fqn),
            fqn,
            corrids,
        }
    }

    /// The correlators that look like trace ids.
    pub(crate) fn trace_ids(&self) -> impl Iterator<Item = &str> {
        self.corrids
            .iter()
            .map(String::as_str)
            .filter(|c| is_trace_id(c))
    }

    /// Whether lower-cased `needle` occurs in the name, ids, correlators or
    /// source.
    pub(crate) fn mentions(&self, needle: &str) -> bool {
        let has = |s: &str| s.to_lowercase().contains(needle);
        has(&self.name)
            || self.target.as_deref().is_some_and(has)
            || self.id.as_deref().is_some_and(has)
            || has(&self.fqn)
            || self.corrids.iter().any(|c| has(c))
            || self.status.as_deref().is_some_and(has)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_activities_and_events() {
        let a = Info::of(
            &json!({"type": "activity", "tracking-id": "a", "operation": "pay",
            "status": "EXCEPTION", "start-time-usec": 10, "end-time-usec": 25,
            "source-fqn": "SERVER=web1#APPL=Shop", "corrid": ["0af7651916cd43dd8448eb211c80319c", "o-1"]}),
        );
        assert_eq!(a.kind, "ACTIVITY");
        assert!(a.error);
        assert_eq!(a.severity, ERROR_RANK);
        assert_eq!(a.duration, Some(15));
        assert_eq!(a.source, "Shop");
        assert_eq!(a.trace_ids().count(), 1);
        assert!(a.mentions("o-1"));
        let e = Info::of(
            &json!({"tracking-id": "e", "parent-id": "a", "severity": "warning",
            "msg-text": "slow", "time-usec": "12"}),
        );
        assert_eq!(e.kind, "EVENT");
        assert!(!e.error);
        assert_eq!(severity_name(e.severity), "WARNING");
        assert_eq!(e.start, Some(12));
        assert_eq!(e.parent.as_deref(), Some("a"));
        assert!(Info::of(&json!({"severity": "HALT"})).error);
        // An event is named by its message, and keeps its target apart.
        let logged = Info::of(&json!({"type": "EVENT", "operation": "service",
            "msg-text": "listening on 0.0.0.0:8080"}));
        assert_eq!(logged.name, "listening on 0.0.0.0:8080");
        assert_eq!(logged.target.as_deref(), Some("service"));
        assert!(logged.mentions("servi"));
        let bare = Info::of(&json!({"type": "EVENT", "operation": "service"}));
        assert_eq!((bare.name.as_str(), bare.target), ("service", None));
        assert!(a.exception && !e.exception);
        assert!(Info::of(&json!(42)).id.is_none());
    }

    #[test]
    fn trace_ids_are_32_lowercase_hex() {
        assert!(is_trace_id("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert!(!is_trace_id("4BF92F3577B34DA6A3CE929D0E0E4736"));
        assert!(!is_trace_id("00000000000000000000000000000000"));
        assert!(!is_trace_id("4bf92f3577b34da6a3ce929d0e0e473"));
        assert_eq!(appl("APPL=Shop#SERVER=web1"), "Shop");
        assert_eq!(appl("SERVER=web1"), "web1");
        assert_eq!(appl("plain"), "plain");
    }
}
