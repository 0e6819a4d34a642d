//! The walk of a source folder, and the stamping of the files it finds.
//!
//! A file's stamp (see [`Stamp`]) is what tells a rebuild whether the file
//! changed, so every listed file is stated on every build. Looking a path up
//! costs one directory-cache lookup per component, and on a large tree
//! those lookups are most of what a stat costs; so, on Unix, each folder is
//! opened once, read through its handle, and its files are stated relative
//! to it: one lookup per file, whatever the depth of the tree. A listed
//! file keeps its folder's handle until it is stamped; a walk keeps at most
//! [`SHARED_FOLDERS`] handles for that at once (beyond, files are stated by
//! path), so a tree of many small folders cannot run out of descriptors.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{format_of, SourceError, Stamp};
use crate::config::SourceFormat;
use crate::model::ArticleFormat;

/// Folder handles that listed files may hold at once, waiting to be stamped.
#[cfg_attr(not(unix), allow(dead_code))] // files are stated by path there
pub const SHARED_FOLDERS: usize = 64;

/// A file found by a walk, not yet stamped.
#[derive(Debug)]
pub struct Listed {
    /// Its path.
    pub path: PathBuf,
    /// The format it will be read as.
    pub format: ArticleFormat,
    /// Its folder, when a handle to it was kept, and where its name
    /// starts in `path`.
    folder: Option<(Arc<sys::Handle>, usize)>,
}

impl Listed {
    /// A file to be stated by path.
    pub fn new(path: PathBuf, format: ArticleFormat) -> Listed {
        Listed {
            path,
            format,
            folder: None,
        }
    }

    /// The file's stamp, as the file system gives it now (links followed).
    pub fn stamp(&self) -> std::io::Result<Stamp> {
        match &self.folder {
            Some((folder, at)) => {
                let name = &self.path.as_os_str().as_encoded_bytes()[*at..];
                folder.stamp(name)
            }
            None => std::fs::metadata(&self.path).map(|m| Stamp::of(&m)),
        }
    }
}

/// Walks the article files under `root` in path order (each folder's
/// names sorted, a subfolder's files at its place: see
/// [`super::path_order`]). Hidden names are skipped. Entry kinds come with
/// the folder listing, so no file is stated here; a linked folder is walked
/// as if it were there, unless it leads back into a folder being walked.
/// `found` says whether to go on.
pub fn walk(
    root: &Path,
    format: SourceFormat,
    found: &mut dyn FnMut(Listed) -> bool,
) -> Result<(), SourceError> {
    let meta = std::fs::metadata(root).map_err(|e| cannot_list(root, e))?;
    if !meta.is_dir() {
        if let Some(f) = root.file_name().and_then(|name| format_of(name, format)) {
            found(Listed::new(root.to_owned(), f));
        }
        return Ok(());
    }
    let folder = sys::Folder::open(root).map_err(|e| cannot_list(root, e))?;
    walk_folder(root, folder, format, &mut Vec::new(), found).map(|_| ())
}

fn cannot_list(path: &Path, e: std::io::Error) -> SourceError {
    SourceError::new(path, 1, format!("cannot list: {e}"))
}

/// What an entry of a folder is, links followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Folder,
    File,
    /// Anything else: a device, a socket, a dangling link.
    Other,
}

/// One folder of [`walk`]; `ancestors` are the folders being walked, by
/// device and inode. Returns whether to go on.
fn walk_folder(
    dir: &Path,
    folder: sys::Folder,
    format: SourceFormat,
    ancestors: &mut Vec<(u64, u64)>,
    found: &mut dyn FnMut(Listed) -> bool,
) -> Result<bool, SourceError> {
    let id = folder.id().map_err(|e| cannot_list(dir, e))?;
    if ancestors.contains(&id) {
        return Err(SourceError::new(
            dir,
            1,
            "cannot list: a linked folder leads back into a folder it is in",
        ));
    }
    let mut entries = folder.entries().map_err(|e| cannot_list(dir, e))?;
    entries.sort();
    let handle = match entries.iter().any(|(_, kind)| kind == Kind::File) {
        true => folder.share(),
        false => None,
    };
    ancestors.push(id);
    let dir_len = dir.as_os_str().len();
    for (name, kind) in entries.iter() {
        // One allocation per path (`join` makes two).
        let mut path = PathBuf::with_capacity(dir_len + 1 + name.len());
        path.push(dir);
        path.push(name);
        let go_on = match kind {
            Kind::Folder => {
                let sub = folder
                    .open_sub(name, &path)
                    .map_err(|e| cannot_list(&path, e))?;
                walk_folder(&path, sub, format, ancestors, found)?
            }
            Kind::File => match format_of(name, format) {
                Some(f) => found(Listed {
                    folder: handle
                        .as_ref()
                        .map(|h| (h.clone(), path.as_os_str().len() - name.len())),
                    path,
                    format: f,
                }),
                None => true,
            },
            Kind::Other => true,
        };
        if !go_on {
            return Ok(false);
        }
    }
    ancestors.pop();
    Ok(true)
}

