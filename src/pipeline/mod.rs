//! `build`: wires the stages, in two passes.
//!
//! 1. Scan: the source folders are listed by a thread of their own, in
//!    path order, a batch of files at a time; each batch is stamped and
//!    looked up in the cache, or parsed (in parallel), while the previous
//!    one is taken in: each item key is offered to the `Selector`, which
//!    keeps only what some feed will publish. Articles that fall out of
//!    every feed are dropped at once, so memory follows what is published,
//!    not the archive's size.
//! 2. Write: feeds of few items are rendered whole, in parallel; larger
//!    ones are streamed to their files a chunk of items at a time, items
//!    normalized and rendered in parallel, written in order.
//!
//! The output does not depend on the number of threads, on the cache, or
//! on which way a feed was written.

mod claims;
mod live;
pub mod reference;
mod scan;
mod write;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Config;
use crate::normalize::Normalizer;
use crate::output;
use crate::output::Written;
use crate::render;
use crate::source::{self, ParseContext, SourceError, SourceFile};

/// An item a feed will publish: where it comes from. Its file is read
/// again when the item is written.
#[derive(Clone)]
pub(crate) struct Candidate {
    file: usize,
    /// Its place among its file's articles.
    position: usize,
    line: usize,
}

/// The listed files, in path order, kept in the batches they were listed
/// in: a list of a million files grows without ever being moved.
#[derive(Default)]
pub(crate) struct FileList {
    batches: Vec<Vec<SourceFile>>,
    /// The index of each batch's first file.
    starts: Vec<usize>,
    len: usize,
}

impl FileList {
    /// Appends a batch; returns the index of its first file.
    fn push(&mut self, batch: Vec<SourceFile>) -> usize {
        let first = self.len;
        if !batch.is_empty() {
            self.len += batch.len();
            self.starts.push(first);
            self.batches.push(batch);
        }
        first
    }

    /// A list of the files of `files`, in their order.
    fn from_vec(files: Vec<SourceFile>) -> FileList {
        let mut list = FileList::default();
        list.push(files);
        list
    }

    /// The files, in order, copied.
    fn to_vec(&self) -> Vec<SourceFile> {
        self.batches.iter().flatten().cloned().collect()
    }

    /// The files, in order.
    fn into_vec(mut self) -> Vec<SourceFile> {
        match self.batches.len() {
            1 => self.batches.pop().unwrap_or_default(),
            _ => self.batches.into_iter().flatten().collect(),
        }
    }

    /// The `index`th file; `index` must be below [`len`](Self::len).
    fn get(&self, index: usize) -> &SourceFile {
        let b = self.starts.partition_point(|&s| s <= index) - 1;
        &self.batches[b][index - self.starts[b]]
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// How to run a build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Output folder; `None` uses the config's.
    pub out: Option<PathBuf>,
    /// The time embargoes are judged against.
    pub now: DateTime<Utc>,
    /// False for `check`: everything but writing files.
    pub write: bool,
    /// Show a progress bar on stderr (drawn only when it is a terminal).
    pub progress: bool,
    /// Use the build cache in the output folder (read it, and write it
    /// when writing).
    pub cache: bool,
    /// Take the output folder's lock while writing (false when the caller
    /// holds it, as `run` does).
    pub lock: bool,
    /// Feeds of at most this many items in all are rendered whole, in
    /// parallel, each item made once; larger ones are streamed a chunk of
    /// items at a time, in bounded memory. The bytes are the same either
    /// way. [`BuildOptions::WHOLE_UP_TO`] by default.
    pub whole_up_to: usize,
}

impl BuildOptions {
    /// The default of [`whole_up_to`](Self::whole_up_to).
    pub const WHOLE_UP_TO: usize = 4096;

