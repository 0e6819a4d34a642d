//! The outbox: per target, the version (sha256) of every file the target
//! acknowledged, and the versions still to deliver with their attempts and
//! last error. Kept as `.wirefeed-outbox.json` in the output folder (hidden:
//! never served or pushed), rewritten atomically after every change, so a
//! push killed at any moment loses nothing: the next one sends whatever is
//! not acknowledged (at-least-once; a PUT of the same bytes is idempotent).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::output::{write_if_changed, OutputError};

/// The outbox's file name inside the output folder.
pub const FILE_NAME: &str = ".wirefeed-outbox.json";

/// Every target's deliveries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outbox {
    /// By target name; the WebSub hub is the target `websub`.
    pub targets: BTreeMap<String, TargetBox>,
}

/// One target's deliveries.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetBox {
    /// File (relative path) → sha256 of the version the target acknowledged.
    #[serde(default)]
    pub acked: BTreeMap<String, String>,
    /// File → the version still to deliver.
    #[serde(default)]
    pub pending: BTreeMap<String, Pending>,
    /// Feed file → item ids last announced to a webhook.
    #[serde(default)]
    pub announced: BTreeMap<String, Vec<String>>,
    /// File → how the acknowledged version was stored: the version tag
    /// the target gave it (for conditional writes) and the headers it went
    /// with (a change sends it again). Not for webhooks.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stored: BTreeMap<String, Stored>,
    /// The holder ids the last processes of this output folder took the
    /// target's lease as (newest last, at most [`LEASE_HOLDERS`]): a lease
    /// one of them holds is taken at once, since whoever holds the folder's
    /// lock now knows they are gone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lease_holders: Vec<String>,
    /// The lease epoch under which this box last took in what earlier
    /// holders published there (see `s3`'s `adopt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted_epoch: Option<u64>,
}

/// Holder ids kept per target.
pub const LEASE_HOLDERS: usize = 4;

/// How a target stored an acknowledged version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stored {
    /// The `ETag` the target answered with, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Media type and `Cache-Control`, as sent.
    pub headers: String,
}

/// A version waiting for delivery.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    /// The version (sha256 of the bytes).
    pub sha256: String,
    /// Tries so far.
    pub attempts: u32,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// The target refused this version for good (a 4xx other than 408 and
    /// 429): not retried until the file changes.
    pub permanent: bool,
    /// Earlier versions of this file that were pending and replaced by a
    /// newer one before they were acknowledged (newest last, at most
    /// [`SUPERSEDED`]): a push killed after writing one leaves it on the
    /// target, and the next push recognises it as its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<String>,
}

/// Unacknowledged versions kept per file.
pub const SUPERSEDED: usize = 8;

impl Pending {
    /// A pending `sha` replacing `self`, which may have been sent.
    fn replaced_by(&self, sha: &str) -> Pending {
        let mut superseded = self.superseded.clone();
        if !self.sha256.is_empty() && !superseded.contains(&self.sha256) {
            superseded.push(self.sha256.clone());
        }
        let extra = superseded.len().saturating_sub(SUPERSEDED);
        superseded.drain(..extra);
        Pending {
            sha256: sha.to_owned(),
            superseded,
            ..Pending::default()
        }
    }
}

/// The outbox could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct OutboxError {
    /// The outbox file.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

