//! One request → one answer: the file a path names, with its media type,
//! validators, conditional `304`s, the configured `Cache-Control` and a
//! compressed body when the reader asks for one.
//!
//! The file is opened first; its length, `ETag` and `Last-Modified` come
//! from that open handle (`fstat`) and its body is read from the same
//! handle. The build replaces files by renaming a new version over the old
//! one, so an open handle always holds one whole version: a reader never
//! gets half of one and half of the next, or one version's body under
//! another's length or `ETag`.
//!
//! Paths that would leave the folder (`..`, encoded or not, absolute
//! paths, links pointing out) and hidden files (the build cache, temporary
//! files) are 404s. An HTTP/1.1 request without exactly one `Host` is a
//! 400 (RFC 9112 3.2).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Version};

use super::compress::{self, Cache, Encoding};
use crate::config::{self, media_type};

/// Bodies up to this size are read whole and leave with their headers in
/// one write; larger ones are streamed from the open file.
const WHOLE: u64 = 1 << 20;

/// The folder being served and how.
pub struct Site {
    root: PathBuf,
    cache_control: HeaderValue,
    cache: Cache,
}

impl Site {
    /// `root` served with `settings`.
    pub fn new(root: &Path, settings: &config::Serve) -> std::io::Result<Site> {
        Ok(Site {
            // Canonical, so that links are judged against the real folder.
            root: root.canonicalize()?,
            cache_control: HeaderValue::from_str(&settings.cache_control)
                .unwrap_or_else(|_| HeaderValue::from_static("no-cache")),
            cache: Cache::new(settings.compression_cache),
        })
    }
}

/// A response body: bytes in memory, or the rest of an open file.
pub enum Body {
    Bytes(Option<Bytes>),
    File {
        file: tokio::io::Take<tokio::fs::File>,
        buf: bytes::BytesMut,
    },
}

