//! The chunks items' JSON is written into: one allocation for about a
//! hundred items, each split off as [`Bytes`] once written.

use bytes::{Bytes, BytesMut};

/// The size of the chunks that items are written into and split from:
/// about a hundred events of a few fields each.
pub(super) const CHUNK: usize = 64 << 10;

/// Below this much room left in a chunk, the next item starts a new one.
const ROOM: usize = 4 << 10;

/// What `write` writes at the end of `chunk`, split off it. A new chunk is
/// started (or the old one's space reclaimed, once no item holds it) when
/// less than [`ROOM`] is left; an item that outgrows what is left moves to
/// a buffer of its own as it grows.
pub(super) fn split_written<E>(
    chunk: &mut BytesMut,
    write: impl FnOnce(&mut BytesMut) -> Result<(), E>,
) -> Result<Bytes, E> {
    if chunk.capacity() < ROOM {
        chunk.reserve(CHUNK);
    }
    let written = write(chunk);
    let json = chunk.split().freeze();
    written.map(|()| json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_written_into_one_chunk_until_it_is_nearly_full() {
        let mut chunk = BytesMut::new();
        fn write(chunk: &mut BytesMut, json: &[u8]) -> Bytes {
            let put = |out: &mut BytesMut| {
                out.extend_from_slice(json);
                Ok::<_, ()>(())
            };
            split_written(chunk, put).unwrap()
        }
        let first = write(&mut chunk, br#"{"a":1}"#);
        let second = write(&mut chunk, br#"{"b":2}"#);
        assert_eq!(&second[..], br#"{"b":2}"#);
        assert_eq!(first.as_ptr().wrapping_add(first.len()), second.as_ptr());
        // Larger than what is left: it moves out as it grows.
        let full = write(&mut chunk, &[b'x'; CHUNK]);
        assert_eq!(full.len(), CHUNK);
        assert_ne!(second.as_ptr().wrapping_add(second.len()), full.as_ptr());
        assert_eq!(&first[..], br#"{"a":1}"#, "left as it was");
        let larger = vec![b'y'; CHUNK + 1];
        assert_eq!(write(&mut chunk, &larger), larger);
        // A failed write leaves nothing behind for the next item.
        let failed = split_written(&mut chunk, |out| {
            out.extend_from_slice(b"{\"half");
            Err(())
        });
        assert!(failed.is_err());
        assert_eq!(&write(&mut chunk, b"{}")[..], b"{}");
    }
}
