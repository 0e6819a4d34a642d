//! The lease: which one of several wirefeeds (two `run`s on two machines)
//! publishes to a target. One object on the target, `.wirefeed-lease`
//! under its prefix, names the holder; every change to it is a
//! conditional write, so two wirefeeds can never both hold it:
//!
//! - taken with `If-None-Match: *` (`PutMode::Create`) when there is none;
//! - renewed every third of its duration with `If-Match` on the ETag of
//!   the holder's own last write (`PutMode::Update`);
//! - taken over, `If-Match` on the ETag seen, when it was released, or
//!   when its ETag has not changed for the whole duration: two takers
//!   race on that ETag and one wins;
//! - released on a clean stop by an overwrite marked released (again
//!   `If-Match`), which also keeps the epoch counting.
//!
//! Expiry is judged on the observer's own monotonic clock, from the moment
//! it first saw the ETag, never from the times written in the lease (which
//! are for people): clocks of two machines may disagree, their rates do
//! not. The holder's last write was sent before anyone saw it, and the
//! holder stops publishing a [`margin`] (3 s of 30) before a duration has passed since
//! it sent it, so it has stopped before anyone can take over.
//!
//! Every acquisition raises the lease's epoch; objects written under a
//! lease carry it (see `s3`), which lets a new holder write over what an
//! earlier holder left, and nothing newer.
//!
//! In: an object store and a key. Out: [`Status`] after each [`Lease::step`].
//! It does not publish, and it never sleeps: the caller steps it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use object_store::path::Path as Key;
use object_store::{
    Error, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion,
};
use serde::{Deserialize, Serialize};

/// The lease object's name under the target's prefix (hidden, like every
/// state file of wirefeed: never a file of the output folder).
pub const KEY: &str = ".wirefeed-lease";

/// How long before a lease's end its holder stops publishing: its last
/// renewal may have been slow to be seen.
pub fn margin(duration: Duration) -> Duration {
    (duration / 10).clamp(Duration::from_millis(500), Duration::from_secs(5))
}

/// What the lease object holds (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Who holds it: `host:pid:random`.
    pub holder: String,
    /// Raised by every acquisition.
    pub epoch: u64,
    /// When the holder took it (its clock).
    pub acquired: DateTime<Utc>,
    /// When the holder last renewed it (its clock).
    pub renewed: DateTime<Utc>,
    /// When it ends unless renewed (its clock; the taker goes by its own).
    pub expires: DateTime<Utc>,
    /// How long it lasts unless renewed, in milliseconds.
    pub duration_ms: u64,
    /// Given up on a clean stop: anyone may take it at once.
    #[serde(default)]
    pub released: bool,
    /// Counts the holder's writes: every write has other bytes, so another
    /// ETag (S3's is their MD5), whatever the clocks say.
    #[serde(default)]
    pub beat: u64,
}

impl Record {
    fn duration(&self) -> Duration {
        Duration::from_millis(self.duration_ms)
    }
}

/// Where the lease stands after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// This wirefeed holds it and may publish until `until` (the caller's
    /// monotonic clock).
    Held {
        /// The epoch it holds.
        epoch: u64,
        /// Publishing must stop by then unless a later step renews it.
        until: Instant,
        /// It was acquired by this step (from `from`, when someone held
        /// it before).
        acquired: Option<Acquired>,
        /// A renewal failed (it is tried again); the lease still holds.
        renew_error: Option<String>,
    },
    /// Someone else holds it.
    Standby {
        /// Who (`None`: not a wirefeed lease, or not read yet).
        record: Option<Record>,
        /// When it can be taken over if it is not renewed meanwhile.
        takeover_in: Duration,
        /// It was held by this wirefeed until this step, and why it is not.
        lost: Option<String>,
    },
}

/// How a lease was acquired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    /// There was none.
    New,
    /// Released by its holder.
    Released(String),
    /// Held by a process of this output folder, which is gone.
    OursBefore(String),
    /// Not renewed for its duration: its holder is gone or cut off.
    Expired(String),
}

