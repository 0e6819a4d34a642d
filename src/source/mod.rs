//! Source stage: find article files, decode them, parse each into
//! [`Article`]s.
//!
//! In: the configured source folders. Out: every article that parsed plus
//! one [`SourceError`] per problem, located by file and line. A bad file
//! never stops the others; files are parsed in parallel and the result is
//! ordered by path, so it does not depend on thread timing. Nothing here
//! fills in defaults or cleans text: that is `normalize`'s job.

pub mod cache;
mod fields;
mod iptc;
mod json;
pub mod limits;
mod list;
mod markdown;
mod newsml;
mod ninjs;
mod nitf;
mod walk;
mod wire;
mod xml;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use rayon::prelude::*;

use crate::model::{Article, ArticleFormat};
use limits::{Warning, MAX_FILE_BYTES};

pub use crate::model::Stamp;
pub use list::{
    discover, list, path_bytes_order, path_order, stat_batch, unstamped, Found, Listing, LIST_BATCH,
};
pub use walk::{format_of, is_being_written, Listed};

/// A problem with one article file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {reason}", path.display())]
pub struct SourceError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line the problem is on (1 when it concerns the whole file).
    pub line: usize,
    /// What is wrong, in plain words.
    pub reason: String,
}

impl SourceError {
    fn new(path: &Path, line: usize, reason: impl Into<String>) -> SourceError {
        SourceError {
            path: path.to_owned(),
            line,
            reason: reason.into(),
        }
    }
}

/// What reading the sources gave.
#[derive(Debug, Default)]
pub struct Corpus {
    /// Article files found (and read).
    pub files: usize,
    /// Every article that parsed, ordered by (path, line).
    pub articles: Vec<Article>,
    /// Every problem, ordered by (path, line).
    pub errors: Vec<SourceError>,
    /// Files that were not UTF-8 and were decoded as EUC-KR.
    pub legacy_encoded: Vec<PathBuf>,
}

/// What a parser needs besides the text.
#[derive(Debug, Clone, Copy)]
pub struct ParseContext {
    /// Zone of times written without an offset.
    pub timezone: Tz,
    /// False when only the item keys are wanted (a build's first pass, which
    /// reads every file but publishes few): bodies are still checked, so
    /// the same errors are found, but not kept.
    pub bodies: bool,
}

/// One file found in a source folder, with the format it will be read as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    /// Its path.
    pub path: PathBuf,
    /// Its format.
    pub format: ArticleFormat,
    /// What the file system says of it when it was listed; the default
    /// when a build with no cache to compare with left it to be stamped
    /// when read (see [`ParsedFile::stamp`]).
    pub stamp: Stamp,
}

/// Reads and parses `files` on all cores. `tick` is called once per file
/// (for a progress bar).
pub fn load(files: &[SourceFile], ctx: ParseContext, tick: &(dyn Fn() + Sync)) -> Corpus {
    let results: Vec<ParsedFile> = files
        .par_iter()
        .map(|file| {
            let r = parse_file(file, ctx);
            tick();
            r
        })
        .collect();
    let mut loaded = Corpus {
        files: files.len(),
        ..Corpus::default()
    };
    for (parsed, file) in results.into_iter().zip(files) {
        if parsed.legacy_encoded {
            loaded.legacy_encoded.push(file.path.clone());
        }
        loaded.articles.extend(parsed.articles);
        loaded.errors.extend(parsed.errors);
    }
    loaded
}

/// What one file gave: its articles and its problems (a JSON array can
/// give both).
#[derive(Debug, Default)]
pub struct ParsedFile {
    /// The articles, in file order.
    pub articles: Vec<Article>,
    /// The problems, in file order.
    pub errors: Vec<SourceError>,
    /// True when the file was decoded as EUC-KR.
    pub legacy_encoded: bool,
    /// The file's stamp, taken on the open file before it was read (none
    /// when it could not be opened).
    pub stamp: Option<Stamp>,
}

