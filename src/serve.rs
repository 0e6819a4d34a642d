//! Serve: the output folder over HTTP, the way feed readers expect.
//!
//! In: a folder of built files and a listener. Out: GET and HEAD answers
//! with the feed media types (and `charset=utf-8`), `ETag` and
//! `Last-Modified` on every file, `304 Not Modified` for `If-None-Match` /
//! `If-Modified-Since`, gzip or brotli when asked, and the configured
//! `Cache-Control`. Paths that would leave the folder (`..`, encoded or
//! not, absolute paths, links pointing out) and hidden files (the build
//! cache, temporary files) are 404s. It never builds anything itself: see
//! `watch` for rebuilding while serving.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::io::ReaderStream;
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;

use crate::config::media_type;

struct Site {
    root: PathBuf,
    cache_control: HeaderValue,
}

/// The HTTP application for `root`.
pub fn router(root: &Path, cache_control: &str) -> std::io::Result<Router> {
    let site = Site {
        // Canonical, so that links are judged against the real folder.
        root: root.canonicalize()?,
        cache_control: HeaderValue::from_str(cache_control)
            .unwrap_or_else(|_| HeaderValue::from_static("no-cache")),
    };
    Ok(Router::new()
        .fallback(file)
        .with_state(Arc::new(site))
        .layer(CompressionLayer::new().gzip(true).br(true)))
}

/// Serves `root` on `listener` until `shutdown` is cancelled; requests in
/// flight are finished first.
pub async fn run(
    listener: TcpListener,
    root: &Path,
    cache_control: &str,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = router(root, cache_control)?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

async fn file(
    State(site): State<Arc<Site>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        let mut response = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "405 Method Not Allowed: GET and HEAD only\n",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let Some(path) = resolve(&site.root, uri.path()) else {
        return not_found();
    };
    let Ok(meta) = tokio::fs::metadata(&path).await else {
        return not_found();
    };
    let stamp = crate::sys::stamp(&meta);
    // Unchanged files keep their modification time (the build never
    // rewrites same bytes), so size + time + inode identify a version.
    let etag = format!(
        "W/\"{:x}-{:x}-{:x}\"",
        stamp.len, stamp.modified_ns, stamp.inode
    );
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let last_modified = httpdate::fmt_http_date(modified);

    let mut response = if not_modified(&headers, &etag, modified) {
        StatusCode::NOT_MODIFIED.into_response()
    } else if method == Method::HEAD {
        let mut r = Response::new(Body::empty());
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(meta.len()));
        r
    } else {
        match tokio::fs::File::open(&path).await {
            Ok(f) => {
                let mut r = Response::new(Body::from_stream(ReaderStream::new(f)));
                r.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(meta.len()));
                r
            }
            Err(_) => return not_found(),
        }
    };
    let h = response.headers_mut();
    let media_type = match browser_navigation(&headers) && is_feed(&path) {
        // Browsers show feed media types as plain text; as XML they apply
        // the feed's stylesheet and show a page. Readers get the feed type.
        true => "application/xml; charset=utf-8",
        false => media_type(&path),
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    // The same on a 200 and on its 304 (RFC 9110 15.4.5): the compression
    // layer would name Accept-Encoding only on bodies it may compress.
    let vary = match is_feed(&path) {
        true => "accept, accept-encoding",
        false => "accept-encoding",
    };
    h.insert(header::VARY, HeaderValue::from_static(vary));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&last_modified) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::CACHE_CONTROL, site.cache_control.clone());
    response
}

/// A short text answer, for people who open a wrong address in a browser.
fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = (status, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Any path that names no file of the folder.
fn not_found() -> Response {
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
