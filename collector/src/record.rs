//! [`CollectorBuilder::record_to`](crate::CollectorBuilder::record_to): every
//! kept item appended to a file as one JSON line.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde_json::Value;

use super::body::RawItem;

/// The open file, and whether a write has failed (told once, on stderr).
#[derive(Debug)]
pub(super) struct Recorder {
    path: PathBuf,
    file: Mutex<BufWriter<File>>,
    failed: AtomicBool,
}

impl Recorder {
    /// Opens `path` for appending, creating it if needed.
    pub(super) fn open(path: &Path) -> io::Result<Recorder> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("record_to {}: {e}", path.display())))?;
        Ok(Recorder {
            path: path.to_path_buf(),
            file: Mutex::new(BufWriter::new(file)),
            failed: AtomicBool::new(false),
        })
    }

    /// Appends one line per item and flushes, so that the file holds an
    /// item by the time [`Collector::items`](crate::Collector::items) does.
    /// A failed write is reported on stderr the first time; the collector
    /// goes on serving.
    pub(super) fn append(&self, items: &[RawItem]) {
        if items.is_empty() {
            return;
        }
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let written = items
            .iter()
            .try_for_each(|item| write_line(&mut *file, item))
            .and_then(|()| file.flush());
        if let Err(e) = written {
            if !self.failed.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "jkool-collector: cannot record to {}: {e}",
                    self.path.display()
                );
            }
        }
    }
}

/// The item as it was sent, or compacted when it spans several lines.
fn write_line(out: &mut impl Write, item: &RawItem) -> io::Result<()> {
    let text = item.get();
    if text.contains(['\n', '\r']) {
        let value: Value = serde_json::from_str(text).unwrap_or_default();
        serde_json::to_writer(&mut *out, &value)?;
    } else {
        out.write_all(text.as_bytes())?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_item_is_one_line() {
        let dir = std::env::temp_dir().join(format!("jkool-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("items.ndjson");
        let _ = std::fs::remove_file(&path);
        let recorder = Recorder::open(&path).unwrap();
        let items = crate::body::parse_items(b"[{\"a\":1},\n{\n  \"b\": \"x\\ny\"\n}]").unwrap();
        recorder.append(&items);
        recorder.append(&[]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"b\":\"x\\ny\"}\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
