//! Unix: folders read and files stated through directory handles, and
//! the other calls that differ by platform.

use std::ffi::OsStr;
use std::ops::Range;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, CWD};

use super::{is_hidden, Kind, SHARED_FOLDERS};
use crate::model::Stamp;

/// A folder's names, in one buffer, with what each is.
#[derive(Default)]
pub struct Entries {
    names: Vec<u8>,
    list: Vec<(Range<usize>, Kind)>,
}

impl Entries {
    /// Sorts the names by their bytes.
    pub fn sort(&mut self) {
        super::sort_names(&self.names, &mut self.list);
    }

    pub fn iter(&self) -> impl Iterator<Item = (&OsStr, Kind)> {
        self.list
            .iter()
            .map(|(r, kind)| (OsStr::from_bytes(&self.names[r.clone()]), *kind))
    }
}

/// Handles of folders that listed files hold now.
static SHARED: AtomicUsize = AtomicUsize::new(0);

/// An open folder.
pub struct Folder(OwnedFd);

/// A folder handle held by listed files until they are stamped.
#[derive(Debug)]
pub struct Handle(OwnedFd);

impl Drop for Handle {
    fn drop(&mut self) {
        SHARED.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Handle {
    /// The stamp of the file named `name` (bytes of an `OsStr`) in the
    /// folder.
    pub fn stamp(&self, name: &[u8]) -> std::io::Result<Stamp> {
        let st = rustix::fs::statat(&self.0, OsStr::from_bytes(name), AtFlags::empty())?;
        Ok(stamp_of(&st))
    }

    /// The file named `name` (bytes of an `OsStr`) in the folder, opened
    /// to read: one name looked up, not every part of a path.
    pub fn open(&self, name: &[u8]) -> std::io::Result<std::fs::File> {
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.0, OsStr::from_bytes(name), flags, Mode::empty())?;
        Ok(std::fs::File::from(fd))
    }
}

fn flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC
}

impl Folder {
    pub fn open(path: &Path) -> std::io::Result<Folder> {
        Ok(Folder(rustix::fs::openat(
            CWD,
            path,
            flags(),
            Mode::empty(),
        )?))
    }

    pub fn open_sub(&self, name: &OsStr, _path: &Path) -> std::io::Result<Folder> {
        Ok(Folder(rustix::fs::openat(
            &self.0,
            name,
            flags(),
            Mode::empty(),
        )?))
    }

    pub fn id(&self) -> std::io::Result<(u64, u64)> {
        let st = rustix::fs::fstat(&self.0)?;
        #[allow(clippy::useless_conversion)] // the types differ by platform
        Ok((u64::from(st.st_dev), u64::from(st.st_ino)))
    }

    /// The folder's names but hidden ones, with what each is (a link
    /// is followed; a dangling one is [`Kind::Other`]).
    pub fn entries(&self) -> std::io::Result<Entries> {
        let fd = &self.0;
        let mut entries = Entries::default();
        let mut add = |name: &[u8], kind: FileType| {
            let name = OsStr::from_bytes(name);
            if is_hidden(name) {
                return;
            }
            let kind = match kind {
                FileType::Directory => Kind::Folder,
                FileType::RegularFile => Kind::File,
                // A link, or a file system that does not say.
                FileType::Symlink | FileType::Unknown => {
                    match rustix::fs::statat(fd, name, AtFlags::empty()) {
                        Ok(st) => match FileType::from_raw_mode(st.st_mode) {
                            FileType::Directory => Kind::Folder,
                            FileType::RegularFile => Kind::File,
                            _ => Kind::Other,
                        },
                        Err(_) => Kind::Other,
                    }
                }
                _ => Kind::Other,
            };
            let start = entries.names.len();
            entries.names.extend_from_slice(name.as_bytes());
            entries.list.push((start..entries.names.len(), kind));
        };
        // Linux: entries read into one buffer, nothing allocated per
        // name.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let mut buf = Vec::with_capacity(32 << 10);
            let mut dir = rustix::fs::RawDir::new(fd, buf.spare_capacity_mut());
            while let Some(entry) = dir.next() {
                let entry = entry?;
                add(entry.file_name().to_bytes(), entry.file_type());
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let mut dir = rustix::fs::Dir::read_from(fd)?;
            while let Some(entry) = dir.read() {
                let entry = entry?;
                add(entry.file_name().to_bytes(), entry.file_type());
            }
        }
        Ok(entries)
    }

    /// A handle for the folder's files to be stated through, unless
    /// enough are held already.
    pub fn share(&self) -> Option<Arc<Handle>> {
        if SHARED.fetch_add(1, Ordering::Relaxed) >= SHARED_FOLDERS {
            SHARED.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        match self.0.try_clone() {
            Ok(fd) => Some(Arc::new(Handle(fd))),
            Err(_) => {
                SHARED.fetch_sub(1, Ordering::Relaxed);
                None
            }
        }
    }
}

#[allow(clippy::useless_conversion)] // the types differ by platform
fn stamp_of(st: &rustix::fs::Stat) -> Stamp {
    let ns = |s: i128, n: i128| s * 1_000_000_000 + n;
    Stamp {
        len: u64::try_from(st.st_size).unwrap_or(0),
        modified_ns: ns(i128::from(st.st_mtime), i128::from(st.st_mtime_nsec)),
        changed_ns: ns(i128::from(st.st_ctime), i128::from(st.st_ctime_nsec)),
        inode: u64::from(st.st_ino),
    }
}

/// The stamp of `meta`.
pub fn stamp(meta: &std::fs::Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
    Stamp {
        len: meta.len(),
        modified_ns: ns(meta.mtime(), meta.mtime_nsec()),
        changed_ns: ns(meta.ctime(), meta.ctime_nsec()),
        inode: meta.ino(),
    }
}

/// How many names the file of `meta` has.
pub fn link_count(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.nlink()
}

/// Swaps the files at `a` and `b` in one step; false where the system
/// cannot (the caller then renames).
pub fn exchange(a: &Path, b: &Path) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{renameat_with, RenameFlags};
        renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).is_ok()
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = (a, b);
        false
    }
}

/// Asks the disk to start writing `len` bytes of `file` from `offset`,
/// without waiting (Linux; elsewhere nothing).
pub fn write_behind(file: &std::fs::File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
            return;
        };
        // SAFETY: the descriptor is open for as long as `file` is borrowed;
        // sync_file_range only reads its arguments.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Whether process `pid` is alive (one that exists but belongs to another
/// user counts as alive).
pub fn process_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e != rustix::io::Errno::SRCH,
    }
}

/// Tells systemd (when it started this process with `NOTIFY_SOCKET`) how
/// the service is doing; without it, nothing.
pub fn service_state(state: super::ServiceState) {
    use sd_notify::NotifyState;
    let sent = match state {
        super::ServiceState::Ready(status) => {
            sd_notify::notify(&[NotifyState::Ready, NotifyState::Status(status)])
        }
        super::ServiceState::Alive => sd_notify::notify(&[NotifyState::Watchdog]),
        super::ServiceState::Stopping => sd_notify::notify(&[NotifyState::Stopping]),
    };
    if let Err(e) = sent {
        tracing::debug!("cannot notify the service manager: {e}");
    }
}

/// How often the service manager wants to hear the service is alive
/// (systemd's `WatchdogSec`, as `WATCHDOG_USEC`); none without a watchdog.
pub fn watchdog_interval() -> Option<std::time::Duration> {
    sd_notify::watchdog_enabled()
}

/// How many descriptors the process may have open (the soft limit), if
/// there is one.
pub fn open_files_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// This machine's name (`uname -n`).
pub fn host_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}
