//! The record format and segment files: `[len u32][crc u32][kind u8][json]`,
//! little-endian, the CRC-32 over the kind byte and the JSON; segments are
//! files named `e-00000001.seg` (events) or `a-00000002.seg` (activities),
//! numbered across both kinds in the order they were started.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Bytes before a record's JSON.
pub(super) const HEADER: usize = 9;

/// A record longer than this is taken as corruption: items are kilobytes.
pub(super) const MAX_RECORD: usize = 64 << 20;

/// Appends one record to `out`.
pub(super) fn encode(out: &mut Vec<u8>, kind: u8, json: &[u8]) {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&[kind]);
    crc.update(json);
    // Items are far below 4 GiB: `hold` refuses nothing, but `MAX_RECORD`
    // is checked by the caller.
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.push(kind);
    out.extend_from_slice(json);
}

/// What is at the start of `buf`.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Decoded<'a> {
    /// A whole, valid record: its JSON and its size with the header.
    Record(&'a [u8], usize),
    /// The record continues past `buf`: this many bytes in all.
    Short(usize),
    /// Not a valid record: a torn write or corruption.
    Corrupt,
}

/// Decodes the record at the start of `buf`, which must be of `kind`.
pub(super) fn decode(buf: &[u8], kind: u8) -> Decoded<'_> {
    if buf.len() < HEADER {
        return Decoded::Short(HEADER);
    }
    let word = |at: usize| u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
    let len = word(0) as usize;
    if len > MAX_RECORD || buf[8] != kind {
        return Decoded::Corrupt;
    }
    let size = HEADER + len;
    let Some(json) = buf.get(HEADER..size) else {
        return Decoded::Short(size);
    };
    let mut crc = crc32fast::Hasher::new();
    crc.update(&[kind]);
    crc.update(json);
    match crc.finalize() == word(4) {
        true => Decoded::Record(json, size),
        false => Decoded::Corrupt,
    }
}

/// The file name of segment `id` of the log whose records are `kind`.
pub(super) fn path(dir: &Path, kind: u8, id: u64) -> PathBuf {
    dir.join(format!("{}-{id:08}.seg", kind as char))
}

/// The segments of `kind` in `dir`, oldest first, with their sizes.
pub(super) fn list(dir: &Path, kind: u8) -> std::io::Result<Vec<(u64, u64)>> {
    let prefix = format!("{}-", kind as char);
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".seg"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        // Only regular files are segments (not what a symlink points at).
        let meta = entry.metadata()?;
        if meta.is_file() {
            found.push((id, meta.len()));
        }
    }
    found.sort_unstable();
    Ok(found)
}

/// Reads up to `want` bytes of `file` from `offset` (fewer at its end).
pub(super) fn read_at(file: &mut File, offset: u64, want: usize) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(want);
    file.take(want as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// How many valid records `file` holds from `offset` to `end`, stopping at
/// the first invalid one. Reads it a megabyte at a time.
pub(super) fn count(file: &mut File, kind: u8, mut offset: u64, end: u64) -> u64 {
    let mut records = 0;
    // Every round moves `offset` forward, or stops.
    while offset < end {
        let want = (end - offset).min(1 << 20) as usize;
        let Ok(mut buf) = read_at(file, offset, want) else {
            break;
        };
        let mut at = 0;
        while let Decoded::Record(_, size) = decode(&buf[at..], kind) {
            at += size;
            records += 1;
        }
        if at == 0 {
            // A record larger than one read: read it whole.
            match decode(&buf, kind) {
                Decoded::Short(size) if offset + size as u64 <= end => {
                    buf = match read_at(file, offset, size) {
                        Ok(buf) => buf,
                        Err(_) => break,
                    };
                    if !matches!(decode(&buf, kind), Decoded::Record(..)) {
                        break;
                    }
                    records += 1;
                    at = size;
                }
                _ => break,
            }
        }
        offset += at as u64;
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damage_is_seen() {
        let mut buf = Vec::new();
        encode(&mut buf, b'e', br#"{"a":1}"#);
        encode(&mut buf, b'e', br#"{"b":2}"#);
        let Decoded::Record(json, size) = decode(&buf, b'e') else {
            panic!("a record")
        };
        assert_eq!((json, size), (&br#"{"a":1}"#[..], HEADER + 7));
        assert_eq!(decode(&buf[size..size + 5], b'e'), Decoded::Short(HEADER));
        assert_eq!(decode(&buf[size..size + 12], b'e'), Decoded::Short(16));
        assert_eq!(decode(&buf, b'a'), Decoded::Corrupt, "the wrong kind");
        buf[HEADER + 2] ^= 1;
        assert_eq!(decode(&buf, b'e'), Decoded::Corrupt, "a flipped bit");
    }
}
