//! Keeping the leases of a `run` or a `push`: one task per target with a
//! lease steps it (renewing at a third of its duration, watching someone
//! else's as often), says in the log when this wirefeed holds it, waits
//! (standby) or lost it, and gives it up on a clean stop. A push may
//! publish to a target only while [`Keepers::holdings`] says `Held`, and
//! stops the moment the hold's token is cancelled: when a renewal has not
//! got through by the lease's end less its margin, or someone else holds
//! it now.
//!
//! A one-shot `push` does not wait for a live holder: it refuses that
//! target, naming the holder. A holder whose time is up by this machine's
//! clock is watched for up to one lease duration (clocks may disagree):
//! renewed meanwhile, it is alive and the push refuses; not renewed, it is
//! taken over.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::lease::{self, Acquired, Lease, Record, Status};
use super::outbox::{Outbox, TargetBox};
use super::redact::Secrets;
use super::s3::Bucket;
use super::PushError;
use crate::config::{Config, PushKind, PushTarget};

/// Where this wirefeed stands with one target's lease.
#[derive(Debug, Clone)]
pub enum Hold {
    /// Not known yet (the first step is under way).
    Unknown,
    /// Held under `epoch`; `stop` is cancelled the moment it is not.
    Held {
        /// The lease's epoch.
        epoch: u64,
        /// Cancelled when the hold ends.
        stop: CancellationToken,
        /// Taken from a holder that was not a process of this output
        /// folder: what it published is taken in (see [`adopt`]).
        from_another: bool,
    },
    /// Someone else holds it; in words.
    Standby(String),
    /// A one-shot push will not publish here; in words.
    Refused(String),
}

/// The leases of one process.
pub struct Keepers {
    kept: BTreeMap<String, Kept>,
    holder: String,
    one_shot: bool,
    now: fn() -> DateTime<Utc>,
    acquired: Arc<Notify>,
}

