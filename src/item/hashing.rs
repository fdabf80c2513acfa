//! Hashing for map keys that are already unique integers (span ids, the
//! addresses of callsites' metadata): they need spreading over all bits,
//! not SipHash.

use std::hash::Hasher;

/// Spreads a key (small, sequential or aligned) over all 64 bits, the low
/// ones included: a hash map picks its bucket by those.
pub(crate) fn mix(key: u64) -> u64 {
    let h = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^ (h >> 29)
}

/// A hash map's hasher for such keys.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = mix(self.0 ^ u64::from(*byte));
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = mix(key);
    }

    fn write_usize(&mut self, key: usize) {
        self.0 = mix(key as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_and_sequential_keys_differ_in_their_low_bits() {
        let low_bits = |keys: &mut dyn Iterator<Item = u64>| {
            keys.map(|key| mix(key) & 0xff)
                .collect::<std::collections::HashSet<_>>()
                .len()
        };
        // 64 keys 64 bytes apart (aligned addresses), and 64 in a row.
        assert!(low_bits(&mut (0..64).map(|i| 0x7f00_0000_0000 + i * 64)) > 40);
        assert!(low_bits(&mut (1..65)) > 40);
    }
}
