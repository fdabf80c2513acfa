//! One line of the tree per item, tolerant of missing keys and wrong types.

use serde_json::Value;

/// Messages and property values longer than this are cut, so one huge
/// field cannot push the rest of the tree off the screen.
const MAX_TEXT_CHARS: usize = 200;

/// Property data types whose values are shown unquoted even when sent as
/// strings (the Java client sends every value as a string).
const UNQUOTED_TYPES: [&str; 10] = [
    "long", "int", "integer", "short", "byte", "double", "float", "bool", "boolean", "number",
];

pub(crate) fn text<'v>(item: &'v Value, key: &str) -> Option<&'v str> {
    item.get(key)?.as_str()
}

/// `parent-id` is TNT4J's label; the Swagger file names it
/// `parent-tracking-id`.
pub(crate) fn parent_id(item: &Value) -> Option<&str> {
    text(item, "parent-id").or_else(|| text(item, "parent-tracking-id"))
}

pub(crate) fn start_time(item: &Value) -> Option<i64> {
    int(item, "start-time-usec").or_else(|| int(item, "time-usec"))
}

/// The elements of array `key`; nothing when it is absent or not an array.
pub(crate) fn list<'v>(item: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    item.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The full line for an item posted on its own.
/// With `stable`, an activity's duration is left out and a trace-id
/// correlator shows as `<trace-id>`.
pub(super) fn item(item: &Value, stable: bool) -> String {
    if !item.is_object() {
        return format!("? not a JSON object: {}", cut(&item.to_string()));
    }
    match text(item, "type").map(str::to_ascii_uppercase).as_deref() {
        Some("ACTIVITY") => activity(item, stable),
        Some("SNAPSHOT") => snapshot(item, stable),
        Some("EVENT") | None => event(item, None, stable),
        Some(other) => event(item, Some(other), stable),
    }
}

/// A few words naming an item, for pointing back at it.
pub(super) fn short(item: &Value) -> String {
    let name = text(item, "operation")
        .or_else(|| text(item, "msg-text"))
        .or_else(|| text(item, "name"))
        .or_else(|| text(item, "tracking-id"))
        .unwrap_or("?");
    cut(&one_line(name))
}

fn activity(item: &Value, stable: bool) -> String {
    let mut parts = vec![format!(
        "▶ {}",
        one_line(text(item, "operation").unwrap_or("(no operation)"))
    )];
    if !stable {
        parts.push(match elapsed(item) {
            Some(usec) => duration(usec),
            None => "duration ?".to_string(),
        });
    }
    if let Some(status) = text(item, "status") {
        parts.push(status.to_string());
    }
    if let Some(exception) = text(item, "exception") {
        parts.push(quote(exception));
    }
    parts.extend(corrids(item, stable));
    parts.extend(properties(item, stable));
    parts.join("  ")
}

/// Events, and the other event-like types (`CALL`, `LOG`, ...), which are
/// named in brackets.
fn event(item: &Value, kind: Option<&str>, stable: bool) -> String {
    let mut head = String::from("•");
    if let Some(kind) = kind {
        head.push_str(&format!(" [{kind}]"));
    }
    head.push(' ');
    head.push_str(text(item, "severity").unwrap_or("?"));
    let mut parts = vec![head];
    parts.push(match text(item, "msg-text") {
        Some(msg) => cut(&one_line(msg)),
        None => match text(item, "operation") {
            Some(op) => format!("({})", one_line(op)),
            None => "(no message)".to_string(),
        },
    });
    if let Some(exception) = text(item, "exception") {
        parts.push(format!("exception={}", quote(exception)));
    }
    parts.extend(corrids(item, stable));
    parts.extend(properties(item, stable));
    parts.join("  ")
}

