//! What a bucket loses: conditional `DeleteObject`s of files this
//! wirefeed stored, and, once per lease epoch, what earlier holders of
//! the lease published and this build no longer has.

use std::collections::BTreeMap;
use std::time::Duration;

use object_store::path::Path as Key;
use object_store::signer::Signer;
use object_store::{Error, ObjectStore, ObjectStoreExt};

use super::{Bucket, Probe};
use crate::publish::outbox::{Stored, TargetBox};
use crate::publish::plan::{conflict, Deletion};
use crate::publish::redact::ERROR_CHARS;
use crate::publish::send::Delivery;

impl Bucket {
    /// Takes into `tb` what earlier holders of the lease published under
    /// the prefix and this build no longer has, so that the plan deletes
    /// it: objects with wirefeed's sha256 and an earlier lease epoch, not
    /// in `current` and unknown to `tb`. One listing of the prefix, and a
    /// `HEAD` of each object it does not know, once per epoch held; a
    /// foreign object (no such metadata) is left alone. The count taken.
    pub async fn adopt(
        &self,
        current: &BTreeMap<String, String>,
        tb: &mut TargetBox,
    ) -> Result<usize, String> {
        use futures_util::StreamExt;
        let Some(ours) = self.epoch else {
            return Ok(0);
        };
        let prefix = Key::from(self.prefix.trim_end_matches('/'));
        let mut listing = match self.prefix.is_empty() {
            true => self.store.list(None),
            false => self.store.list(Some(&prefix)),
        };
        let mut taken = 0;
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| self.say(&e))?;
            let Some(file) = meta.location.as_ref().strip_prefix(&self.prefix) else {
                continue;
            };
            let hidden = file.split('/').any(|part| part.starts_with('.'));
            if hidden || current.contains_key(file) || tb.acked.contains_key(file) {
                continue;
            }
            if let Probe::Holds(sha, tag, headers, Some(theirs)) = self.probe(&meta.location).await
            {
                if !sha.is_empty() && theirs < ours {
                    let stored = Stored {
                        etag: Some(tag).filter(|t| !t.is_empty()),
                        headers,
                    };
                    tb.ack_stored(file, &sha, stored);
                    taken += 1;
                }
            }
        }
        Ok(taken)
    }

    /// `DeleteObject` of a file this wirefeed stored: with `If-Match` on
    /// the ETag it was stored with, so a version someone else wrote since
    /// stays (object_store has no conditional delete: the request is
    /// signed by object_store, as a presigned URL, and sent here with the
    /// header). A version an earlier holder of the lease wrote over ours is
    /// deleted by its own ETag. A store that does not implement conditional
    /// deletes (501) gets a plain `DeleteObject`.
    pub async fn delete(&self, deletion: Deletion) -> Delivery {
        let file = deletion.file;
        let key = match self.key(&file) {
            Ok(k) => k,
            Err(_) => return Delivery::Deleted { file },
        };
        let Some(mut etag) = deletion.etag else {
            return self.delete_plainly(&key, file).await;
        };
        for _ in 0..2 {
            match self.delete_if(&key, &etag).await {
                Ok(Deleted::Yes) => return Delivery::Deleted { file },
                Ok(Deleted::Unsupported) => return self.delete_plainly(&key, file).await,
                Ok(Deleted::Changed) => {}
                Err(error) => return Delivery::NotDeleted { file, error },
            }
            match self.probe(&key).await {
                Probe::Gone => return Delivery::Deleted { file },
                Probe::Holds(_, tag, _, Some(theirs))
                    if self.epoch.is_some_and(|ours| theirs < ours) && !tag.is_empty() =>
                {
                    etag = tag;
                }
                _ => break,
            }
        }
        Delivery::NotDeleted {
            file,
            error: conflict(None).replace("overwritten", "deleted"),
        }
    }

    async fn delete_plainly(&self, key: &Key, file: String) -> Delivery {
        match self.store.delete(key).await {
            Ok(()) | Err(Error::NotFound { .. }) => Delivery::Deleted { file },
            Err(e) => Delivery::NotDeleted {
                error: self.say(&e),
                file,
            },
        }
    }

    /// One `DeleteObject` with `If-Match: etag`, tried up to
    /// `max_attempts` times on connection errors and 5xx.
    async fn delete_if(&self, key: &Key, etag: &str) -> Result<Deleted, String> {
        let expires = Duration::from_secs(self.target.timeout_secs.saturating_mul(2).max(60));
        let mut last = String::new();
        for attempt in 0..self.target.max_attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt.min(5))).await;
            }
            let url = self
                .store
                .signed_url(reqwest::Method::DELETE, key, expires)
                .await
                .map_err(|e| self.say(&e))?;
            let sent = self
                .http
                .delete(url)
                .header(reqwest::header::IF_MATCH, etag)
                .send()
                .await;
            let status = match sent {
                Ok(r) => r.status(),
                Err(e) => {
                    last = self.secrets.quote(&e.to_string(), ERROR_CHARS);
                    continue;
                }
            };
            match status.as_u16() {
                200..=299 | 404 => return Ok(Deleted::Yes),
                412 => return Ok(Deleted::Changed),
                501 => return Ok(Deleted::Unsupported),
                500..=599 | 408 | 429 => last = format!("HTTP {status}"),
                _ => return Err(format!("DeleteObject: HTTP {status}")),
            }
        }
        Err(format!("DeleteObject: {last}"))
    }
}

/// What a conditional `DeleteObject` did.
enum Deleted {
    /// Gone (or gone already).
    Yes,
    /// The object is not the version named.
    Changed,
    /// The store does not take conditional deletes.
    Unsupported,
}
