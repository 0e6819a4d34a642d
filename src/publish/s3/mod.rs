//! `kind = "s3"`: a bucket of AWS S3 or an S3-compatible store (MinIO,
//! R2, Ceph, moto), through the `object_store` crate.
//!
//! Each object gets the media type `serve` sends, the configured
//! `Cache-Control`, and its sha256 as metadata (`x-amz-meta-sha256`), so
//! that what a conflict left there can be recognized without downloading
//! it. Writes are conditional: `PutMode::Create` (`If-None-Match: *`) for
//! a file this wirefeed never stored there, `PutMode::Update` (`If-Match`)
//! with the ETag of the version it stored last. A failed precondition is
//! resolved only when the object holds our bytes already, or a version of
//! ours never acknowledged (a push killed after writing it); otherwise it is
//! reported and nothing is overwritten, unless the object was written
//! under an earlier epoch of the target's lease (`x-amz-meta-lease-epoch`):
//! then its writer has given the lease up or lost it, and the new holder
//! replaces it, `If-Match` on its ETag. Deletions are `DeleteObject`
//! with `If-Match` on the ETag the object was stored with.
//!
//! Deletions and taking in what earlier holders of the lease left are in
//! `sync.rs`.
//!
//! Credentials come from the environment only; nothing here reaches an
//! instance-metadata service.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, S3ConditionalPut};
use object_store::path::Path as Key;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, Error, GetOptions, ObjectStore, PutMode,
    PutOptions, PutPayload, RetryConfig, UpdateVersion,
};

mod sync;

use super::lease::Lease;
use super::outbox::Stored;
use super::plan::{conflict, Precondition, Upload};
use super::redact::{Secrets, ERROR_CHARS};
use super::send::{read, Delivery};
use crate::config::{media_type, PushTarget};

/// The metadata key holding a version's sha256.
const SHA256: &str = "sha256";

/// The metadata key holding the epoch of the lease a version was written
/// under (`x-amz-meta-lease-epoch`).
const EPOCH: &str = "lease-epoch";

/// A configured bucket.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<AmazonS3>,
    prefix: String,
    target: Arc<PushTarget>,
    secrets: Arc<Secrets>,
    /// The epoch of the lease this push holds, if the target has one.
    epoch: Option<u64>,
    /// For conditional deletes, which object_store does not send.
    http: reqwest::Client,
}

