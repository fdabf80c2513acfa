//! Splits a request body into jKool items.

use serde_json::value::RawValue;

/// One item as received: checked to be a JSON object, kept as its text.
/// Parsing into a `Value` waits until someone asks, so that the collector
/// keeps up with the layer and holds far less memory.
pub(super) type RawItem = Box<RawValue>;

fn is_object(item: &RawValue) -> bool {
    item.get().starts_with('{')
}

/// Reads a body holding one JSON object, a JSON array of objects, or
/// newline-delimited JSON objects. All or nothing: one bad line rejects the
/// whole body, so a test never sees half of a malformed batch.
pub(super) fn parse_items(body: &[u8]) -> Result<Vec<RawItem>, String> {
    if let Ok(items) = serde_json::from_slice::<Vec<RawItem>>(body) {
        return match items.iter().position(|item| !is_object(item)) {
            Some(i) => Err(format!("array element {i} is not a JSON object")),
            None => Ok(items),
        };
    }
    match serde_json::from_slice::<RawItem>(body) {
        Ok(item) if is_object(&item) => return Ok(vec![item]),
        Ok(_) => return Err("body is JSON but not an object or an array".into()),
        // Not a single JSON value: try one object per line.
        Err(_) => {}
    }
    let text = std::str::from_utf8(body).map_err(|_| "body is not UTF-8".to_string())?;
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<RawItem>(line) {
            Ok(item) if is_object(&item) => items.push(item),
            Ok(_) => return Err(format!("line {} is not a JSON object", n + 1)),
            Err(e) => return Err(format!("line {}: {e}", n + 1)),
        }
    }
    if items.is_empty() {
        return Err("body holds no JSON object".into());
    }
    Ok(items)
}

/// Items as JSON values. Each was checked to be a JSON object when it
/// arrived, so parsing it again cannot fail.
pub(crate) fn parse_all(raw: &[RawItem]) -> Vec<serde_json::Value> {
    raw.iter()
        .map(|item| serde_json::from_str(item.get()).unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_items;

    #[test]
    fn parses_each_body_form() {
        assert_eq!(parse_items(br#"{"a":1}"#).unwrap().len(), 1);
        assert_eq!(parse_items(b"{\n \"a\": 1\n}\n").unwrap().len(), 1);
        assert_eq!(parse_items(br#"[{"a":1},{"b":2}]"#).unwrap().len(), 2);
        assert_eq!(parse_items(b"[]").unwrap().len(), 0);
        assert_eq!(parse_items(b"{\"a\":1}\n\n{\"b\":2}\r\n").unwrap().len(), 2);
    }

    #[test]
    fn rejects_what_is_not_objects() {
        for body in [
            &b""[..],
            b"\n\n",
            b"42",
            b"[1]",
            b"{\"a\":1}\n[1]",
            b"{\"a\":1}\n{oops",
            b"\xff",
        ] {
            assert!(
                parse_items(body).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
