//! Publish: send what changed in the output folder to remote endpoints
//! (WebDAV-style `PUT`, S3 buckets, webhooks), delete there what this
//! wirefeed published and is gone, then tell the WebSub hub.
//!
//! In: the config and the built output folder. Out: every target holds the
//! newest version of every file and none of the files gone, or the outbox
//! says what is still pending and why. Versions are sha256 digests; a
//! version leaves the outbox only when its target answered 2xx. The order
//! (what is linked to first, deletions last) is `plan`'s; conditional
//! writes keep a stale publisher from overwriting what it did not see,
//! and a target's lease (`lease`, kept by `keeper`) lets only one of
//! several wirefeeds publish there at a time.
//! Connection errors, timeouts, 5xx, 408 and 429 are retried with
//! exponential backoff and jitter (honouring `Retry-After`); other 4xx
//! refuse that version for good, without holding up other targets. It
//! never builds: see `build`.

mod deliver;
mod keeper;
pub mod lease;
mod outbox;
mod plan;
mod redact;
mod s3;
mod send;
mod webhook;

pub use keeper::{Hold, Keepers};
pub use outbox::{Outbox, OutboxError, Pending, Stored, TargetBox};
pub use plan::stage;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::output::{self, LockError, OutputError};
use deliver::{deliver, FileStore, Target};
use redact::{Secrets, ERROR_CHARS};
use send::{Client, Delivery};

/// The target name the WebSub hub's pings are kept under.
pub const HUB: &str = "websub";

/// How to push.
#[derive(Debug, Clone, Copy, Default)]
pub struct PushOptions {
    /// Say what would be sent; send nothing, change nothing.
    pub dry_run: bool,
    /// Send every file, changed or not, without preconditions.
    pub force: bool,
}

/// What a push did, per target.
#[derive(Debug, Default)]
pub struct PushReport {
    /// In config order, then the hub.
    pub targets: Vec<TargetReport>,
}

/// What one target got.
#[derive(Debug, Default)]
pub struct TargetReport {
    /// Its name.
    pub name: String,
    /// Files delivered (for a dry run: that would be).
    pub sent: Vec<String>,
    /// Files it already had.
    pub unchanged: usize,
    /// Files still pending after this push, with the last error.
    pub pending: Vec<(String, String)>,
    /// Files it refused for good, with its answer.
    pub refused: Vec<(String, String)>,
    /// Files deleted there (for a dry run: that would be), in order.
    pub deleted: Vec<String>,
    /// Deletions not done, with why.
    pub not_deleted: Vec<(String, String)>,
    /// What stopped part of the push (too many deletions).
    pub errors: Vec<String>,
    /// A dry run: `sent` is what would have been sent; nothing was.
    pub dry_run: bool,
    /// Another wirefeed holds the target's lease, so a `run` waits: who
    /// and until when, in words.
    pub standby: Option<String>,
}

impl std::fmt::Display for TargetReport {
    /// `cdn: sent 3, unchanged 104, pending 0, refused 0, deleted 1` (a
    /// dry run: `cdn: would send 3, ... would delete 1`); deletions and
    /// deletions not done only when there are some.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(standby) = &self.standby {
            return write!(f, "{}: standby, the lease is {standby}", self.name);
        }
        let (send, delete) = match self.dry_run {
            true => ("would send", "would delete"),
            false => ("sent", "deleted"),
        };
        write!(
            f,
            "{}: {send} {}, unchanged {}, pending {}, refused {}",
            self.name,
            self.sent.len(),
            self.unchanged,
            self.pending.len(),
            self.refused.len(),
        )?;
        if !self.deleted.is_empty() {
            write!(f, ", {delete} {}", self.deleted.len())?;
        }
        if !self.not_deleted.is_empty() {
            write!(f, ", not deleted {}", self.not_deleted.len())?;
        }
        Ok(())
    }
}

impl std::fmt::Display for Pending {
    /// `0123456789ab  refused, 1 attempts: HTTP 403 Forbidden`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.permanent { "refused" } else { "pending" };
        let error = self.last_error.as_deref().unwrap_or("not sent yet");
        let version = self.sha256.get(..12).unwrap_or(&self.sha256);
        write!(f, "{version}  {state}, {} attempts: {error}", self.attempts)
    }
}

impl TargetReport {
    /// Each problem of this push on one line: `FILE: ERROR` for what is
    /// pending, refused or not deleted, then what stopped part of it.
    pub fn problems(&self) -> Vec<String> {
        let files = self.pending.iter().chain(&self.refused);
        files
            .chain(&self.not_deleted)
            .map(|(file, error)| format!("{file}: {error}"))
            .chain(self.errors.iter().cloned())
            .collect()
    }
}