/// Sorts `list` (ranges of names in `names`, with what they are) by the
/// names' bytes. A folder's names often share a long prefix (a wire
/// service's story numbers), so they are first sorted by the sixteen bytes
/// after the prefix they all share, and only runs that tie there are
/// compared whole.
#[cfg(unix)]
fn sort_names<T: Copy>(names: &[u8], list: &mut Vec<(std::ops::Range<usize>, T)>) {
    let name = |i: usize| &names[list[i].0.clone()];
    let Some(first) = list.first().map(|(r, _)| &names[r.clone()]) else {
        return;
    };
    let shared = (1..list.len()).fold(first.len(), |shared, i| {
        let n = name(i);
        first[..shared]
            .iter()
            .zip(n)
            .take_while(|(a, b)| a == b)
            .count()
    });
    let mut keys: Vec<(u128, usize)> = (0..list.len())
        .map(|i| {
            let rest = &name(i)[shared..];
            let mut key = [0u8; 16];
            let len = rest.len().min(16);
            key[..len].copy_from_slice(&rest[..len]);
            // No name holds a NUL byte, so the padding sorts a shorter
            // name first, as byte order does.
            (u128::from_be_bytes(key), i)
        })
        .collect();
    keys.sort_unstable_by_key(|&(key, _)| key);
    let mut start = 0;
    while start < keys.len() {
        let key = keys[start].0;
        let end = start + keys[start..].iter().take_while(|k| k.0 == key).count();
        if end - start > 1 {
            keys[start..end].sort_unstable_by(|a, b| name(a.1).cmp(name(b.1)));
        }
        start = end;
    }
    let sorted = keys.iter().map(|&(_, i)| list[i].clone()).collect();
    *list = sorted;
}

fn is_hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

#[cfg(unix)]
mod sys {
    //! Folders read and files stated through directory handles.

    use std::ffi::OsStr;
    use std::ops::Range;
    use std::os::fd::OwnedFd;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use rustix::fs::{AtFlags, FileType, Mode, OFlags, CWD};

    use super::{is_hidden, Kind, SHARED_FOLDERS};
    use crate::source::Stamp;

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
}

#[cfg(not(unix))]
mod sys {
    //! Folders read and files stated by path.

    use std::ffi::{OsStr, OsString};
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use super::{is_hidden, Kind};
    use crate::source::Stamp;

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
            use std::hash::{Hash, Hasher};
            let real = std::fs::canonicalize(&self.0)?;
            let mut h = std::collections::hash_map::DefaultHasher::new();
            real.hash(&mut h);
            Ok((0, h.finish()))
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Source;

    #[cfg(unix)]
    #[test]
    fn names_sort_in_byte_order() {
        // Long shared prefixes, ties past the first eight bytes after
        // them, names that begin others, bytes above ASCII.
        let mut rng = 7u64;
        let mut next = |n: u64| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 33) % n
        };
        for round in 0..200 {
            let prefix = ["", "AEN2020", "x", "AEN20200101000000"][round % 4];
            let alphabet = [b'0', b'1', b'9', b'.', b'a', 0xc3, 0xff];
            let mut names = Vec::new();
            let mut list = Vec::new();
            for i in 0..next(40) {
                let start = names.len();
                names.extend_from_slice(prefix.as_bytes());
                // Often the same sixteen bytes next, or a name ending there.
                let middles: [&[u8]; 4] = [
                    b"0000000000000000",
                    b"000000000000000",
                    b"0000000000000001",
                    b"",
                ];
                names.extend_from_slice(middles[next(4) as usize]);
                for _ in 0..next(6) {
                    names.push(alphabet[next(alphabet.len() as u64) as usize]);
                }
                list.push((start..names.len(), i));
            }
            let mut expected = list.clone();
            expected.sort_by(|a, b| names[a.0.clone()].cmp(&names[b.0.clone()]));
            sort_names(&names, &mut list);
            let text = |l: &[(std::ops::Range<usize>, u64)]| -> Vec<Vec<u8>> {
                l.iter().map(|(r, _)| names[r.clone()].to_vec()).collect()
            };
            assert_eq!(text(&list), text(&expected), "round {round}");
        }
    }

    #[test]
    fn files_stamped_through_their_folders_match_their_paths() {
        // More folders than handles may be held: some files are stated
        // through their folder, the others by path; every stamp is the
        // one the path gives.
        let dir = tempfile::tempdir().unwrap();
        let count = SHARED_FOLDERS * 3;
        for i in 0..count {
            let folder = dir.path().join(format!("f{i:04}"));
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("story.txt"), "x".repeat(i)).unwrap();
        }
        let source = Source {
            path: dir.path().to_owned(),
            format: SourceFormat::Auto,
        };
        let files = super::super::discover(std::slice::from_ref(&source)).unwrap();
        assert_eq!(files.len(), count);
        for (i, file) in files.iter().enumerate() {
            let meta = std::fs::metadata(&file.path).unwrap();
            assert_eq!(file.stamp, Stamp::of(&meta), "{}", file.path.display());
            assert_eq!(file.stamp.len, i as u64);
        }
    }
}
