//! The build cache: what each article file gave last time (its headers, or
//! its errors), keyed by path and [`Stamp`], so that a rebuild reads and
//! parses only the files that changed.
//!
//! It is the source stage's memo, one file `.wirefeed-cache` in the output
//! folder (hidden: not served, not pushed, ignored by git). Records are
//! written in path order, the order `source::discover` lists files in, so
//! a build reads the cache as a stream beside the listing and never holds
//! it whole. A record is trusted only when the file's size, modification
//! time, status-change time and inode are all unchanged, and the file was
//! last modified well before the cache was written (a file modified in the
//! same instant the cache was written could change again unseen: such
//! "racy" records are re-read, as git does). A cache written by another
//! version or for other settings is ignored.

use std::cmp::Ordering;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::model::Header;
use crate::output::{AtomicFile, OutputError, Written};
use crate::source::{path_order, SourceFile, Stamp};

/// The cache's file name inside the output folder.
pub const FILE_NAME: &str = ".wirefeed-cache";

const MAGIC: &[u8; 8] = b"WFCACHE1";

/// No record is this large (a damaged length must not allocate gigabytes).
const MAX_FRAME: usize = 64 << 20;

/// A record older than the cache by less than this is not trusted: file
/// systems keep modification times in coarse ticks.
const RACY_NS: i128 = 2_000_000_000;

/// What one file gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The file, as listed.
    pub path: String,
    /// Its stamp when it was parsed.
    pub stamp: Stamp,
    /// True when it was decoded as EUC-KR.
    pub legacy_encoded: bool,
    /// Its articles' headers and its errors, in file order.
    pub results: Vec<Outcome>,
}

/// One article's header, or one problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// An article that parsed.
    Header(Header),
    /// A problem at a line.
    Error {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// What makes a cache valid: the program's version and every setting that
/// changes what a file's headers are.
pub fn fingerprint(config: &Config) -> String {
    let site = &config.site;
    let sources: Vec<String> = config
        .sources
        .iter()
        .map(|s| format!("{}={:?}", s.path.display(), s.format))
        .collect();
    format!(
        "wirefeed {} | tz {} | base {} | author {} | sources {}",
        env!("CARGO_PKG_VERSION"),
        site.timezone,
        site.base_url,
        site.author_name(),
        sources.join(",")
    )
}

/// A record's key, written before its body so that a lookup can skip a
/// body without decoding it.
type Key = (String, Stamp);

/// A record found for a file, not decoded yet (decoding is done in
/// parallel by the caller).
pub struct Raw {
    key: Key,
    key_bytes: Vec<u8>,
    body: Vec<u8>,
}

impl Raw {
    /// The record, or `None` when its bytes are damaged (the file is then
    /// simply read again).
    pub fn decode(&self) -> Option<Record> {
        let (legacy_encoded, results): (bool, Vec<Outcome>) =
            postcard::from_bytes(&self.body).ok()?;
        Some(Record {
            path: self.key.0.clone(),
            stamp: self.key.1,
            legacy_encoded,
            results,
        })
    }
}

/// Reads a cache file record by record, in path order.
pub struct Reader {
    input: BufReader<File>,
    written_ns: i128,
    /// The next record's key, decoded and as stored.
    next: Option<(Key, Vec<u8>)>,
}

impl Reader {
    /// Opens the cache at `path`, or `None` when there is none, or it was
    /// written for another fingerprint or is damaged.
    pub fn open(path: &Path, fingerprint: &str) -> Option<Reader> {
        let file = File::open(path).ok()?;
        let written_ns = Stamp::of(&file.metadata().ok()?).modified_ns;
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
        };
        let stored = reader.frame()?;
        if stored != fingerprint.as_bytes() {
            return None;
        }
        reader.next = reader.key();
        Some(reader)
    }

    fn frame_len(&mut self) -> Option<usize> {
        let mut len = [0u8; 4];
        self.input.read_exact(&mut len).ok()?;
        let len = u32::from_le_bytes(len) as usize;
        (len <= MAX_FRAME).then_some(len)
    }

    /// The next length-prefixed frame.
    fn frame(&mut self) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; self.frame_len()?];
        self.input.read_exact(&mut buf).ok()?;
        Some(buf)
    }

    /// The next key; a damaged tail ends the stream (those files are simply
    /// read again).
    fn key(&mut self) -> Option<(Key, Vec<u8>)> {
        let bytes = self.frame()?;
        let key = postcard::from_bytes(&bytes).ok()?;
        Some((key, bytes))
    }

    fn skip_body(&mut self) -> Option<()> {
        let len = self.frame_len()?;
        self.input.seek_relative(len as i64).ok()
    }

    /// The record for `file` if it can be trusted; records of files that
    /// are gone are skipped on the way.
    pub fn lookup(&mut self, file: &SourceFile) -> Option<Raw> {
        loop {
            let (next, _) = self.next.as_ref()?;
            match path_order(Path::new(&next.0), &file.path) {
                Ordering::Less => {
                    self.next = self.skip_body().and_then(|()| self.key());
                    continue;
                }
                Ordering::Greater => return None,
                Ordering::Equal => {}
            }
            let stamp = next.1;
            let racy = stamp.modified_ns + RACY_NS >= self.written_ns
                || stamp.changed_ns + RACY_NS >= self.written_ns;
            if stamp != file.stamp || racy {
                self.next = self.skip_body().and_then(|()| self.key());
                return None;
            }
            let (key, key_bytes) = self.next.take()?;
            let body = self.frame();
            self.next = self.key();
            return Some(Raw {
                key,
                key_bytes,
                body: body?,
            });
        }
    }
}

