//! `build`: wires the stages, in two passes.
//!
//! 1. Scan: every article file is parsed (in parallel, a chunk of files at
//!    a time) or its headers are taken from the cache; each header is
//!    offered to the [`Selector`], which keeps only what some feed will
//!    publish. Articles that fall out of every feed are dropped at once, so
//!    memory follows what is published, not the archive's size.
//! 2. Write: each feed is streamed to its files a chunk of items at a time;
//!    items are normalized and rendered in parallel, written in order.
//!
//! The output does not depend on the number of threads or on the cache.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use crate::cache::{self, Outcome, Record};
use crate::config::{Config, Format};
use crate::model::{Article, Feed, Header, Item};
use crate::normalize::Normalizer;
use crate::output::{self, AtomicFile, Written};
use crate::render;
use crate::select::{Selection, Selector};
use crate::source::{self, ParseContext, SourceError, SourceFile};
use crate::{BuildError, BuildOptions, BuildReport};

/// Files parsed per parallel batch.
const SCAN_CHUNK: usize = 512;
/// Items normalized and rendered per parallel batch.
const WRITE_CHUNK: usize = 1024;
/// Items per rendered fragment.
const FRAGMENT: usize = 64;

/// An item a feed will publish: where it comes from, and the article when
/// it was parsed in this build (cached ones are read again when written).
struct Candidate {
    file: usize,
    line: usize,
    article: Option<Article>,
}

/// What scanning one file gave.
struct Scan {
    record: Record,
    articles: Vec<Article>,
}

pub fn build(config: &Config, options: &BuildOptions) -> Result<BuildReport, BuildError> {
    let started = std::time::Instant::now();
    let files = source::discover(&config.sources)?;
    tracing::info!(
        "listed {} article files in {:.2?}",
        files.len(),
        started.elapsed()
    );
    let out_dir = options.out.clone().unwrap_or_else(|| config.output.clone());
    let ctx = ParseContext {
        timezone: config.site.timezone,
    };
    let normalizer = Normalizer::new(&config.site);
    let mut report = BuildReport {
        files: files.len(),
        ..BuildReport::default()
    };
    let (selection, from_cache) =
        scan_all(config, options, &files, &out_dir, &normalizer, &mut report)?;
    tracing::info!(
        "scanned in {:.2?} ({from_cache} from the cache)",
        started.elapsed()
    );
    report.embargoed = selection.embargoed;
    report.drafts = selection.drafts;
    report.next_release = selection.next_release;
    report.published = selection.published;
    report.archive_pages = selection
        .feeds
        .iter()
        .filter(|f| f.info.archive.is_archive)
        .count();
    report.feeds = selection.feeds.len() - report.archive_pages;

    let writer = FeedWriter {
        config,
        files: &files,
        normalizer: &normalizer,
        ctx,
        out_dir: &out_dir,
        write: options.write,
    };
    writer.write_all(selection.feeds, options.progress, &mut report)?;
    tracing::info!("wrote the feeds in {:.2?}", started.elapsed());
    report
        .errors
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Ok(report)
}

/// The first pass: every file parsed (or taken from the cache) and offered
/// to the selector; the new cache written. Returns the selection and how
/// many files came from the cache.
fn scan_all(
    config: &Config,
    options: &BuildOptions,
    files: &[SourceFile],
    out_dir: &Path,
    normalizer: &Normalizer,
    report: &mut BuildReport,
) -> Result<(Selection<Arc<Candidate>>, usize), BuildError> {
    let ctx = ParseContext {
        timezone: config.site.timezone,
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
                w.push(&scan.record)?;
            }
            if scan.record.legacy_encoded {
                tracing::warn!(
                    "{}: not UTF-8, decoded as EUC-KR (CP949)",
                    file.path.display()
                );
                self.report.legacy_encoded.push(file.path.clone());
            }
            let mut articles = scan.articles.into_iter();
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
        .map(|(file, raw)| match raw.and_then(cache::Raw::decode) {
            Some(record) => {
                let scan = Scan {
                    record,
                    articles: Vec::new(),
                };
                (scan, true)
            }
            None => (scan(file, ctx, normalizer), false),
        })
        .collect()
}

/// Parses one file into its record and articles.
fn scan(file: &SourceFile, ctx: ParseContext, normalizer: &Normalizer) -> Scan {
    let parsed = source::parse_file(&file.path, file.format, ctx);
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
        articles: parsed.articles,
    }
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

fn count(written: Written, report: &mut BuildReport) {
    match written {
        Written::Changed => report.written += 1,
        Written::Unchanged => report.unchanged += 1,
    }
}

/// One chunk of items, rendered: the bytes for each format, in order.
struct Rendered {
    bytes: Vec<Vec<render::Fragment>>,
    items: usize,
    errors: Vec<SourceError>,
}

/// Streams feeds to their files.
struct FeedWriter<'a> {
    config: &'a Config,
    files: &'a [SourceFile],
    normalizer: &'a Normalizer<'a>,
    ctx: ParseContext,
    out_dir: &'a Path,
    write: bool,
}

