//! The first pass of a build: list, parse or take from the cache, select.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use super::{progress_bar, Candidate};
use crate::cache::{self, Outcome, Record};
use crate::config::Config;
use crate::model::{Article, Header};
use crate::normalize::Normalizer;
use crate::select::{Selection, Selector};
use crate::source::{self, ParseContext, SourceError, SourceFile};
use crate::{BuildError, BuildOptions, BuildReport};

/// Files parsed per parallel batch.
const SCAN_CHUNK: usize = 512;
/// What scanning one file gave.
struct Scan {
    record: Record,
    articles: Vec<Article>,
    /// The record as the old cache stored it, to copy into the new one.
    raw: Option<cache::Raw>,
}

/// The first pass: every file parsed (or taken from the cache) and offered
/// to the selector; the new cache written. Returns the selection and how
/// many files came from the cache.
pub(super) fn scan_all(
    config: &Config,
    options: &BuildOptions,
    files: &[SourceFile],
    out_dir: &Path,
    normalizer: &Normalizer,
    report: &mut BuildReport,
) -> Result<(Selection<Arc<Candidate>>, usize), BuildError> {
    // Bodies are kept from the first pass only when the feeds may publish
    // many items; otherwise the few published files are read again.
    let keep_articles = publishes_many(config);
    let ctx = ParseContext {
        timezone: config.site.timezone,
        bodies: keep_articles,
    };
    let cache_path = out_dir.join(cache::FILE_NAME);
    let fingerprint = cache::fingerprint(config);
    let mut cached = match options.cache {
        true => cache::Reader::open(&cache_path, &fingerprint),
        false => None,
    };
    let new_cache = match options.cache && options.write {
        true => Some(cache::Writer::create(&cache_path, &fingerprint)?),
        false => None,
    };
    let mut scanner = Scanner {
        files,
        selector: Selector::new(config, options.now),
        first_file: HashMap::new(),
        new_cache,
        report,
        from_cache: 0,
    };
    let bar = progress_bar(options.progress, files.len() as u64, "articles read");
    // Chunk k is parsed on the pool while chunk k-1 is taken in.
    let mut chunks = files.chunks(SCAN_CHUNK).enumerate();
    let mut pending: Option<(usize, Vec<(Scan, bool)>)> = None;
    loop {
        let next = chunks.next();
        if next.is_none() && pending.is_none() {
            break;
        }
        let raws: Vec<Option<cache::Raw>> = next.map_or_else(Vec::new, |(_, chunk)| {
            chunk
                .iter()
                .map(|f| cached.as_mut().and_then(|c| c.lookup(f)))
                .collect()
        });
        let previous = pending.take();
        let (parsed, taken) = rayon::join(
            || next.map(|(no, chunk)| (no, parse_chunk(chunk, raws, ctx, normalizer))),
            || match previous {
                Some((no, scans)) => {
                    let len = scans.len();
                    scanner.take_in(no, scans)?;
                    bar.inc(len as u64);
                    Ok(())
                }
                None => Ok::<(), BuildError>(()),
            },
        );
        taken?;
        pending = parsed;
    }
    bar.finish_and_clear();
    if let Some(w) = scanner.new_cache {
        w.commit()?;
    }
    Ok((scanner.selector.finish(), scanner.from_cache))
}

/// The sequential half of the scan: takes in parsed chunks in path order.
struct Scanner<'a, 'c> {
    files: &'a [SourceFile],
    selector: Selector<'c, Arc<Candidate>>,
    /// Id hash → file index of its first article. 64-bit hashes of a few
    /// million ids practically never collide.
    first_file: HashMap<u64, usize>,
    new_cache: Option<cache::Writer>,
    report: &'a mut BuildReport,
    from_cache: usize,
}

