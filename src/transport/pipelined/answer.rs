//! HTTP/1.1 answers read from a connection's bytes, one after another,
//! with httparse: the status, what the connection may do next, and where
//! the next answer begins. Bodies are skipped; their size is bounded.

use std::time::Duration;

use crate::transport::retry::parse_retry_after;

/// The most bytes an answer's head may take.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The most bytes an answer's body may take.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The most headers an answer may have.
const MAX_HEADERS: usize = 64;

/// One answer at the front of the bytes read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    pub status: u16,
    /// `Retry-After`, when it says how long.
    pub retry_after: Option<Duration>,
    /// The server closes the connection after it (`Connection: close`,
    /// HTTP/1.0, or a body that ends with the connection).
    pub closes: bool,
    /// The bytes it took, head and body.
    pub len: usize,
}

/// What the bytes at the front hold.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// Not a whole answer yet.
    Partial,
    /// An informational (`1xx`) head to skip, of this many bytes.
    Informational(usize),
    Answer(Answer),
    /// Not an answer that can be read: why.
    Invalid(String),
}

/// Reads the answer at the front of `bytes`.
pub(crate) fn parse(bytes: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(bytes) {
        Ok(httparse::Status::Complete(head)) => head,
        Ok(httparse::Status::Partial) if bytes.len() > MAX_HEAD_BYTES => {
            return Parsed::Invalid(format!("an answer's head is over {MAX_HEAD_BYTES} bytes"));
        }
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(err) => return Parsed::Invalid(format!("an answer that is not HTTP: {err}")),
    };
    let status = response.code.unwrap_or_default();
    if (100..200).contains(&status) {
        return Parsed::Informational(head);
    }
    let mut closes = response.version == Some(0);
    let mut length = None;
    let mut chunked = false;
    let mut retry_after = None;
    for header in response.headers.iter() {
        let value = std::str::from_utf8(header.value).unwrap_or_default().trim();
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            match value.parse::<usize>() {
                Ok(n) => length = Some(n),
                Err(_) => return Parsed::Invalid(format!("a Content-Length of {value:?}")),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().ends_with("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            let value = value.to_ascii_lowercase();
            if value.contains("close") {
                closes = true;
            } else if value.contains("keep-alive") {
                closes = false;
            }
        } else if name.eq_ignore_ascii_case("retry-after") {
            retry_after = parse_retry_after(value);
        }
    }
    let body = if chunked {
        match chunked_length(&bytes[head..]) {
            Ok(Some(body)) => body,
            Ok(None) => return Parsed::Partial,
            Err(why) => return Parsed::Invalid(why),
        }
    } else if matches!(status, 204 | 304) {
        0
    } else if let Some(length) = length {
        if length > MAX_BODY_BYTES {
            return Parsed::Invalid(format!("an answer's body of {length} bytes"));
        }
        if bytes.len() < head + length {
            return Parsed::Partial;
        }
        length
    } else {
        // The body ends with the connection: nothing after it is ours.
        closes = true;
        bytes.len() - head
    };
    Parsed::Answer(Answer {
        status,
        retry_after,
        closes,
        len: head + body,
    })
}

/// The length of a whole chunked body at the front of `bytes`, trailers
/// included; `None` while it is not all there.
fn chunked_length(bytes: &[u8]) -> Result<Option<usize>, String> {
    let mut at = 0;
    loop {
        let (size_len, size) = match httparse::parse_chunk_size(&bytes[at..]) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err("a chunk size that is not hexadecimal".into()),
        };
        at += size_len;
        if size == 0 {
            // Trailers, if any, up to an empty line.
            return Ok(find_blank_line(&bytes[at..]).map(|end| at + end));
        }
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if size > MAX_BODY_BYTES || at + size > MAX_BODY_BYTES {
            return Err(format!("a chunked body over {MAX_BODY_BYTES} bytes"));
        }
        if bytes.len() < at + size + 2 {
            return Ok(None);
        }
        at += size + 2;
    }
}

/// Where the trailer section that starts `bytes` ends: after the first
/// empty line.
fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    if bytes.starts_with(b"\r\n") {
        return Some(2);
    }
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, closes: bool, len: usize) -> Parsed {
        Parsed::Answer(Answer {
            status,
            retry_after: None,
            closes,
            len,
        })
    }

    #[test]
    fn reads_answers_one_after_another_with_their_bodies() {
        let one = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        let two = b"HTTP/1.1 503 Busy\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n";
        let bytes = [&one[..], &two[..]].concat();
        assert_eq!(parse(&bytes), answer(200, false, one.len()));
        assert_eq!(
            parse(&bytes[one.len()..]),
            Parsed::Answer(Answer {
                status: 503,
                retry_after: Some(Duration::from_secs(2)),
                closes: false,
                len: two.len(),
            })
        );
        assert_eq!(parse(&one[..one.len() - 1]), Parsed::Partial);
        assert_eq!(parse(&one[..10]), Parsed::Partial);
    }

    #[test]
    fn chunked_bodies_informational_heads_and_closing_answers() {
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        assert_eq!(parse(chunked), answer(200, false, chunked.len()));
        assert_eq!(parse(&chunked[..chunked.len() - 2]), Parsed::Partial);
        let informational = b"HTTP/1.1 100 Continue\r\n\r\n";
        assert_eq!(
            parse(informational),
            Parsed::Informational(informational.len())
        );
        let close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(parse(close), answer(200, true, close.len()));
        let old = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(parse(old), answer(200, true, old.len()));
    }

    #[test]
    fn what_cannot_be_read_is_invalid_and_bounded() {
        assert!(matches!(parse(b"garbage\r\n\r\n"), Parsed::Invalid(_)));
        let huge = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        assert!(matches!(parse(huge.as_bytes()), Parsed::Invalid(_)));
        let long_head = [
            b"HTTP/1.1 200 OK\r\nX: ".as_slice(),
            &[b'a'; MAX_HEAD_BYTES],
        ]
        .concat();
        assert!(matches!(parse(&long_head), Parsed::Invalid(_)));
        let bad_chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert!(matches!(parse(bad_chunk), Parsed::Invalid(_)));
    }
}
