//! Schedule: `wirefeed run`, build then push on the configured schedule
//! until stopped.
//!
//! In: the config file's path, a clock and a shutdown token. Each tick
//! reloads the config (a broken edit is logged and the last good config
//! kept), builds (the cache means only changed sources are read), then
//! pushes. Between ticks it sleeps until the next scheduled time or until
//! the next embargoed story is due, whichever comes first, so embargoes lift
//! on time; and it watches the sources (unless `[schedule] watch = false`),
//! so a story that lands is built and pushed at once, the schedule staying
//! as the safety net (see `watch` for when a change counts). A target with
//! a lease is pushed to only while this run holds it: otherwise the run
//! builds and waits (standby), and publishes the moment it takes the lease
//! over. It holds the output folder's lock for its whole life. On
//! shutdown an in-flight push is abandoned; the outbox already holds every
//! acknowledgement, so the next run delivers the rest.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, Schedule};
use crate::metrics::Registry;
use crate::output;
use crate::pipeline::{BuildOptions, Session, Summary};
use crate::publish::{self, PushOptions};
use crate::watch::{Batch, Changes};

/// How `run` behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// One tick, then return (for cron jobs and CI).
    pub once: bool,
}

/// A problem that stops `run`.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Another wirefeed holds the output folder.
    #[error(transparent)]
    Locked(#[from] output::LockError),
    /// The runtime could not start.
    #[error("cannot start: {0}")]
    Start(String),
    /// A push target cannot be set up (a key missing from the
    /// environment).
    #[error(transparent)]
    Publish(#[from] publish::PushError),
    /// No `[schedule]` table and not `--once`.
    #[error("{}: no [schedule] table: add `every = \"5m\"` or `cron = \"*/5 * * * *\"`, or use `run --once`", .0.display())]
    NoSchedule(PathBuf),
}

/// Runs until `shutdown` is cancelled (or after one tick with `once`),
/// building with `build`; every build and push is told to `metrics`, and a
/// tick that built and left nothing pending is a publish. `locked` is
/// called once the output folder's lock is held, before the first tick
/// (`app` starts the metrics listener there).
pub async fn run(
    config_path: &Path,
    options: RunOptions,
    now: fn() -> DateTime<Utc>,
    session: Arc<Session>,
    metrics: Arc<Registry>,
    locked: impl FnOnce(),
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    let mut config = Config::load(config_path)?;
    if config.schedule.is_none() && !options.once {
        return Err(RunError::NoSchedule(config_path.to_owned()));
    }
    let _lock = output::lock(&config.output)?;
    locked();
    // With `--once`, a target whose lease another holds is refused, as
    // by `push`; otherwise this run waits for it (standby).
    let mut keepers = publish::Keepers::start(&config, options.once, now)?;
    let runner = Runner {
        now,
        session: &session,
        metrics: &metrics,
        shutdown: &shutdown,
    };
    let ran = ticks(config_path, &mut config, options, &runner, &mut keepers).await;
    keepers.stop().await;
    ran
}

/// What every tick of a [`run`] uses.
struct Runner<'a> {
    now: fn() -> DateTime<Utc>,
    session: &'a Arc<Session>,
    metrics: &'a Registry,
    shutdown: &'a CancellationToken,
}

/// The ticks of [`run`], until it stops.
async fn ticks(
    config_path: &Path,
    config: &mut Config,
    options: RunOptions,
    runner: &Runner<'_>,
    keepers: &mut publish::Keepers,
) -> Result<(), RunError> {
    let (now, shutdown) = (runner.now, runner.shutdown);
    let mut changes = if config.watch_sources && !options.once {
        match Changes::new(config_path) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!("not watching the sources ({e}): publishing on the schedule only");
                None
            }
        }
    } else {
        None
    };
    // What changed since the last tick, when a watcher's batch woke this
    // one; `None` (a scheduled tick, a rescan): anything may have.
    let mut changed: Option<Vec<PathBuf>> = None;
    loop {
        match Config::load(config_path) {
            Ok(c) => *config = c,
            Err(e) => tracing::error!("config not reloaded, keeping the last good one: {e}"),
        }
        if let Err(e) = keepers.follow(config) {
            tracing::error!("leases: {e}");
        }
        keepers.known().await;
        let paths = changed.take();
        let next_release = tick(config, runner, paths, &keepers.holdings()).await;
        if options.once || shutdown.is_cancelled() {
            return Ok(());
        }
        if let Some(c) = &mut changes {
            if let Err(e) = c.follow(config) {
                tracing::warn!("not watching the sources ({e}): publishing on the schedule only");
                changes = None;
            }
        }
        let wake = next_wake(config, now(), next_release);
        if wake.is_none() && changes.is_none() {
            return Ok(());
        }
        let wait = wake.map(|wake| (wake - now()).to_std().unwrap_or(Duration::ZERO));
        if let Some(wake) = wake {
            tracing::debug!("sleeping until {}", wake.to_rfc3339());
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = sleep(wait) => {}
            _ = keepers.acquired() => tracing::debug!("a lease was acquired: publishing now"),
            batch = settled(changes.as_mut(), shutdown) => match batch {
                Some(batch) => {
                    tracing::debug!(
                        "changed: {}{}",
                        batch.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
                        if batch.rescan { " (and a rescan)" } else { "" }
                    );
                    changed = (!batch.rescan).then_some(batch.paths);
                }
                None => return Ok(()),
            },
        }
    }
}

