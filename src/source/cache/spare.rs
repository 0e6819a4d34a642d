//! The cache's spare: the cache before last, beside it, written over by
//! the next build that changes the cache and then swapped with it, so that
//! no cache file is ever deleted (see [`super::Writer`]).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The cache's spare, beside it: the cache before last, written over by
/// the next build that changes the cache (hidden, like the cache).
pub const SPARE_NAME: &str = ".wirefeed-cache.spare";

/// The spare, being written over from its start.
pub(super) struct Spare {
    path: PathBuf,
    out: std::io::BufWriter<File>,
    written: u64,
}

impl Spare {
    pub(super) fn open(path: PathBuf) -> std::io::Result<Spare> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Not truncated: its blocks are written over, none freed.
        let open = || {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
        };
        let file = open()?;
        // A spare with other names (a hard link to the cache itself, say,
        // left by a copy of the folder) is let go of, not written over.
        let file = match crate::sys::link_count(&file.metadata()?) > 1 {
            true => {
                drop(file);
                std::fs::remove_file(&path)?;
                open()?
            }
            false => file,
        };
        Ok(Spare {
            path,
            out: std::io::BufWriter::with_capacity(1 << 16, file),
            written: 0,
        })
    }

    pub(super) fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Appends the first `len` bytes of `source`, copied inside the kernel
    /// where it can.
    pub(super) fn append_from(&mut self, source: &mut File, len: u64) -> std::io::Result<()> {
        use std::io::Write;
        self.out.flush()?;
        let copied = std::io::copy(&mut source.take(len), self.out.get_mut())?;
        self.written += copied;
        match copied == len {
            true => Ok(()),
            false => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("copied {copied} of {len} bytes"),
            )),
        }
    }

    /// Cuts the spare to what was written and swaps it with the cache at
    /// `cache` (in one step where the system can; otherwise the spare is
    /// renamed over the cache).
    pub(super) fn commit(self, cache: &Path) -> std::io::Result<()> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.set_len(self.written)?;
        drop(file);
        if crate::sys::exchange(&self.path, cache) {
            return Ok(());
        }
        std::fs::rename(&self.path, cache)
    }
}