/// A lease request failed.
#[derive(Debug, thiserror::Error)]
#[error("the lease object {key}: {reason}")]
pub struct LeaseError {
    /// The key.
    pub key: String,
    /// What went wrong.
    pub reason: String,
}

/// One wirefeed's view of one target's lease.
pub struct Lease {
    store: Arc<dyn ObjectStore>,
    key: Key,
    holder: String,
    duration: Duration,
    /// Holder ids earlier processes of this output folder used: they are
    /// gone (this one holds the folder's lock now).
    ours_before: Vec<String>,
    state: State,
}

enum State {
    /// Not holding; the ETag last seen and since when.
    Watching(Option<Seen>),
    /// Holding since the write of `etag`, sent at `sent`.
    Holding {
        etag: String,
        record: Record,
        sent: Instant,
    },
}

struct Seen {
    etag: String,
    since: Instant,
}

impl Lease {
    /// A lease at `KEY` under `prefix` of `store`, held as `holder` for
    /// `duration` at a time; `ours_before`: holder ids of earlier
    /// processes of this output folder.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        prefix: &str,
        holder: String,
        duration: Duration,
        ours_before: Vec<String>,
    ) -> Result<Lease, LeaseError> {
        let key = Key::parse(format!("{prefix}{KEY}")).map_err(|e| LeaseError {
            key: format!("{prefix}{KEY}"),
            reason: format!("not a key: {e}"),
        })?;
        Ok(Lease {
            store,
            key,
            holder,
            duration,
            ours_before,
            state: State::Watching(None),
        })
    }

    /// This process's holder id.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Whether `holder` is this process or an earlier one of this output
    /// folder.
    pub fn is_ours(&self, holder: &str) -> bool {
        holder == self.holder || self.ours_before.iter().any(|h| h == holder)
    }

    /// How long this process's lease lasts unless renewed.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// When the next step is due: a renewal at a third of the duration,
    /// a look at someone else's lease as often.
    pub fn next_step(&self, now: Instant) -> Instant {
        match &self.state {
            State::Holding { sent, .. } => *sent + self.duration / 3,
            State::Watching(_) => now + self.duration / 3,
        }
    }

    /// Renews, acquires or watches, as due at `now` (monotonic) and
    /// `wall` (written in the record for people).
    pub async fn step(&mut self, now: Instant, wall: DateTime<Utc>) -> Result<Status, LeaseError> {
        match std::mem::replace(&mut self.state, State::Watching(None)) {
            State::Holding { etag, record, sent } => {
                self.renew(etag, record, sent, now, wall).await
            }
            State::Watching(seen) => self.watch(seen, now, wall).await,
        }
    }

    async fn renew(
        &mut self,
        etag: String,
        record: Record,
        sent: Instant,
        now: Instant,
        wall: DateTime<Utc>,
    ) -> Result<Status, LeaseError> {
        let until = sent + self.duration - margin(self.duration);
        if now < sent + self.duration / 3 && now < until {
            self.state = State::Holding { etag, record, sent };
            return Ok(self.held(until, None, None));
        }
        let renewed = Record {
            renewed: wall,
            expires: wall + chrono_of(self.duration),
            duration_ms: millis(self.duration),
            beat: record.beat.wrapping_add(1),
            ..record.clone()
        };
        match self.write(&renewed, PutMode::Update(version(&etag))).await {
            Ok(new) => {
                let until = now + self.duration - margin(self.duration);
                self.state = State::Holding {
                    etag: new,
                    record: renewed,
                    sent: now,
                };
                Ok(self.held(until, None, None))
            }
            Err(
                Error::Precondition { .. } | Error::AlreadyExists { .. } | Error::NotFound { .. },
            ) => {
                let seen = self.read().await.ok().flatten();
                let record = seen.as_ref().and_then(|(_, r)| r.clone());
                let by = record
                    .as_ref()
                    .map_or("someone else".into(), |r| r.holder.clone());
                self.state = State::Watching(seen.map(|(etag, _)| Seen { etag, since: now }));
                Ok(Status::Standby {
                    takeover_in: self.duration,
                    lost: Some(format!("taken over by {by}")),
                    record,
                })
            }
            Err(e) if now >= until => {
                // Our record may still be there: a later step takes it
                // back at once if nobody took it meanwhile.
                self.state = State::Watching(Some(Seen { etag, since: sent }));
                Ok(Status::Standby {
                    record: Some(record),
                    takeover_in: Duration::ZERO,
                    lost: Some(format!(
                        "not renewed for {}: {e}",
                        show(self.duration - margin(self.duration))
                    )),
                })
            }
            Err(e) => {
                self.state = State::Holding { etag, record, sent };
                Ok(self.held(until, None, Some(e.to_string())))
            }
        }
    }

    async fn watch(
        &mut self,
        seen: Option<Seen>,
        now: Instant,
        wall: DateTime<Utc>,
    ) -> Result<Status, LeaseError> {
        let read = match self.read().await {
            Ok(read) => read,
            Err(e) => {
                self.state = State::Watching(seen);
                return Err(e);
            }
        };
        let Some((etag, record)) = read else {
            let record = self.record(1, wall, wall);
            return match self.write(&record, PutMode::Create).await {
                Ok(etag) => Ok(self.hold(etag, record, now, Acquired::New)),
                Err(Error::AlreadyExists { .. } | Error::Precondition { .. }) => {
                    Ok(self.standby(None, None, now, None))
                }
                Err(e) => Err(self.error(e)),
            };
        };
        let epoch = record.as_ref().map_or(0, |r| r.epoch) + 1;
        let holder = record.as_ref().map_or_else(
            || "something that is not a wirefeed lease".to_owned(),
            |r| r.holder.clone(),
        );
        let free = match &record {
            Some(r) if r.released => Some(Acquired::Released(holder.clone())),
            Some(r) if r.holder == self.holder => Some(Acquired::OursBefore(holder.clone())),
            Some(r) if self.ours_before.contains(&r.holder) => {
                Some(Acquired::OursBefore(holder.clone()))
            }
            _ => None,
        };
        let lasts = record.as_ref().map_or(self.duration, Record::duration);
        // A new ETag counts from when the read came back, never from
        // before it was sent: the holder's write may have been sent after
        // the read was, and have reached the store first.
        let since = match &seen {
            Some(s) if s.etag == etag => s.since,
            _ => now.max(Instant::now()),
        };
        let how = match free {
            Some(how) => how,
            None if now.saturating_duration_since(since) >= lasts => Acquired::Expired(holder),
            None => {
                let left = lasts.saturating_sub(now.saturating_duration_since(since));
                return Ok(self.standby(Some(etag), record, since, Some(left)));
            }
        };
        let acquired = match &record {
            Some(r) if matches!(how, Acquired::OursBefore(_)) && r.holder == self.holder => {
                r.acquired
            }
            _ => wall,
        };
        let new = self.record(epoch, acquired, wall);
        match self.write(&new, PutMode::Update(version(&etag))).await {
            Ok(tag) => Ok(self.hold(tag, new, now, how)),
            Err(Error::Precondition { .. } | Error::NotFound { .. }) => {
                Ok(self.standby(None, None, now, None))
            }
            Err(e) => Err(self.error(e)),
        }
    }

    /// Gives the lease up, if held: an overwrite marked released, so the
    /// next taker need not wait. Nothing when it is not held.
    pub async fn release(&mut self, wall: DateTime<Utc>) -> Result<bool, LeaseError> {
        let State::Holding { etag, record, .. } =
            std::mem::replace(&mut self.state, State::Watching(None))
        else {
            return Ok(false);
        };
        let released = Record {
            renewed: wall,
            expires: wall,
            released: true,
            beat: record.beat.wrapping_add(1),
            ..record
        };
        match self.write(&released, PutMode::Update(version(&etag))).await {
            Ok(_) => Ok(true),
            // Taken over already: nothing of ours to give up.
            Err(Error::Precondition { .. } | Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.error(e)),
        }
    }

    fn record(&self, epoch: u64, acquired: DateTime<Utc>, wall: DateTime<Utc>) -> Record {
        Record {
            holder: self.holder.clone(),
            epoch,
            acquired,
            renewed: wall,
            expires: wall + chrono_of(self.duration),
            duration_ms: millis(self.duration),
            released: false,
            beat: 0,
        }
    }

    fn hold(&mut self, etag: String, record: Record, now: Instant, how: Acquired) -> Status {
        let until = now + self.duration - margin(self.duration);
        self.state = State::Holding {
            etag,
            record,
            sent: now,
        };
        self.held(until, Some(how), None)
    }

    fn held(
        &self,
        until: Instant,
        acquired: Option<Acquired>,
        renew_error: Option<String>,
    ) -> Status {
        let epoch = match &self.state {
            State::Holding { record, .. } => record.epoch,
            State::Watching(_) => 0,
        };
        Status::Held {
            epoch,
            until,
            acquired,
            renew_error,
        }
    }

    /// Watching `etag` (when read) seen since `since`.
    fn standby(
        &mut self,
        etag: Option<String>,
        record: Option<Record>,
        since: Instant,
        left: Option<Duration>,
    ) -> Status {
        let lasts = record.as_ref().map_or(self.duration, Record::duration);
        self.state = State::Watching(etag.map(|etag| Seen { etag, since }));
        Status::Standby {
            record,
            takeover_in: left.unwrap_or(lasts),
            lost: None,
        }
    }

    /// The lease object's ETag and record (`None` for a record: not a
    /// wirefeed lease); `None` when there is no object.
    async fn read(&self) -> Result<Option<(String, Option<Record>)>, LeaseError> {
        let got = match self.store.get(&self.key).await {
            Ok(g) => g,
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.error(e)),
        };
        let etag = got.meta.e_tag.clone().unwrap_or_default();
        let bytes = got.bytes().await.map_err(|e| self.error(e))?;
        Ok(Some((etag, serde_json::from_slice(&bytes).ok())))
    }

    /// One conditional write of `record`; the new ETag.
    async fn write(&self, record: &Record, mode: PutMode) -> Result<String, Error> {
        let mut json = serde_json::to_vec_pretty(record).map_err(|e| Error::Generic {
            store: "lease",
            source: Box::new(e),
        })?;
        json.push(b'\n');
        let mut attributes = object_store::Attributes::new();
        attributes.insert(
            object_store::Attribute::ContentType,
            "application/json".into(),
        );
        attributes.insert(object_store::Attribute::CacheControl, "no-store".into());
        let options = PutOptions {
            mode,
            attributes,
            ..PutOptions::default()
        };
        let limit = self.duration / 3;
        let put = self
            .store
            .put_opts(&self.key, PutPayload::from(json), options);
        let result = tokio::time::timeout(limit, put)
            .await
            .map_err(|_| Error::Generic {
                store: "lease",
                source: format!("no answer within {}", show(limit)).into(),
            })??;
        result.e_tag.ok_or(Error::Generic {
            store: "lease",
            source: "the store gave the lease no ETag, so it cannot be renewed safely".into(),
        })
    }

    fn error(&self, e: Error) -> LeaseError {
        LeaseError {
            key: self.key.to_string(),
            reason: e.to_string(),
        }
    }
}

fn version(etag: &str) -> UpdateVersion {
    UpdateVersion {
        e_tag: Some(etag.to_owned()),
        version: None,
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// `30s`, `1.5s`.
pub fn show(d: Duration) -> String {
    match d.subsec_millis() {
        0 => format!("{}s", d.as_secs()),
        _ => format!("{:.1}s", d.as_secs_f64()),
    }
}

/// A holder id for this process: `host:pid:random`, unique across
/// machines and restarts.
pub fn holder_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the operating system's randomness.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!(
        "{}:{}:{:016x}",
        crate::sys::host_name(),
        std::process::id(),
        h.finish()
    )
}

#[cfg(test)]
#[path = "lease_tests.rs"]
mod tests;
