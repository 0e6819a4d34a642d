//! Output stage: bytes → files, atomically, leaving unchanged files alone.
//!
//! A file is written to a temporary file in the same folder, flushed to
//! disk, then renamed over the old one, so a reader never sees half a file.
//! A file whose bytes are already there is not touched (its modification
//! time stays, so HTTP caches and push targets see no change). Large feeds
//! are streamed through [`AtomicFile`], which compares with the old file as
//! it writes instead of holding either in memory. `folder` keeps the
//! folder's lock and the manifest of what the last build wrote.

use std::fs;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

mod folder;

pub use folder::{lock, prune, remove_stale_temp_files, Lock, LockError, LOCK, MANIFEST};

/// What writing one file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// New or changed bytes were written.
    Changed,
    /// The file already held exactly these bytes.
    Unchanged,
}

/// A file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write: {source}", path.display())]
pub struct OutputError {
    /// The file.
    pub path: PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

/// Writes `bytes` to `path` unless it already holds them.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<Written, OutputError> {
    let mut file = AtomicFile::create(path)?;
    file.write(bytes)?;
    file.commit()
}

/// A file being written: bytes go to a temporary file beside `path` while
/// they are compared with what `path` holds now. [`commit`](Self::commit)
/// renames it into place, or drops it when nothing changed. Dropped without
/// a commit, it leaves `path` as it was.
pub struct AtomicFile {
    path: PathBuf,
    dry_run: bool,
    tmp: PathBuf,
    out: Option<BufWriter<fs::File>>,
    old: Option<BufReader<fs::File>>,
    same: bool,
    scratch: Vec<u8>,
    /// Bytes handed to the file so far, and how many of them the disk was
    /// asked to start writing.
    written: u64,
    kicked: u64,
}

/// A file that differs from the old one is sent on its way to the disk
/// every this many bytes, while the build goes on, so that the sync at the
/// commit has little left to wait for.
const WRITE_BEHIND: u64 = 8 << 20;

impl AtomicFile {
    /// Starts writing `path` (its folder is created if needed).
    pub fn create(path: &Path) -> Result<AtomicFile, OutputError> {
        let fail = |source| OutputError {
            path: path.to_owned(),
            source,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(fail)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(temp_name(&name, std::process::id()));
        let out = fs::File::create(&tmp).map_err(fail)?;
        let old = fs::File::open(path)
            .ok()
            .filter(|f| f.metadata().is_ok_and(|m| m.is_file()));
        Ok(AtomicFile {
            path: path.to_owned(),
            dry_run: false,
            tmp,
            same: old.is_some(),
            old: old.map(|f| BufReader::with_capacity(1 << 16, f)),
            out: Some(BufWriter::with_capacity(1 << 16, out)),
            scratch: Vec::new(),
            written: 0,
            kicked: 0,
        })
    }

    /// Compares with `path` without writing anything: [`commit`](Self::commit)
    /// then only says whether the file would change.
    pub fn dry_run(path: &Path) -> AtomicFile {
        let old = fs::File::open(path)
            .ok()
            .filter(|f| f.metadata().is_ok_and(|m| m.is_file()));
        AtomicFile {
            path: path.to_owned(),
            dry_run: true,
            tmp: PathBuf::new(),
            same: old.is_some(),
            old: old.map(|f| BufReader::with_capacity(1 << 16, f)),
            out: None,
            scratch: Vec::new(),
            written: 0,
            kicked: 0,
        }
    }

    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        if self.same {
            self.same = self.old_continues_with(bytes);
        }
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        if let Err(e) = out.write_all(bytes) {
            return Err(self.fail(e));
        }
        self.written += bytes.len() as u64;
        if !self.same && self.written - self.kicked >= WRITE_BEHIND {
            // What is flushed now reaches the page cache; the disk is asked
            // to start on it. Advice only: a failure here shows at commit.
            if out.flush().is_ok() {
                crate::sys::write_behind(out.get_ref(), self.kicked, self.written - self.kicked);
                self.kicked = self.written;
            }
        }
        Ok(())
    }

    fn old_continues_with(&mut self, bytes: &[u8]) -> bool {
        let Some(old) = self.old.as_mut() else {
            return false;
        };
        self.scratch.resize(bytes.len(), 0);
        old.read_exact(&mut self.scratch).is_ok() && self.scratch == bytes
    }

    /// Finishes the file: renamed into place when its bytes differ from the
    /// old file's, discarded when they are the same; the rename is made
    /// durable (its folder synced).
    pub fn commit(self) -> Result<Written, OutputError> {
        let path = self.path.clone();
        let written = self.commit_leaving_folder()?;
        if written == Written::Changed {
            sync_folders([path.as_path()]);
        }
        Ok(written)
    }

