//! Tracking ids for events, made on the delivery thread as their JSON is
//! written: UUID text with version 4's bits, the first drawn at random and
//! each next one counted up in its last twelve digits (a new one drawn when
//! they wrap). Unique within a pipeline by the count, and across processes
//! by the random start they follow; an event's id is not a secret, and
//! drawing and formatting 122 random bits per event costs several times
//! more. Spans keep fully random UUIDs: their trace and span ids come from
//! them.

use std::cell::RefCell;

use uuid::Uuid;

use crate::item::model::uuid_text;

thread_local! {
    static NEXT: RefCell<Option<[u8; 36]>> = const { RefCell::new(None) };
}

/// Writes the next event id into `buf` and returns it.
pub(super) fn next(buf: &mut [u8; 45]) -> &[u8] {
    NEXT.with(|next| {
        let mut next = next.borrow_mut();
        let text = next.get_or_insert_with(random);
        buf[..36].copy_from_slice(text);
        if !count_up(&mut text[24..]) {
            *text = random();
        }
    });
    &buf[..36]
}

/// A random version 4 UUID as text.
fn random() -> [u8; 36] {
    uuid_text(&Uuid::new_v4())
}

/// Adds one to lowercase hex digits; false when they wrap to all zeros.
fn count_up(digits: &mut [u8]) -> bool {
    for digit in digits.iter_mut().rev() {
        match *digit {
            b'f' => *digit = b'0',
            b'9' => {
                *digit = b'a';
                return true;
            }
            _ => {
                *digit += 1;
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_version_4_uuids_all_different() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = next(&mut Uuid::encode_buffer()).to_vec();
            let uuid = Uuid::parse_str(std::str::from_utf8(&id).unwrap()).unwrap();
            assert_eq!(uuid.get_version(), Some(uuid::Version::Random));
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn counting_carries_through_nines_and_fs_and_wraps() {
        let mut digits = *b"09f";
        assert!(count_up(&mut digits));
        assert_eq!(&digits, b"0a0");
        let mut digits = *b"ff";
        assert!(!count_up(&mut digits));
        assert_eq!(&digits, b"00");
    }
}
