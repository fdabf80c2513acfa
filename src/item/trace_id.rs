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
        hex32(self.0)
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

/// Sixteen bytes as 32 lowercase hex digits, eight at a time.
pub(crate) fn hex32(bytes: [u8; 16]) -> [u8; 32] {
    let word = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let mut out = [0; 32];
    out[..8].copy_from_slice(&hex8(word(0)));
    out[8..16].copy_from_slice(&hex8(word(4)));
    out[16..24].copy_from_slice(&hex8(word(8)));
    out[24..].copy_from_slice(&hex8(word(12)));
    out
}

/// The eight hex digits of `word`, most significant first: each nibble
/// spread to a byte of its own, then all turned into digits at once.
fn hex8(word: u32) -> [u8; 8] {
    let mut x = u64::from(word);
    x = (x | x << 16) & 0x0000_ffff_0000_ffff;
    x = (x | x << 8) & 0x00ff_00ff_00ff_00ff;
    x = (x | x << 4) & 0x0f0f_0f0f_0f0f_0f0f;
    // 1 in each byte whose nibble is 10 or more: a letter.
    let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    let letter_offset = u64::from(b'a' - b'0' - 10);
    (x + 0x3030_3030_3030_3030 + letters * letter_offset).to_be_bytes()
}

/// A span id as 16 lowercase hex digits.
pub(crate) fn hex_u64(id: u64) -> String {
    let mut out = [0u8; 16];
    write_hex(&mut out, &id.to_be_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_every_byte_as_two_lowercase_digits() {
        // Every byte value at every place of the sixteen.
        for start in 0..=255u8 {
            let bytes: [u8; 16] = std::array::from_fn(|i| start.wrapping_add(i as u8 * 17));
            let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex32(bytes), expected.as_bytes());
        }
    }
}