    /// A build that writes the configured output folder, with the cache and
    /// the lock, without a progress bar: what services (`serve --watch`,
    /// `run`) do at time `now`.
    pub fn service(now: DateTime<Utc>) -> BuildOptions {
        BuildOptions {
            out: None,
            now,
            write: true,
            progress: false,
            cache: true,
            lock: true,
            whole_up_to: BuildOptions::WHOLE_UP_TO,
        }
    }
}

/// What a build did. Article problems are here, not in [`BuildError`]:
/// they do not stop the build.
#[derive(Debug, Default)]
pub struct BuildReport {
    /// Article files read.
    pub files: usize,
    /// Articles that parsed.
    pub articles: usize,
    /// Distinct items in at least one feed.
    pub published: usize,
    /// Feeds produced (each in one or more formats).
    pub feeds: usize,
    /// RFC 5005 archive documents produced, besides the feeds.
    pub archive_pages: usize,
    /// Files written with new bytes (for `check`: that would be).
    pub written: usize,
    /// Files already up to date.
    pub unchanged: usize,
    /// Files of feeds that no longer exist, removed (for `check`: that
    /// would be).
    pub removed: usize,
    /// Items held back until their publication time.
    pub embargoed: usize,
    /// Drafts, never published.
    pub drafts: usize,
    /// Items withheld or canceled by their provider, not published.
    pub withdrawn: usize,
    /// When the next embargoed item is due.
    pub next_release: Option<DateTime<Utc>>,
    /// Every article problem, by file and line.
    pub errors: Vec<SourceError>,
    /// Files decoded as EUC-KR.
    pub legacy_encoded: Vec<PathBuf>,
    /// The scan started from what a [`Session`] knew: only the changed
    /// paths were looked at.
    pub from_memory: bool,
}

/// The one line a build is summed up in (`build`, `check`, every `run`
/// tick): files read, articles, items published, files written (for a
/// check: that would be written or removed), errors, and when the next
/// embargoed story is due, in the site's time zone with its offset (the
/// zone its wire times are written in).
pub struct Summary<'a> {
    /// What the build did.
    pub report: &'a BuildReport,
    /// False for `check`, which writes nothing.
    pub wrote: bool,
    /// The site's time zone.
    pub zone: chrono_tz::Tz,
}

impl std::fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = self.report;
        let n = |count: usize, one: &str, many: &str| {
            format!("{count} {}", if count == 1 { one } else { many })
        };
        write!(
            f,
            "{} read, {}, {} published in {}, ",
            n(r.files, "file", "files"),
            n(r.articles, "article", "articles"),
            n(r.published, "item", "items"),
            n(r.feeds, "feed", "feeds"),
        )?;
        let files = n(r.written, "file", "files");
        match self.wrote {
            true => write!(f, "{files} written")?,
            false => write!(f, "would write {files}")?,
        }
        write!(
            f,
            ", {} unchanged, {}",
            r.unchanged,
            n(r.errors.len(), "error", "errors")
        )?;
        if r.archive_pages > 0 {
            let pages = n(r.archive_pages, "archive page", "archive pages");
            write!(f, ", {pages}")?;
        }
        if r.removed > 0 {
            let stale = n(r.removed, "stale file", "stale files");
            match self.wrote {
                true => write!(f, ", {stale} removed")?,
                false => write!(f, ", would remove {stale}")?,
            }
        }
        if r.withdrawn > 0 {
            write!(f, ", {} withheld or canceled", r.withdrawn)?;
        }
        if r.embargoed > 0 {
            write!(f, ", {} embargoed", r.embargoed)?;
            if let Some(next) = r.next_release {
                let local = next.with_timezone(&self.zone).fixed_offset();
                write!(f, " (next due {})", crate::render::rfc3339(&local))?;
            }
        }
        Ok(())
    }
}

