//! The build cache: what each article file gave last time (its item keys, or
//! its errors), keyed by path and [`Stamp`], so that a rebuild reads and
//! parses only the files that changed.
//!
//! It is the source stage's memo, one file `.wirefeed-cache` in the output
//! folder, with a spare beside it (see [`Writer`]; both hidden: not
//! served, not pushed, ignored by git). Records are
//! written in path order, the order `source::discover` lists files in, so
//! a build reads the cache as a stream beside the listing and never holds
//! it whole. A record is trusted only when the file's size, modification
//! time, status-change time and inode are all unchanged, and the file was
//! last modified well before the cache was written (a file modified in the
//! same instant the cache was written could change again unseen: such
//! "racy" records are re-read, as git does). A cache written by another
//! version or for other settings is ignored.
//!
//! This file is the API the scan sees ([`Reader`], [`Stored`], [`Writer`]);
//! `format` holds the whole byte format, `spare` the file a changed cache
//! is written over.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

mod format;
mod spare;

use crate::config::Config;
use crate::model::ItemKey;
use crate::output::{OutputError, Written};
use crate::source::{path_bytes_order, SourceFile, Stamp};
use format::{decode_body, decode_key, encode_body, encode_key, push_frame, MAGIC, MAX_FRAME};
use spare::Spare;
pub use spare::SPARE_NAME;

/// The cache's file name inside the output folder.
pub const FILE_NAME: &str = ".wirefeed-cache";

/// A record older than the cache by less than this is not trusted: file
/// systems keep modification times in coarse ticks.
const RACY_NS: i128 = 2_000_000_000;

/// What one file gave: its articles' keys and its problems, in file
/// order, and whether it was decoded as EUC-KR. The one type for it, as a
/// build that parsed the file writes it (texts owned) and as read back
/// from the cache (texts borrowed from the cache's bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct FileRecord<'a> {
    /// True when it was decoded as EUC-KR.
    pub legacy_encoded: bool,
    /// Its articles' keys and its errors, in file order (inline: most
    /// files give one).
    pub results: smallvec::SmallVec<[Outcome<'a>; 1]>,
}

/// One article's key, or one problem.
#[derive(Debug, Clone, PartialEq)]
// The large variant is the common one; boxing it would cost an allocation
// per cached article.
#[allow(clippy::large_enum_variant)]
pub enum Outcome<'a> {
    /// An article that parsed.
    Key(ItemKey<'a>),
    /// A problem at a line.
    Error {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: Cow<'a, str>,
    },
}

/// What makes a cache valid: the program's version and every setting that
/// changes what a file's item keys are.
pub fn fingerprint(config: &Config) -> String {
    let site = &config.site;
    let sources: Vec<String> = config
        .sources
        .iter()
        .map(|s| format!("{}={:?}", s.path.display(), s.format))
        .collect();
    // Keys carry author names only when a feed chooses by author.
    format!(
        "wirefeed {} | tz {} | base {} | author {} | sources {} | by author {}",
        env!("CARGO_PKG_VERSION"),
        site.timezone,
        site.base_url,
        site.author_name(),
        sources.join(","),
        config.chooses_by_author(),
    )
}

/// The records found for a run of listed files, as stored: each is copied
/// into the new cache as it is, and decoded (without copying its texts)
/// only when the build takes it in.
#[derive(Default)]
pub struct Stored {
    bytes: Vec<u8>,
    /// Per file: its record, if trusted.
    found: Vec<Option<Found>>,
}

/// Where a record found in the old cache is.
#[derive(Clone)]
struct Found {
    /// Its bytes (both frames) in [`Stored::bytes`].
    record: Range<usize>,
    /// Its body's bytes there.
    body: Range<usize>,
    /// Where it starts in the old cache.
    at: u64,
}

impl Stored {
    /// Whether the `i`th file of the run has a trusted record.
    pub fn has(&self, i: usize) -> bool {
        self.found.get(i).is_some_and(Option::is_some)
    }

