//! wirefeed turns article files into RSS 2.0, Atom 1.0 and JSON Feed 1.1
//! feeds.
//!
//! Data flows one way through one module per stage:
//!
//! ```text
//! config    config.toml ────────────────────────────────► Config
//! source    files ── read, decode, parse ────────────────► Article + errors
//!   cache   unchanged files ── last build's headers ─────► Header
//! normalize Article ── ids, defaults, sanitized HTML ────► Header, Item
//! select    Headers + Config + now ── filters, embargo ──► Feed (newest N each)
//! render    Feed ── rss / atom / jsonfeed / site ────────► bytes, streamed
//! output    bytes ── temp file, sync, rename ────────────► feeds/
//! ```
//!
//! [`build`] wires the stages (module `build`); the `wirefeed` binary only
//! parses the command line and calls it. `model` holds the types handed
//! between stages, `text` small string helpers any stage may use.

mod build;
pub mod cache;
pub mod config;
pub mod init;
pub mod model;
pub mod normalize;
pub mod output;
pub mod render;
pub mod select;
pub mod source;
pub mod text;

use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::source::SourceError;

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
    /// Files of feeds that no longer exist, removed (for `check`: that
    /// would be).
    pub removed: usize,
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
        if self.removed > 0 {
            write!(f, ", {} stale files removed", self.removed)?;
        }
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
    build::build(config, options)
}

/// Uses `threads` threads for parsing and rendering (default: one per
/// core). Call once, before the first build.
pub fn set_threads(threads: usize) -> Result<(), String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| e.to_string())
}