/// A problem that stops a build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A source folder could not be listed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A feed could not be rendered.
    #[error(transparent)]
    Render(#[from] render::RenderError),
    /// A file could not be written.
    #[error(transparent)]
    Output(#[from] output::OutputError),
    /// Another wirefeed is writing the output folder.
    #[error(transparent)]
    Locked(#[from] output::LockError),
}

/// Reads every article, writes every feed. Bad articles are reported in the
/// result and left out; every good one is published.
pub fn build(config: &Config, options: &BuildOptions) -> Result<BuildReport, BuildError> {
    let _lock = lock_output(config, options)?;
    run_passes(config, options, None, None)
}

/// Takes the output folder's lock when `options` say so, and removes what
/// killed writers left behind there.
fn lock_output(
    config: &Config,
    options: &BuildOptions,
) -> Result<Option<output::Lock>, BuildError> {
    let out = options.out.as_ref().unwrap_or(&config.output);
    let lock = match options.write && options.lock {
        true => Some(output::lock(out)?),
        false => None,
    };
    // Under the lock (ours, or the caller's): no other wirefeed writes here.
    if options.write {
        output::remove_stale_temp_files(out);
    }
    Ok(lock)
}

/// What a long-running process (`run`, `serve --watch`) keeps between its
/// builds: what its last scan learned, every article file's stamp and item
/// keys, and a live index of what they select (`live.rs`): `serve
/// --watch` holds 157 MiB at 100,000 stories, a build peaks at 55 MiB. A build told which paths changed since the
/// last one (a watcher's batch) then reads only those files again and
/// judges only their ids again, where a build without it `stat`s every
/// file and reads the cache.
#[derive(Default)]
pub struct Session {
    known: std::sync::Arc<std::sync::Mutex<scan::Known>>,
}

impl Session {
    /// An empty session: its first build scans everything.
    pub fn new() -> Session {
        Session::default()
    }

    /// Builds as [`build`] does. With `changed`, only those paths (files
    /// or folders, under the sources or not) may have changed since this
    /// session's last build; the build then starts from what that one
    /// learned, unless something in `changed` needs a whole scan (a
    /// folder, a path outside the sources) or the settings changed.
    /// Without `changed` (a scheduled tick, a watcher that lost events),
    /// everything is scanned.
    pub fn build(
        &self,
        config: &Config,
        options: &BuildOptions,
        changed: Option<&[PathBuf]>,
    ) -> Result<BuildReport, BuildError> {
        let mut known = match self.known.lock() {
            Ok(known) => known,
            // A build that panicked may have left it half updated.
            Err(poisoned) => {
                let mut known = poisoned.into_inner();
                *known = scan::Known::default();
                known
            }
        };
        let lock = lock_output(config, options)?;
        let report = run_passes(config, options, Some(&mut known), changed)?;
        drop(lock);
        drop(known);
        if !report.from_memory {
            self.index_later(config, options.now);
        }
        Ok(report)
    }

    /// Makes the live index of a whole scan's files on a thread of its
    /// own, so that the build is done without waiting for it; a build
    /// that comes meanwhile waits for the index (or, with no thread to be
    /// had, makes it itself).
    fn index_later(&self, config: &Config, now: DateTime<Utc>) {
        let known = std::sync::Arc::clone(&self.known);
        let config = config.clone();
        let spawned = std::thread::Builder::new()
            .name("wirefeed-index".into())
            .spawn(move || {
                if let Ok(mut known) = known.lock() {
                    known.index(&config, now);
                }
            });
        if let Err(e) = spawned {
            tracing::debug!("no thread for the session's index ({e}): made by the next build");
        }
    }
}

/// The two passes, under the lock [`build`] took; with `known`, from and
/// into what a [`Session`] knows.
fn run_passes(
    config: &Config,
    options: &BuildOptions,
    mut known: Option<&mut scan::Known>,
    changed: Option<&[PathBuf]>,
) -> Result<BuildReport, BuildError> {
    let started = std::time::Instant::now();
    let out_dir = options.out.clone().unwrap_or_else(|| config.output.clone());
    let ctx = ParseContext {
        timezone: config.site.timezone,
        bodies: true,
    };
    let normalizer = match config.chooses_by_author() {
        true => Normalizer::new(&config.site),
        false => Normalizer::new(&config.site).without_key_authors(),
    };
    let mut report = BuildReport::default();
    let quick = match (known.as_deref_mut(), changed) {
        (Some(known), Some(changed)) => {
            scan::scan_changed(config, options, known, changed, &normalizer, &mut report)
        }
        _ => None,
    };
    let lent = quick.is_some();
    report.from_memory = lent;
    let (files, selection) = match quick {
        Some((files, selection)) => {
            tracing::info!(
                "took {} article files from memory, {} changed, in {:.2?}",
                files.len(),
                changed.map_or(0, <[PathBuf]>::len),
                started.elapsed()
            );
            (files, selection)
        }
        None => {
            let listing = source::list(&config.sources);
            let (files, selection, from_cache) = scan::scan_all(
                config,
                options,
                listing,
                &out_dir,
                &normalizer,
                &mut report,
                known.as_deref_mut(),
            )?;
            tracing::info!(
                "listed and scanned {} article files in {:.2?} ({from_cache} from the cache)",
                files.len(),
                started.elapsed()
            );
            (files, selection)
        }
    };
    report.files = files.len();
    report.embargoed = selection.embargoed;
    report.drafts = selection.drafts;
    report.withdrawn = selection.withdrawn;
    report.next_release = selection.next_release;
    report.published = selection.published;
    report.archive_pages = selection
        .feeds
        .iter()
        .filter(|f| f.info.archive.is_archive)
        .count();
    report.feeds = selection.feeds.len() - report.archive_pages;

    let writer = write::FeedWriter {
        config,
        files: &files,
        normalizer: &normalizer,
        ctx,
        out_dir: &out_dir,
        write: options.write,
        whole_up_to: options.whole_up_to,
    };
    let written = writer.write_all(selection.feeds, options.progress, &mut report);
    match known {
        Some(known) if lent => known.put_back(files),
        _ => drop(files),
    }
    written?;
    tracing::info!("wrote the feeds in {:.2?}", started.elapsed());
    report
        .errors
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Ok(report)
}

/// The first article (in path order) of each id keeps it; a later one is
/// this error, since readers would merge or drop items that share an id.
fn duplicate_error(path: &Path, line: usize, id: &str, first: &Path) -> SourceError {
    SourceError {
        path: path.to_owned(),
        line,
        reason: format!(
            "duplicate id `{id}`, already used by {}; give one of them an explicit `id`",
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

/// A count of work whose total is not known yet.
fn progress_counter(enabled: bool, what: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let template = format!("{{spinner}} {{pos}} {what} {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
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