    /// The `i`th file's record decoded, and its stored bytes with where
    /// they are in the old cache; `None` when there is none or its bytes
    /// are damaged (the file is then simply read again). Author names are
    /// decoded only when `authors` (no feed chooses by author otherwise).
    pub fn get(&self, i: usize, authors: bool) -> Option<(FileRecord<'_>, StoredBytes<'_>)> {
        let Found { record, body, at } = self.found.get(i)?.clone()?;
        let cached = decode_body(&self.bytes[body], authors)?;
        let bytes = StoredBytes {
            bytes: &self.bytes[record],
            at,
        };
        Some((cached, bytes))
    }
}

/// A record's bytes as the old cache stores them, at offset `at`.
pub struct StoredBytes<'a> {
    bytes: &'a [u8],
    at: u64,
}

/// The key of the record the reader stands at: its frame, and what it says.
struct Key {
    frame: Vec<u8>,
    path: Range<usize>,
    stamp: Stamp,
    /// Where the record starts in the file.
    at: u64,
}

/// Reads a cache file record by record, in path order, a run of files at a
/// time: it never holds the whole cache.
pub struct Reader {
    input: BufReader<File>,
    written_ns: i128,
    next: Option<Key>,
    /// Bytes read or skipped so far.
    pos: u64,
    /// The file's length.
    len: u64,
    /// The length of its header (everything before the records).
    header_len: u64,
    /// Bytes of stored records per file in the last run looked up: room
    /// is made for the next run at once, not by growing it record by
    /// record.
    per_file: usize,
}

impl Reader {
    /// Opens the cache at `path`, or `None` when there is none, or it was
    /// written for another fingerprint or is damaged.
    pub fn open(path: &Path, fingerprint: &str) -> Option<Reader> {
        let file = File::open(path).ok()?;
        let meta = file.metadata().ok()?;
        let written_ns = crate::sys::stamp(&meta).modified_ns;
        let mut input = BufReader::with_capacity(1 << 16, file);
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic).ok()?;
        if &magic != MAGIC {
            return None;
        }
        let mut reader = Reader {
            input,
            written_ns,
            next: None,
            pos: MAGIC.len() as u64,
            len: meta.len(),
            header_len: 0,
            per_file: 256,
        };
        let mut stored = Vec::new();
        reader.frame_into(&mut stored)?;
        if stored != fingerprint.as_bytes() {
            return None;
        }
        reader.header_len = reader.pos;
        reader.next = reader.key(Vec::new());
        Some(reader)
    }

    /// The length of the cache's header (everything before the records).
    pub fn header_len(&self) -> u64 {
        self.header_len
    }

    /// The cache file's length.
    pub fn file_len(&self) -> u64 {
        self.len
    }

    fn frame_len(&mut self) -> Option<usize> {
        let mut len = [0u8; 4];
        self.input.read_exact(&mut len).ok()?;
        self.pos += 4;
        let len = u32::from_le_bytes(len) as usize;
        (len <= MAX_FRAME).then_some(len)
    }

    /// Appends the next frame's bytes (without its length) to `out`;
    /// returns where they are.
    fn frame_into(&mut self, out: &mut Vec<u8>) -> Option<Range<usize>> {
        let len = self.frame_len()?;
        let start = out.len();
        // Copied out of the reader's buffer as it fills: `out` is not
        // zeroed first only to be written over.
        out.reserve(len);
        let mut left = len;
        while left > 0 {
            let buffered = self.input.fill_buf().ok()?;
            if buffered.is_empty() {
                return None;
            }
            let n = buffered.len().min(left);
            out.extend_from_slice(&buffered[..n]);
            self.input.consume(n);
            left -= n;
        }
        self.pos += len as u64;
        Some(start..start + len)
    }

    /// The next key, read into `buf` (a spent key's buffer); a damaged
    /// tail ends the stream (those files are simply read again).
    fn key(&mut self, mut buf: Vec<u8>) -> Option<Key> {
        buf.clear();
        let at = self.pos;
        self.frame_into(&mut buf)?;
        let (path, stamp) = decode_key(&buf)?;
        Some(Key {
            frame: buf,
            path,
            stamp,
            at,
        })
    }

    fn skip_body(&mut self) -> Option<()> {
        let len = self.frame_len()?;
        self.input.seek_relative(len as i64).ok()?;
        self.pos += len as u64;
        Some(())
    }

    /// Steps past the current record without reading its body.
    fn advance(&mut self) {
        let spent = self.next.take().map(|k| k.frame).unwrap_or_default();
        self.next = self.skip_body().and_then(|()| self.key(spent));
    }

    /// The trusted records of `files` (a run of listed files, in path
    /// order); records of files that are gone are skipped on the way.
    pub fn lookup(&mut self, files: &[SourceFile]) -> Stored {
        let room = files
            .len()
            .saturating_mul(self.per_file + self.per_file / 8);
        let mut stored = Stored {
            bytes: Vec::with_capacity(room.min(MAX_FRAME)),
            found: Vec::with_capacity(files.len()),
        };
        for file in files {
            let found = self.find(file, &mut stored.bytes);
            stored.found.push(found);
        }
        if !files.is_empty() && !stored.bytes.is_empty() {
            self.per_file = stored.bytes.len() / files.len();
        }
        stored
    }

    fn find(&mut self, file: &SourceFile, out: &mut Vec<u8>) -> Option<Found> {
        let wanted = file.path.as_os_str().as_encoded_bytes();
        loop {
            let next = self.next.as_ref()?;
            let path = &next.frame[next.path.clone()];
            let order = match path == wanted {
                true => Ordering::Equal,
                false => path_bytes_order(path, wanted),
            };
            match order {
                Ordering::Less => {
                    self.advance();
                    continue;
                }
                Ordering::Greater => return None,
                Ordering::Equal => {}
            }
            let stamp = next.stamp;
            let racy = stamp.modified_ns + RACY_NS >= self.written_ns
                || stamp.changed_ns + RACY_NS >= self.written_ns;
            if stamp != file.stamp || racy {
                self.advance();
                return None;
            }
            let key = self.next.take()?;
            let at = key.at;
            let start = out.len();
            push_frame(out, &key.frame);
            let len_at = out.len();
            out.extend_from_slice(&[0; 4]);
            let body = self.frame_into(out);
            self.next = self.key(key.frame);
            let body = body?;
            out[len_at..len_at + 4].copy_from_slice(&(body.len() as u32).to_le_bytes());
            return Some(Found {
                record: start..body.end,
                body,
                at,
            });
        }
    }
}