impl PushReport {
    /// True when every target holds every file and nothing else this
    /// wirefeed published.
    pub fn complete(&self) -> bool {
        self.targets.iter().all(|t| {
            t.pending.is_empty()
                && t.refused.is_empty()
                && t.not_deleted.is_empty()
                && t.errors.is_empty()
        })
    }
}

/// A problem that stops a push before it starts.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The outbox could not be read.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// The outbox could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Nothing to push, or a secret is missing.
    #[error("{0}")]
    Setup(String),
    /// Another wirefeed (a `run`, a `build`, a `push`) is writing the
    /// output folder.
    #[error(transparent)]
    Locked(#[from] LockError),
}

/// The files of output folder `dir` (relative paths, `/`-separated) with
/// the sha256 of their bytes; hidden files (cache, outbox) left out.
pub fn versions(dir: &Path) -> Result<BTreeMap<String, String>, PushError> {
    if !dir.join("index.html").is_file() {
        return Err(PushError::Setup(format!(
            "{}: nothing built here yet: run `wirefeed build` first",
            dir.display()
        )));
    }
    let mut out = BTreeMap::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let cannot_list =
            |e: std::io::Error| PushError::Setup(format!("cannot list {}: {e}", folder.display()));
        for entry in std::fs::read_dir(&folder).map_err(cannot_list)? {
            let entry = entry.map_err(cannot_list)?;
            if entry.file_name().as_encoded_bytes().first() == Some(&b'.') {
                continue;
            }
            let path = entry.path();
            let kind = entry.file_type().map_err(cannot_list)?;
            if kind.is_dir() {
                folders.push(path);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let bytes = std::fs::read(&path)
                .map_err(|e| PushError::Setup(format!("{}: cannot read: {e}", path.display())))?;
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, sha256(&bytes));
        }
    }
    Ok(out)
}

/// Hex sha256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Pushes the output folder to every `[[push]]` target, then pings the
/// `[websub]` hub for every feed all targets now hold. Holds the output
/// folder's lock while it works (it writes the outbox), so it never runs
/// beside a `run` or `build` writing there; a dry run writes nothing and
/// takes no lock.
///
/// A target with a lease is pushed to only once this push holds it: held
/// by another wirefeed, it is refused (named in the report's errors);
/// the lease is renewed while the push goes on and given up at its end.
/// `now` is the clock written into the lease (for people to read).
pub fn push(
    config: &Config,
    options: PushOptions,
    now: fn() -> chrono::DateTime<chrono::Utc>,
) -> Result<PushReport, PushError> {
    if config.push.is_empty() && config.websub.is_none() {
        return Err(PushError::Setup(format!(
            "{}: no [[push]] target and no [websub] hub: nothing to push to",
            config.path.display()
        )));
    }
    // Not built yet: `versions` says so, and no lock file is left behind.
    let built = config.output.join("index.html").is_file();
    let _lock = match !options.dry_run && built {
        true => Some(output::lock(&config.output)?),
        false => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| PushError::Setup(format!("cannot start: {e}")))?;
    runtime.block_on(async {
        // A dry run needs no lease; nothing built: `versions` says so.
        if options.dry_run || !built {
            return push_async(config, options, &BTreeMap::new()).await;
        }
        let mut keepers = Keepers::start(config, true, now)?;
        keepers.known().await;
        let pushed = push_async(config, options, &keepers.holdings()).await;
        keepers.stop().await;
        pushed
    })
}

