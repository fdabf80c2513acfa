//! The `file://` sink: appends bodies of JSON lines to a file, and starts
//! a new one past a size (`app.jsonl` → `app.jsonl.1` → ...).

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

/// When the file sink starts a new file.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) max_bytes: Option<u64>,
    pub(crate) max_files: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_bytes: None,
            max_files: 5,
        }
    }
}

/// The file being written, and how to rotate it.
#[derive(Debug)]
pub(crate) struct FileSink {
    path: PathBuf,
    file: File,
    written: u64,
    options: Options,
}

impl FileSink {
    /// Opens `path` for appending.
    pub(crate) fn open(path: PathBuf, options: Options) -> std::io::Result<FileSink> {
        let file = Self::append_to(&path)?;
        let written = file.metadata()?.len();
        Ok(FileSink {
            path,
            file,
            written,
            options,
        })
    }

    fn append_to(path: &PathBuf) -> std::io::Result<File> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    }

    /// Appends `body`, first rotating when it would pass the size.
    pub(crate) fn write(&mut self, body: &[u8]) -> std::io::Result<()> {
        let len = body.len() as u64;
        if let Some(max) = self.options.max_bytes {
            if self.written > 0 && self.written + len > max {
                self.rotate()?;
            }
        }
        self.file.write_all(body)?;
        self.written += len;
        Ok(())
    }

    /// `app.jsonl.{n-1}` is deleted, `.k` becomes `.k+1`, the file `.1`.
    fn rotate(&mut self) -> std::io::Result<()> {
        let numbered = |n: usize| {
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        let keep = self.options.max_files.max(1);
        // Files beyond those kept, from an earlier run with a larger count.
        let _ = std::fs::remove_file(numbered(keep));
        if keep == 1 {
            let _ = std::fs::remove_file(&self.path);
        } else {
            let _ = std::fs::remove_file(numbered(keep - 1));
            for n in (1..keep - 1).rev() {
                let from = numbered(n);
                if from.exists() {
                    std::fs::rename(from, numbered(n + 1))?;
                }
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.file = Self::append_to(&self.path)?;
        self.written = 0;
        Ok(())
    }
}
