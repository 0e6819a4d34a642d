//! Output stage: bytes → files, atomically, leaving unchanged files alone.
//!
//! A file is written to a temporary file in the same folder, flushed to
//! disk, then renamed over the old one, so a reader never sees half a file.
//! A file whose bytes are already there is not touched (its modification
//! time stays, so HTTP caches and push targets see no change).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    let fail = |source| OutputError {
        path: path.to_owned(),
        source,
    };
    if same_content(path, bytes) {
        return Ok(Written::Unchanged);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(fail)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = write_and_sync(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(fail(e));
    }
    // Make the rename itself durable; a failure here loses nothing that is
    // visible, so it is not an error.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(Written::Changed)
}

fn same_content(path: &Path, bytes: &[u8]) -> bool {
    match fs::metadata(path) {
        Ok(m) if m.is_file() && m.len() == bytes.len() as u64 => {
            fs::read(path).is_ok_and(|old| old == bytes)
        }
        _ => false,
    }
}

fn write_and_sync(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["all.rss"]);
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