/// Reads, decodes and parses one listed file.
pub fn parse_file(file: &SourceFile, ctx: ParseContext) -> ParsedFile {
    parse_opened(
        &file.path,
        file.format,
        std::fs::File::open(&file.path),
        ctx,
    )
}

/// [`parse_file`] for a file just listed, opened through its folder.
pub fn parse_listed(listed: &Listed, ctx: ParseContext) -> ParsedFile {
    parse_opened(&listed.path, listed.format, listed.open(), ctx)
}

/// Reads and parses the file at `path`, as `opened`.
fn parse_opened(
    path: &Path,
    format: ArticleFormat,
    opened: std::io::Result<std::fs::File>,
    ctx: ParseContext,
) -> ParsedFile {
    let failed = |reason: String, stamp: Option<Stamp>| ParsedFile {
        errors: vec![SourceError::new(path, 1, reason)],
        stamp,
        ..ParsedFile::default()
    };
    match opened.map_err(Unread::Io).and_then(read) {
        Ok((bytes, stamp)) => parse_stamped(path, bytes, format, ctx, Some(stamp)),
        Err(Unread::Io(e)) => failed(format!("cannot read: {e}"), None),
        Err(Unread::TooLarge(stamp, size)) => {
            let reason = format!(
                "{size} bytes, over the limit of {MAX_FILE_BYTES} bytes ({} MiB) for an article file",
                MAX_FILE_BYTES >> 20
            );
            failed(reason, Some(stamp))
        }
    }
}

/// Decodes and parses the bytes of a file as `format`, without touching
/// the file system (`path` names the file in articles and errors). The
/// result has no stamp.
pub fn parse_bytes(
    path: &Path,
    bytes: Vec<u8>,
    format: ArticleFormat,
    ctx: ParseContext,
) -> ParsedFile {
    parse_stamped(path, bytes, format, ctx, None)
}

fn parse_stamped(
    path: &Path,
    bytes: Vec<u8>,
    format: ArticleFormat,
    ctx: ParseContext,
    stamp: Option<Stamp>,
) -> ParsedFile {
    let (text, legacy_encoded) = match decode(bytes) {
        Ok(decoded) => decoded,
        Err(reason) => {
            return ParsedFile {
                errors: vec![SourceError::new(path, 1, reason)],
                stamp,
                ..ParsedFile::default()
            }
        }
    };
    let mut warnings = Vec::new();
    let (articles, errors) = match format {
        ArticleFormat::Wire => single(wire::parse(path, &text, ctx, &mut warnings)),
        ArticleFormat::Markdown => single(markdown::parse(path, &text, ctx, &mut warnings)),
        ArticleFormat::Json if is_jsonl(path) => json::parse(path, &text, ctx, &mut warnings),
        // `format = "auto"`: a ninjs object is told by its keys.
        ArticleFormat::Json if ninjs::is_ninjs(&text) => {
            ninjs::parse(path, &text, ctx, &mut warnings)
        }
        ArticleFormat::Json => json::parse(path, &text, ctx, &mut warnings),
        ArticleFormat::Ninjs => ninjs::parse(path, &text, ctx, &mut warnings),
        ArticleFormat::Xml | ArticleFormat::NewsMlG2 | ArticleFormat::Nitf => {
            parse_xml(path, &text, format, ctx, &mut warnings)
        }
    };
    for warning in warnings {
        warn_once(path, stamp, warning);
    }
    ParsedFile {
        articles,
        errors,
        legacy_encoded,
        stamp,
    }
}

fn is_jsonl(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"))
}

