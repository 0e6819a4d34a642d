//! The walk of a source folder, and the stamping of the files it finds.
//!
//! A file's stamp (see [`Stamp`]) is what tells a rebuild whether the file
//! changed, so every listed file is stated on every build. Looking a path up
//! costs one directory-cache lookup per component, and on a large tree
//! those lookups are most of what a stat costs; so, on Unix, each folder is
//! opened once, read through its handle, and its files are stated relative
//! to it: one lookup per file, whatever the depth of the tree. A listed
//! file keeps its folder's handle until it is stamped; a walk keeps at most
//! [`crate::sys::SHARED_FOLDERS`] handles for that at once (beyond, files are stated by
//! path), so a tree of many small folders cannot run out of descriptors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::SourceError;
use crate::config::SourceFormat;
use crate::model::ArticleFormat;
use crate::model::Stamp;
use crate::sys::{Folder, Handle, Kind};

/// A file found by a walk, not yet stamped.
#[derive(Debug)]
pub struct Listed {
    /// Its path.
    pub path: PathBuf,
    /// The format it will be read as.
    pub format: ArticleFormat,
    /// Its folder, when a handle to it was kept, and where its name
    /// starts in `path`.
    folder: Option<(Arc<Handle>, usize)>,
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
            None => std::fs::metadata(&self.path).map(|m| crate::sys::stamp(&m)),
        }
    }

    /// The file, opened to read (links followed): through its folder's
    /// handle when it has one, so that one name is looked up.
    pub fn open(&self) -> std::io::Result<std::fs::File> {
        if let Some((folder, at)) = &self.folder {
            let name = &self.path.as_os_str().as_encoded_bytes()[*at..];
            match folder.open(name) {
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
                opened => return opened,
            }
        }
        std::fs::File::open(&self.path)
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
    let folder = Folder::open(root).map_err(|e| cannot_list(root, e))?;
    walk_folder(root, folder, format, &mut Vec::new(), found).map(|_| ())
}

fn cannot_list(path: &Path, e: std::io::Error) -> SourceError {
    SourceError::new(path, 1, format!("cannot list: {e}"))
}

/// One folder of [`walk`]; `ancestors` are the folders being walked, by
/// device and inode. Returns whether to go on.
fn walk_folder(
    dir: &Path,
    folder: Folder,
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

/// The format a file named `name` is read as, if any: by its extension
/// (as `Path::extension` finds it) unless the source says.
pub fn format_of(name: &std::ffi::OsStr, configured: SourceFormat) -> Option<ArticleFormat> {
    let name = name.as_encoded_bytes();
    if name.ends_with(b"~") {
        return None;
    }
    // Looked at once for every listed file: the extension is lowered into
    // a few bytes on the stack and matched, not compared name by name.
    let ext = extension(name)?;
    // A name whose extension is not text is no article's.
    if !ext.is_ascii() {
        std::str::from_utf8(ext).ok()?;
    }
    let mut lower = [0u8; 10];
    let lower = match lower.get_mut(..ext.len()) {
        Some(lower) => {
            lower.copy_from_slice(ext);
            lower.make_ascii_lowercase();
            &*lower
        }
        None => b"-",
    };
    if BEING_WRITTEN.contains(&lower) {
        return None;
    }
    let by_ext = match lower {
        b"txt" => Some(ArticleFormat::Wire),
        b"md" | b"markdown" => Some(ArticleFormat::Markdown),
        b"json" | b"jsonl" => Some(ArticleFormat::Json),
        b"xml" => Some(ArticleFormat::Xml),
        _ => None,
    };
    match configured {
        SourceFormat::Auto => by_ext,
        SourceFormat::Wire => Some(ArticleFormat::Wire),
        SourceFormat::Markdown => Some(ArticleFormat::Markdown),
        SourceFormat::Json => Some(ArticleFormat::Json),
        SourceFormat::NewsMlG2 => Some(ArticleFormat::NewsMlG2),
        SourceFormat::Nitf => Some(ArticleFormat::Nitf),
        SourceFormat::Ninjs => Some(ArticleFormat::Ninjs),
    }
}

/// The extensions (lowercase) of files being written: see
/// [`is_being_written`].
const BEING_WRITTEN: [&[u8]; 5] = [b"tmp", b"part", b"partial", b"crdownload", b"swp"];

/// What follows the last dot of `name`, as `Path::extension` finds it
/// (none for a name whose only dot leads it).
fn extension(name: &[u8]) -> Option<&[u8]> {
    let dot = name.iter().rposition(|&b| b == b'.').filter(|&at| at > 0)?;
    Some(&name[dot + 1..])
}

/// Whether `name` is one a writer uses while it writes a file, to rename
/// it when done (wire systems, downloads, editors): `*.tmp`, `*.part`,
/// `*.partial`, `*.crdownload`, `*.swp`, `*~`. Such a file is never an
/// article, whatever format a source folder is read as; hidden names (a
/// leading dot) are skipped by the walk already.
pub fn is_being_written(name: &std::ffi::OsStr) -> bool {
    let name = name.as_encoded_bytes();
    name.ends_with(b"~")
        || extension(name)
            .is_some_and(|ext| BEING_WRITTEN.iter().any(|s| ext.eq_ignore_ascii_case(s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Source;
    use crate::sys::SHARED_FOLDERS;

    #[test]
    fn names_a_writer_uses_are_never_articles() {
        use std::ffi::OsStr;
        for name in [
            "a.txt.tmp",
            "a.TMP",
            "a.md.part",
            "a.json.partial",
            "a.txt~",
            "a.crdownload",
        ] {
            assert!(is_being_written(OsStr::new(name)), "{name}");
            assert_eq!(
                format_of(OsStr::new(name), SourceFormat::Wire),
                None,
                "{name}"
            );
            assert_eq!(
                format_of(OsStr::new(name), SourceFormat::Auto),
                None,
                "{name}"
            );
        }
        for name in ["a.txt", "tmp.md", "part.json", "a.tmpl.txt", ".tmp"] {
            assert!(!is_being_written(OsStr::new(name)), "{name}");
        }
        assert_eq!(
            format_of(OsStr::new("a.txt"), SourceFormat::Auto),
            Some(ArticleFormat::Wire)
        );
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
            assert_eq!(
                file.stamp,
                crate::sys::stamp(&meta),
                "{}",
                file.path.display()
            );
            assert_eq!(file.stamp.len, i as u64);
        }
    }
}
