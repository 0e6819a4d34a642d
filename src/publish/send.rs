//! Requests with retries: `PUT` or `DELETE` a file (conditional where the
//! plan says so), `POST` a webhook, ping a hub.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH, RETRY_AFTER,
};
use reqwest::{RequestBuilder, StatusCode};

use super::outbox::Stored;
use super::plan::{conflict, Deletion, Precondition, Upload};
use super::redact::{Secrets, ERROR_CHARS, QUOTE_CHARS};
use super::sha256;
use super::webhook::Changes;
use crate::config::media_type;
use crate::config::PushTarget;

/// First backoff; doubled each try, with jitter, up to [`MAX_BACKOFF`].
const BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A `Retry-After` longer than this leaves the file for the next push.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// What became of a delivery.
#[derive(Debug)]
pub enum Delivery {
    /// The target answered 2xx for these (file, sha256) versions.
    Acked {
        files: Vec<(String, String)>,
        /// For webhooks: feed file → item ids now announced.
        announced: BTreeMap<String, Vec<String>>,
        /// For one stored file: how the target stored it.
        stored: Option<Stored>,
        /// For webhooks: files now announced as removed.
        removed: Vec<String>,
    },
    /// The target no longer holds this file.
    Deleted { file: String },
    /// A deletion not done.
    NotDeleted { file: String, error: String },
    /// Not delivered.
    Failed {
        files: Vec<(String, String)>,
        attempts: u32,
        error: String,
        permanent: bool,
    },
}

/// Bytes of a refusal's body read to quote from.
const BODY_BYTES: usize = 16 * 1024;

/// A configured target's HTTP client. Secrets are read from the
/// environment once, here, and never printed: whatever the target answers
/// is quoted through [`Secrets::quote`].
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    url: url::Url,
    auth: Auth,
    attempts: u32,
    secrets: Arc<Secrets>,
}

#[derive(Clone)]
enum Auth {
    None,
    Bearer(String),
    Basic(String, String),
}

fn secret(target: &str, var: &str) -> Result<String, String> {
    std::env::var(var).map_err(|_| {
        format!("push `{target}`: environment variable {var} is not set (it holds the secret)")
    })
}

/// Every client of a push: no redirects (one would turn a PUT or POST
/// into a bodiless GET whose 2xx would count as delivery; a 3xx is a
/// failure instead), a timeout, our user agent.
fn http(timeout: Duration, headers: HeaderMap) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .timeout(timeout)
        .user_agent(concat!("wirefeed/", env!("CARGO_PKG_VERSION")))
        .build()
}

