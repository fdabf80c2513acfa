//! A JSON writer made for jKool items.
//!
//! serde_json escapes every key of every item byte by byte; here keys are
//! constants written as they are (they need no escaping), and strings are
//! scanned eight bytes at a time for the few bytes JSON must escape.

use bytes::BufMut;

pub(crate) use crate::item::key::{self, Key};

/// The buffer items are written into: split off as `Bytes` once written.
pub(crate) type Buf = bytes::BytesMut;

/// Writes one JSON object's members into a buffer.
pub(crate) struct Object<'a> {
    out: &'a mut Buf,
    empty: bool,
}

impl<'a> Object<'a> {
    /// Opens an object at the end of `out`.
    pub(crate) fn new(out: &'a mut Buf) -> Self {
        out.put_u8(b'{');
        Object { out, empty: true }
    }

    /// Goes on with an object already opened at the end of `out`, with
    /// members in it: what is written next starts with a comma.
    pub(crate) fn continuing(out: &'a mut Buf) -> Self {
        Object { out, empty: false }
    }

    /// Appends members written before, such as a callsite's, each with
    /// its leading comma. The object must already hold a member.
    /// Returns the buffer, to go on with the last member's value.
    pub(crate) fn members(&mut self, json: &[u8]) -> &mut Buf {
        debug_assert!(!self.empty && json.first() == Some(&b','));
        self.out.extend_from_slice(json);
        self.out
    }

    /// Everything in the buffer so far, this object's members included.
    pub(crate) fn written(&self) -> &[u8] {
        self.out
    }

    /// Appends a value whose key was written last: JSON text made before.
    pub(crate) fn raw(&mut self, json: &[u8]) {
        self.out.extend_from_slice(json);
    }

    /// Writes `"key":` (with the comma before it when needed) and returns
    /// the buffer for the value. Keys are [`key`] constants: no escaping.
    #[inline(always)]
    pub(crate) fn key(&mut self, key: Key) -> &mut Buf {
        if !self.empty {
            self.out.put_u8(b',');
        }
        self.empty = false;
        self.out.extend_from_slice(key.json().as_bytes());
        self.out
    }

    #[inline(always)]
    pub(crate) fn str(&mut self, key: Key, value: &str) {
        string(self.key(key), value);
    }

    /// A string known to need no escaping: one of jKool's words, or a UUID.
    #[inline(always)]
    pub(crate) fn plain(&mut self, key: Key, value: impl AsRef<[u8]>) {
        let value = value.as_ref();
        debug_assert!(!value.iter().any(|b| needs_escape(*b)), "{value:?}");
        let out = self.key(key);
        out.put_u8(b'"');
        out.extend_from_slice(value);
        out.put_u8(b'"');
    }

    #[inline(always)]
    pub(crate) fn i64(&mut self, key: Key, value: i64) {
        integer(self.key(key), value);
    }

    #[inline(always)]
    pub(crate) fn u64(&mut self, key: Key, value: u64) {
        integer(self.key(key), value);
    }

    /// Closes the object.
    pub(crate) fn end(self) {
        self.out.put_u8(b'}');
    }
}

/// JSON text made once, to be copied into items: what `write` writes.
pub(crate) fn made(write: impl FnOnce(&mut Buf)) -> Box<[u8]> {
    let mut out = Buf::new();
    write(&mut out);
    Box::from(&out[..])
}

/// Members made once, each with its leading comma: what `write` writes
/// into an object that already holds a member.
pub(crate) fn members(write: impl FnOnce(&mut Object<'_>)) -> Box<[u8]> {
    made(|out| write(&mut Object::continuing(out)))
}

/// Appends an integer.
pub(crate) fn integer(out: &mut Buf, value: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Appends a finite float, shortest form that reads back the same (as
/// serde_json writes it).
pub(crate) fn float(out: &mut Buf, value: f64) {
    out.extend_from_slice(zmij::Buffer::new().format_finite(value).as_bytes());
}

/// Appends `text` (UTF-8: a `str`'s bytes) as a JSON string, quotes
/// included.
pub(crate) fn string(out: &mut Buf, text: impl AsRef<[u8]>) {
    let bytes = text.as_ref();
    out.reserve(bytes.len() + 2);
    out.put_u8(b'"');
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
    out.put_u8(b'"');
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

fn escape(out: &mut Buf, byte: u8) {
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
            out.put_u8(HEX[usize::from(byte >> 4)]);
            out.put_u8(HEX[usize::from(byte & 0xf)]);
            return;
        }
    };
    out.put_u8(b'\\');
    out.put_u8(short);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> String {
        let mut out = Buf::new();
        string(&mut out, text);
        String::from_utf8(out.to_vec()).unwrap()
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
        let mut out = Buf::new();
        let mut object = Object::new(&mut out);
        object.str(key::TYPE, "EVENT");
        object.i64(key::TIME_USEC, -5);
        object.u64(key::PID, u64::MAX);
        float(object.key(key::VALUE), 12.5);
        object.end();
        assert_eq!(
            String::from_utf8(out.to_vec()).unwrap(),
            r#"{"type":"EVENT","time-usec":-5,"pid":18446744073709551615,"value":12.5}"#
        );
    }
}