impl Body {
    fn empty() -> Body {
        Body::Bytes(None)
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Body::Bytes(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::File { file, buf } => {
                if buf.capacity() < 16 * 1024 {
                    buf.reserve(64 * 1024);
                }
                match tokio_util::io::poll_read_buf(Pin::new(file), cx, buf) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
                    Poll::Ready(Ok(0)) => Poll::Ready(None),
                    Poll::Ready(Ok(_)) => Poll::Ready(Some(Ok(Frame::data(buf.split().freeze())))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Bytes(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Bytes(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::File { file, .. } => SizeHint::with_exact(file.limit()),
        }
    }
}

/// The answer to a request no path can make right: a `400` without
/// exactly one `Host` (HTTP/1.1), a `405` for methods other than GET and
/// HEAD; `None` for a request to answer.
pub fn refuse<B>(request: &Request<B>) -> Option<Response<Body>> {
    let headers = request.headers();
    let hosts = headers.get_all(header::HOST).iter().count();
    if hosts > 1 || (hosts == 0 && request.version() == Version::HTTP_11) {
        return Some(plain(
            StatusCode::BAD_REQUEST,
            "400 Bad Request: an HTTP/1.1 request needs one Host header\n",
        ));
    }
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        let mut response = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "405 Method Not Allowed: GET and HEAD only\n",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return Some(response);
    }
    None
}

/// The answer to `request`.
pub async fn answer(site: &Site, request: Request<Incoming>) -> Response<Body> {
    if let Some(refused) = refuse(&request) {
        return refused;
    }
    let head = request.method() == Method::HEAD;
    let headers = request.headers();
    let Some(path) = resolve(&site.root, request.uri().path()) else {
        return not_found();
    };
    // Open first: length and validators come from this handle, and the
    // body is read from it, so they all describe one version.
    let mut file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => return unavailable(&path, &e),
    };
    let meta = match file.metadata() {
        Ok(m) if m.is_file() => m,
        Ok(_) => return not_found(),
        Err(e) => return unavailable(&path, &e),
    };
    let stamp = crate::sys::stamp(&meta);
    // Unchanged files keep their modification time (the build never
    // rewrites same bytes), so size + time + inode identify a version.
    let etag = format!(
        "W/\"{:x}-{:x}-{:x}\"",
        stamp.len, stamp.modified_ns, stamp.inode
    );
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let len = meta.len();

    let mut response = if not_modified(headers, &etag, modified) {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let encoding = match compress::worth_it(&path, len) {
            true => compress::choose(headers),
            false => Encoding::Identity,
        };
        let compressed = match encoding {
            Encoding::Identity => None,
            _ => {
                let key = compress::Key {
                    path: path.clone(),
                    etag: etag.clone(),
                    encoding,
                };
                // On a miss, a second handle on the same open file (the
                // same version) is read and compressed.
                match site
                    .cache
                    .get_or_compress(key, len, || file.try_clone())
                    .await
                {
                    Ok(found) => found,
                    Err(e) => return unavailable(&path, &e),
                }
            }
        };
        match compressed {
            Some(body) => {
                let mut r = Response::new(Body::empty());
                let h = r.headers_mut();
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
                h.insert(
                    header::CONTENT_ENCODING,
                    HeaderValue::from_static(encoding.name()),
                );
                if !head {
                    *r.body_mut() = Body::Bytes(Some(body));
                }
                r
            }
            // Not asked for, or not worth it after all: the file as it is.
            None => match identity(&mut file, len, head) {
                Ok(r) => r,
                Err(e) => return unavailable(&path, &e),
            },
        }
    };
    let h = response.headers_mut();
    let media_type = match browser_navigation(headers) && is_feed(&path) {
        // Browsers show feed media types as plain text; as XML they apply
        // the feed's stylesheet and show a page. Readers get the feed type.
        true => "application/xml; charset=utf-8",
        false => media_type(&path),
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    // The same on a 200 and on its 304 (RFC 9110 15.4.5).
    let vary = match is_feed(&path) {
        true => "accept, accept-encoding",
        false => "accept-encoding",
    };
    h.insert(header::VARY, HeaderValue::from_static(vary));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(modified)) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::CACHE_CONTROL, site.cache_control.clone());
    response
}

/// The open file's bytes as they are: read whole when small (they leave
/// with the headers in one write), streamed from the handle when large.
fn identity(file: &mut std::fs::File, len: u64, head: bool) -> std::io::Result<Response<Body>> {
    if head {
        let mut r = Response::new(Body::empty());
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        return Ok(r);
    }
    if len <= WHOLE {
        let mut bytes = Vec::with_capacity(len as usize);
        // At most the length the handle gave: the file may only be
        // replaced, but a file changed in place must not run on.
        file.take(len).read_to_end(&mut bytes)?;
        let mut r = Response::new(Body::empty());
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        *r.body_mut() = Body::Bytes(Some(Bytes::from(bytes)));
        return Ok(r);
    }
    let file = tokio::io::AsyncReadExt::take(tokio::fs::File::from_std(file.try_clone()?), len);
    let mut r = Response::new(Body::File {
        file,
        buf: bytes::BytesMut::new(),
    });
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    Ok(r)
}

/// A file that names no file is a 404; one that cannot be read now (out of
/// descriptors, an I/O error) is a 503, logged.
fn unavailable(path: &Path, e: &std::io::Error) -> Response<Body> {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound | ErrorKind::PermissionDenied | ErrorKind::NotADirectory => not_found(),
        _ => {
            tracing::warn!("serve: {}: {e}", path.display());
            let mut r = plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "503 Service Unavailable: try again in a moment\n",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
    }
}

/// A short text answer, for people who open a wrong address in a browser.
fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    text_answer(
        status,
        "text/plain; charset=utf-8",
        Bytes::from_static(text.as_bytes()),
        false,
    )
}

