//! Watch: notice when an article or the configuration changes, and
//! rebuild.
//!
//! In: the config file's path and a shutdown token. [`Changes`] watches
//! every source folder and the config file and hands out settled batches
//! of changes; `serve --watch` rebuilds on each ([`run`]), `run` builds and
//! pushes on each (see `schedule`). A build rewrites only files whose bytes
//! changed: a reader polling with its ETag keeps getting 304 until
//! something really changed. A build that fails (a bad config, a full disk)
//! is logged and the last good files stay served.
//!
//! Settling: a file that arrives by rename (how wire systems deliver: a
//! temporary name, then a rename) or is closed after writing is complete,
//! so a batch goes out [`QUICK`] after the last such event. A file still
//! open for writing (created or written, not yet closed) holds the batch
//! until it is closed or nothing has changed for [`DEBOUNCE`], so a story
//! being written in place is read once it stops changing. Names writers
//! use while writing (`*.tmp`, `*.part`, hidden files: see
//! [`crate::source::is_being_written`]) are not changes at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::metrics::Registry;
use crate::pipeline::{BuildOptions, Session, Summary};

/// How long changes must pause before a batch goes out while a file may
/// still be being written.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// How long changes must pause before a batch goes out when every changed
/// file is complete (renamed into place, closed, removed): enough to take
/// a burst of deliveries in one build.
pub const QUICK: Duration = Duration::from_millis(20);

/// Rebuilds on every settled change until `shutdown` is cancelled; `now`
/// is the clock embargoes are judged against at each rebuild, `session`
/// what rebuilds (from what its last build learned, and the batch's
/// paths). Each rebuild is told to `metrics`; one that succeeds is a
/// publish.
pub async fn run(
    config_path: PathBuf,
    now: fn() -> DateTime<Utc>,
    session: Arc<Session>,
    metrics: Arc<Registry>,
    shutdown: CancellationToken,
) -> Result<(), notify::Error> {
    let mut changes = Changes::new(&config_path)?;
    while let Some(batch) = changes.settled(&shutdown).await {
        let (path, metrics, session) = (config_path.clone(), metrics.clone(), session.clone());
        let changed = (!batch.rescan).then_some(batch.paths);
        let config = tokio::task::spawn_blocking(move || {
            rebuild(&path, now(), &session, changed.as_deref(), &metrics)
        })
        .await;
        if let Ok(Some(config)) = config {
            changes.follow(&config)?;
        }
    }
    Ok(())
}

/// One settled batch of changes.
#[derive(Debug, Default)]
pub struct Batch {
    /// The changed paths (sources and the config file), in path order.
    pub paths: Vec<PathBuf>,
    /// Events were lost or the watcher asked for a rescan: anything may
    /// have changed.
    pub rescan: bool,
}

/// The source folders and the config file, watched.
pub struct Changes {
    watcher: RecommendedWatcher,
    rx: mpsc::Receiver<notify::Event>,
    lost: Arc<AtomicBool>,
    config_path: PathBuf,
    watched: Watched,
    /// Changed paths not handed out yet, each with whether it may still be
    /// being written.
    pending: BTreeMap<PathBuf, bool>,
    rescan: bool,
    last: Option<Instant>,
}

impl Changes {
    /// Starts watching the folders `config_path`'s config names.
    pub fn new(config_path: &Path) -> Result<Changes, notify::Error> {
        let (tx, rx) = mpsc::channel::<notify::Event>(4096);
        let lost = Arc::new(AtomicBool::new(false));
        let dropped = lost.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                match event {
                    Ok(event) if changes(&event.kind) => {
                        if tx.try_send(event).is_err() {
                            // A full queue: the next batch rescans.
                            dropped.store(true, Ordering::Relaxed);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => {
                        // The backend lost track: rescan, and wake the waiter.
                        dropped.store(true, Ordering::Relaxed);
                        let _ = tx.try_send(notify::Event::new(EventKind::Other));
                    }
                }
            })?;
        let watched = watch_all(&mut watcher, config_path)?;
        Ok(Changes {
            watcher,
            rx,
            lost,
            config_path: config_path.to_owned(),
            watched,
            pending: BTreeMap::new(),
            rescan: false,
            last: None,
        })
    }

    /// Waits for the next settled batch of relevant changes; `None` once
    /// `shutdown` is cancelled. Safe to cancel (as a branch of `select!`):
    /// what was seen so far stays for the next call.
    pub async fn settled(&mut self, shutdown: &CancellationToken) -> Option<Batch> {
        loop {
            let due = self.last.map(|last| {
                let writing = self.pending.values().any(|&open| open);
                last + if writing { DEBOUNCE } else { QUICK }
            });
            let pending = !self.pending.is_empty() || self.rescan;
            tokio::select! {
                _ = shutdown.cancelled() => return None,
                event = self.rx.recv() => match event {
                    Some(event) => self.take(event),
                    None => return None,
                },
                _ = sleep_until(due), if pending => {
                    self.last = None;
                    let rescan = std::mem::take(&mut self.rescan)
                        | self.lost.swap(false, Ordering::Relaxed);
                    let paths = std::mem::take(&mut self.pending).into_keys().collect();
                    return Some(Batch { paths, rescan });
                }
            }
        }
    }

