//! The first pass of a build: list, parse or take from the cache, select.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

use super::claims::{id_hash, verdict, Held, IdClaims, Verdict};
use super::live::{Live, View};
use super::{progress_counter, Candidate, FileList};
use super::{BuildError, BuildOptions, BuildReport};
use crate::config::Config;
use crate::model::ItemKey;
use crate::normalize::Normalizer;
use crate::select::{Selection, Selector};
use crate::source::cache::{self, FileRecord, Outcome};
use crate::source::{self, Listing, ParseContext, SourceError, SourceFile, Stamp};

/// A file just parsed: its stamp when read, and its record.
struct Scanned {
    stamp: Stamp,
    record: FileRecord<'static>,
}

/// The first pass: every file listed, stamped, parsed (or taken from the
/// cache) and offered to the selector, while the listing goes on; the new
/// cache written. Returns the files in path order, the selection and how
/// many files came from the cache.
pub(super) fn scan_all(
    config: &Config,
    options: &BuildOptions,
    mut listing: Listing,
    out_dir: &Path,
    normalizer: &Normalizer,
    report: &mut BuildReport,
    keep: Option<&mut Known>,
) -> Result<(FileList, Selection<Candidate>, usize), BuildError> {
    let mut keep = keep;
    if let Some(known) = keep.as_deref_mut() {
        // Valid again only once this scan is whole.
        *known = Known::default();
    }
    // The first pass keeps keys only; the published files are read again
    // when written. Holding every body costs memory in proportion to the
    // archive (570 MiB at 100,000 stories) and saves no time: the kernel
    // zeroes the pages a growing heap is given about as fast as it reads
    // the files again from its cache.
    let ctx = ParseContext {
        timezone: config.site.timezone,
        bodies: false,
    };
    let cache_path = out_dir.join(cache::FILE_NAME);
    let fingerprint = cache::fingerprint(config);
    let mut cached = match options.cache {
        true => cache::Reader::open(&cache_path, &fingerprint),
        false => None,
    };
    let new_cache = match options.cache && options.write {
        true => Some(cache::Writer::create(
            &cache_path,
            &fingerprint,
            cached.as_ref(),
        )?),
        false => None,
    };
    // About one file per 200 bytes of cache: room for every id at once.
    let expected = cached
        .as_ref()
        .map_or(0, |c| usize::try_from(c.file_len() / 200).unwrap_or(0));
    let mut scanner = Scanner::new(
        config,
        options,
        FileList::default(),
        expected,
        report,
        ctx,
        normalizer,
    );
    scanner.new_cache = new_cache;
    scanner.kept = keep.is_some().then(Vec::new);
    let bar = progress_counter(options.progress, "articles read");
    // Two halves run at once, on batch k and on batch k-1:
    // - with a cache: batch k is stamped, while batch k-1 is looked up in
    //   the cache, its other files parsed (on the pool), and taken in;
    // - without: batch k is parsed (on the pool), while batch k-1 is taken
    //   in (files are stamped when read).
    let mut pending: Option<Chunk> = None;
    let (mut waited, mut stating, mut looking, mut taking) =
        <[std::time::Duration; 4]>::default().into();
    let with_cache = cached.is_some();
    loop {
        let previous = pending.take();
        let (scanned, taken) = rayon::join(
            || {
                let t0 = std::time::Instant::now();
                let found = listing.next()?;
                let t1 = std::time::Instant::now();
                waited += t1 - t0;
                Some(found.map(|found| match with_cache {
                    true => {
                        let (files, unstamped) = source::stat_batch(found);
                        stating += t1.elapsed();
                        Chunk {
                            files,
                            unstamped,
                            scanned: None,
                        }
                    }
                    false => {
                        let stored = cache::Stored::default();
                        let scans = found
                            .par_iter()
                            .map(|listed| {
                                let parsed = source::parse_listed(listed, ctx);
                                Some(scanned(parsed, Stamp::default(), normalizer))
                            })
                            .collect();
                        let files = source::unstamped(found);
                        Chunk {
                            files,
                            unstamped: Vec::new(),
                            scanned: Some((stored, scans)),
                        }
                    }
                }))
            },
            || match previous {
                Some(mut chunk) => {
                    if chunk.scanned.is_none() {
                        let t = std::time::Instant::now();
                        let stored = cached
                            .as_mut()
                            .map(|c| c.lookup(&chunk.files))
                            .unwrap_or_default();
                        looking += t.elapsed();
                        let scans = parse_chunk(&chunk.files, &stored, ctx, normalizer);
                        chunk.scanned = Some((stored, scans));
                    }
                    let len = chunk.files.len();
                    let t = std::time::Instant::now();
                    scanner.take_in(chunk)?;
                    taking += t.elapsed();
                    bar.inc(len as u64);
                    Ok(())
                }
                None => Ok::<(), BuildError>(()),
            },
        );
        taken?;
        match scanned {
            Some(chunk) => pending = Some(chunk?),
            None => break,
        }
    }
    bar.finish_and_clear();
    tracing::debug!(
        "waited {waited:.2?} stated {stating:.2?} looked up {looking:.2?} took in {taking:.2?}"
    );
    if let Some(w) = scanner.new_cache.take() {
        w.commit()?;
    }
    if let (Some(known), Some(records)) = (keep, scanner.kept.take()) {
        // The live index is made after the build, off its path (see
        // `Known::index`).
        *known = Known {
            key: known_key(config, options),
            files: scanner.files.to_vec(),
            records,
            live: None,
        };
    }
    let from_cache = scanner.from_cache;
    let (files, selection) = scanner.finish();
    Ok((files, selection, from_cache))
}