impl FeedWriter<'_> {
    /// Writes every feed, then the site files, then removes the files of
    /// feeds that are gone.
    fn write_all(
        &self,
        feeds: Vec<Feed<Arc<Candidate>>>,
        progress: bool,
        report: &mut BuildReport,
    ) -> Result<(), BuildError> {
        let site = &self.config.site;
        let infos: Vec<_> = feeds.iter().map(|f| f.info.clone()).collect();
        let total: usize = infos.iter().map(|i| i.len).sum();
        let bar = progress_bar(progress, total as u64, "items written");
        for feed in feeds {
            self.write(feed, &bar, report)?;
        }
        bar.finish_and_clear();
        // Archive documents are reached through their feed, not listed.
        let subscribable: Vec<_> = infos
            .iter()
            .filter(|i| !i.archive.is_archive)
            .cloned()
            .collect();
        let site_files = [
            ("index.html", render::index_html(&subscribable, site)),
            ("feeds.opml", render::opml(&subscribable, site)),
            (render::STYLESHEET_NAME, render::stylesheet().to_vec()),
        ];
        for (name, bytes) in &site_files {
            let mut file = self.open(&self.out_dir.join(name))?;
            file.write(bytes)?;
            count(file.commit()?, report);
        }
        let mut names: Vec<String> = infos
            .iter()
            .flat_map(|i| i.formats.iter().map(|&f| render::file_name(&i.name, f)))
            .chain(site_files.map(|(name, _)| name.to_owned()))
            .collect();
        names.sort();
        report.removed = output::prune(self.out_dir, &names, !self.write)?;
        Ok(())
    }

    fn open(&self, path: &Path) -> Result<AtomicFile, BuildError> {
        Ok(match self.write {
            true => AtomicFile::create(path)?,
            false => AtomicFile::dry_run(path),
        })
    }

    /// Writes every format of `feed`, a chunk of items at a time.
    fn write(
        &self,
        feed: Feed<Arc<Candidate>>,
        bar: &ProgressBar,
        report: &mut BuildReport,
    ) -> Result<(), BuildError> {
        let site = &self.config.site;
        let formats: Vec<Format> = feed.info.formats.clone();
        let mut outputs = Vec::with_capacity(formats.len());
        for &format in &formats {
            let path: PathBuf = self
                .out_dir
                .join(render::file_name(&feed.info.name, format));
            let frame = render::frame(&feed.info, format, site)?;
            let mut file = self.open(&path)?;
            file.write(&frame.head)?;
            outputs.push((format, file, frame.tail));
        }
        // Chunk k is rendered on the pool while chunk k-1 is written.
        let mut first = true;
        let mut candidates = feed.items.into_iter();
        let mut pending: Option<Rendered> = None;
        loop {
            let chunk: Vec<Arc<Candidate>> = candidates.by_ref().take(WRITE_CHUNK).collect();
            if chunk.is_empty() && pending.is_none() {
                break;
            }
            let previous = pending.take();
            let (rendered, written) = rayon::join(
                || self.render_chunk(chunk, &formats, first),
                || -> Result<(), BuildError> {
                    if let Some(r) = previous {
                        for ((_, file, _), fragments) in outputs.iter_mut().zip(&r.bytes) {
                            for fragment in fragments {
                                file.write(fragment.as_bytes())?;
                            }
                        }
                    }
                    Ok(())
                },
            );
            written?;
            let rendered = rendered?;
            first = first && rendered.items == 0;
            bar.inc(rendered.items as u64);
            report.errors.extend(rendered.errors.iter().cloned());
            if rendered.items > 0 {
                pending = Some(rendered);
            }
        }
        for (_, mut file, tail) in outputs {
            file.write(&tail)?;
            count(file.commit()?, report);
        }
        Ok(())
    }

    /// Normalizes and renders one chunk of items in every format, on all
    /// cores.
    fn render_chunk(
        &self,
        chunk: Vec<Arc<Candidate>>,
        formats: &[Format],
        first: bool,
    ) -> Result<Rendered, BuildError> {
        let mut rendered = Rendered {
            bytes: vec![Vec::new(); formats.len()],
            items: 0,
            errors: Vec::new(),
        };
        if chunk.is_empty() {
            return Ok(rendered);
        }
        let results: Vec<Result<Item, SourceError>> =
            chunk.par_iter().map(|c| self.item(c)).collect();
        drop(chunk);
        let mut ready: Vec<Item> = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(i) => ready.push(i),
                Err(e) => rendered.errors.push(e),
            }
        }
        let refs: Vec<&Item> = ready.iter().collect();
        let site = &self.config.site;
        let fragments: Vec<Vec<render::Fragment>> = refs
            .par_chunks(FRAGMENT)
            .enumerate()
            .map(|(i, part)| {
                formats
                    .iter()
                    .map(|&f| render::items(part, f, site, first && i == 0))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<_, _>>()?;
        for per_format in fragments {
            for (out, fragment) in rendered.bytes.iter_mut().zip(per_format) {
                out.push(fragment);
            }
        }
        rendered.items = refs.len();
        Ok(rendered)
    }

    /// The item of a candidate: from its article, or by reading its file
    /// again when the scan took it from the cache.
    fn item(&self, candidate: &Candidate) -> Result<Item, SourceError> {
        if let Some(article) = &candidate.article {
            return Ok(self.normalizer.item(article));
        }
        let file = &self.files[candidate.file];
        let parsed = source::parse_file(&file.path, file.format, self.ctx);
        parsed
            .articles
            .iter()
            .find(|a| a.line == candidate.line)
            .map(|a| self.normalizer.item(a))
            .ok_or_else(|| SourceError {
                path: file.path.clone(),
                line: candidate.line,
                reason: "changed while the build ran; build again".into(),
            })
    }
}

fn progress_bar(enabled: bool, len: u64, what: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = format!("{{bar:40}} {{pos}}/{{len}} {what} {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}
