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
        crate::transport::files::private()
            .create(true)
            .append(true)
            .open(path)
    }

    /// Appends `body`, first rotating when it would pass the size. A write
    /// that fails part way (a full disk) is cut back to where it began, so
    /// that the file never holds a torn line, nor the same items twice once
    /// the body is written again.
    /// The file written now.
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub(crate) fn write(&mut self, body: &[u8]) -> std::io::Result<()> {
        let len = body.len() as u64;
        if let Some(max) = self.options.max_bytes {
            if self.written > 0 && self.written + len > max {
                self.rotate()?;
            }
        }
        if let Err(err) = self.file.write_all(body) {
            let _ = self.file.set_len(self.written);
            return Err(err);
        }
        self.written += len;
        Ok(())
    }

    /// The numbers of the rotated files there are now (`app.jsonl.3` is
    /// 3), largest first.
    fn rotated(&self) -> Vec<usize> {
        let (Some(dir), Some(name)) = (self.path.parent(), self.path.file_name()) else {
            return Vec::new();
        };
        let prefix = format!("{}.", name.to_string_lossy());
        let dir = if dir.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            dir
        };
        let mut numbers: Vec<usize> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(|entry| {
                let name = entry.ok()?.file_name();
                let number = name.to_str()?.strip_prefix(&prefix)?;
                number.parse().ok().filter(|n| *n > 0)
            })
            .collect();
        numbers.sort_unstable_by(|a, b| b.cmp(a));
        numbers
    }

    /// `app.jsonl.{k}` becomes `.{k+1}` and the file `.1`, keeping
    /// `max_files` files in all: the rotated files are found in the
    /// directory, so that a large `max_files` costs nothing.
    fn rotate(&mut self) -> std::io::Result<()> {
        let numbered = |n: usize| {
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        let keep = self.options.max_files.max(1);
        for n in self.rotated() {
            // Beyond those kept, or from an earlier run with a larger count.
            if n.saturating_add(1) >= keep {
                let _ = std::fs::remove_file(numbered(n));
            } else {
                std::fs::rename(numbered(n), numbered(n + 1))?;
            }
        }
        if keep == 1 {
            let _ = std::fs::remove_file(&self.path);
        } else {
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.file = Self::append_to(&self.path)?;
        self.written = 0;
        Ok(())
    }
}