    fn take(&mut self, event: notify::Event) {
        let open = match event.kind {
            EventKind::Create(CreateKind::File) | EventKind::Modify(ModifyKind::Data(_)) => true,
            EventKind::Any | EventKind::Other => {
                self.rescan = true;
                false
            }
            _ => false,
        };
        let mut relevant = false;
        for path in event.paths {
            if self.watched.is_relevant(&path) {
                relevant = true;
                self.pending.insert(path, open);
            }
        }
        if relevant || self.rescan || self.lost.load(Ordering::Relaxed) {
            self.last = Some(Instant::now());
        }
    }

    /// Watches again if `config` (just loaded) names other source folders
    /// or another output folder than those being watched.
    pub fn follow(&mut self, config: &Config) -> Result<(), notify::Error> {
        let sources: Vec<PathBuf> = config.sources.iter().map(|s| absolute(&s.path)).collect();
        if sources != self.watched.sources || absolute(&config.output) != self.watched.output {
            tracing::info!("the sources or the output folder changed; watching again");
            for source in &self.watched.sources {
                // Gone folders cannot be unwatched; that is fine.
                let _ = self.watcher.unwatch(source);
            }
            self.watched = watch_all(&mut self.watcher, &self.config_path)?;
        }
        Ok(())
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// Whether an event can change what a build reads: a file created,
/// written, removed or renamed. Opening, reading and closing a file
/// unwritten (what every build itself does to the articles and the config)
/// and metadata-only changes (a `touch`, a `chmod`) cannot; a rebuild on
/// them would see its own reads and rebuild forever. Events a backend cannot
/// tell apart (`Any`, `Other`: a rescan after lost events) count.
fn changes(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Create(_)
        | EventKind::Modify(_)
        | EventKind::Remove(_)
        | EventKind::Any
        | EventKind::Other => true,
    }
}

/// What is being watched.
struct Watched {
    config: PathBuf,
    sources: Vec<PathBuf>,
    output: PathBuf,
}

impl Watched {
    /// Changes to the config file or inside source folders count; the
    /// build's own writes (the output folder, hidden temporary files) and
    /// files still being written under a temporary name do not.
    fn is_relevant(&self, path: &Path) -> bool {
        let path = absolute(path);
        let temporary = path
            .file_name()
            .is_some_and(|n| crate::sys::is_hidden(n) || crate::source::is_being_written(n));
        if temporary || path.starts_with(&self.output) {
            return false;
        }
        path == self.config || self.sources.iter().any(|s| path.starts_with(s))
    }
}

fn watch_all(watcher: &mut impl Watcher, config_path: &Path) -> Result<Watched, notify::Error> {
    // The config's folder, not the file: editors replace files by renaming.
    let dir = config_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    let config = Config::load(config_path).map_err(|e| notify::Error::generic(&e.to_string()))?;
    for source in &config.sources {
        watcher.watch(&source.path, RecursiveMode::Recursive)?;
    }
    Ok(Watched {
        config: absolute(config_path),
        sources: config.sources.iter().map(|s| absolute(&s.path)).collect(),
        output: absolute(&config.output),
    })
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// Reloads the config and builds; returns the config it built with.
fn rebuild(
    config_path: &Path,
    now: DateTime<Utc>,
    session: &Session,
    changed: Option<&[PathBuf]>,
    metrics: &Registry,
) -> Option<Config> {
    let config = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("not rebuilt: {e}");
            return None;
        }
    };
    let started = std::time::Instant::now();
    let built = session.build(&config, &BuildOptions::service(now), changed);
    metrics.build(started, &built);
    match built {
        Ok(report) => {
            metrics.published();
            for e in &report.errors {
                tracing::warn!("{e}");
            }
            let summary = Summary {
                report: &report,
                wrote: true,
                zone: config.site.timezone,
            };
            tracing::info!("rebuilt: {summary}");
            Some(config)
        }
        Err(e) => {
            tracing::error!("not rebuilt: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, MetadataKind, RemoveKind, RenameMode};

    #[test]
    fn only_changes_to_files_count_not_reading_them() {
        let counted = [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            EventKind::Remove(RemoveKind::File),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Other,
        ];
        let ignored = [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
        ];
        assert!(counted.iter().all(changes));
        assert!(!ignored.iter().any(changes));
    }
}