/// An XML file: NewsML-G2 or NITF, as named or (auto) as its root says.
fn parse_xml(
    path: &Path,
    text: &str,
    format: ArticleFormat,
    ctx: ParseContext,
    warnings: &mut Vec<Warning>,
) -> (Vec<Article>, Vec<SourceError>) {
    let root = match xml::parse(text) {
        Ok(root) => root,
        Err((line, reason)) => return (vec![], vec![SourceError::new(path, line, reason)]),
    };
    let is_nitf = match format {
        ArticleFormat::Nitf => true,
        ArticleFormat::NewsMlG2 => false,
        _ if newsml::is_newsml(&root) => false,
        _ if nitf::is_nitf(&root) => true,
        _ => {
            let reason = format!(
                "root element `{}` is neither a NewsML-G2 newsItem or newsMessage nor an NITF `nitf`",
                root.name
            );
            return (vec![], vec![SourceError::new(path, root.line, reason)]);
        }
    };
    match is_nitf {
        true => nitf::parse(path, &root, ctx, warnings),
        false => newsml::parse(path, &root, ctx, warnings),
    }
}

/// Logs a warning about a file, once per version of the file: a build
/// reads the files it publishes from a second time.
fn warn_once(path: &Path, stamp: Option<Stamp>, warning: Warning) {
    /// A file, its version (none for bytes given without a file), a line.
    type Warned = (PathBuf, Option<Stamp>, usize);
    static WARNED: LazyLock<Mutex<HashSet<Warned>>> = LazyLock::new(Mutex::default);
    let key = (path.to_owned(), stamp, warning.line);
    let first = match WARNED.lock() {
        Ok(mut warned) => warned.insert(key),
        Err(poisoned) => poisoned.into_inner().insert(key),
    };
    if first {
        tracing::warn!("{}:{}: {}", path.display(), warning.line, warning.reason);
    }
}

/// Why a file was not read.
enum Unread {
    Io(std::io::Error),
    /// Bigger than [`MAX_FILE_BYTES`]: its stamp and its size as far as
    /// known.
    TooLarge(Stamp, String),
}

impl From<std::io::Error> for Unread {
    fn from(e: std::io::Error) -> Unread {
        Unread::Io(e)
    }
}

/// The whole file, and its stamp taken on the open file before reading:
/// a change after that changes the stamp, so a cached record never holds
/// older text than its stamp says (and no path is looked up twice). A file
/// over [`MAX_FILE_BYTES`] is not read (nor more of it than the limit, if
/// it grows while read).
fn read(file: std::fs::File) -> Result<(Vec<u8>, Stamp), Unread> {
    use std::io::Read;
    let stamp = crate::sys::stamp(&file.metadata()?);
    if stamp.len > MAX_FILE_BYTES {
        return Err(Unread::TooLarge(stamp, stamp.len.to_string()));
    }
    // The bytes the stamp counts, and no more: what a writer appends from
    // now on changes the stamp, and is read next time. (No read past them
    // either, to find the end: one system call less per file.)
    let mut bytes = Vec::with_capacity(usize::try_from(stamp.len).unwrap_or(0));
    file.take(stamp.len).read_to_end(&mut bytes)?;
    Ok((bytes, stamp))
}

fn single(result: Result<Article, SourceError>) -> (Vec<Article>, Vec<SourceError>) {
    match result {
        Ok(a) => (vec![a], vec![]),
        Err(e) => (vec![], vec![e]),
    }
}

/// Decodes a file's bytes: UTF-8 (a BOM is dropped), or else EUC-KR/CP949,
/// which older Korean systems still export. The flag is true for EUC-KR.
pub fn decode(mut bytes: Vec<u8>) -> Result<(String, bool), String> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    // Checked with vector instructions first: the standard library's check
    // was 6% of a cold scan's instructions.
    if simdutf8::basic::from_utf8(&bytes).is_ok() {
        // SAFETY: the bytes were just checked to be UTF-8.
        return Ok((unsafe { String::from_utf8_unchecked(bytes) }, false));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok((text, false)),
        Err(not_utf8) => {
            let utf8_error = not_utf8.utf8_error();
            let bytes = not_utf8.as_bytes();
            let (text, had_errors) = encoding_rs::EUC_KR.decode_without_bom_handling(bytes);
            if had_errors {
                Err(format!(
                    "not UTF-8 (invalid byte at offset {}) and not EUC-KR either",
                    utf8_error.valid_up_to()
                ))
            } else {
                Ok((text.into_owned(), true))
            }
        }
    }
}