impl Client {
    /// The client of `target`; `secrets` (every target's) are kept out of
    /// its errors.
    pub fn new(target: &PushTarget, secrets: Arc<Secrets>) -> Result<Client, String> {
        let auth = match (&target.token_env, &target.user, &target.password_env) {
            (Some(var), _, _) => Auth::Bearer(secret(&target.name, var)?),
            (None, Some(user), Some(var)) => Auth::Basic(user.clone(), secret(&target.name, var)?),
            _ => Auth::None,
        };
        let mut headers = HeaderMap::new();
        for (k, v) in &target.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("push `{}`: bad header name `{k}`", target.name))?;
            let value = HeaderValue::from_str(v)
                .map_err(|_| format!("push `{}`: bad value for header `{k}`", target.name))?;
            headers.insert(name, value);
        }
        let http = http(Duration::from_secs(target.timeout_secs), headers)
            .map_err(|e| format!("push `{}`: {e}", target.name))?;
        Ok(Client {
            http,
            url: target.url()?.clone(),
            auth,
            attempts: target.max_attempts,
            secrets,
        })
    }

    /// A client for a WebSub hub.
    pub fn hub(url: url::Url, secrets: Arc<Secrets>) -> Result<Client, String> {
        let http = http(Duration::from_secs(30), HeaderMap::new())
            .map_err(|e| format!("websub hub: {e}"))?;
        Ok(Client {
            http,
            url,
            auth: Auth::None,
            attempts: 5,
            secrets,
        })
    }

    fn authorize(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.auth {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
        }
    }

    /// `PUT {url}{file}` with the file's current bytes, under the
    /// upload's precondition (`If-None-Match: *`, `If-Match: ETAG`). A
    /// 412 is resolved only when the target holds our bytes already.
    pub async fn put(&self, upload: Upload, path: PathBuf) -> Delivery {
        let bytes = match read(&upload, &path).await {
            Ok(b) => b,
            Err(failed) => return failed,
        };
        let sha = sha256(&bytes);
        let Some(url) = file_url(&self.url, &upload.file) else {
            return Delivery::Failed {
                files: vec![(upload.file, sha)],
                attempts: 1,
                error: "no URL below the target's for this file name".into(),
                permanent: true,
            };
        };
        let content_type = media_type(Path::new(&upload.file));
        let files = vec![(upload.file.clone(), sha.clone())];
        let stored = |etag: Option<String>| Stored {
            etag,
            headers: upload.headers.clone(),
        };
        let mut precondition = upload.precondition.clone();
        // At most: the write, then one more over our own earlier version.
        for _ in 0..2 {
            let outcome = self
                .retry(|| {
                    let request = self
                        .authorize(self.http.put(url.clone()))
                        .header(CONTENT_TYPE, content_type)
                        .body(bytes.clone());
                    match &precondition {
                        Precondition::None => request,
                        Precondition::Absent => request.header(IF_NONE_MATCH, "*"),
                        Precondition::Matches(etag) => request.header(IF_MATCH, etag.as_str()),
                    }
                })
                .await;
            let remote = match outcome {
                Outcome::Done(r) => {
                    return Delivery::Acked {
                        files,
                        announced: BTreeMap::new(),
                        stored: Some(stored(etag(&r))),
                        removed: Vec::new(),
                    }
                }
                Outcome::Failed(f) => return f.of(files),
                Outcome::Precondition => self.fetch(&url).await,
            };
            match remote {
                // Ours already (a push killed after the PUT, or a
                // publisher that built the same bytes)? Then it is
                // delivered.
                Some((remote, tag)) if remote == sha => {
                    return Delivery::Acked {
                        files,
                        announced: BTreeMap::new(),
                        stored: Some(stored(tag)),
                        removed: Vec::new(),
                    }
                }
                // An earlier version of ours, never acknowledged: written
                // over, by its tag.
                Some((remote, Some(tag))) if upload.ours.contains(&remote) => {
                    precondition = Precondition::Matches(tag);
                }
                remote => {
                    return Delivery::Failed {
                        files,
                        attempts: 1,
                        error: conflict(remote.as_ref().map(|(s, _)| s.as_str())),
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

    /// The sha256 and `ETag` of what the target holds at `url`.
    async fn fetch(&self, url: &url::Url) -> Option<(String, Option<String>)> {
        let r = self
            .authorize(self.http.get(url.clone()))
            .send()
            .await
            .ok()?;
        if !r.status().is_success() {
            return None;
        }
        let tag = etag(&r);
        let bytes = r.bytes().await.ok()?;
        Some((sha256(&bytes), tag))
    }

    /// `DELETE {url}{file}` (`If-Match` the version it was given, if
    /// known). A file already gone counts as deleted.
    pub async fn delete(&self, deletion: Deletion) -> Delivery {
        let Some(url) = file_url(&self.url, &deletion.file) else {
            return Delivery::Deleted {
                file: deletion.file,
            };
        };
        let outcome = self
            .retry(|| {
                let request = self.authorize(self.http.delete(url.clone()));
                match &deletion.etag {
                    Some(etag) => request.header(IF_MATCH, etag.as_str()),
                    None => request,
                }
            })
            .await;
        let file = deletion.file;
        match outcome {
            Outcome::Done(_) => Delivery::Deleted { file },
            Outcome::Failed(Failure { status, .. }) if status == Some(StatusCode::NOT_FOUND) => {
                Delivery::Deleted { file }
            }
            Outcome::Precondition => Delivery::NotDeleted {
                file,
                error: conflict(None).replace("overwritten", "deleted"),
            },
            Outcome::Failed(f) => Delivery::NotDeleted {
                file,
                error: f.error,
            },
        }
    }

    /// One `POST` listing the changed and removed feeds.
    pub async fn webhook(&self, changes: Changes) -> Delivery {
        let body = match changes.body() {
            Ok(b) => bytes::Bytes::from(b),
            Err(e) => {
                return Delivery::Failed {
                    files: changes.files,
                    attempts: 1,
                    error: e.to_string(),
                    permanent: true,
                }
            }
        };
        let outcome = self
            .retry(|| {
                self.authorize(self.http.post(self.url.clone()))
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await;
        match outcome {
            Outcome::Done(_) => Delivery::Acked {
                files: changes.files,
                announced: changes.announced,
                stored: None,
                removed: changes.removed,
            },
            Outcome::Precondition => {
                Failure::refused(StatusCode::PRECONDITION_FAILED).of(changes.files)
            }
            Outcome::Failed(f) => f.of(changes.files),
        }
    }

    /// The WebSub publish ping for `feed_url`.
    pub async fn ping(&self, feed_url: &str, file: String, sha: String) -> Delivery {
        let form = [("hub.mode", "publish"), ("hub.url", feed_url)];
        let body = serde_urlencoded(&form);
        let outcome = self
            .retry(|| {
                self.http
                    .post(self.url.clone())
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body.clone())
            })
            .await;
        let files = vec![(file, sha)];
        match outcome {
            Outcome::Done(_) => Delivery::Acked {
                files,
                announced: BTreeMap::new(),
                stored: None,
                removed: Vec::new(),
            },
            Outcome::Precondition => Failure::refused(StatusCode::PRECONDITION_FAILED).of(files),
            Outcome::Failed(f) => f.of(files),
        }
    }

    /// The start of a response's body, quoted: at most [`BODY_BYTES`] are
    /// read (a target cannot make us hold a huge answer).
    async fn body(&self, mut response: reqwest::Response) -> String {
        let mut bytes = Vec::new();
        let mut cut = false;
        while let Ok(Some(chunk)) = response.chunk().await {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > BODY_BYTES {
                // Part of a secret at the cut would not be recognized.
                bytes.truncate(BODY_BYTES.saturating_sub(self.secrets.longest()));
                cut = true;
                break;
            }
        }
        let mut text = self
            .secrets
            .quote(&String::from_utf8_lossy(&bytes), QUOTE_CHARS);
        if cut && !text.ends_with('…') {
            text.push('…');
        }
        text
    }

    /// Sends `request` until it is answered 2xx or 412, refused, or out
    /// of tries.
    async fn retry(&self, request: impl Fn() -> RequestBuilder) -> Outcome {
        let mut error = String::new();
        for attempt in 1..=self.attempts {
            let wait = match request().send().await {
                Ok(r) if r.status().is_success() => return Outcome::Done(r),
                Ok(r) if r.status() == StatusCode::PRECONDITION_FAILED => {
                    return Outcome::Precondition
                }
                Ok(r) if r.status().is_redirection() => {
                    let to = match r.headers().get(reqwest::header::LOCATION) {
                        Some(l) => self
                            .secrets
                            .quote(&String::from_utf8_lossy(l.as_bytes()), QUOTE_CHARS),
                        None => "nowhere".into(),
                    };
                    // Not delivered; tried again next push (the URL may be
                    // fixed by then), not now.
                    return Outcome::Failed(Failure {
                        attempts: attempt,
                        error: format!(
                            "HTTP {}: redirected to {to}; point the target there",
                            r.status()
                        ),
                        permanent: false,
                        status: Some(r.status()),
                    });
                }
                Ok(r) if retryable(r.status()) => {
                    error = format!("HTTP {}", r.status());
                    retry_after(r.headers())
                }
                Ok(r) => {
                    let status = r.status();
                    let text = self.body(r).await;
                    return Outcome::Failed(Failure {
                        attempts: attempt,
                        error: format!("HTTP {status}: {text}"),
                        permanent: true,
                        status: Some(status),
                    });
                }
                Err(e) => {
                    error = self.secrets.quote(&describe(&e), ERROR_CHARS);
                    None
                }
            };
            if attempt == self.attempts {
                break;
            }
            let wait = wait.unwrap_or_else(|| backoff(attempt));
            if wait > MAX_RETRY_AFTER {
                error = format!("{error}; asked to retry after {}s", wait.as_secs());
                return Outcome::Failed(Failure {
                    attempts: attempt,
                    error,
                    permanent: false,
                    status: None,
                });
            }
            tokio::time::sleep(wait).await;
        }
        Outcome::Failed(Failure {
            attempts: self.attempts,
            error,
            permanent: false,
            status: None,
        })
    }
}

/// How a request ended.
enum Outcome {
    /// 2xx.
    Done(reqwest::Response),
    /// 412: the target holds another version than the precondition named.
    Precondition,
    Failed(Failure),
}

/// A request that did not succeed.
struct Failure {
    attempts: u32,
    error: String,
    permanent: bool,
    status: Option<StatusCode>,
}

impl Failure {
    fn refused(status: StatusCode) -> Failure {
        Failure {
            attempts: 1,
            error: format!("HTTP {status}"),
            permanent: true,
            status: Some(status),
        }
    }

    fn of(self, files: Vec<(String, String)>) -> Delivery {
        Delivery::Failed {
            files,
            attempts: self.attempts,
            error: self.error,
            permanent: self.permanent,
        }
    }
}

/// The `ETag` a response carries.
fn etag(r: &reqwest::Response) -> Option<String> {
    let value = r.headers().get(ETAG)?.to_str().ok()?;
    Some(value.to_owned())
}

/// The bytes of an upload's file.
pub async fn read(upload: &Upload, path: &Path) -> Result<bytes::Bytes, Delivery> {
    match tokio::fs::read(path).await {
        Ok(b) => Ok(bytes::Bytes::from(b)),
        Err(e) => Err(Delivery::Failed {
            files: vec![(upload.file.clone(), upload.sha256.clone())],
            attempts: 1,
            error: format!("cannot read {}: {e}", path.display()),
            permanent: false,
        }),
    }
}

/// `{base}{file}` with every path segment percent-encoded, so that no
/// file name (`#`, `?`, `%2e%2e`, `http:`) can point elsewhere; `None` if
/// the result would not be below `base`.
fn file_url(base: &url::Url, file: &str) -> Option<url::Url> {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let encoded: Vec<String> = file
        .split('/')
        .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
        .collect();
    if encoded
        .iter()
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return None;
    }
    let url = base.join(&encoded.join("/")).ok()?;
    url.as_str().starts_with(base.as_str()).then_some(url)
}

fn retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
}

/// An error in words, without the request's URL credentials (there are
/// none in URLs: secrets go in headers).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        text
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    when.duration_since(std::time::SystemTime::now()).ok()
}

/// Exponential backoff with full jitter in [half, whole].
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF
        .saturating_mul(1 << attempt.min(16))
        .min(MAX_BACKOFF);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(attempt);
    let jitter = (h.finish() % 1000) as u32; // 0..1000
    base / 2 + base / 2 * jitter / 1000
}

fn serde_urlencoded(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(k, percent_encoding::NON_ALPHANUMERIC),
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_leave_the_target() {
        let base = url::Url::parse("https://dav.example.com/feeds/").unwrap();
        let url = |f: &str| file_url(&base, f).map(|u| u.to_string());
        assert_eq!(
            url("all.rss").unwrap(),
            "https://dav.example.com/feeds/all.rss"
        );
        assert_eq!(
            url("category/반도체.rss").unwrap(),
            "https://dav.example.com/feeds/category/%EB%B0%98%EB%8F%84%EC%B2%B4.rss"
        );
        assert_eq!(
            url("a#b?c.rss").unwrap(),
            "https://dav.example.com/feeds/a%23b%3Fc.rss"
        );
        assert_eq!(
            url("%2e%2e/x").unwrap(),
            "https://dav.example.com/feeds/%252e%252e/x"
        );
        assert_eq!(
            url("http:/evil.example/x").unwrap(),
            "https://dav.example.com/feeds/http%3A/evil.example/x"
        );
        assert_eq!(url("../x"), None);
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date_and_backoff_grows() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(60));
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert!(retry_after(&h).unwrap() > Duration::from_secs(50));
        for attempt in 1..6 {
            let b = backoff(attempt);
            let full = BACKOFF.saturating_mul(1 << attempt).min(MAX_BACKOFF);
            assert!(b >= full / 2 && b <= full, "{attempt}: {b:?}");
        }
        assert!(retryable(StatusCode::TOO_MANY_REQUESTS) && retryable(StatusCode::BAD_GATEWAY));
        assert!(!retryable(StatusCode::FORBIDDEN) && !retryable(StatusCode::NOT_FOUND));
        assert_eq!(
            serde_urlencoded(&[
                ("hub.mode", "publish"),
                ("hub.url", "https://x.example/a b")
            ]),
            "hub%2Emode=publish&hub%2Eurl=https%3A%2F%2Fx%2Eexample%2Fa%20b"
        );
    }
}
