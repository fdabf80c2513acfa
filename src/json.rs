//! A JSON writer made for jKool items, and jKool's keys, spelled once.
//!
//! serde_json escapes every key of every item byte by byte; here keys are
//! constants written as they are (they need no escaping), and strings are
//! scanned eight bytes at a time for the few bytes JSON must escape.

/// jKool's JSON keys. Both writers of items (this module's, for tracing's
/// spans and events, and `JKoolEvent`'s `Serialize`) use these.
pub(crate) mod key {
    pub(crate) const TYPE: &str = "type";
    pub(crate) const TRACKING_ID: &str = "tracking-id";
    pub(crate) const PARENT_ID: &str = "parent-id";
    pub(crate) const CORRID: &str = "corrid";
    pub(crate) const SOURCE_FQN: &str = "source-fqn";
    pub(crate) const SOURCE_URL: &str = "source-url";
    pub(crate) const TIME_USEC: &str = "time-usec";
    pub(crate) const PID: &str = "pid";
    pub(crate) const TID: &str = "tid";
    pub(crate) const OPERATION: &str = "operation";
    pub(crate) const SEVERITY: &str = "severity";
    pub(crate) const STATUS: &str = "status";
    pub(crate) const COMP_CODE: &str = "comp-code";
    pub(crate) const REASON_CODE: &str = "reason-code";
    pub(crate) const EXCEPTION: &str = "exception";
    pub(crate) const LOCATION: &str = "location";
    pub(crate) const RESOURCE: &str = "resource";
    pub(crate) const USER: &str = "user";
    pub(crate) const START_TIME_USEC: &str = "start-time-usec";
    pub(crate) const END_TIME_USEC: &str = "end-time-usec";
    pub(crate) const ELAPSED_TIME_USEC: &str = "elapsed-time-usec";
    pub(crate) const WAIT_TIME_USEC: &str = "wait-time-usec";
    pub(crate) const MSG_TEXT: &str = "msg-text";
    pub(crate) const MSG_TAG: &str = "msg-tag";
    pub(crate) const MSG_SIZE: &str = "msg-size";
    pub(crate) const MSG_AGE_USEC: &str = "msg-age-usec";
    pub(crate) const ENCODING: &str = "encoding";
    pub(crate) const CHARSET: &str = "charset";
    pub(crate) const MIME_TYPE: &str = "mime-type";
    pub(crate) const PROPERTIES: &str = "properties";
    pub(crate) const SNAPSHOTS: &str = "snapshots";
    pub(crate) const NAME: &str = "name";
    pub(crate) const CATEGORY: &str = "category";
    pub(crate) const VALUE: &str = "value";
    pub(crate) const VALUE_TYPE: &str = "value-type";
}

/// Writes one JSON object's members into a buffer.
pub(crate) struct Object<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    /// Opens an object at the end of `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, empty: true }
    }

    /// Writes `"key":` (with the comma before it when needed) and returns
    /// the buffer for the value. Keys are [`key`] constants: no escaping.
    pub(crate) fn key(&mut self, key: &'static str) -> &mut Vec<u8> {
        debug_assert!(!key.bytes().any(needs_escape), "{key}");
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    pub(crate) fn str(&mut self, key: &'static str, value: &str) {
        string(self.key(key), value);
    }

    /// A string known to need no escaping: one of jKool's words, or a UUID.
    pub(crate) fn plain(&mut self, key: &'static str, value: &str) {
        debug_assert!(!value.bytes().any(needs_escape), "{value}");
        let out = self.key(key);
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    }

    pub(crate) fn i64(&mut self, key: &'static str, value: i64) {
        integer(self.key(key), value);
    }

    pub(crate) fn u64(&mut self, key: &'static str, value: u64) {
        integer(self.key(key), value);
    }

    /// Closes the object.
    pub(crate) fn end(self) {
        self.out.push(b'}');
    }
}

/// Appends an integer.
pub(crate) fn integer(out: &mut Vec<u8>, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Appends a finite float, shortest form that reads back the same (as
/// serde_json writes it).
pub(crate) fn float(out: &mut Vec<u8>, value: f64) {
    out.extend_from_slice(zmij::Buffer::new().format_finite(value).as_bytes());
}

/// Appends `text` as a JSON string, quotes included.
pub(crate) fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut at = 0;
    // Eight bytes at a time while none needs escaping.
    while at + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        if !any_needs_escape(u64::from_le_bytes(word)) {
            at += 8;
            continue;
        }
        for &byte in &bytes[at..at + 8] {
            if needs_escape(byte) {
                out.extend_from_slice(&bytes[start..at]);
                escape(out, byte);
                start = at + 1;
            }
            at += 1;
        }
    }
    for &byte in &bytes[at..] {
        if needs_escape(byte) {
            out.extend_from_slice(&bytes[start..at]);
            escape(out, byte);
            start = at + 1;
        }
        at += 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the eight bytes is a control character, `"` or `\`.
fn any_needs_escape(word: u64) -> bool {
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    (control
        | zero_byte(word ^ (ONES * u64::from(b'"')))
        | zero_byte(word ^ (ONES * u64::from(b'\\'))))
        != 0
}

fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

fn escape(out: &mut Vec<u8>, byte: u8) {
    let short = match byte {
        b'"' => b'"',
        b'\\' => b'\\',
        b'\n' => b'n',
        b'\r' => b'r',
        b'\t' => b't',
        0x08 => b'b',
        0x0c => b'f',
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
            return;
        }
    };
    out.push(b'\\');
    out.push(short);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_exactly_as_serde_json_does() {
        let mut cases: Vec<String> = [
            "",
            "plain",
            "exactly8",
            "a \"quoted\" word and a \\ backslash",
            "tab\there, newline\nthere, cr\r, bell\u{7}, nul\u{0}, del\u{7f}",
            "non-ASCII: é, 日本, 🦀, and a long tail past eight bytes",
            "\u{1f}\u{20}\u{21}",
        ]
        .map(str::to_owned)
        .to_vec();
        // Every byte value below 0x80 at every position of a word.
        for byte in 0u8..0x80 {
            for pad in 0..9 {
                cases.push(format!("{}{}abc", "x".repeat(pad), byte as char));
            }
        }
        for case in cases {
            assert_eq!(
                json(&case),
                serde_json::to_string(&case).unwrap(),
                "{case:?}"
            );
        }
    }

    #[test]
    fn objects_write_keys_commas_and_numbers() {
        let mut out = Vec::new();
        let mut object = Object::new(&mut out);
        object.str(key::TYPE, "EVENT");
        object.i64(key::TIME_USEC, -5);
        object.u64(key::PID, u64::MAX);
        float(object.key(key::VALUE), 12.5);
        object.end();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"type":"EVENT","time-usec":-5,"pid":18446744073709551615,"value":12.5}"#
        );
    }
}