/// What a long-running process keeps of its last scan (see
/// [`super::Session`]): every article file in path order with its stamp
/// and record, and the settings they were made under, and the live index
/// of what they select. Keys, not texts: about 900 bytes a story (the
/// path, the stamp, owned ids, categories and names), which a more compact
/// record could cut, plus the index's few hundred (see `live.rs`).
#[derive(Default)]
pub(super) struct Known {
    /// [`known_key`] of the build that made it; empty: nothing known.
    key: String,
    files: Vec<SourceFile>,
    records: Vec<FileRecord<'static>>,
    /// What a build of every file would select, kept up to date.
    live: Option<Live>,
}

impl Known {
    /// Takes back the files a build borrowed (see [`scan_changed`]).
    pub(super) fn put_back(&mut self, files: FileList) {
        self.files = files.into_vec();
    }
}

/// What [`Known`] depends on besides the files: the cache's fingerprint
/// (every setting that changes a file's keys, whether author names are
/// kept among them), the sources, and the output folder.
fn known_key(config: &Config, options: &BuildOptions) -> String {
    let sources: Vec<_> = config.sources.iter().map(|s| (&s.path, s.format)).collect();
    format!(
        "{}|{sources:?}|{:?}",
        cache::fingerprint(config),
        options.out.as_ref().unwrap_or(&config.output),
    )
}

/// What a changed path is to the scan.
enum Change {
    /// An article file (there, changed, or gone), read as this format, at
    /// this path as a walk of its source names it.
    Article(crate::model::ArticleFormat, std::path::PathBuf),
    /// Nothing a walk would list (a hidden name, another extension).
    Nothing,
}

/// What `path` (as a watcher names it: absolute) is to a walk of
/// `sources`; `None` when only a whole scan can tell (a folder, a path
/// outside every source).
fn change_of(sources: &[crate::config::Source], path: &Path, known: &Known) -> Option<Change> {
    let path = std::path::absolute(path).ok()?;
    // A source's folder as the watcher and as the walk name it.
    let (source, rel) = sources.iter().find_map(|s| {
        let root = std::path::absolute(&s.path).ok()?;
        let rel = path.strip_prefix(&root).ok()?.to_owned();
        Some((s, rel))
    })?;
    let name = rel.file_name()?;
    let path = source.path.join(&rel);
    // A walk never lists a hidden name, nor goes into a hidden folder.
    if rel.iter().any(|p| p.as_encoded_bytes().starts_with(b".")) {
        return Some(Change::Nothing);
    }
    match std::fs::symlink_metadata(&path) {
        // A folder (new, or renamed in): only a walk lists it.
        Ok(m) if m.is_dir() => return None,
        // A folder gone with the files known in it.
        Err(_) if known.has_files_under(&path) => return None,
        _ => {}
    }
    Some(match source::format_of(name, source.format) {
        Some(format) => Change::Article(format, path),
        None => Change::Nothing,
    })
}

