//! The output folder's bookkeeping: the lock that lets one wirefeed write
//! it at a time, and the manifest of the files the last build wrote, from
//! which files of feeds that are gone are pruned.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::{write_if_changed, OutputError};

/// The lock file in the output folder: one writer at a time.
pub const LOCK: &str = ".wirefeed-lock";

/// Holds the output folder's lock until dropped.
#[derive(Debug)]
pub struct Lock {
    _file: fs::File,
}

/// The folder is locked by another wirefeed, or the lock failed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", dir.display())]
pub struct LockError {
    /// The output folder.
    pub dir: PathBuf,
    /// What happened.
    pub reason: String,
}

/// Takes the output folder's lock without waiting: a second `run`, or a
/// `build` while `run` works, is told so instead of racing on the files.
/// The operating system releases it if the process dies.
pub fn lock(dir: &Path) -> Result<Lock, LockError> {
    let fail = |reason: String| LockError {
        dir: dir.to_owned(),
        reason,
    };
    fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create: {e}")))?;
    let path = dir.join(LOCK);
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| fail(format!("cannot open {LOCK}: {e}")))?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.set_len(0);
            let _ = write!(file, "{}", std::process::id());
            Ok(Lock { _file: file })
        }
        Err(fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = fs::File::open(&path).and_then(|mut f| f.read_to_string(&mut holder));
            Err(fail(format!(
                "another wirefeed (process {}) is writing here; try again when it is done",
                holder.trim()
            )))
        }
        Err(fs::TryLockError::Error(e)) => Err(fail(format!("cannot lock: {e}"))),
    }
}

/// The list of files the last build wrote, one relative path a line, kept
/// in the output folder so that files of feeds that no longer exist (a
/// removed `[[feed]]`, a category with no stories left) can be removed.
pub const MANIFEST: &str = ".wirefeed-manifest";

/// Removes the files the previous build's manifest lists that are not in
/// `keep`, then records `keep` as the new manifest. Nothing but files the
/// manifest names is ever removed. With `dry_run`, only counts.
pub fn prune(dir: &Path, keep: &[String], dry_run: bool) -> Result<usize, OutputError> {
    let manifest = dir.join(MANIFEST);
    let old = fs::read_to_string(&manifest).unwrap_or_default();
    let mut removed = 0;
    for name in old.lines() {
        let safe = !name.is_empty()
            && Path::new(name)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !safe || keep.iter().any(|k| k == name) {
            continue;
        }
        let path = dir.join(name);
        if !path.is_file() {
            continue;
        }
        removed += 1;
        if dry_run {
            continue;
        }
        fs::remove_file(&path).map_err(|source| OutputError {
            path: path.clone(),
            source,
        })?;
        // Folders it leaves empty (category/) go too; others stay.
        let mut parent = path.parent();
        while let Some(p) = parent.filter(|p| *p != dir) {
            if fs::remove_dir(p).is_err() {
                break;
            }
            parent = p.parent();
        }
    }
    if !dry_run {
        let mut list = keep.join("\n");
        list.push('\n');
        write_if_changed(&manifest, list.as_bytes())?;
    }
    Ok(removed)
}

/// Removes the temporary files (see [`super::temp_name`]) that processes
/// now gone left in `dir` and its subfolders: a writer killed with SIGKILL
/// or by a power cut leaves its temporary file behind, and every crash
/// would leave another. Call it holding the folder's lock, so no other
/// wirefeed is writing; files of live processes are never touched.
/// Returns how many were removed.
pub fn remove_stale_temp_files(dir: &Path) -> usize {
    let me = std::process::id();
    let mut removed = 0;
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            if kind.is_dir() {
                folders.push(entry.path());
                continue;
            }
            let owner = name.to_str().and_then(super::temp_owner);
            let stale = owner.is_some_and(|pid| pid != me && !crate::sys::process_alive(pid));
            if kind.is_file() && stale && fs::remove_file(entry.path()).is_ok() {
                tracing::info!(
                    "removed {}, left by a writer that is gone",
                    entry.path().display()
                );
                removed += 1;
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_files_of_gone_processes_are_removed_and_no_others() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("category")).unwrap();
        // A pid no process has (above the kernel's limit of 2^22).
        let gone = 4_194_400;
        let me = std::process::id();
        let names = [
            "all.rss".to_string(),
            format!(".all.rss.{gone}.tmp"),
            format!("category/.x.atom.{gone}.tmp"),
            format!(".all.rss.{me}.tmp"),
            ".keep.tmp".to_string(),
            ".notes.abc.tmp".to_string(),
        ];
        for n in &names {
            fs::write(d.join(n), "x").unwrap();
        }
        assert_eq!(remove_stale_temp_files(d), 2);
        for (i, n) in names.iter().enumerate() {
            assert_eq!(d.join(n).exists(), !(i == 1 || i == 2), "{n}");
        }
    }

    #[test]
    fn prune_removes_only_what_the_last_build_wrote_and_no_longer_writes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in ["all.rss", "category/a.rss", "category/b.rss", "robots.txt"] {
            write_if_changed(&d.join(name), b"x").unwrap();
        }
        let first: Vec<String> = ["all.rss", "category/a.rss", "category/b.rss"]
            .map(String::from)
            .to_vec();
        assert_eq!(prune(d, &first, false).unwrap(), 0);
        assert_eq!(prune(d, &first[..2], true).unwrap(), 1);
        assert!(
            d.join("category/b.rss").exists(),
            "a dry run removes nothing"
        );
        assert_eq!(prune(d, &first[..1], false).unwrap(), 2);
        assert!(!d.join("category").exists());
        assert!(d.join("robots.txt").exists() && d.join("all.rss").exists());
        // A tampered manifest cannot reach outside the folder.
        fs::write(d.join(MANIFEST), "../outside\n/etc/passwd\n").unwrap();
        assert_eq!(prune(d, &first[..1], false).unwrap(), 0);
    }

    #[test]
    fn one_lock_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path()).unwrap();
        let e = lock(dir.path()).unwrap_err().to_string();
        assert!(e.contains("another wirefeed (process"), "{e}");
        drop(held);
        assert!(lock(dir.path()).is_ok());
    }
}