impl Scanner<'_, '_> {
    fn take_in(&mut self, chunk_no: usize, scans: Vec<(Scan, bool)>) -> Result<(), BuildError> {
        for (offset, (scan, cached)) in scans.into_iter().enumerate() {
            let index = chunk_no * SCAN_CHUNK + offset;
            let file = &self.files[index];
            self.from_cache += usize::from(cached);
            if let Some(w) = self.new_cache.as_mut() {
                match &scan.raw {
                    Some(raw) => w.push_raw(raw)?,
                    None => w.push(&scan.record)?,
                }
            }
            if scan.record.legacy_encoded {
                tracing::warn!(
                    "{}: not UTF-8, decoded as EUC-KR (CP949)",
                    file.path.display()
                );
                self.report.legacy_encoded.push(file.path.clone());
            }
            let mut articles = scan.articles.into_iter();
            // The article's place among the file's articles: several can
            // share a line (a JSON array on one line).
            let mut position = 0;
            for outcome in scan.record.results {
                let header = match outcome {
                    Outcome::Header(h) => h,
                    Outcome::Error { line, reason } => {
                        let path = file.path.clone();
                        self.report.errors.push(SourceError { path, line, reason });
                        continue;
                    }
                };
                // Fresh scans carry their articles in the same order.
                let article = articles.next();
                position += 1;
                self.report.articles += 1;
                let hash = id_hash(&header.id);
                if let Some(&first) = self.first_file.get(&hash) {
                    let error = duplicate(file, &header, &self.files[first].path);
                    self.report.errors.push(error);
                    continue;
                }
                self.first_file.insert(hash, index);
                let candidate = Candidate {
                    file: index,
                    position: position - 1,
                    line: header.line,
                    article,
                };
                self.selector.offer(&header, Arc::new(candidate));
            }
        }
        Ok(())
    }
}

/// Parses a chunk of files on all cores, or decodes their cached records.
fn parse_chunk(
    chunk: &[SourceFile],
    raws: Vec<Option<cache::Raw>>,
    ctx: ParseContext,
    normalizer: &Normalizer,
) -> Vec<(Scan, bool)> {
    chunk
        .par_iter()
        .zip(raws)
        .map(
            |(file, raw)| match raw.as_ref().and_then(cache::Raw::decode) {
                Some(record) => {
                    let scan = Scan {
                        record,
                        articles: Vec::new(),
                        raw,
                    };
                    (scan, true)
                }
                None => (scan(file, ctx, normalizer), false),
            },
        )
        .collect()
}

/// Parses one file into its record and articles.
fn scan(file: &SourceFile, ctx: ParseContext, normalizer: &Normalizer) -> Scan {
    let parsed = source::parse_file(file, ctx);
    let mut results: Vec<(usize, Outcome)> = parsed
        .articles
        .iter()
        .map(|a| (a.line, Outcome::Header(normalizer.header(a))))
        .chain(parsed.errors.into_iter().map(|e| {
            let outcome = Outcome::Error {
                line: e.line,
                reason: e.reason,
            };
            (e.line, outcome)
        }))
        .collect();
    // File order; the sort is stable, so articles keep their order.
    results.sort_by_key(|(line, _)| *line);
    Scan {
        record: Record {
            path: file.path.to_string_lossy().into_owned(),
            stamp: file.stamp,
            legacy_encoded: parsed.legacy_encoded,
            results: results.into_iter().map(|(_, o)| o).collect(),
        },
        // Without bodies, the articles are headers only: nothing to keep.
        articles: match ctx.bodies {
            true => parsed.articles,
            false => Vec::new(),
        },
        raw: None,
    }
}

/// Feeds that may publish more than this many items keep the articles the
/// first pass parsed: reading them again would cost more than holding them.
const MANY: usize = 2_000;

fn publishes_many(config: &Config) -> bool {
    config.feeds.iter().any(|f| f.archive || f.limit > MANY)
        || config
            .category_feeds
            .as_ref()
            .is_some_and(|c| c.limit > MANY)
}

fn id_hash(id: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// Keeps the first article (in path order) of each id; later ones are
/// errors, since readers would merge or drop items that share an id.
fn duplicate(file: &SourceFile, header: &Header, first: &Path) -> SourceError {
    SourceError {
        path: file.path.clone(),
        line: header.line,
        reason: format!(
            "duplicate id `{}`, already used by {}; give one of them an explicit `id`",
            header.id,
            first.display()
        ),
    }
}