    /// [`commit`](Self::commit), leaving the folder's sync to the caller
    /// ([`sync_folders`]): a build that replaces many files in one folder
    /// syncs it once, at the end, not once a file (each sync is a journal
    /// commit: a millisecond or more).
    pub fn commit_leaving_folder(mut self) -> Result<Written, OutputError> {
        let unchanged = self.same
            && self
                .old
                .as_mut()
                .is_some_and(|old| old.read(&mut [0u8; 1]).is_ok_and(|n| n == 0));
        let out = self.out.take();
        if self.dry_run {
            return Ok(if unchanged {
                Written::Unchanged
            } else {
                Written::Changed
            });
        }
        if unchanged {
            drop(out);
            let _ = fs::remove_file(&self.tmp);
            return Ok(Written::Unchanged);
        }
        let synced = match out {
            Some(out) => out
                .into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all()),
            None => Ok(()),
        };
        synced
            .and_then(|()| fs::rename(&self.tmp, &self.path))
            .map_err(|e| self.fail(e))?;
        Ok(Written::Changed)
    }

    fn fail(&self, source: std::io::Error) -> OutputError {
        OutputError {
            path: self.path.clone(),
            source,
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.dry_run {
            return;
        }
        // Not committed (an error, or renamed already): never leave a
        // temporary file behind.
        let _ = fs::remove_file(&self.tmp);
    }
}

/// Makes the renames of files in the folders of `files` durable, syncing
/// each folder once. A failure loses nothing visible (the new files are
/// there; only a crash could undo a rename), so it is not an error.
pub fn sync_folders<'p>(files: impl IntoIterator<Item = &'p Path>) {
    let mut folders: Vec<&Path> = files.into_iter().filter_map(Path::parent).collect();
    folders.sort_unstable();
    folders.dedup();
    for folder in folders {
        if let Ok(d) = fs::File::open(folder) {
            let _ = d.sync_all();
        }
    }
}

/// The temporary name a file `name` is written under by process `pid`
/// (hidden, so never served, pushed or listed as an article).
pub(crate) fn temp_name(name: &str, pid: u32) -> String {
    format!(".{name}.{pid}.tmp")
}

/// The process that wrote temporary file `file_name`, when it is one of
/// [`temp_name`]'s.
pub(crate) fn temp_owner(file_name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (name, pid) = rest.rsplit_once('.')?;
    let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    (!name.is_empty() && digits)
        .then(|| pid.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_new_and_changed_files_and_skips_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/all.rss");
        assert_eq!(write_if_changed(&path, b"one").unwrap(), Written::Changed);
        let before = fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(write_if_changed(&path, b"one").unwrap(), Written::Unchanged);
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
        assert_eq!(write_if_changed(&path, b"two").unwrap(), Written::Changed);
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(names(&dir.path().join("sub")), ["all.rss"]);
    }

    #[test]
    fn streamed_writes_compare_piece_by_piece() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.xml");
        fs::write(&path, b"abcdef").unwrap();
        let stream = |pieces: &[&[u8]]| {
            let mut f = AtomicFile::create(&path).unwrap();
            for p in pieces {
                f.write(p).unwrap();
            }
            f.commit().unwrap()
        };
        assert_eq!(stream(&[b"ab", b"cd", b"ef"]), Written::Unchanged);
        // A prefix of the old file is a change, and so is a longer file.
        assert_eq!(stream(&[b"ab", b"cd"]), Written::Changed);
        assert_eq!(fs::read(&path).unwrap(), b"abcd");
        assert_eq!(stream(&[b"abcd", b"e"]), Written::Changed);
        assert_eq!(fs::read(&path).unwrap(), b"abcde");
        assert_eq!(names(dir.path()), ["big.xml"]);
    }

    #[test]
    fn a_dry_run_compares_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.rss");
        let mut f = AtomicFile::dry_run(&path);
        f.write(b"new").unwrap();
        assert_eq!(f.commit().unwrap(), Written::Changed);
        assert!(!path.exists());
        fs::write(&path, b"same").unwrap();
        let mut f = AtomicFile::dry_run(&path);
        f.write(b"same").unwrap();
        assert_eq!(f.commit().unwrap(), Written::Unchanged);
        assert_eq!(names(dir.path()), ["all.rss"]);
    }

    #[test]
    fn an_abandoned_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.rss");
        fs::write(&path, b"old").unwrap();
        let mut f = AtomicFile::create(&path).unwrap();
        f.write(b"half of a new fi").unwrap();
        drop(f);
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["all.rss"]);
    }

    #[test]
    fn a_folder_in_the_way_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("all.rss");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("x"), "keep").unwrap();
        let e = write_if_changed(&path, b"x").unwrap_err().to_string();
        assert!(e.contains("all.rss: cannot write"), "{e}");
    }
}