/// An environment variable's value, if set and not empty.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Bucket {
    /// The bucket of `target`, with its keys read from the environment.
    pub fn new(target: &PushTarget, secrets: Arc<Secrets>) -> Result<Bucket, String> {
        let name = &target.name;
        let need = |var_name: &str, what: &str| {
            var(var_name).ok_or_else(|| {
                format!("push `{name}`: environment variable {var_name} is not set (it holds the {what})")
            })
        };
        let key = need(target.access_key_var(), "access key id")?;
        let secret = need(target.secret_key_var(), "secret access key")?;
        let timeout = Duration::from_secs(target.timeout_secs);
        let mut options = ClientOptions::new()
            .with_timeout(timeout)
            .with_connect_timeout(timeout);
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(target.bucket.clone().unwrap_or_default())
            .with_region(&target.region)
            .with_access_key_id(key)
            .with_secret_access_key(secret)
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: target.max_attempts.saturating_sub(1) as usize,
                retry_timeout: timeout.saturating_mul(target.max_attempts),
            });
        if let Some(token) = var(target.session_token_var()) {
            builder = builder.with_token(token);
        }
        if let Some(endpoint) = &target.endpoint {
            // Plain HTTP only when the endpoint says so (a store on
            // loopback, a test).
            options = options.with_allow_http(endpoint.scheme() == "http");
            builder = builder.with_endpoint(endpoint.as_str().trim_end_matches('/'));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("push `{name}`: cannot start an HTTP client: {e}"))?;
        let store = builder.with_client_options(options).build().map_err(|e| {
            format!(
                "push `{name}`: {}",
                secrets.quote(&e.to_string(), ERROR_CHARS)
            )
        })?;
        Ok(Bucket {
            store: Arc::new(store),
            prefix: target.prefix.clone(),
            target: Arc::new(target.clone()),
            secrets,
            epoch: None,
            http,
        })
    }

    /// The same bucket, written under the lease of `epoch`: objects carry
    /// it, and an object an earlier holder wrote may be replaced (its
    /// ETag named), since that holder has given the lease up or lost it.
    pub fn under_lease(mut self, epoch: u64) -> Bucket {
        self.epoch = Some(epoch);
        self
    }

    /// The target's lease object, held as `holder` (see `lease`).
    pub fn lease(&self, holder: String, ours_before: Vec<String>) -> Result<Lease, String> {
        let duration = self.target.lease.unwrap_or(crate::config::DEFAULT_LEASE);
        let store: Arc<dyn ObjectStore> = self.store.clone();
        Lease::new(store, &self.prefix, holder, duration, ours_before).map_err(|e| e.to_string())
    }

    fn key(&self, file: &str) -> Result<Key, String> {
        Key::parse(format!("{}{file}", self.prefix)).map_err(|e| format!("not a key S3 takes: {e}"))
    }

    fn say(&self, e: &Error) -> String {
        self.secrets.quote(&e.to_string(), ERROR_CHARS)
    }

    /// `PutObject` of the file's current bytes under the upload's
    /// precondition.
    pub async fn put(&self, upload: Upload, path: PathBuf) -> Delivery {
        let bytes = match read(&upload, &path).await {
            Ok(b) => b,
            Err(failed) => return failed,
        };
        let sha = super::sha256(&bytes);
        let files = vec![(upload.file.clone(), sha.clone())];
        let key = match self.key(&upload.file) {
            Ok(k) => k,
            Err(error) => {
                return Delivery::Failed {
                    files,
                    attempts: 1,
                    error,
                    permanent: true,
                }
            }
        };
        let mut mode = upload.precondition.clone();
        // At most: the write, then one more once the object is known ours.
        for _ in 0..2 {
            match self.write(&key, &upload, &bytes, &sha, &mode).await {
                Ok(etag) => {
                    return Delivery::Acked {
                        files,
                        announced: Default::default(),
                        stored: Some(Stored {
                            etag,
                            headers: upload.headers.clone(),
                        }),
                        removed: Vec::new(),
                    }
                }
                Err(Error::AlreadyExists { .. } | Error::Precondition { .. }) => {}
                Err(e) => {
                    let permanent = matches!(
                        e,
                        Error::PermissionDenied { .. }
                            | Error::Unauthenticated { .. }
                            | Error::InvalidPath { .. }
                    );
                    return Delivery::Failed {
                        files,
                        attempts: self.target.max_attempts,
                        error: self.say(&e),
                        permanent,
                    };
                }
            }
            // The object is not the version we last stored: ours anyway
            // (a push killed after the write; another publisher's build of
            // the same articles)? Then write over it (same bytes, our
            // headers) or take it as it is.
            match self.probe(&key).await {
                Probe::Gone => mode = Precondition::Absent,
                Probe::Holds(remote, tag, headers, _) if remote == sha => {
                    if headers == upload.headers {
                        return Delivery::Acked {
                            files,
                            announced: Default::default(),
                            stored: Some(Stored {
                                etag: Some(tag),
                                headers,
                            }),
                            removed: Vec::new(),
                        };
                    }
                    mode = Precondition::Matches(tag);
                }
                // Our own earlier version, never acknowledged (a push
                // killed after writing it): ours to replace.
                Probe::Holds(remote, tag, _, _)
                    if upload.ours.contains(&remote) && !tag.is_empty() =>
                {
                    mode = Precondition::Matches(tag);
                }
                // Written by an earlier holder of the lease, which has
                // given it up: ours to replace, by its ETag.
                Probe::Holds(_, tag, _, Some(theirs))
                    if self.epoch.is_some_and(|ours| theirs < ours) && !tag.is_empty() =>
                {
                    mode = Precondition::Matches(tag);
                }
                Probe::Holds(remote, _, _, _) => {
                    return Delivery::Failed {
                        files,
                        attempts: 1,
                        error: conflict(Some(remote.as_str()).filter(|r| !r.is_empty())),
                        permanent: false,
                    }
                }
                Probe::Unknown(error) => {
                    return Delivery::Failed {
                        files,
                        attempts: 1,
                        error: format!("{}; {error}", conflict(None)),
                        permanent: false,
                    }
                }
            }
        }
        Delivery::Failed {
            files,
            attempts: 2,
            error: conflict(None),
            permanent: false,
        }
    }

    /// One `PutObject`; the new ETag.
    async fn write(
        &self,
        key: &Key,
        upload: &Upload,
        bytes: &bytes::Bytes,
        sha: &str,
        mode: &Precondition,
    ) -> Result<Option<String>, Error> {
        let mut attributes = Attributes::new();
        attributes.insert(
            Attribute::ContentType,
            media_type(std::path::Path::new(&upload.file)).into(),
        );
        if let Some(cache) = self.target.cache_control_of(&upload.file) {
            attributes.insert(Attribute::CacheControl, cache.to_owned().into());
        }
        attributes.insert(Attribute::Metadata(SHA256.into()), sha.to_owned().into());
        if let Some(epoch) = self.epoch {
            attributes.insert(Attribute::Metadata(EPOCH.into()), epoch.to_string().into());
        }
        let mode = match mode {
            Precondition::None => PutMode::Overwrite,
            Precondition::Absent => PutMode::Create,
            Precondition::Matches(etag) => PutMode::Update(UpdateVersion {
                e_tag: Some(etag.clone()),
                version: None,
            }),
        };
        let options = PutOptions {
            mode,
            attributes,
            ..PutOptions::default()
        };
        let payload = PutPayload::from_bytes(bytes.clone());
        let result = self.store.put_opts(key, payload, options).await?;
        Ok(result.e_tag)
    }

    /// What the bucket holds at `key`: its sha256 metadata, ETag and
    /// headers (a `HEAD`; nothing downloaded).
    async fn probe(&self, key: &Key) -> Probe {
        let options = GetOptions {
            head: true,
            ..GetOptions::default()
        };
        let got = match self.store.get_opts(key, options).await {
            Ok(g) => g,
            Err(Error::NotFound { .. }) => return Probe::Gone,
            Err(e) => return Probe::Unknown(self.say(&e)),
        };
        let attr = |a: &Attribute| got.attributes.get(a).map(|v| v.as_ref().to_owned());
        let Some(sha) = attr(&Attribute::Metadata(SHA256.into())) else {
            return Probe::Holds(String::new(), String::new(), String::new(), None);
        };
        let media = attr(&Attribute::ContentType).unwrap_or_default();
        let headers = match attr(&Attribute::CacheControl) {
            Some(cache) => format!("{media} | {cache}"),
            None => media,
        };
        let tag = got.meta.e_tag.clone().unwrap_or_default();
        let epoch = attr(&Attribute::Metadata(EPOCH.into())).and_then(|e| e.parse().ok());
        Probe::Holds(sha, tag, headers, epoch)
    }
}

/// What a `HEAD` found.
enum Probe {
    /// No object.
    Gone,
    /// sha256 metadata ("" when none), ETag, headers, the lease epoch it
    /// was written under.
    Holds(String, String, String, Option<u64>),
    /// The `HEAD` failed.
    Unknown(String),
}
