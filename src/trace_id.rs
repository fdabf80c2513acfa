//! Trace and span ids as W3C Trace Context writes them: a leaf that the
//! items, the open spans and the propagation module all use.

use std::fmt;

/// A W3C trace id: 16 bytes, never all zero. Displayed as 32 lowercase hex
/// digits, the form it takes in `traceparent` and in jKool's `corrid`.
///
/// ```
/// let id = tracing_jkool::propagation::TraceId::from_bytes([0xab; 16]).unwrap();
/// assert_eq!(id.to_string(), "abababababababababababababababab");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId([u8; 16]);

impl TraceId {
    /// A valid id, for the impossible all-zero random one.
    pub(crate) const ONE: TraceId = TraceId([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

    /// The id with these bytes; `None` when they are all zero, which W3C
    /// reserves for "no trace".
    pub fn from_bytes(bytes: [u8; 16]) -> Option<TraceId> {
        (bytes != [0; 16]).then_some(TraceId(bytes))
    }

    /// The id's bytes.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// The id as 32 lowercase hex digits, without allocating.
    pub(crate) fn to_hex(self) -> [u8; 32] {
        let mut out = [0; 32];
        write_hex(&mut out, &self.0);
        out
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.to_hex();
        // Hex digits are ASCII.
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `bytes` as lowercase hex into `out` (twice their length).
pub(crate) fn write_hex(out: &mut [u8], bytes: &[u8]) {
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0xf)];
    }
}

/// A span id as 16 lowercase hex digits.
pub(crate) fn hex_u64(id: u64) -> String {
    let mut out = [0u8; 16];
    write_hex(&mut out, &id.to_be_bytes());
    String::from_utf8_lossy(&out).into_owned()
}