struct Kept {
    /// The table it was started for: a changed one starts again.
    target: PushTarget,
    hold: watch::Receiver<Hold>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Keepers {
    /// Starts keeping the lease of every target of `config` that has one.
    /// `one_shot`: a push, which refuses a target held by a live holder
    /// instead of waiting. The holder id is noted in the outbox first (the
    /// caller holds the output folder's lock).
    pub fn start(
        config: &Config,
        one_shot: bool,
        now: fn() -> DateTime<Utc>,
    ) -> Result<Keepers, PushError> {
        let mut keepers = Keepers {
            kept: BTreeMap::new(),
            holder: lease::holder_id(),
            one_shot,
            now,
            acquired: Arc::new(Notify::new()),
        };
        keepers.follow(config)?;
        Ok(keepers)
    }

    /// Keeps the leases of `config`'s targets (after a reload): new ones
    /// are started, the leases of targets gone or changed are given up.
    pub fn follow(&mut self, config: &Config) -> Result<(), PushError> {
        let leased: BTreeMap<&str, &PushTarget> = config
            .push
            .iter()
            .filter(|t| t.kind == PushKind::S3 && t.lease.is_some())
            .map(|t| (t.name.as_str(), t))
            .collect();
        let stale: Vec<String> = self
            .kept
            .iter()
            .filter(|(name, k)| {
                leased
                    .get(name.as_str())
                    .is_none_or(|t| !same_lease(t, &k.target))
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            if let Some(k) = self.kept.remove(&name) {
                // The task gives the lease up by itself.
                k.stop.cancel();
            }
        }
        let new: Vec<&PushTarget> = leased
            .values()
            .filter(|t| !self.kept.contains_key(&t.name))
            .copied()
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        let mut outbox = Outbox::load(&config.output)?;
        let secrets = Arc::new(Secrets::of(config));
        let mut leases = Vec::new();
        for target in new {
            let before = outbox.target(&target.name).new_lease_holder(&self.holder);
            let bucket = Bucket::new(target, secrets.clone()).map_err(PushError::Setup)?;
            let lease = bucket
                .lease(self.holder.clone(), before)
                .map_err(PushError::Setup)?;
            leases.push((target.clone(), lease));
        }
        // On disk before the first write to any lease.
        outbox.save(&config.output)?;
        for (target, lease) in leases {
            let (tx, rx) = watch::channel(Hold::Unknown);
            let stop = CancellationToken::new();
            let job = Job {
                name: target.name.clone(),
                lease,
                tx,
                one_shot: self.one_shot,
                now: self.now,
                acquired: self.acquired.clone(),
            };
            let task = tokio::spawn(job.run(stop.clone()));
            self.kept.insert(
                target.name.clone(),
                Kept {
                    target,
                    hold: rx,
                    stop,
                    task,
                },
            );
        }
        Ok(())
    }

    /// Where every kept lease stands now, by target name.
    pub fn holdings(&self) -> BTreeMap<String, Hold> {
        self.kept
            .iter()
            .map(|(name, k)| (name.clone(), k.hold.borrow().clone()))
            .collect()
    }

    /// Waits until every kept lease is known (held, standby or refused).
    pub async fn known(&mut self) {
        for k in self.kept.values_mut() {
            let _ = k.hold.wait_for(|h| !matches!(h, Hold::Unknown)).await;
        }
    }

    /// Resolves when a lease was acquired (a standby `run` publishes at
    /// once then).
    pub async fn acquired(&self) {
        self.acquired.notified().await
    }

    /// Gives every lease up and waits for it (a few seconds at most).
    pub async fn stop(self) {
        for k in self.kept.values() {
            k.stop.cancel();
        }
        for (_, k) in self.kept {
            let _ = k.task.await;
        }
    }
}

/// Takes what earlier holders of the lease published into `tb`, once per
/// epoch taken from another wirefeed (see [`Bucket::adopt`]): a lease
/// taken from a process of this folder adds nothing the outbox does not
/// know, so a `push` lists nothing.
pub(super) async fn adopt(
    bucket: &Bucket,
    name: &str,
    epoch: u64,
    current: &BTreeMap<String, String>,
    tb: &mut TargetBox,
) {
    if tb.adopted_epoch == Some(epoch) {
        return;
    }
    match bucket.adopt(current, tb).await {
        Ok(taken) => {
            tb.adopted_epoch = Some(epoch);
            if taken > 0 {
                tracing::info!(
                    "push {name}: {taken} files an earlier holder of the lease published are gone from this build: they will be deleted"
                );
            }
        }
        Err(e) => tracing::warn!(
            "push {name}: what earlier holders of the lease published could not be listed ({e}); tried again next push"
        ),
    }
}

/// A change of these needs a new lease.
fn same_lease(a: &PushTarget, b: &PushTarget) -> bool {
    (&a.bucket, &a.prefix, &a.endpoint, &a.region, a.lease)
        == (&b.bucket, &b.prefix, &b.endpoint, &b.region, b.lease)
}

/// One target's keeper task.
struct Job {
    name: String,
    lease: Lease,
    tx: watch::Sender<Hold>,
    one_shot: bool,
    now: fn() -> DateTime<Utc>,
    acquired: Arc<Notify>,
}

impl Job {
    async fn run(mut self, stop: CancellationToken) {
        let mut held: Option<(CancellationToken, Instant)> = None;
        let mut said = String::new();
        // One-shot: the record first seen of a holder whose time is up.
        let mut first: Option<Record> = None;
        let mut stopping = false;
        loop {
            let wall = (self.now)();
            let status = {
                let step = self.lease.step(Instant::now(), wall);
                tokio::pin!(step);
                loop {
                    let deadline = held.as_ref().map(|(_, until)| *until);
                    tokio::select! {
                        _ = stop.cancelled(), if !stopping => {
                            // Let a renewal under way finish, then give up.
                            if let Some((token, _)) = &held {
                                token.cancel();
                            }
                            stopping = true;
                        }
                        s = &mut step => break s,
                        _ = sleep_until(deadline) => {
                            // The renewal is still under way at the lease's end.
                            if let Some((token, _)) = held.take() {
                                token.cancel();
                                tracing::error!("push {}: the lease was not renewed in time: stopped publishing there", self.name);
                                self.tx.send_replace(Hold::Standby("the lease was not renewed in time".into()));
                            }
                        }
                    }
                }
            };
            if stopping {
                drop(status);
                return self.release(held).await;
            }
            let wait = match status {
                Ok(Status::Held {
                    epoch,
                    until,
                    acquired,
                    renew_error,
                }) => {
                    if let Some(e) = renew_error {
                        tracing::warn!(
                            "push {}: the lease was not renewed ({e}); trying again",
                            self.name
                        );
                    }
                    match (&mut held, acquired) {
                        (Some((_, u)), None) => *u = until,
                        (_, how) => {
                            if let Some((token, _)) = held.take() {
                                token.cancel();
                            }
                            let token = CancellationToken::new();
                            let from_another = match &how {
                                Some(Acquired::Released(h) | Acquired::Expired(h)) => {
                                    !self.lease.is_ours(h)
                                }
                                _ => false,
                            };
                            self.say_acquired(epoch, how);
                            said.clear();
                            self.tx.send_replace(Hold::Held {
                                epoch,
                                stop: token.clone(),
                                from_another,
                            });
                            held = Some((token, until));
                            self.acquired.notify_one();
                        }
                    }
                    self.lease
                        .next_step(Instant::now())
                        .saturating_duration_since(Instant::now())
                }
                Ok(Status::Standby {
                    record,
                    takeover_in,
                    lost,
                }) => {
                    if let Some((token, _)) = held.take() {
                        token.cancel();
                    }
                    if let Some(why) = &lost {
                        tracing::error!(
                            "push {}: lost the lease ({why}): stopped publishing there",
                            self.name
                        );
                    }
                    let words = standby(&record, takeover_in);
                    let who = record
                        .as_ref()
                        .map_or(String::new(), |r| format!("{} {}", r.holder, r.epoch));
                    if self.one_shot {
                        // Nothing is known until it is held or refused.
                        if let Some(refusal) = self.refusal(&record, &mut first, takeover_in) {
                            self.tx.send_replace(Hold::Refused(refusal));
                            return;
                        }
                    } else {
                        if who != said || lost.is_some() {
                            tracing::info!("push {}: standby: {words}", self.name);
                            said = who;
                        }
                        self.tx.send_replace(Hold::Standby(words));
                    }
                    takeover_in.clamp(Duration::from_millis(100), self.poll())
                }
                Err(e) => {
                    tracing::warn!("push {}: {e}; trying again", self.name);
                    if held.is_none() {
                        if self.one_shot {
                            self.tx.send_replace(Hold::Refused(e.to_string()));
                            return;
                        }
                        self.tx.send_replace(Hold::Standby(e.to_string()));
                    }
                    Duration::from_secs(1).min(self.poll())
                }
            };
            let deadline = held.as_ref().map(|(_, until)| *until);
            let next = Instant::now() + wait;
            tokio::select! {
                _ = stop.cancelled() => return self.release(held).await,
                _ = tokio::time::sleep_until(next.into()) => {}
                _ = sleep_until(deadline.filter(|d| *d < next)) => {}
            }
        }
    }

    /// How often a lease held elsewhere is looked at.
    fn poll(&self) -> Duration {
        self.lease.duration() / 3
    }

    /// A one-shot push's decision on a lease held elsewhere: a refusal,
    /// or `None` to go on watching (its holder's time is up by our clock:
    /// renewed meanwhile, it is alive after all).
    fn refusal(
        &self,
        record: &Option<Record>,
        first: &mut Option<Record>,
        takeover_in: Duration,
    ) -> Option<String> {
        let refuse = |r: &Option<Record>| {
            Some(format!(
                "the lease is held by another wirefeed: {}: nothing sent here (it is free once released, or not renewed for {})",
                who(r),
                lease::show(r.as_ref().map_or(self.lease.duration(), |r| Duration::from_millis(r.duration_ms)))
            ))
        };
        let Some(r) = record else {
            return None;
        };
        if r.expires > (self.now)() {
            return refuse(record);
        }
        match first {
            Some(f) if f != r => refuse(record),
            Some(_) => None,
            None => {
                tracing::warn!(
                    "push {}: the lease of {} ran out at {} by this machine's clock: watching it for up to {} before taking it over",
                    self.name,
                    r.holder,
                    r.expires.to_rfc3339(),
                    lease::show(takeover_in)
                );
                *first = Some(r.clone());
                None
            }
        }
    }

    fn say_acquired(&self, epoch: u64, how: Option<Acquired>) {
        let how = match how {
            None => "renewed after its deadline, nobody took it meanwhile".to_owned(),
            Some(Acquired::New) => "a new lease".to_owned(),
            Some(Acquired::Released(h)) => format!("released by {h}"),
            Some(Acquired::OursBefore(h)) => {
                format!("held by {h}, an earlier process of this output folder")
            }
            Some(Acquired::Expired(h)) => format!(
                "taken over from {h}, not renewed for {}",
                lease::show(self.lease.duration())
            ),
        };
        tracing::info!(
            "push {}: holding the lease as {} (epoch {epoch}; {how}): publishing there",
            self.name,
            self.lease.holder()
        );
    }

    async fn release(mut self, held: Option<(CancellationToken, Instant)>) {
        if let Some((token, _)) = held {
            token.cancel();
        }
        self.tx
            .send_replace(Hold::Standby("stopping: the lease is given up".into()));
        // Whatever this process holds (a renewal may have got through
        // after its deadline), given up.
        match self.lease.release((self.now)()).await {
            Ok(true) => tracing::info!("push {}: lease released", self.name),
            Ok(false) => {}
            Err(e) => tracing::warn!(
                "push {}: the lease could not be released ({e}): it runs out by itself",
                self.name
            ),
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// `held by HOST:PID:RANDOM (epoch 3, renewed 2026-12-01T09:00:00+00:00
/// by its clock); taken over in 30s unless renewed`.
fn standby(record: &Option<Record>, takeover_in: Duration) -> String {
    format!(
        "{}; taken over in {} unless renewed",
        who(record),
        lease::show(takeover_in)
    )
}

/// `held by HOST:PID:RANDOM (epoch 3, renewed … by its clock)`.
fn who(record: &Option<Record>) -> String {
    match record {
        Some(r) => format!(
            "held by {} (epoch {}, renewed {} by its clock)",
            r.holder,
            r.epoch,
            r.renewed.to_rfc3339()
        ),
        None => "held by something that is not a wirefeed lease".to_owned(),
    }
}
