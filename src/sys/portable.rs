//! Elsewhere: folders read and files stated by path; the calls Unix
//! makes faster or safer, done the portable way.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{is_hidden, Kind};
use crate::model::Stamp;

pub struct Folder(PathBuf);

/// A folder's names, with what each is.
#[derive(Default)]
pub struct Entries(Vec<(OsString, Kind)>);

impl Entries {
    pub fn sort(&mut self) {
        self.0
            .sort_unstable_by(|a, b| a.0.as_encoded_bytes().cmp(b.0.as_encoded_bytes()));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, Kind)> {
        self.0.iter().map(|(name, kind)| (name.as_os_str(), *kind))
    }
}

/// Never made here: files are stated by path.
#[derive(Debug)]
pub struct Handle(());

impl Handle {
    pub fn stamp(&self, _name: &[u8]) -> std::io::Result<Stamp> {
        Err(std::io::ErrorKind::Unsupported.into())
    }

    pub fn open(&self, _name: &[u8]) -> std::io::Result<std::fs::File> {
        Err(std::io::ErrorKind::Unsupported.into())
    }
}

impl Folder {
    pub fn open(path: &Path) -> std::io::Result<Folder> {
        Ok(Folder(path.to_owned()))
    }

    pub fn open_sub(&self, _name: &OsStr, path: &Path) -> std::io::Result<Folder> {
        Ok(Folder(path.to_owned()))
    }

    /// The folder told apart by its real path (no inodes here).
    pub fn id(&self) -> std::io::Result<(u64, u64)> {
        let real = std::fs::canonicalize(&self.0)?;
        Ok((
            0,
            xxhash_rust::xxh3::xxh3_64(real.as_os_str().as_encoded_bytes()),
        ))
    }

    pub fn entries(&self) -> std::io::Result<Entries> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&self.0)? {
            let entry = entry?;
            let name = entry.file_name();
            if is_hidden(&name) {
                continue;
            }
            let kind = match std::fs::metadata(entry.path()) {
                Ok(m) if m.is_dir() => Kind::Folder,
                Ok(m) if m.is_file() => Kind::File,
                _ => Kind::Other,
            };
            entries.push((name, kind));
        }
        Ok(Entries(entries))
    }

    pub fn share(&self) -> Option<Arc<Handle>> {
        None
    }
}

/// The stamp of `meta`: no status-change time or inode here.
pub fn stamp(meta: &std::fs::Metadata) -> Stamp {
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    Stamp {
        len: meta.len(),
        modified_ns,
        changed_ns: 0,
        inode: 0,
    }
}

/// How many names the file has: not known here, so one.
pub fn link_count(_meta: &std::fs::Metadata) -> u64 {
    1
}

/// No exchange here: the caller renames.
pub fn exchange(_a: &Path, _b: &Path) -> bool {
    false
}

/// Nothing here: the commit's sync writes everything.
pub fn write_behind(_file: &std::fs::File, _offset: u64, _len: u64) {}

/// No service manager to tell here.
pub fn service_state(_state: super::ServiceState) {}

/// No watchdog here.
pub fn watchdog_interval() -> Option<std::time::Duration> {
    None
}

/// Waits for Ctrl-C.
pub async fn stop_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Whether process `pid` is alive: not known here, so always (nothing a
/// live process may be writing is ever removed).
pub fn process_alive(_pid: u32) -> bool {
    true
}

/// How many descriptors the process may have open: not known here.
pub fn open_files_limit() -> Option<u64> {
    None
}

/// This machine's name, from the environment (`COMPUTERNAME` on Windows).
pub fn host_name() -> String {
    ["COMPUTERNAME", "HOSTNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|n| !n.is_empty()))
        .unwrap_or_else(|| "unknown-host".to_owned())
}