/// [`push`] inside a runtime, without taking the lock (`run` holds it):
/// targets with a lease only where `holdings` says it is held (a dry run
/// needs none).
pub async fn push_async(
    config: &Config,
    options: PushOptions,
    holdings: &BTreeMap<String, Hold>,
) -> Result<PushReport, PushError> {
    let dir = config.output.clone();
    let current = versions(&dir)?;
    let mut outbox = Outbox::load(&dir)?;
    let mut report = PushReport::default();
    let secrets = Arc::new(Secrets::of(config));
    let mut targets: Vec<Target> = config
        .push
        .iter()
        .map(|target| Target::new(target, secrets.clone()))
        .collect::<Result<_, _>>()
        .map_err(PushError::Setup)?;
    if !options.dry_run {
        for (target, kind) in config.push.iter().zip(targets.iter_mut()) {
            let held = holdings.get(&target.name);
            let (
                Some(_),
                Some(Hold::Held {
                    epoch,
                    from_another,
                    ..
                }),
                Target::Files(FileStore::S3(bucket)),
            ) = (target.lease, held, kind)
            else {
                continue;
            };
            *bucket = bucket.clone().under_lease(*epoch);
            if !from_another {
                continue;
            }
            keeper::adopt(
                bucket,
                &target.name,
                *epoch,
                &current,
                outbox.target(&target.name),
            )
            .await;
        }
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, Delivery)>();
    let mut jobs = JoinSet::new();
    // Targets whose lease another wirefeed holds.
    let mut waiting = Vec::new();
    for (t, (target, kind)) in config.push.iter().zip(targets).enumerate() {
        let plan = plan::plan(target, outbox.target(&target.name), &current, options.force);
        report.targets.push(TargetReport {
            name: target.name.clone(),
            unchanged: plan.unchanged,
            dry_run: options.dry_run,
            errors: plan.refused_deletions.iter().cloned().collect(),
            ..TargetReport::default()
        });
        if options.dry_run {
            report.targets[t].sent = plan.uploads().map(|u| u.file.clone()).collect();
            report.targets[t].deleted = plan.deletions.iter().map(|d| d.file.clone()).collect();
            continue;
        }
        let (kind, stop) = match (target.lease, holdings.get(&target.name), kind) {
            (None, _, kind) => (kind, CancellationToken::new()),
            (Some(_), Some(Hold::Held { stop, .. }), kind) => (kind, stop.clone()),
            (Some(_), hold, _) => {
                waiting.push(t);
                let report = &mut report.targets[t];
                report.unchanged = 0;
                match hold {
                    Some(Hold::Standby(words)) => report.standby = Some(words.clone()),
                    Some(Hold::Refused(words)) => report.errors = vec![words.clone()],
                    _ => report.errors = vec!["the lease is not held yet: nothing sent".into()],
                }
                continue;
            }
        };
        match kind {
            Target::Files(store) => {
                let job = deliver(t, store, plan, dir.clone(), tx.clone());
                jobs.spawn(async move {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = job => {}
                    }
                });
            }
            Target::Webhook(client) => {
                let files: Vec<String> = plan.uploads().map(|u| u.file.clone()).collect();
                let removed: Vec<String> = plan.deletions.into_iter().map(|d| d.file).collect();
                if files.is_empty() && removed.is_empty() {
                    continue;
                }
                let tb = outbox.target(&target.name);
                let changes = webhook::changes(config, &dir, &files, removed, tb);
                let tx = tx.clone();
                jobs.spawn(async move {
                    let _ = tx.send((t, client.webhook(changes).await));
                });
            }
        }
    }
    drop(tx);
    if !options.dry_run {
        outbox.save(&dir)?;
    }
    while let Some((t, delivery)) = rx.recv().await {
        let tb = outbox.target(&config.push[t].name);
        record(tb, &mut report.targets[t], delivery);
        // Every acknowledgement is on disk before the next one counts.
        outbox.save(&dir)?;
    }
    while jobs.join_next().await.is_some() {}
    if let Some(websub) = &config.websub {
        let client = Client::hub(websub.hub.clone(), secrets.clone()).map_err(PushError::Setup)?;
        let hub = ping_hub(config, &client, &current, &mut outbox, options).await;
        report.targets.push(hub);
        if !options.dry_run {
            outbox.save(&dir)?;
        }
    }
    for (t, report) in report.targets.iter_mut().enumerate() {
        if waiting.contains(&t) {
            continue;
        }
        outstanding(
            outbox.target(&report.name),
            report,
            options.dry_run,
            &secrets,
        );
    }
    Ok(report)
}

/// Notes a delivery's outcome in the target's box and report.
fn record(tb: &mut TargetBox, report: &mut TargetReport, delivery: Delivery) {
    match delivery {
        Delivery::Acked {
            files,
            announced,
            stored,
            removed,
        } => {
            for (file, sha) in files {
                match &stored {
                    Some(s) => tb.ack_stored(&file, &sha, s.clone()),
                    None => tb.ack(&file, &sha),
                }
                report.sent.push(file);
            }
            tb.announced.extend(announced);
            for file in removed {
                tb.forget(&file);
                report.deleted.push(file);
            }
        }
        Delivery::Deleted { file } => {
            tb.forget(&file);
            report.deleted.push(file);
        }
        Delivery::NotDeleted { file, error } => report.not_deleted.push((file, error)),
        Delivery::Failed {
            files,
            attempts,
            error,
            permanent,
        } => {
            for (file, sha) in files {
                tb.fail(&file, &sha, attempts, error.clone(), permanent);
            }
        }
    }
}