impl Known {
    /// Makes the live index of what it knows as of `now`, unless it has
    /// one (or knows nothing). A session does this after a whole scan's
    /// build, on a thread of its own: it costs about 0.2 s at 100,000
    /// stories, which the build that scanned need not wait for. A told
    /// build that finds none makes it first.
    pub(super) fn index(&mut self, config: &Config, now: chrono::DateTime<chrono::Utc>) {
        if self.live.is_some() || self.key.is_empty() {
            return;
        }
        let t = std::time::Instant::now();
        let live = Live::new(config, now, self.view());
        tracing::debug!(
            "indexed {} files for the session in {:.2?}",
            self.files.len(),
            t.elapsed()
        );
        self.live = Some(live);
    }

    /// Its files and records, for the live index to look keys up in.
    fn view(&self) -> View<'_> {
        View {
            files: &self.files,
            records: &self.records,
        }
    }

    /// The index of the known file at `path`.
    fn index_of(&self, path: &Path) -> Option<usize> {
        self.files
            .binary_search_by(|f| source::path_order(&f.path, path))
            .ok()
    }

    /// Whether a known file is below `folder`.
    fn has_files_under(&self, folder: &Path) -> bool {
        let at = self
            .files
            .partition_point(|f| source::path_order(&f.path, folder).is_le());
        self.files
            .get(at)
            .is_some_and(|f| f.path.starts_with(folder))
    }
}

