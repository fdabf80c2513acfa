//! The files the crate creates (the spool's, the file sink's): readable
//! by their owner only, in folders only their owner can enter, and never
//! opened through a symbolic link, which another user could have planted
//! to make the process write elsewhere.

use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::path::Path;

/// Options that create a file as 0600 and refuse a symlink, on Unix.
pub(crate) fn private() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Creates `dir` and its missing parents as 0700, on Unix.
pub(crate) fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}
