//! Watch: rebuild when an article or the configuration changes.
//!
//! In: the config file's path and a shutdown token. It watches every
//! source folder and the config file, waits until changes settle
//! (debounce), then reloads the config and runs a normal build, which
//! rewrites only files whose bytes changed: a reader polling with its ETag
//! keeps getting 304 until something really changed. A build that fails
//! (a bad config, a full disk) is logged and the last good files stay
//! served.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::pipeline::{BuildFn, BuildOptions, Summary};

/// How long changes must pause before a rebuild starts.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// Rebuilds on every settled change until `shutdown` is cancelled; `now`
/// is the clock embargoes are judged against at each rebuild, `build` what
/// rebuilds.
pub async fn run(
    config_path: PathBuf,
    now: fn() -> DateTime<Utc>,
    build: BuildFn,
    shutdown: CancellationToken,
) -> Result<(), notify::Error> {
    let (tx, mut rx) = mpsc::channel::<PathBuf>(1024);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if changes(&event.kind) {
            for path in event.paths {
                // A full channel already means "rebuild": dropping is fine.
                let _ = tx.try_send(path);
            }
        }
    })?;
    let mut watched = watch_all(&mut watcher, &config_path)?;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            first = rx.recv() => {
                let Some(first) = first else { return Ok(()) };
                let mut relevant = watched.is_relevant(&first);
                // Debounce: take in everything until changes pause.
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        next = rx.recv() => match next {
                            Some(p) => relevant |= watched.is_relevant(&p),
                            None => return Ok(()),
                        },
                        _ = tokio::time::sleep(DEBOUNCE) => break,
                    }
                }
                if !relevant {
                    continue;
                }
                let path = config_path.clone();
                let config = tokio::task::spawn_blocking(move || rebuild(&path, now(), build)).await;
                if let Ok(Some(config)) = config {
                    let sources: Vec<PathBuf> =
                        config.sources.iter().map(|s| absolute(&s.path)).collect();
                    if sources != watched.sources || absolute(&config.output) != watched.output {
                        tracing::info!("the sources or the output folder changed; watching again");
                        watched = watch_all(&mut watcher, &config_path)?;
                    }
                }
            }
        }
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
    /// build's own writes (the output folder, hidden temporary files) do
    /// not.
    fn is_relevant(&self, path: &Path) -> bool {
        let path = absolute(path);
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden || path.starts_with(&self.output) {
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
fn rebuild(config_path: &Path, now: DateTime<Utc>, build: BuildFn) -> Option<Config> {
    let config = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("not rebuilt: {e}");
            return None;
        }
    };
    match build(&config, &BuildOptions::service(now)) {
        Ok(report) => {
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