/// The file stem, used to derive ids and links.
fn stem_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Parses a date as RFC 3339 (`2026-10-03T10:00:00+09:00`), or without an
/// offset in the site's zone (`2026-10-03T10:00:00`, `2026-10-03 10:00`,
/// `2026-10-03`).
pub fn parse_date(text: &str, zone: Tz) -> Result<DateTime<FixedOffset>, String> {
    let text = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(text) {
        return Ok(d);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(&text.replacen(' ', "T", 1)) {
        return Ok(d);
    }
    const LOCAL: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ];
    let naive = LOCAL
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .ok_or_else(|| {
            format!("`{text}` is not a date (expected e.g. 2026-10-03T10:00:00+09:00)")
        })?;
    local_time(naive, zone)
}

/// `naive` read in `zone`. In a DST overlap the earlier instant is taken; a
/// time that does not exist (skipped by DST) is an error.
pub fn local_time(naive: NaiveDateTime, zone: Tz) -> Result<DateTime<FixedOffset>, String> {
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|d| d.fixed_offset())
        .ok_or_else(|| format!("{naive} does not exist in time zone {zone} (a DST gap)"))
}

#[cfg(test)]
mod tests {
    use super::walk::format_of;
    use super::*;
    use crate::config::{Source, SourceFormat};