/// Writes a new cache, atomically: a build that fails halfway leaves the
/// old cache in place. While the new cache repeats the old one (records of
/// unchanged files, in the same order), nothing is written; at the first
/// difference the repeated part is copied over, inside the kernel where it
/// can. When nothing changed at all, the old cache stays as it is.
///
/// The new cache is written over the spare (see [`SPARE_NAME`]), then the
/// two are swapped: no cache file is ever deleted, since freeing a large
/// file's blocks can take longer than a whole cached build (file systems
/// mounted with `discard` trim them on the spot).
pub struct Writer {
    path: PathBuf,
    fingerprint: Vec<u8>,
    /// The old cache, while the new one repeats it.
    mirror: Option<Mirror>,
    file: Option<Spare>,
    buf: Vec<u8>,
}

/// The old cache, and how many of its bytes the new one repeats so far.
struct Mirror {
    len: u64,
    repeated: u64,
}

impl Writer {
    /// Starts a cache at `path` for `fingerprint`; `old` is the reader of
    /// the cache there, if it was valid for the same fingerprint.
    pub fn create(
        path: &Path,
        fingerprint: &str,
        old: Option<&Reader>,
    ) -> Result<Writer, OutputError> {
        let mut writer = Writer {
            path: path.to_owned(),
            fingerprint: fingerprint.as_bytes().to_vec(),
            mirror: old.map(|r| Mirror {
                len: r.file_len(),
                repeated: r.header_len(),
            }),
            file: None,
            buf: Vec::new(),
        };
        if writer.mirror.is_none() {
            writer.start(0)?;
        }
        Ok(writer)
    }

