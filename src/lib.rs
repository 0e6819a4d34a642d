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
//! push      feeds/ + outbox ── PUT / POST, WebSub ping ──► remote targets
//! schedule  (build → push) on an interval or cron, embargo wake-ups
//! serve     feeds/ over HTTP, conditional GET; watch: rebuild on change
//! ```
//!
//! [`build`] wires the stages (module `build`); [`serve()`] and [`run`] start
//! the long-running ones. The `wirefeed` binary only parses the command
//! line and calls these. `model` holds the types handed between stages,
//! `text` small string helpers any stage may use.

mod build;
pub mod cache;
pub mod config;
pub mod init;
pub mod model;
pub mod normalize;
pub mod output;
pub mod push;
pub mod render;
pub mod schedule;
pub mod select;
pub mod serve;
pub mod source;
pub mod text;
pub mod watch;

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
    /// When the next embargoed item is due.
    pub next_release: Option<DateTime<Utc>>,
    /// Every article problem, by file and line.
    pub errors: Vec<SourceError>,
    /// Files decoded as EUC-KR.
    pub legacy_encoded: Vec<PathBuf>,
}

impl fmt::Display for BuildReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |count: usize, one: &str, many: &str| {
            format!("{count} {}", if count == 1 { one } else { many })
        };
        write!(
            f,
            "{} read, {}, {} published in {}, {} written, {} unchanged, {}",
            n(self.files, "file", "files"),
            n(self.articles, "article", "articles"),
            n(self.published, "item", "items"),
            n(self.feeds, "feed", "feeds"),
            n(self.written, "file", "files"),
            self.unchanged,
            n(self.errors.len(), "error", "errors"),
        )?;
        if self.archive_pages > 0 {
            write!(
                f,
                ", {}",
                n(self.archive_pages, "archive page", "archive pages")
            )?;
        }
        if self.removed > 0 {
            write!(
                f,
                ", {} removed",
                n(self.removed, "stale file", "stale files")
            )?;
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
    /// Another wirefeed is writing the output folder.
    #[error(transparent)]
    Locked(#[from] output::LockError),
}

/// Reads every article, writes every feed. Bad articles are reported in the
/// result and left out; every good one is published.
pub fn build(config: &Config, options: &BuildOptions) -> Result<BuildReport, BuildError> {
    let out = options.out.as_ref().unwrap_or(&config.output);
    let _lock = match options.write && options.lock {
        true => Some(output::lock(out)?),
        false => None,
    };
    build::build(config, options)
}

/// A problem that stops `serve`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The first build failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Nothing to serve yet.
    #[error("{}: no index.html here: run `wirefeed build` first, or serve with --watch", .0.display())]
    NotBuilt(PathBuf),
    /// Binding, watching or serving failed.
    #[error("{0}")]
    Io(String),
}

/// Serves the output folder on `bind` (default: the config's) until
/// Ctrl-C or SIGTERM; with `watch`, builds first and rebuilds on every
/// change. `now` is the clock embargoes are judged against.
pub fn serve(
    config_path: &std::path::Path,
    bind: Option<std::net::SocketAddr>,
    watch: bool,
    now: fn() -> DateTime<Utc>,
) -> Result<(), ServeError> {
    let config = Config::load(config_path)?;
    if watch {
        let report = build(&config, &BuildOptions::service(now()))?;
        for e in &report.errors {
            tracing::warn!("{e}");
        }
        tracing::info!("built: {report}");
    } else if !config.output.join("index.html").is_file() {
        return Err(ServeError::NotBuilt(config.output.clone()));
    }
    let bind = bind.unwrap_or(config.serve.bind);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServeError::Io(format!("cannot start: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| ServeError::Io(format!("cannot listen on {bind}: {e}")))?;
        let shutdown = tokio_util::sync::CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
        let watcher = watch.then(|| {
            let token = shutdown.clone();
            tokio::spawn(watch::run(config_path.to_owned(), now, token))
        });
        let local = listener.local_addr().map_or(bind, |a| a);
        eprintln!(
            "serving {} on http://{local}/ (Ctrl-C stops)",
            config.output.display()
        );
        let served = serve::run(
            listener,
            &config.output,
            &config.serve.cache_control,
            shutdown.clone(),
        )
        .await
        .map_err(|e| ServeError::Io(e.to_string()));
        shutdown.cancel();
        if let Some(w) = watcher {
            match w.await {
                Ok(Err(e)) => tracing::error!("watching stopped: {e}"),
                Err(e) => tracing::error!("watching stopped: {e}"),
                Ok(Ok(())) => {}
            }
        }
        served
    })
}

/// Builds and pushes on the `[schedule]` until Ctrl-C or SIGTERM (or once,
/// with `options.once`). `now` is the clock embargoes are judged against.
pub fn run(
    config_path: &std::path::Path,
    options: schedule::RunOptions,
    now: fn() -> DateTime<Utc>,
) -> Result<(), schedule::RunError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| schedule::RunError::Start(e.to_string()))?;
    runtime.block_on(async {
        let shutdown = tokio_util::sync::CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
        schedule::run(config_path, options, now, shutdown).await
    })
}

/// Cancels `token` on Ctrl-C or SIGTERM.
async fn cancel_on_signal(token: tokio_util::sync::CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    token.cancel();
}

/// Uses `threads` threads for parsing and rendering (default: one per
/// core). Call once, before the first build.
pub fn set_threads(threads: usize) -> Result<(), String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| e.to_string())
}
