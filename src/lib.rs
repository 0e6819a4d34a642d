//! wirefeed turns article files into RSS 2.0, Atom 1.0 and JSON Feed 1.1
//! feeds.
//!
//! Data flows one way through one module per stage:
//!
//! ```text
//! config    config.toml ─────────────────────────────► Config
//! source    files ── read, decode, parse ─────────────► Vec<Article> + errors
//! normalize Article ── ids, defaults, sanitized HTML ─► Item
//! select    &[Item] + Config + now ── filters, embargo ► Vec<Feed>
//! render    Feed ── rss / atom / jsonfeed / site ─────► bytes
//! output    bytes ── temp file, sync, rename ─────────► feeds/
//! ```
//!
//! [`build`] wires the stages; the `wirefeed` binary only parses the command
//! line and calls it. `model` holds the types handed between stages, `text`
//! small string helpers any stage may use.

pub mod config;
pub mod init;
pub mod model;
pub mod normalize;
pub mod output;
pub mod render;
pub mod select;
pub mod source;
pub mod text;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Config;
use crate::model::Item;
use crate::output::Written;
use crate::source::{ParseContext, SourceError};

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
    /// Files written with new bytes (for `check`: that would be).
    pub written: usize,
    /// Files already up to date.
    pub unchanged: usize,
    /// Items held back until their publication time.
    pub embargoed: usize,
    /// Drafts, never published.
    pub drafts: usize,
    /// When the next embargoed item is due.
    pub next_release: Option<DateTime<Utc>>,
    /// Every article problem, by file and line.
    pub errors: Vec<SourceError>,
    /// Files decoded as EUC-KR.
    pub legacy_encoded: Vec<PathBuf>,
}

impl fmt::Display for BuildReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} files read, {} articles, {} items published in {} feeds, {} files written, {} unchanged, {} {}",
            self.files,
            self.articles,
            self.published,
            self.feeds,
            self.written,
            self.unchanged,
            self.errors.len(),
            if self.errors.len() == 1 { "error" } else { "errors" },
        )?;
        if self.embargoed > 0 {
            write!(f, ", {} embargoed", self.embargoed)?;
            if let Some(next) = self.next_release {
                write!(f, " (next due {})", next.to_rfc3339())?;
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
}

/// Reads every article, writes every feed. Bad articles are reported in the
/// result and left out; every good one is published.
pub fn build(config: &Config, options: &BuildOptions) -> Result<BuildReport, BuildError> {
    let files = source::discover(&config.sources)?;
    let bar = progress_bar(options.progress, files.len() as u64);
    let ctx = ParseContext {
        timezone: config.site.timezone,
    };
    let loaded = source::load(&files, ctx, &|| bar.inc(1));
    bar.finish_and_clear();
    for path in &loaded.legacy_encoded {
        tracing::warn!("{}: not UTF-8, decoded as EUC-KR (CP949)", path.display());
    }

    let mut report = BuildReport {
        files: loaded.files,
        articles: loaded.articles.len(),
        errors: loaded.errors,
        legacy_encoded: loaded.legacy_encoded,
        ..BuildReport::default()
    };
    let normalizer = normalize::Normalizer::new(&config.site);
    let items: Vec<Item> = {
        use rayon::prelude::*;
        loaded
            .articles
            .into_par_iter()
            .map(|a| normalizer.item(a))
            .collect()
    };
    let (items, duplicates) = drop_duplicate_ids(items);
    report.errors.extend(duplicates);
    report
        .errors
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));

    let selection = select::select(&items, config, options.now);
    report.embargoed = selection.embargoed;
    report.drafts = selection.drafts;
    report.next_release = selection.next_release;
    report.feeds = selection.feeds.len();
    let mut published: Vec<&str> = selection
        .feeds
        .iter()
        .flat_map(|f| f.items.iter().map(|i| i.id.as_str()))
        .collect();
    published.sort_unstable();
    published.dedup();
    report.published = published.len();

    let out_dir = options.out.clone().unwrap_or_else(|| config.output.clone());
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for feed in &selection.feeds {
        for &format in &feed.formats {
            let bytes = render::render(feed, format, &config.site)?;
            files.push((render::file_name(&feed.name, format), bytes));
        }
    }
    files.push((
        "index.html".into(),
        render::index_html(&selection.feeds, &config.site),
    ));
    files.push((
        "feeds.opml".into(),
        render::opml(&selection.feeds, &config.site),
    ));

    for (name, bytes) in &files {
        let path = out_dir.join(name);
        let written = if options.write {
            output::write_if_changed(&path, bytes)?
        } else if std::fs::read(&path).is_ok_and(|old| &old == bytes) {
            Written::Unchanged
        } else {
            Written::Changed
        };
        match written {
            Written::Changed => report.written += 1,
            Written::Unchanged => report.unchanged += 1,
        }
    }
    Ok(report)
}

/// Keeps the first item (in path order) of each id; later ones are errors,
/// since readers would merge or drop items that share an id.
fn drop_duplicate_ids(items: Vec<Item>) -> (Vec<Item>, Vec<SourceError>) {
    let mut first: HashMap<String, PathBuf> = HashMap::with_capacity(items.len());
    let mut kept = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for item in items {
        if let Some(other) = first.get(&item.id) {
            errors.push(SourceError {
                path: item.source.clone(),
                line: item.line,
                reason: format!(
                    "duplicate id `{}`, already used by {}; give one of them an explicit `id`",
                    item.id,
                    other.display()
                ),
            });
        } else {
            first.insert(item.id.clone(), item.source.clone());
            kept.push(item);
        }
    }
    (kept, errors)
}

fn progress_bar(enabled: bool, len: u64) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} articles {elapsed}") {
        bar.set_style(style);
    }
    bar
}