    /// Starts writing: the header, or the first `repeated` bytes of the
    /// old cache (which include it).
    fn start(&mut self, repeated: u64) -> Result<&mut Spare, OutputError> {
        let spare = self.path.with_file_name(SPARE_NAME);
        let mut file = Spare::open(spare).map_err(|e| self.io_error(e))?;
        if repeated > 0 {
            let mut old = File::open(&self.path).map_err(|e| self.io_error(e))?;
            file.append_from(&mut old, repeated)
                .map_err(|e| self.io_error(e))?;
        } else {
            let len = u32::try_from(self.fingerprint.len())
                .map_err(|_| self.error("fingerprint too large".into()))?;
            let header = [&MAGIC[..], &len.to_le_bytes(), &self.fingerprint].concat();
            file.write(&header).map_err(|e| self.io_error(e))?;
        }
        Ok(self.file.insert(file))
    }

    /// The file being written, started now if it was not yet.
    fn file(&mut self) -> Result<&mut Spare, OutputError> {
        match self.file {
            Some(ref mut file) => Ok(file),
            None => {
                let repeated = self.mirror.take().map_or(0, |m| m.repeated);
                self.start(repeated)
            }
        }
    }

    fn frame(&mut self, bytes: Vec<u8>) -> Result<(), OutputError> {
        let len = u32::try_from(bytes.len())
            .ok()
            .filter(|&l| l as usize <= MAX_FRAME)
            .ok_or_else(|| self.error("cache record too large".into()))?;
        let file = self.file()?;
        let written = file
            .write(&len.to_le_bytes())
            .and_then(|()| file.write(&bytes));
        written.map_err(|e| self.io_error(e))?;
        self.buf = bytes;
        Ok(())
    }

    fn error(&self, message: String) -> OutputError {
        self.io_error(std::io::Error::other(message))
    }