impl Outbox {
    /// The outbox of output folder `dir` (empty when there is none yet).
    pub fn load(dir: &Path) -> Result<Outbox, OutboxError> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Outbox::default()),
            Err(e) => {
                return Err(OutboxError {
                    path,
                    reason: format!("cannot read: {e}"),
                })
            }
        };
        serde_json::from_str(&text).map_err(|e| OutboxError {
            path,
            reason: format!("damaged ({e}); remove it to send every file again"),
        })
    }

    /// Writes the outbox atomically.
    pub fn save(&self, dir: &Path) -> Result<(), OutputError> {
        let path = dir.join(FILE_NAME);
        let mut json = serde_json::to_vec_pretty(self).map_err(|e| OutputError {
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        json.push(b'\n');
        write_if_changed(&path, &json).map(|_| ())
    }

    /// The target's box.
    pub fn target(&mut self, name: &str) -> &mut TargetBox {
        self.targets.entry(name.to_owned()).or_default()
    }
}

impl TargetBox {
    /// Files of `current` (file → sha256) this target still needs, in path
    /// order: every one with `force`, else those whose version it has not
    /// acknowledged with the same `headers` (a file stored before headers
    /// were recorded counts as the same) and has not refused for good.
    /// Their pending entries are brought up to date: a newer version
    /// replaces an older one.
    pub fn queue(
        &mut self,
        current: &BTreeMap<String, String>,
        headers: &dyn Fn(&str) -> String,
        force: bool,
    ) -> Vec<String> {
        let mut todo = Vec::new();
        for (file, sha) in current {
            let same_headers = self
                .stored
                .get(file)
                .is_none_or(|s| s.headers == headers(file));
            let acked = self.acked.get(file) == Some(sha) && same_headers;
            let entry = self.pending.get(file);
            let refused = entry.is_some_and(|p| p.permanent && &p.sha256 == sha);
            if force || (!acked && !refused) {
                if entry.is_none_or(|p| &p.sha256 != sha) {
                    let fresh = match entry {
                        Some(old) => old.replaced_by(sha),
                        None => Pending {
                            sha256: sha.clone(),
                            ..Pending::default()
                        },
                    };
                    self.pending.insert(file.clone(), fresh);
                }
                todo.push(file.clone());
            } else if acked {
                self.pending.remove(file);
            }
        }
        // Files that are gone are no longer pending.
        self.pending.retain(|f, _| current.contains_key(f));
        todo
    }

    /// Records an acknowledged version.
    pub fn ack(&mut self, file: &str, sha: &str) {
        self.acked.insert(file.to_owned(), sha.to_owned());
        if self.pending.get(file).is_some_and(|p| p.sha256 == sha) {
            self.pending.remove(file);
        }
    }

    /// Records a version as acknowledged with how it was stored.
    pub fn ack_stored(&mut self, file: &str, sha: &str, stored: Stored) {
        self.ack(file, sha);
        self.stored.insert(file.to_owned(), stored);
    }

    /// Forgets a file the target no longer holds (deleted).
    pub fn forget(&mut self, file: &str) {
        self.acked.remove(file);
        self.stored.remove(file);
        self.announced.remove(file);
        self.pending.remove(file);
    }

    /// Files this target was given that are gone from `current`.
    pub fn gone<'a>(
        &'a self,
        current: &'a BTreeMap<String, String>,
    ) -> impl Iterator<Item = &'a String> + 'a {
        self.acked.keys().filter(|f| !current.contains_key(*f))
    }

    /// Notes `holder` as the newest holder id of this folder; returns the
    /// earlier ones.
    pub fn new_lease_holder(&mut self, holder: &str) -> Vec<String> {
        let before = self.lease_holders.clone();
        self.lease_holders.push(holder.to_owned());
        let extra = self.lease_holders.len().saturating_sub(LEASE_HOLDERS);
        self.lease_holders.drain(..extra);
        before
    }

    /// Records a failed try.
    pub fn fail(&mut self, file: &str, sha: &str, attempts: u32, error: String, permanent: bool) {
        let entry = self.pending.entry(file.to_owned()).or_default();
        if entry.sha256 != sha {
            *entry = entry.replaced_by(sha);
        }
        entry.attempts += attempts;
        entry.last_error = Some(error);
        entry.permanent = permanent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(_: &str) -> String {
        String::new()
    }

    fn current(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(f, s)| (f.to_string(), s.to_string()))
            .collect()
    }

    #[test]
    fn only_unacknowledged_versions_are_queued_and_newer_replace_older() {
        let mut b = TargetBox::default();
        let v1 = current(&[("all.rss", "a1"), ("all.atom", "b1")]);
        assert_eq!(b.queue(&v1, &same, false), ["all.atom", "all.rss"]);
        b.ack("all.rss", "a1");
        b.fail("all.atom", "b1", 3, "HTTP 503".into(), false);
        assert_eq!(b.queue(&v1, &same, false), ["all.atom"]);
        assert_eq!(b.pending["all.atom"].attempts, 3);
        // A newer version replaces the pending one, attempts start over.
        let v2 = current(&[("all.rss", "a1"), ("all.atom", "b2")]);
        assert_eq!(b.queue(&v2, &same, false), ["all.atom"]);
        assert_eq!(b.pending["all.atom"].attempts, 0);
        assert_eq!(b.queue(&v2, &same, true), ["all.atom", "all.rss"]);
    }

    #[test]
    fn versions_replaced_before_their_acknowledgement_are_remembered_as_ours() {
        let mut b = TargetBox::default();
        b.queue(&current(&[("all.rss", "v1")]), &same, false);
        b.ack("all.rss", "v1");
        // v2 goes out; the push is killed before its acknowledgement.
        b.queue(&current(&[("all.rss", "v2")]), &same, false);
        assert!(b.pending["all.rss"].superseded.is_empty());
        b.queue(&current(&[("all.rss", "v3")]), &same, false);
        assert_eq!(b.pending["all.rss"].superseded, ["v2"]);
        b.fail("all.rss", "v4", 1, "HTTP 503".into(), false);
        assert_eq!(b.pending["all.rss"].superseded, ["v2", "v3"]);
        for i in 5..20 {
            b.queue(&current(&[("all.rss", &format!("v{i}"))]), &same, false);
        }
        let kept = &b.pending["all.rss"].superseded;
        assert_eq!(kept.len(), SUPERSEDED);
        assert_eq!(kept.last().map(String::as_str), Some("v18"));
        b.ack("all.rss", "v19");
        assert!(b.pending.is_empty(), "forgotten once acknowledged");
    }

    #[test]
    fn a_refused_version_waits_for_a_change() {
        let mut b = TargetBox::default();
        let v1 = current(&[("secret.rss", "s1")]);
        b.queue(&v1, &same, false);
        b.fail("secret.rss", "s1", 1, "HTTP 403".into(), true);
        assert!(b.queue(&v1, &same, false).is_empty());
        assert!(b.pending["secret.rss"].permanent, "still shown by status");
        let v2 = current(&[("secret.rss", "s2")]);
        assert_eq!(b.queue(&v2, &same, false), ["secret.rss"]);
        assert!(b.queue(&current(&[]), &same, false).is_empty());
        assert!(b.pending.is_empty(), "gone files are not pending");
    }

    #[test]
    fn save_and_load_round_trip_and_damage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Outbox::default();
        o.target("cdn").ack("all.rss", "a1");
        o.save(dir.path()).unwrap();
        assert_eq!(Outbox::load(dir.path()).unwrap(), o);
        std::fs::write(dir.path().join(FILE_NAME), "{").unwrap();
        let e = Outbox::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains(".wirefeed-outbox.json: damaged"), "{e}");
    }
}