/// A scan from what `known` holds, after only `changed` may have changed
/// since it was made: the changed article files are read again, the rest
/// is taken as known, and the live index is updated for the changed files
/// alone (and the clock), so that the cost follows the change and the
/// feeds written, not the archive. `None` when a whole scan is needed
/// instead (nothing known, other settings, a folder added or removed, a
/// path outside the sources); `known` is then left for the whole scan to
/// replace. The files are lent to the build: give them back with
/// [`Known::put_back`].
pub(super) fn scan_changed(
    config: &Config,
    options: &BuildOptions,
    known: &mut Known,
    changed: &[std::path::PathBuf],
    normalizer: &Normalizer,
    report: &mut BuildReport,
) -> Option<(FileList, Selection<Candidate>)> {
    if known.key.is_empty() || known.key != known_key(config, options) {
        return None;
    }
    let Some(reads) = read_changed(config, known, changed, normalizer) else {
        known.key.clear();
        return None;
    };
    let mut live = match known.live.take() {
        Some(live) if live.usable(config, options.now) => live,
        // Other feeds, or a clock that went back: made again, in memory.
        _ => Live::new(config, options.now, known.view()),
    };
    // The ids the changed files had and have: only they are judged again.
    let mut ids: Vec<String> = Vec::new();
    for (path, read) in &reads {
        if let Some(i) = known.index_of(path) {
            Live::ids_of(&known.records[i], &mut ids);
        }
        if let Some((_, record)) = read {
            Live::ids_of(record, &mut ids);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    for id in &ids {
        live.unjudge(config, id, known.view());
    }
    for (path, read) in reads {
        let at = known
            .files
            .binary_search_by(|f| source::path_order(&f.path, &path));
        if let Ok(i) = at {
            live.remove_file(&path, &known.records[i]);
        }
        match (at, read) {
            (Ok(i), Some((file, record))) => {
                live.add_file(&path, &record);
                known.files[i] = file;
                known.records[i] = record;
            }
            (Err(i), Some((file, record))) => {
                live.add_file(&path, &record);
                known.files.insert(i, file);
                known.records.insert(i, record);
            }
            (Ok(i), None) => {
                known.files.remove(i);
                known.records.remove(i);
            }
            (Err(_), None) => {}
        }
    }
    for id in &ids {
        live.judge(config, id, known.view());
    }
    live.advance(config, options.now, known.view());
    let Some(selection) = live.selection(config, known.view()) else {
        // Something the index holds is not where it says: start over.
        tracing::warn!("the session's index disagreed with its files: a whole scan instead");
        known.key.clear();
        return None;
    };
    report.articles = live.articles();
    report.errors.extend(live.errors().cloned());
    for path in live.legacy_encoded() {
        tracing::warn!("{}: not UTF-8, decoded as EUC-KR (CP949)", path.display());
        report.legacy_encoded.push(path.to_owned());
    }
    known.live = Some(live);
    let files = FileList::from_vec(std::mem::take(&mut known.files));
    Some((files, selection))
}

/// A changed article file's path, and what reading it gave (`None`: it
/// is gone).
type Read = (
    std::path::PathBuf,
    Option<(SourceFile, FileRecord<'static>)>,
);

/// Each changed article file read again (`None`: gone), by path, once
/// each, in path order; `None` when a whole scan is needed instead.
fn read_changed(
    config: &Config,
    known: &Known,
    changed: &[std::path::PathBuf],
    normalizer: &Normalizer,
) -> Option<Vec<Read>> {
    let ctx = ParseContext {
        timezone: config.site.timezone,
        bodies: false,
    };
    let mut paths = Vec::new();
    for changed in changed {
        if let Change::Article(format, path) = change_of(&config.sources, changed, known)? {
            paths.push((format, path));
        }
    }
    paths.sort_by(|a, b| source::path_order(&a.1, &b.1));
    paths.dedup_by(|a, b| a.1 == b.1);
    let mut reads = Vec::with_capacity(paths.len());
    for (format, path) in paths {
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => {
                let mut file = SourceFile {
                    path: path.clone(),
                    format,
                    stamp: Stamp::default(),
                };
                let scanned = scan(&file, ctx, normalizer);
                file.stamp = scanned.stamp;
                reads.push((path, Some((file, scanned.record))));
            }
            // Gone (or never an article file): no longer listed.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => reads.push((path, None)),
            _ => return None,
        }
    }
    Some(reads)
}

/// A record that owns its texts.
fn owned_record(record: &FileRecord<'_>) -> FileRecord<'static> {
    FileRecord {
        legacy_encoded: record.legacy_encoded,
        results: record
            .results
            .iter()
            .map(|o| match o {
                Outcome::Key(k) => Outcome::Key(owned(k)),
                Outcome::Error { line, reason } => Outcome::Error {
                    line: *line,
                    reason: Cow::Owned(reason.to_string()),
                },
            })
            .collect(),
    }
}

/// A batch of listed files, scanned: each file's record from the cache, or
/// what parsing it gave.
struct Chunk {
    files: Vec<SourceFile>,
    /// Files that could not be stamped (gone since they were listed).
    unstamped: Vec<SourceError>,
    /// The records found in the cache, and what parsing the other files
    /// gave; `None` until then.
    scanned: Option<(cache::Stored, Vec<Option<Scanned>>)>,
}

/// The sequential half of the scan: takes in scanned chunks in path order.
struct Scanner<'a, 'c> {
    /// Every file taken in so far, in path order.
    files: FileList,
    selector: Selector<'c, Candidate>,
    /// Which file claimed each id first.
    claims: IdClaims<fn(&str) -> u64>,
    new_cache: Option<cache::Writer>,
    report: &'a mut BuildReport,
    from_cache: usize,
    ctx: ParseContext,
    normalizer: &'a Normalizer<'a>,
    /// Whether a feed chooses its items by author (only then are cached
    /// author names decoded).
    by_author: bool,
    /// Articles with a version number (the IPTC formats), by id: the best
    /// version seen so far. Offered at the end of the scan, since a later
    /// file may hold a higher version (or cancel the story).
    versions: HashMap<String, Version>,
    /// Every file's record, owned, when a long-running process keeps them
    /// (see [`Known`]).
    kept: Option<Vec<FileRecord<'static>>>,
}

/// The best version of an id seen so far.
struct Version {
    key: ItemKey<'static>,
    candidate: Candidate,
}

/// A key that owns its texts.
fn owned(key: &ItemKey<'_>) -> ItemKey<'static> {
    let texts = |t: &crate::model::Texts<'_>| t.iter().map(|s| Cow::Owned(s.to_string())).collect();
    ItemKey {
        id: Cow::Owned(key.id.to_string()),
        line: key.line,
        published: key.published,
        updated: key.updated,
        categories: texts(&key.categories),
        authors: texts(&key.authors),
        draft: key.draft,
        status: key.status,
        revision: key.revision,
        embargo: key.embargo,
    }
}

impl<'a, 'c> Scanner<'a, 'c> {
    fn new(
        config: &'c Config,
        options: &BuildOptions,
        files: FileList,
        expected: usize,
        report: &'a mut BuildReport,
        ctx: ParseContext,
        normalizer: &'a Normalizer<'a>,
    ) -> Scanner<'a, 'c> {
        Scanner {
            files,
            selector: Selector::new(config, options.now),
            claims: IdClaims::new(expected, id_hash),
            new_cache: None,
            report,
            from_cache: 0,
            ctx,
            normalizer,
            by_author: config.chooses_by_author(),
            versions: HashMap::new(),
            kept: None,
        }
    }

    /// Offers each versioned id's winning version, once every version has
    /// been seen (in path order of the winners), and ends the selection.
    fn finish(mut self) -> (FileList, Selection<Candidate>) {
        let mut winners: Vec<Version> = std::mem::take(&mut self.versions).into_values().collect();
        winners.sort_by_key(|v| (v.candidate.file, v.candidate.position));
        for v in winners {
            self.selector.offer(&v.key, v.candidate);
        }
        (self.files, self.selector.finish())
    }

    fn take_in(&mut self, chunk: Chunk) -> Result<(), BuildError> {
        let count = chunk.files.len();
        let first = self.files.push(chunk.files);
        self.report.errors.extend(chunk.unstamped);
        // Not scanned yet: every file is read here.
        let (stored, scans) = chunk
            .scanned
            .unwrap_or_else(|| (cache::Stored::default(), (0..count).map(|_| None).collect()));
        // Each file's record, in path order: from the cache, or parsed.
        let mut records = Vec::with_capacity(count);
        for (offset, scan) in scans.into_iter().enumerate() {
            // A record that cannot be decoded (a damaged cache) is
            // replaced by reading the file.
            let stored = match scan {
                Some(_) => None,
                None => stored.get(offset, self.by_author),
            };
            if let Some((cached, bytes)) = stored {
                self.from_cache += 1;
                if let Some(w) = self.new_cache.as_mut() {
                    w.push_stored(&bytes)?;
                }
                records.push(Taken::Cached(cached));
                continue;
            }
            let file = self.files.get(first + offset);
            let scan = scan.unwrap_or_else(|| self::scan(file, self.ctx, self.normalizer));
            if let Some(w) = self.new_cache.as_mut() {
                w.push(&file.path.to_string_lossy(), &scan.stamp, &scan.record)?;
            }
            records.push(Taken::Parsed(scan.record));
        }
        if let Some(kept) = self.kept.as_mut() {
            kept.extend(records.iter().map(|r| match r {
                Taken::Cached(c) => owned_record(c),
                Taken::Parsed(r) => r.clone(),
            }));
        }
        // Problems noted and ids claimed in path order (the first file to
        // use an id keeps it); then the articles are offered newest files
        // first: in a date-ordered archive most then rank below what the
        // feeds hold already, and are not kept only to be cut later.
        // Keys from the cache and keys just parsed differ in lifetime (see
        // `Taken`): two lists. The selection does not depend on the order
        // of offers, only its cost does.
        let mut cached_offers = Vec::with_capacity(count);
        let mut parsed_offers = Vec::with_capacity(count);
        for (offset, record) in records.iter().enumerate() {
            let index = first + offset;
            match record {
                Taken::Cached(c) => {
                    let offers = Some(&mut cached_offers);
                    self.take_file(index, c.legacy_encoded, &c.results, offers);
                }
                Taken::Parsed(r) => {
                    let offers = Some(&mut parsed_offers);
                    self.take_file(index, r.legacy_encoded, &r.results, offers);
                }
            }
        }
        for (key, candidate) in cached_offers.into_iter().rev() {
            self.selector.offer(key, candidate);
        }
        for (key, candidate) in parsed_offers.into_iter().rev() {
            self.selector.offer(key, candidate);
        }
        Ok(())
    }

    /// Notes one file's problems, and offers its articles to the
    /// selector, or sets them aside in `offers` to be offered later.
    /// Results are taken by reference: a key is large, and most are
    /// only looked at.
    fn take_file<'r, 'h>(
        &mut self,
        index: usize,
        legacy_encoded: bool,
        results: &'r [Outcome<'h>],
        mut offers: Option<&mut Vec<(&'r ItemKey<'h>, Candidate)>>,
    ) {
        let file = self.files.get(index);
        if legacy_encoded {
            tracing::warn!(
                "{}: not UTF-8, decoded as EUC-KR (CP949)",
                file.path.display()
            );
            self.report.legacy_encoded.push(file.path.clone());
        }
        // The article's place among the file's articles: several can
        // share a line (a JSON array on one line).
        let mut position = 0;
        for outcome in results {
            let key = match outcome {
                Outcome::Key(h) => h,
                Outcome::Error { line, reason } => {
                    let path = file.path.clone();
                    let (line, reason) = (*line, reason.to_string());
                    self.report.errors.push(SourceError { path, line, reason });
                    continue;
                }
            };
            position += 1;
            self.report.articles += 1;
            let (files, ctx, normalizer) = (&self.files, self.ctx, self.normalizer);
            // Asked only when another id has the same hash: that file's ids.
            let ids_of = |first: usize| {
                let parsed = source::parse_file(files.get(first), ctx);
                let keys = parsed.articles.iter().map(|a| normalizer.key(a));
                keys.map(|k| k.id.into_owned()).collect()
            };
            let claimed = self.claims.claim(&key.id, index, ids_of);
            let candidate = Candidate {
                file: index,
                position: position - 1,
                line: key.line,
            };
            // Only a claimant after the first is asked how the id is held.
            let held = match claimed {
                Ok(()) => Held::Nothing,
                Err(_) => match self.versions.get(&*key.id) {
                    Some(best) => Held::Version {
                        revision: best.key.revision,
                        updated: best.key.updated,
                    },
                    None => Held::Plain,
                },
            };
            match verdict(held, key.revision, key.updated) {
                Verdict::Keeps if key.revision.is_some() => {
                    let version = Version {
                        key: owned(key),
                        candidate,
                    };
                    self.versions.insert(key.id.to_string(), version);
                }
                Verdict::Keeps => match offers.as_mut() {
                    Some(offers) => offers.push((key, candidate)),
                    None => self.selector.offer(key, candidate),
                },
                Verdict::Replaces => {
                    if let Some(best) = self.versions.get_mut(&*key.id) {
                        *best = Version {
                            key: owned(key),
                            candidate,
                        };
                    }
                }
                Verdict::Loses => {}
                Verdict::Duplicate => {
                    let first = claimed.err().unwrap_or(index);
                    let error = duplicate(file, key, &self.files.get(first).path);
                    self.report.errors.push(error);
                }
            }
        }
    }
}

/// One file's record as a chunk takes it in. Two variants, not one list of
/// records: a record's lists are invariant in their lifetime, so records
/// borrowed from the cache's bytes and records just parsed cannot share one.
enum Taken<'s> {
    /// Decoded from the cache's stored bytes.
    Cached(FileRecord<'s>),
    /// Made by parsing the file now.
    Parsed(FileRecord<'static>),
}

/// Parses, on all cores, the files of a chunk the cache has no record for.
fn parse_chunk(
    chunk: &[SourceFile],
    stored: &cache::Stored,
    ctx: ParseContext,
    normalizer: &Normalizer,
) -> Vec<Option<Scanned>> {
    chunk
        .par_iter()
        .enumerate()
        .map(|(i, file)| (!stored.has(i)).then(|| scan(file, ctx, normalizer)))
        .collect()
}

/// Parses one file into its record and articles.
fn scan(file: &SourceFile, ctx: ParseContext, normalizer: &Normalizer) -> Scanned {
    scanned(source::parse_file(file, ctx), file.stamp, normalizer)
}

/// What parsing a file gave, as its record; `stamp` when the parse has none.
fn scanned(parsed: source::ParsedFile, stamp: Stamp, normalizer: &Normalizer) -> Scanned {
    let stamp = parsed.stamp.unwrap_or(stamp);
    let legacy_encoded = parsed.legacy_encoded;
    // Most files hold one article and no problem: its key, made in place.
    if let ([article], []) = (parsed.articles.as_slice(), parsed.errors.as_slice()) {
        let key = Outcome::Key(normalizer.key(article));
        let results = smallvec::smallvec![key];
        return Scanned {
            stamp,
            record: FileRecord {
                legacy_encoded,
                results,
            },
        };
    }
    let mut results: Vec<(usize, Outcome)> = parsed
        .articles
        .iter()
        .map(|a| (a.line, Outcome::Key(normalizer.key(a))))
        .chain(parsed.errors.into_iter().map(|e| {
            let outcome = Outcome::Error {
                line: e.line,
                reason: e.reason.into(),
            };
            (e.line, outcome)
        }))
        .collect();
    // File order; the sort is stable, so articles keep their order.
    results.sort_by_key(|(line, _)| *line);
    Scanned {
        stamp,
        record: FileRecord {
            legacy_encoded,
            results: results.into_iter().map(|(_, o)| o).collect(),
        },
    }
}

fn duplicate(file: &SourceFile, key: &ItemKey<'_>, first: &Path) -> SourceError {
    super::duplicate_error(&file.path, key.line, &key.id, first)
}