/// Lists what the target still lacks after this push: refused versions,
/// and pending ones (a dry run reports those as "would send" instead).
/// Errors are quoted again: an outbox written by an older wirefeed, or by
/// hand, may hold a server's words as they came.
fn outstanding(tb: &TargetBox, report: &mut TargetReport, dry_run: bool, secrets: &Secrets) {
    for (file, p) in &tb.pending {
        let error = p.last_error.as_deref().unwrap_or("not sent yet");
        let error = secrets.quote(error, ERROR_CHARS);
        if p.permanent {
            report.refused.push((file.clone(), error));
        } else if !dry_run && !report.sent.contains(file) {
            report.pending.push((file.clone(), error));
        }
    }
}

/// Pings the hub for every feed file whose current version every target
/// acknowledged and the hub has not been told about.
async fn ping_hub(
    config: &Config,
    client: &Client,
    current: &BTreeMap<String, String>,
    outbox: &mut Outbox,
    options: PushOptions,
) -> TargetReport {
    let feeds: BTreeMap<String, String> = current
        .iter()
        .filter(|(f, _)| f.ends_with(".rss") || f.ends_with(".atom") || f.ends_with(".json"))
        .filter(|(f, sha)| {
            config
                .push
                .iter()
                .all(|t| outbox.targets.get(&t.name).and_then(|b| b.acked.get(*f)) == Some(*sha))
        })
        .map(|(f, s)| (f.clone(), s.clone()))
        .collect();
    let todo = outbox
        .target(HUB)
        .queue(&feeds, &|_| String::new(), options.force);
    let mut report = TargetReport {
        name: HUB.into(),
        unchanged: feeds.len() - todo.len(),
        dry_run: options.dry_run,
        ..TargetReport::default()
    };
    if options.dry_run {
        report.sent = todo;
        return report;
    }
    for file in todo {
        let url = config.site.feed_url_of_file(&file);
        let sha = feeds.get(&file).cloned().unwrap_or_default();
        let delivery = client.ping(&url, file.clone(), sha).await;
        record(outbox.target(HUB), &mut report, delivery);
    }
    report
}

/// What `status` shows of one target.
#[derive(Debug, Default)]
pub struct TargetStatus {
    /// The target's name.
    pub name: String,
    /// Every file not delivered yet, with what the outbox knows of it.
    pub pending: Vec<(String, Pending)>,
    /// Files this wirefeed published there that are gone and will be
    /// deleted by the next push (in the order it deletes them).
    pub deletions: Vec<String>,
    /// Why the next push will not delete them, if it will not.
    pub refused_deletions: Option<String>,
}

/// What `status` shows: per target, every file not yet delivered (last
/// errors quoted again, as in [`push`]'s report) and every pending
/// deletion.
pub fn status(config: &Config) -> Result<Vec<TargetStatus>, PushError> {
    let dir: PathBuf = config.output.clone();
    let current = versions(&dir)?;
    let mut outbox = Outbox::load(&dir)?;
    let secrets = Secrets::of(config);
    let mut names: Vec<String> = config.push.iter().map(|t| t.name.clone()).collect();
    if config.websub.is_some() {
        names.push(HUB.into());
    }
    let mut out = Vec::new();
    for name in names {
        let tb = outbox.target(&name);
        let mut list = Vec::new();
        for (file, sha) in &current {
            if tb.acked.get(file) == Some(sha) {
                continue;
            }
            let p = match tb.pending.get(file) {
                Some(p) if &p.sha256 == sha => Pending {
                    last_error: p
                        .last_error
                        .as_deref()
                        .map(|e| secrets.quote(e, ERROR_CHARS)),
                    ..p.clone()
                },
                _ => Pending {
                    sha256: sha.clone(),
                    ..Pending::default()
                },
            };
            list.push((file.clone(), p));
        }
        let mut status = TargetStatus {
            name: name.clone(),
            pending: list,
            ..TargetStatus::default()
        };
        if let Some(target) = config.push.iter().find(|t| t.name == name) {
            // The plan of a copy: status changes nothing.
            let plan = plan::plan(target, &mut tb.clone(), &current, false);
            status.deletions = plan.deletions.into_iter().map(|d| d.file).collect();
            if plan.refused_deletions.is_some() {
                status.deletions = tb.gone(&current).cloned().collect();
            }
            status.refused_deletions = plan.refused_deletions;
        }
        out.push(status);
    }
    Ok(out)
}
