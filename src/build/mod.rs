//! `build`: wires the stages, in two passes.
//!
//! 1. Scan: the source folders are listed by a thread of their own, in
//!    path order, a batch of files at a time; each batch is stamped and
//!    looked up in the cache, or parsed (in parallel), while the previous
//!    one is taken in: each header is offered to the `Selector`, which
//!    keeps only what some feed will publish. Articles that fall out of
//!    every feed are dropped at once, so memory follows what is published,
//!    not the archive's size.
//! 2. Write: feeds of few items are rendered whole, in parallel; larger
//!    ones are streamed to their files a chunk of items at a time, items
//!    normalized and rendered in parallel, written in order.
//!
//! The output does not depend on the number of threads, on the cache, or
//! on which way a feed was written.

mod scan;
mod write;

use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Config;
use crate::model::Article;
use crate::normalize::Normalizer;
use crate::output::Written;
use crate::source::{self, ParseContext, SourceFile};
use crate::{BuildError, BuildOptions, BuildReport};

/// An item a feed will publish: where it comes from, and the article when
/// it was parsed in this build (cached ones are read again when written).
#[derive(Clone)]
pub(crate) struct Candidate {
    file: usize,
    /// Its place among its file's articles.
    position: usize,
    line: usize,
    article: Option<Arc<Article>>,
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

    /// The `index`th file; `index` must be below [`len`](Self::len).
    fn get(&self, index: usize) -> &SourceFile {
        let b = self.starts.partition_point(|&s| s <= index) - 1;
        &self.batches[b][index - self.starts[b]]
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// See [`crate::build`].
pub fn build(config: &Config, options: &BuildOptions) -> Result<BuildReport, BuildError> {
    let started = std::time::Instant::now();
    let listing = source::list(&config.sources);
    let out_dir = options.out.clone().unwrap_or_else(|| config.output.clone());
    let ctx = ParseContext {
        timezone: config.site.timezone,
        bodies: true,
    };
    let normalizer = Normalizer::new(&config.site);
    let mut report = BuildReport::default();
    let (files, selection, from_cache) =
        scan::scan_all(config, options, listing, &out_dir, &normalizer, &mut report)?;
    report.files = files.len();
    tracing::info!(
        "listed and scanned {} article files in {:.2?} ({from_cache} from the cache)",
        files.len(),
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

    let writer = write::FeedWriter {
        config,
        files: &files,
        normalizer: &normalizer,
        ctx,
        out_dir: &out_dir,
        write: options.write,
        whole_up_to: options.whole_up_to,
    };
    writer.write_all(selection.feeds, options.progress, &mut report)?;
    tracing::info!("wrote the feeds in {:.2?}", started.elapsed());
    report
        .errors
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Ok(report)
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