pub(super) fn snapshot(snapshot: &Value, stable: bool) -> String {
    let mut head = format!(
        "◆ {}",
        one_line(text(snapshot, "name").unwrap_or("(no name)"))
    );
    if let Some(category) = text(snapshot, "category") {
        head.push_str(&format!(" ({})", one_line(category)));
    }
    let mut parts = vec![head];
    parts.extend(properties(snapshot, stable));
    parts.join("  ")
}

/// `name=value ...` for the item's `properties`, or nothing.
fn properties(item: &Value, stable: bool) -> Option<String> {
    let props: Vec<String> = list(item, "properties")
        .map(|p| property(p, stable))
        .collect();
    (!props.is_empty()).then(|| props.join(" "))
}

/// With `stable`, a duration or a time (value type `age.*` or
/// `timestamp`, as a span's `busy` and `idle`) shows as `<age.usec>` and
/// the like.
fn property(prop: &Value, stable: bool) -> String {
    let name = text(prop, "name").unwrap_or("?");
    if stable {
        if let Some(kind) = text(prop, "value-type").filter(|k| varies(k)) {
            return format!("{}=<{}>", one_line(name), one_line(kind));
        }
    }
    let unquoted = text(prop, "type")
        .is_some_and(|t| UNQUOTED_TYPES.iter().any(|u| u.eq_ignore_ascii_case(t)));
    let value = match prop.get("value") {
        None => "?".to_string(),
        Some(Value::String(s)) if unquoted => cut(&one_line(s)),
        Some(Value::String(s)) => quote(s),
        Some(other) => cut(&other.to_string()),
    };
    format!("{}={value}", one_line(name))
}

/// jKool's value types of durations and points in time.
fn varies(value_type: &str) -> bool {
    let lower = value_type.to_ascii_lowercase();
    lower.starts_with("age") || lower.starts_with("timestamp")
}

/// `corrid` is a list in the Java client; Swagger's `corr-id` is a string.
pub(crate) fn correlators(item: &Value) -> Vec<&str> {
    match item.get("corrid").or_else(|| item.get("corr-id")) {
        Some(Value::String(id)) => vec![id.as_str()],
        Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn corrids(item: &Value, stable: bool) -> Option<String> {
    let mut ids = correlators(item);
    if stable {
        // The web view's reading of an item says which are trace ids.
        let info = crate::index::Info::of(item);
        let traces: Vec<&str> = info.trace_ids().collect();
        for id in &mut ids {
            if traces.contains(id) {
                *id = "<trace-id>";
            }
        }
    }
    (!ids.is_empty()).then(|| format!("corrid={}", one_line(&ids.join(","))))
}

pub(crate) fn elapsed(item: &Value) -> Option<i64> {
    int(item, "elapsed-time-usec").or_else(|| {
        let start = int(item, "start-time-usec")?;
        int(item, "end-time-usec")?.checked_sub(start)
    })
}

/// Integers may arrive as JSON numbers of any kind or as numeric strings.
pub(crate) fn int(item: &Value, key: &str) -> Option<i64> {
    match item.get(key)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
            // `as` saturates, which is what an absurd float deserves.
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `1.234 ms`-style durations, in the largest unit that keeps them above 1.
pub(super) fn duration(usec: i64) -> String {
    let abs = usec.unsigned_abs();
    let sign = if usec < 0 { "-" } else { "" };
    if abs < 1_000 {
        format!("{usec} µs")
    } else if abs < 1_000_000 {
        format!("{sign}{:.3} ms", abs as f64 / 1e3)
    } else if abs < 60_000_000 {
        format!("{sign}{:.3} s", abs as f64 / 1e6)
    } else {
        let minutes = abs / 60_000_000;
        let seconds = (abs % 60_000_000) as f64 / 1e6;
        format!("{sign}{minutes} min {seconds:.1} s")
    }
}

/// A JSON-quoted string, cut if long; the quoting also escapes newlines.
fn quote(s: &str) -> String {
    cut(&Value::from(s).to_string())
}

/// Escapes control characters so one item stays on one line.
fn one_line(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_TEXT_CHARS) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}