/// `text` as a `status` answer of type `media_type` (only its headers for
/// a HEAD request).
pub fn text_answer(
    status: StatusCode,
    media_type: &'static str,
    text: Bytes,
    head: bool,
) -> Response<Body> {
    let len = text.len();
    let body = match head {
        true => Body::empty(),
        false => Body::Bytes(Some(text)),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    response
}

/// Any path that names no file of the folder.
pub fn not_found() -> Response<Body> {
    plain(StatusCode::NOT_FOUND, "404 Not Found\n")
}

/// `If-None-Match` wins over `If-Modified-Since` (RFC 9110 13.2.2).
fn not_modified(headers: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    if let Some(list) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
        let ours = bare(etag);
        return list.split(',').any(|t| t.trim() == "*" || bare(t) == ours);
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    match since {
        // HTTP dates have whole seconds.
        Some(since) => modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .zip(since.duration_since(SystemTime::UNIX_EPOCH).ok())
            .is_some_and(|(m, s)| m.as_secs() <= s.as_secs()),
        None => false,
    }
}

/// The file a request path names inside `root`, or `None`: for `..`,
/// `.`, empty or hidden segments, undecodable paths, anything that is not
/// a file, and links that lead out of `root`.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    let relative = decoded.strip_prefix('/')?;
    let relative = if relative.is_empty() {
        "index.html"
    } else {
        relative
    };
    let mut full = root.to_path_buf();
    for segment in relative.split('/') {
        let bad =
            segment.is_empty() || segment.starts_with('.') || segment.contains(['\\', '\0', ':']);
        if bad {
            return None;
        }
        full.push(segment);
    }
    // Without a link on the way, the path stays inside `root` (no segment
    // is `..` or hidden): one `lstat` a segment, not `realpath`'s
    // `readlink` for every component of the whole path.
    let mut at = root.to_path_buf();
    let mut segments = relative.split('/').peekable();
    while let Some(segment) = segments.next() {
        at.push(segment);
        let meta = std::fs::symlink_metadata(&at).ok()?;
        if meta.file_type().is_symlink() {
            return resolve_links(root, &full);
        }
        if segments.peek().is_none() {
            return meta.is_file().then_some(full);
        }
    }
    None
}

/// `full` with its links followed, if that stays inside `root`, is no
/// hidden file, and is a file.
fn resolve_links(root: &Path, full: &Path) -> Option<PathBuf> {
    let real = full.canonicalize().ok()?;
    // A link may not lead to a hidden file (the outbox, the cache) either.
    let hidden = real
        .strip_prefix(root)
        .ok()?
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
    (!hidden && real.is_file()).then_some(real)
}

/// A browser opening a page asks for HTML first; feed readers ask for
/// feed types (or anything).
fn browser_navigation(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.trim_start().starts_with("text/html"))
}

fn is_feed(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("rss" | "atom")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_keeps_requests_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("category")).unwrap();
        std::fs::write(root.join("all.rss"), "x").unwrap();
        std::fs::write(root.join("index.html"), "x").unwrap();
        std::fs::write(root.join("category/반도체.rss"), "x").unwrap();
        std::fs::write(root.join(".wirefeed-cache"), "x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join(".wirefeed-cache"), root.join("cache.rss")).unwrap();
        assert_eq!(resolve(&root, "/all.rss"), Some(root.join("all.rss")));
        assert_eq!(resolve(&root, "/"), Some(root.join("index.html")));
        assert_eq!(
            resolve(&root, "/category/%EB%B0%98%EB%8F%84%EC%B2%B4.rss"),
            Some(root.join("category/반도체.rss"))
        );
        for bad in [
            "/../all.rss",
            "/%2e%2e/all.rss",
            "/category/..%2F..%2Fetc%2Fpasswd",
            "//etc/passwd",
            "/.wirefeed-cache",
            "/cache.rss",
            "/category",
            "/nope.rss",
            "/%FF",
            "all.rss",
        ] {
            assert_eq!(resolve(&root, bad), None, "{bad}");
        }
    }
}