    fn names(files: &[SourceFile], root: &Path) -> Vec<String> {
        files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn formats_follow_the_extension_as_paths_find_it() {
        let by_path = |name: &str, configured: SourceFormat| {
            let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
            let by_ext = match ext.as_str() {
                "txt" => Some(ArticleFormat::Wire),
                "md" | "markdown" => Some(ArticleFormat::Markdown),
                "json" | "jsonl" => Some(ArticleFormat::Json),
                "xml" => Some(ArticleFormat::Xml),
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
        };
        let names = [
            "a.txt",
            "A.TXT",
            "a.Md",
            "a.markdown",
            "a.json",
            "a.JSONL",
            "a.xml",
            "A.XML",
            "a.tar.md",
            "a.md.gz",
            ".txt",
            "txt",
            "a.",
            "a..txt",
            "é.txt",
            "a.é",
            "a b.txt",
            "a.txt.",
            "..txt",
        ];
        for configured in [
            SourceFormat::Auto,
            SourceFormat::Wire,
            SourceFormat::Markdown,
            SourceFormat::Json,
            SourceFormat::NewsMlG2,
            SourceFormat::Nitf,
            SourceFormat::Ninjs,
        ] {
            for name in names {
                assert_eq!(
                    format_of(std::ffi::OsStr::new(name), configured),
                    by_path(name, configured),
                    "{name} {configured:?}"
                );
            }
        }
    }

    #[test]
    fn a_walk_hands_files_over_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let paths = [
            "a/z.txt",
            "a-b.txt",
            "a.txt",
            "a/b/c.txt",
            "A.txt",
            "a b.txt",
            "b/c/d.md",
            "b.json",
            "ab/x.txt",
        ];
        for p in paths {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let source = Source {
            path: root.to_owned(),
            format: SourceFormat::Auto,
        };
        let files = discover(std::slice::from_ref(&source)).unwrap();
        let mut expected: Vec<PathBuf> = paths.iter().map(|p| root.join(p)).collect();
        expected.sort_by(|a, b| path_order(a, b));
        assert_eq!(
            files.iter().map(|f| &f.path).collect::<Vec<_>>(),
            expected.iter().collect::<Vec<_>>()
        );
        assert_eq!(
            names(&files, root),
            [
                "A.txt",
                "a/b/c.txt",
                "a/z.txt",
                "a b.txt",
                "a-b.txt",
                "a.txt",
                "ab/x.txt",
                "b/c/d.md",
                "b.json"
            ]
        );
        // Several sources, nested and out of order: one list, in path
        // order, each file once.
        let sources = [
            Source {
                path: root.join("b"),
                format: SourceFormat::Auto,
            },
            source.clone(),
            Source {
                path: root.join("a"),
                format: SourceFormat::Auto,
            },
        ];
        assert_eq!(
            names(&discover(&sources).unwrap(), root),
            names(&files, root)
        );
        // A linked folder is walked where the link is; a dangling link and
        // hidden names are skipped; a link back up is an error.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("b/c"), root.join("linked")).unwrap();
            std::os::unix::fs::symlink(root.join("gone"), root.join("dangling.txt")).unwrap();
            std::fs::write(root.join(".hidden.txt"), "x").unwrap();
            let listed = names(&discover(std::slice::from_ref(&source)).unwrap(), root);
            assert_eq!(listed.len(), paths.len() + 1);
            assert!(listed.contains(&"linked/d.md".to_owned()), "{listed:?}");
            std::fs::remove_file(root.join("linked")).unwrap();
            std::os::unix::fs::symlink(root.join("a"), root.join("a/b/up")).unwrap();
            let e = discover(std::slice::from_ref(&source)).unwrap_err();
            assert!(e.reason.contains("leads back"), "{e:?}");
            std::fs::remove_file(root.join("a/b/up")).unwrap();
        }
        // Batches of a long listing keep the order.
        for i in 0..LIST_BATCH * 2 + 7 {
            std::fs::write(root.join(format!("a/many-{i:05}.txt")), "x").unwrap();
        }
        let files = discover(std::slice::from_ref(&source)).unwrap();
        assert!(files
            .windows(2)
            .all(|w| path_order(&w[0].path, &w[1].path).is_lt()));
        assert_eq!(files.len(), paths.len() + LIST_BATCH * 2 + 7);
    }

    #[test]
    fn decode_handles_bom_utf8_and_euc_kr() -> Result<(), String> {
        assert_eq!(
            decode(b"\xEF\xBB\xBFabc".to_vec())?,
            ("abc".to_owned(), false)
        );
        let (euc, _, _) = encoding_rs::EUC_KR.encode("박보람 ⓒ");
        assert_eq!(decode(euc.into_owned())?, ("박보람 ⓒ".to_owned(), true));
        let e = decode(b"ok \xFF\xFF".to_vec()).err().unwrap_or_default();
        assert!(e.contains("not UTF-8 (invalid byte at offset 3)"), "{e}");
        Ok(())
    }

    #[test]
    fn dates_with_and_without_offsets() -> Result<(), String> {
        let seoul = chrono_tz::Asia::Seoul;
        let d = parse_date("2026-10-03T10:00:00+09:00", seoul)?;
        assert_eq!(d.to_rfc3339(), "2026-10-03T10:00:00+09:00");
        let d = parse_date("2026-10-03 10:00", seoul)?;
        assert_eq!(d.to_rfc3339(), "2026-10-03T10:00:00+09:00");
        let d = parse_date("2026-11-12T15:30:00Z", seoul)?;
        assert_eq!(d.to_rfc3339(), "2026-11-12T15:30:00+00:00");
        let d = parse_date("2026-07-01", chrono_tz::America::New_York)?;
        assert_eq!(d.to_rfc3339(), "2026-07-01T00:00:00-04:00");
        let e = parse_date("yesterday", seoul).err().unwrap_or_default();
        assert!(e.contains("`yesterday` is not a date"), "{e}");
        let e = parse_date("2026-03-08 02:30", chrono_tz::America::New_York);
        assert!(e.err().unwrap_or_default().contains("DST gap"));
        Ok(())
    }
}