async fn sleep(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

/// The next batch of changes, or never when the sources are not watched.
async fn settled(changes: Option<&mut Changes>, shutdown: &CancellationToken) -> Option<Batch> {
    match changes {
        Some(changes) => changes.settled(shutdown).await,
        None => std::future::pending().await,
    }
}

/// One build and push; returns when the next embargoed story is due.
async fn tick(
    config: &Config,
    runner: &Runner<'_>,
    changed: Option<Vec<PathBuf>>,
    holdings: &std::collections::BTreeMap<String, publish::Hold>,
) -> Option<DateTime<Utc>> {
    let (now, session, metrics, shutdown) =
        (runner.now, runner.session, runner.metrics, runner.shutdown);
    // `run` holds the lock for its whole life.
    let options = BuildOptions {
        lock: false,
        ..BuildOptions::service(now())
    };
    let built = {
        let (config, session) = (config.clone(), session.clone());
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let built = session.build(&config, &options, changed.as_deref());
            (started, built)
        })
        .await
    };
    let report = match built {
        Ok((started, built)) => {
            metrics.build(started, &built);
            match built {
                Ok(report) => report,
                Err(e) => {
                    tracing::error!("tick: build failed: {e}");
                    return None;
                }
            }
        }
        Err(e) => {
            tracing::error!("tick: build stopped: {e}");
            return None;
        }
    };
    for e in &report.errors {
        tracing::warn!("{}", crate::config::one_line(&e.to_string()));
    }
    let pushed = if config.push.is_empty() && config.websub.is_none() {
        metrics.published();
        "no push targets".to_owned()
    } else {
        tokio::select! {
            _ = shutdown.cancelled() => {
                tracing::info!("stopping: the push in flight is abandoned; the outbox keeps what is pending");
                "abandoned".to_owned()
            }
            result = publish::push_async(config, PushOptions::default(), holdings) => {
                metrics.push(&result, &target_names(config));
                if result.as_ref().is_ok_and(|r| r.complete()) {
                    metrics.published();
                }
                match result {
                Ok(r) => {
                    for t in &r.targets {
                        for problem in t.problems() {
                            tracing::warn!("push {}: {problem}", t.name);
                        }
                    }
                    r.targets
                        .iter()
                        .map(|t| match &t.standby {
                            Some(_) => format!("{} standby", t.name),
                            None => format!("{} sent {} pending {} refused {}", t.name, t.sent.len(), t.pending.len(), t.refused.len()),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                }
                Err(e) => format!("failed: {e}"),
            }},
        }
    };
    let built = Summary {
        report: &report,
        wrote: true,
        zone: config.site.timezone,
    };
    let line = format!("tick: built: {built}; pushed: {pushed}");
    tracing::info!("{line}");
    // The first tick makes the service ready; each tells how it went.
    crate::sys::service_state(crate::sys::ServiceState::Ready(&line));
    report.next_release
}

/// The names pushes are counted under: every target, then the hub.
fn target_names(config: &Config) -> Vec<String> {
    let targets = config.push.iter().map(|t| t.name.clone());
    let hub = config.websub.as_ref().map(|_| publish::HUB.to_owned());
    targets.chain(hub).collect()
}

/// The next tick: the schedule's next time, or sooner when an embargoed
/// story becomes due.
fn next_wake(
    config: &Config,
    now: DateTime<Utc>,
    next_release: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let scheduled = match &config.schedule {
        Some(Schedule::Every(d)) => chrono::Duration::from_std(*d).ok().map(|d| now + d),
        Some(Schedule::Cron(cron)) => {
            let local = now.with_timezone(&config.site.timezone);
            cron.find_next_occurrence(&local, false)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        }
        None => None,
    };
    match (scheduled, next_release) {
        (Some(s), Some(r)) => Some(s.min(r)),
        (s, r) => s.or(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(schedule: &str) -> Config {
        let text = format!(
            "[site]\ntitle = \"D\"\nbase_url = \"https://n.example.com/\"\ntimezone = \"Asia/Seoul\"\n\
             [[source]]\npath = \".\"\n[[feed]]\nname = \"all\"\n[schedule]\n{schedule}\n"
        );
        Config::parse(&text, &std::env::temp_dir().join("c.toml")).unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn wakes_at_the_schedule_or_an_embargo_whichever_is_first() {
        let every = config("every = \"5m\"");
        let now = t("2026-11-28T10:00:00Z");
        assert_eq!(
            next_wake(&every, now, None),
            Some(t("2026-11-28T10:05:00Z"))
        );
        let due = t("2026-11-28T10:01:30Z");
        assert_eq!(next_wake(&every, now, Some(due)), Some(due));
        // Cron in the site's zone: 09:00 in Seoul is 00:00 UTC.
        let cron = config("cron = \"0 9 * * *\"");
        assert_eq!(next_wake(&cron, now, None), Some(t("2026-11-29T00:00:00Z")));
    }
}