/// Writes a new cache, atomically: a build that fails halfway leaves the
/// old cache in place.
pub struct Writer {
    file: AtomicFile,
    path: PathBuf,
}

impl Writer {
    /// Starts a cache at `path` for `fingerprint`.
    pub fn create(path: &Path, fingerprint: &str) -> Result<Writer, OutputError> {
        let mut file = AtomicFile::create(path)?;
        file.write(MAGIC)?;
        let mut writer = Writer {
            file,
            path: path.to_owned(),
        };
        writer.frame(fingerprint.as_bytes())?;
        Ok(writer)
    }

    fn frame(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        let len = u32::try_from(bytes.len())
            .ok()
            .filter(|&l| l as usize <= MAX_FRAME)
            .ok_or_else(|| self.error("cache record too large".into()))?;
        self.file.write(&len.to_le_bytes())?;
        self.file.write(bytes)
    }

    fn error(&self, message: String) -> OutputError {
        OutputError {
            path: self.path.clone(),
            source: std::io::Error::other(message),
        }
    }

    /// Appends one file's record; records must come in path order.
    pub fn push(&mut self, record: &Record) -> Result<(), OutputError> {
        let key = postcard::to_stdvec(&(&record.path, record.stamp))
            .map_err(|e| self.error(e.to_string()))?;
        let body = postcard::to_stdvec(&(record.legacy_encoded, &record.results))
            .map_err(|e| self.error(e.to_string()))?;
        self.frame(&key)?;
        self.frame(&body)
    }

    /// Appends a record read from the old cache, as it was stored.
    pub fn push_raw(&mut self, raw: &Raw) -> Result<(), OutputError> {
        self.frame(&raw.key_bytes)?;
        self.frame(&raw.body)
    }

    /// Puts the new cache in place, always: its modification time is what
    /// records are judged racy against, so it must be this build's.
    pub fn commit(self) -> Result<Written, OutputError> {
        self.file.commit_always()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ArticleFormat;
    use chrono::DateTime;

    fn header(id: &str) -> Header {
        let t = DateTime::parse_from_rfc3339("2026-10-01T09:00:00+09:00").unwrap();
        Header {
            id: id.into(),
            line: 1,
            published: t,
            updated: t,
            categories: vec!["Seoul".into()],
            authors: vec!["Kim".into(), "김".into()],
            draft: false,
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

    fn record(f: &SourceFile, outcome: Outcome) -> Record {
        Record {
            path: f.path.to_string_lossy().into_owned(),
            stamp: f.stamp,
            legacy_encoded: false,
            results: vec![outcome],
        }
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
        let mut w = Writer::create(&path, "fp").unwrap();
        w.push(&record(&a, Outcome::Header(header("1")))).unwrap();
        w.push(&record(
            &b,
            Outcome::Error {
                line: 2,
                reason: "bad".into(),
            },
        ))
        .unwrap();
        w.push(&record(&c, Outcome::Header(header("3")))).unwrap();
        w.commit().unwrap();

        assert!(Reader::open(&path, "other settings").is_none());
        let mut r = Reader::open(&path, "fp").unwrap();
        // a/1.txt was deleted; a/2.txt is unchanged; b/3.txt grew.
        let got = r.lookup(&b).unwrap().decode().unwrap();
        assert_eq!(
            got.results,
            [Outcome::Error {
                line: 2,
                reason: "bad".into()
            }]
        );
        assert!(r.lookup(&file("a/9.txt", 1)).is_none(), "a new file");
        assert!(r.lookup(&file("b/3.txt", 31)).is_none(), "an edited file");
        assert!(r.lookup(&file("c/4.txt", 1)).is_none());
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
        let mut w = Writer::create(&path, "fp").unwrap();
        w.push(&record(&racy, Outcome::Header(header("1"))))
            .unwrap();
        w.commit().unwrap();
        assert!(Reader::open(&path, "fp").unwrap().lookup(&racy).is_none());
    }

    #[test]
    fn a_damaged_cache_is_ignored_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"WFCACHE1\xff\xff\xff\xffjunk").unwrap();
        assert!(Reader::open(&path, "fp").is_none());
        let a = file("a.txt", 1);
        let mut w = Writer::create(&path, "fp").unwrap();
        w.push(&record(&a, Outcome::Header(header("1")))).unwrap();
        w.commit().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, bytes).unwrap();
        assert!(Reader::open(&path, "fp").unwrap().lookup(&a).is_none());
    }
}