    fn io_error(&self, source: std::io::Error) -> OutputError {
        OutputError {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends the record of the file at `path` with `stamp`; records
    /// must come in path order.
    pub fn push(
        &mut self,
        path: &str,
        stamp: &Stamp,
        record: &FileRecord<'_>,
    ) -> Result<(), OutputError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        encode_key(path, stamp, &mut buf);
        self.frame(buf)?;
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        encode_body(record.legacy_encoded, &record.results, &mut buf);
        self.frame(buf)
    }

    /// Appends a record as [`Stored::get`] gave it.
    pub fn push_stored(&mut self, stored: &StoredBytes) -> Result<(), OutputError> {
        if let Some(m) = self.mirror.as_mut() {
            if m.repeated == stored.at {
                m.repeated += stored.bytes.len() as u64;
                return Ok(());
            }
        }
        let file = self.file()?;
        let written = file.write(stored.bytes);
        written.map_err(|e| self.io_error(e))
    }

    /// Puts the new cache in place, always: its modification time is what
    /// records are judged racy against, so it must be this build's. When
    /// it would repeat the old cache whole, the old one stays: every
    /// record in it was just found trustworthy against that time.
    pub fn commit(mut self) -> Result<Written, OutputError> {
        if let Some(m) = &self.mirror {
            if m.repeated == m.len {
                return Ok(Written::Unchanged);
            }
        }
        self.file()?;
        match self.file.take() {
            Some(file) => match file.commit(&self.path) {
                Ok(()) => Ok(Written::Changed),
                Err(e) => Err(self.io_error(e)),
            },
            None => Err(self.error("no file".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ArticleFormat;
    use chrono::DateTime;

    fn key(id: &str) -> ItemKey<'static> {
        let t = DateTime::parse_from_rfc3339("2026-10-01T09:00:00+09:00").unwrap();
        ItemKey {
            id: id.to_owned().into(),
            line: 1,
            published: t,
            updated: t,
            categories: vec!["Seoul".into()].into(),
            authors: vec!["Kim".into(), "김".into()].into(),
            draft: false,
            status: crate::model::Status::Usable,
            revision: None,
            embargo: None,
        }
    }

    /// Looks `file` up alone: its decoded record, if trusted.
    fn lookup(reader: &mut Reader, file: &SourceFile) -> Option<Vec<Outcome<'static>>> {
        let stored = reader.lookup(std::slice::from_ref(file));
        let (cached, _) = stored.get(0, true)?;
        Some(cached.results.into_iter().map(own).collect())
    }

    pub(super) fn own(outcome: Outcome<'_>) -> Outcome<'static> {
        match outcome {
            Outcome::Key(h) => Outcome::Key(ItemKey {
                id: h.id.into_owned().into(),
                categories: h
                    .categories
                    .into_iter()
                    .map(|c| c.into_owned().into())
                    .collect(),
                authors: h
                    .authors
                    .into_iter()
                    .map(|a| a.into_owned().into())
                    .collect(),
                ..h
            }),
            Outcome::Error { line, reason } => Outcome::Error {
                line,
                reason: reason.into_owned().into(),
            },
        }
    }

    fn file(path: &str, len: u64) -> SourceFile {
        SourceFile {
            path: PathBuf::from(path),
            format: ArticleFormat::Wire,
            stamp: Stamp {
                len,
                modified_ns: 1_000,
                changed_ns: 1_000,
                inode: 7,
            },
        }
    }

    fn push(w: &mut Writer, f: &SourceFile, outcome: Outcome<'static>) {
        let record = FileRecord {
            legacy_encoded: false,
            results: [outcome].into_iter().collect(),
        };
        w.push(&f.path.to_string_lossy(), &f.stamp, &record)
            .unwrap();
    }

    #[test]
    fn records_come_back_for_unchanged_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let (a, b, c) = (
            file("a/1.txt", 10),
            file("a/2.txt", 20),
            file("b/3.txt", 30),
        );
        let mut w = Writer::create(&path, "fp", None).unwrap();
        push(&mut w, &a, Outcome::Key(key("1")));
        let error = Outcome::Error {
            line: 2,
            reason: "bad".into(),
        };
        push(&mut w, &b, error);
        push(&mut w, &c, Outcome::Key(key("3")));
        w.commit().unwrap();

        assert!(Reader::open(&path, "other settings").is_none());
        let mut r = Reader::open(&path, "fp").unwrap();
        // a/1.txt was deleted; a/2.txt is unchanged; b/3.txt grew.
        let got = lookup(&mut r, &b).unwrap();
        assert_eq!(
            got,
            [Outcome::Error {
                line: 2,
                reason: "bad".into()
            }]
        );
        assert!(lookup(&mut r, &file("a/9.txt", 1)).is_none(), "a new file");
        assert!(
            lookup(&mut r, &file("b/3.txt", 31)).is_none(),
            "an edited file"
        );
        assert!(lookup(&mut r, &file("c/4.txt", 1)).is_none());
    }

    #[test]
    fn files_modified_just_before_the_cache_are_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut racy = file("a.txt", 1);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i128;
        racy.stamp.modified_ns = now;
        let mut w = Writer::create(&path, "fp", None).unwrap();
        push(&mut w, &racy, Outcome::Key(key("1")));
        w.commit().unwrap();
        assert!(lookup(&mut Reader::open(&path, "fp").unwrap(), &racy).is_none());
    }

    /// Builds a cache over `old` from `files`, as a build does: stored
    /// records copied, the others pushed fresh.
    fn rebuild(path: &Path, files: &[(SourceFile, Outcome<'static>)]) -> Written {
        let mut reader = Reader::open(path, "fp").unwrap();
        let listed: Vec<SourceFile> = files.iter().map(|(f, _)| f.clone()).collect();
        let stored = reader.lookup(&listed);
        let mut w = Writer::create(path, "fp", Some(&reader)).unwrap();
        for (i, (f, outcome)) in files.iter().enumerate() {
            match stored.get(i, true) {
                Some((_, bytes)) => w.push_stored(&bytes).unwrap(),
                None => push(&mut w, f, outcome.clone()),
            }
        }
        w.commit().unwrap()
    }

    #[test]
    fn a_cache_that_would_not_change_is_not_written_and_a_changed_one_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let (a, b, c) = (file("a.txt", 1), file("b.txt", 2), file("c.txt", 3));
        let h = |id: &str| Outcome::Key(key(id));
        let mut w = Writer::create(&path, "fp", None).unwrap();
        for (f, id) in [(&a, "a"), (&b, "b"), (&c, "c")] {
            push(&mut w, f, h(id));
        }
        w.commit().unwrap();
        let before = std::fs::read(&path).unwrap();
        let all = [
            (a.clone(), h("a")),
            (b.clone(), h("b")),
            (c.clone(), h("c")),
        ];
        assert_eq!(rebuild(&path, &all), Written::Unchanged);
        assert_eq!(std::fs::read(&path).unwrap(), before);

        // b edited: a is copied, b written anew, c copied after it.
        let b2 = file("b.txt", 22);
        let edited = [
            (a.clone(), h("a")),
            (b2.clone(), h("b2")),
            (c.clone(), h("c")),
        ];
        assert_eq!(rebuild(&path, &edited), Written::Changed);
        let mut r = Reader::open(&path, "fp").unwrap();
        assert_eq!(lookup(&mut r, &a).unwrap(), [h("a")]);
        assert_eq!(lookup(&mut r, &b2).unwrap(), [h("b2")]);
        assert_eq!(lookup(&mut r, &c).unwrap(), [h("c")]);
        // The old cache is the spare now (on Linux, swapped in one step).
        let spare = dir.path().join(SPARE_NAME);
        let edited_bytes = std::fs::read(&path).unwrap();
        #[cfg(target_os = "linux")]
        assert_eq!(std::fs::read(&spare).unwrap(), before);

        // c deleted: the copy stops before it, and the spare (longer) is
        // written over and cut to the new length.
        let fewer = [(a.clone(), h("a")), (b2.clone(), h("b2"))];
        assert_eq!(rebuild(&path, &fewer), Written::Changed);
        let mut r = Reader::open(&path, "fp").unwrap();
        assert_eq!(lookup(&mut r, &b2).unwrap(), [h("b2")]);
        assert!(lookup(&mut r, &c).is_none());
        assert!(std::fs::metadata(&path).unwrap().len() < edited_bytes.len() as u64);
        #[cfg(target_os = "linux")]
        assert_eq!(std::fs::read(&spare).unwrap(), edited_bytes);
        assert_eq!(rebuild(&path, &fewer), Written::Unchanged);

        // A spare that is another name of the cache is not written over.
        #[cfg(unix)]
        {
            std::fs::remove_file(&spare).unwrap();
            std::fs::hard_link(&path, &spare).unwrap();
            let cache_bytes = std::fs::read(&path).unwrap();
            assert_eq!(rebuild(&path, &edited), Written::Changed);
            let mut r = Reader::open(&path, "fp").unwrap();
            assert_eq!(lookup(&mut r, &c).unwrap(), [h("c")]);
            #[cfg(target_os = "linux")]
            assert_eq!(std::fs::read(&spare).unwrap(), cache_bytes);
            assert_eq!(rebuild(&path, &fewer), Written::Changed);
        }

        // A build that stops before its commit leaves the cache as it was.
        let kept = std::fs::read(&path).unwrap();
        let old = Reader::open(&path, "fp").unwrap();
        let mut w = Writer::create(&path, "fp", Some(&old)).unwrap();
        push(&mut w, &file("0.txt", 5), h("new"));
        drop(w);
        assert_eq!(std::fs::read(&path).unwrap(), kept);
    }

    #[test]
    fn a_damaged_cache_is_ignored_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"WFCACHE4\xff\xff\xff\xffjunk").unwrap();
        assert!(Reader::open(&path, "fp").is_none());
        let a = file("a.txt", 1);
        let mut w = Writer::create(&path, "fp", None).unwrap();
        push(&mut w, &a, Outcome::Key(key("1")));
        w.commit().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, bytes).unwrap();
        assert!(lookup(&mut Reader::open(&path, "fp").unwrap(), &a).is_none());
    }
}
