//! `wirefeed serve` over real HTTP on 127.0.0.1: media types, conditional
//! GET, compression, methods, paths that try to leave the folder, and
//! `--watch` rebuilding while a reader polls with its ETag.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{project, repo, serve_built_samples, story, terminate, wait_until, wirefeed};
use reqwest::header;
use tokio_util::sync::CancellationToken;

/// The samples, served in this process, with a link that leads out of the
/// folder (which must not be followed).
async fn serve_samples() -> (tempfile::TempDir, String, CancellationToken) {
    let (out, base, token) = serve_built_samples("public, max-age=60").await;
    #[cfg(unix)]
    std::os::unix::fs::symlink(repo().join("Cargo.toml"), out.path().join("escape.rss")).unwrap();
    (out, base, token)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

#[tokio::test]
async fn feeds_have_their_media_types_validators_and_cache_control() {
    let (out, base, token) = serve_samples().await;
    let cases = [
        ("/all.rss", "application/rss+xml; charset=utf-8"),
        ("/all.atom", "application/atom+xml; charset=utf-8"),
        ("/all.json", "application/feed+json; charset=utf-8"),
        ("/feeds.opml", "text/x-opml; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/category/busan.rss", "application/rss+xml; charset=utf-8"),
    ];
    for (path, media_type) in cases {
        let r = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert_eq!(h[header::CONTENT_TYPE], media_type, "{path}");
        assert!(
            h.contains_key(header::ETAG) && h.contains_key(header::LAST_MODIFIED),
            "{path}"
        );
        assert_eq!(h[header::CACHE_CONTROL], "public, max-age=60");
        let name = if path == "/" {
            "index.html"
        } else {
            &path[1..]
        };
        let body = r.bytes().await.unwrap();
        assert_eq!(
            body.as_ref(),
            std::fs::read(out.path().join(name)).unwrap(),
            "{path}"
        );
    }
    token.cancel();
}

#[tokio::test]
async fn browsers_get_feeds_as_xml_so_the_stylesheet_applies() {
    let (_out, base, token) = serve_samples().await;
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let reader = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8";
    for (path, feed_type) in [
        ("/all.rss", "application/rss+xml"),
        ("/all.atom", "application/atom+xml"),
    ] {
        let get = |accept: &'static str| {
            client()
                .get(format!("{base}{path}"))
                .header(header::ACCEPT, accept)
                .send()
        };
        let r = get(browser).await.unwrap();
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/xml; charset=utf-8"
        );
        let vary: Vec<_> = r
            .headers()
            .get_all(header::VARY)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert!(vary.iter().any(|v| v.contains("accept")), "{vary:?}");
        let r = get(reader).await.unwrap();
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            format!("{feed_type}; charset=utf-8")
        );
    }
    token.cancel();
}

#[tokio::test]
async fn conditional_get_answers_304_until_the_file_changes() {
    let (out, base, token) = serve_samples().await;
    let url = format!("{base}/all.atom");
    let first = client().get(&url).send().await.unwrap();
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
    let modified = first.headers()[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_owned();
    let again = client()
        .get(&url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    let since = client()
        .get(&url)
        .header(header::IF_MODIFIED_SINCE, &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), 304);
    let other = client()
        .get(&url)
        .header(header::IF_NONE_MATCH, "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);

    // A rebuild with the same bytes leaves the file (and so the ETag) alone.
    let out_arg = out.path().to_str().unwrap().to_owned();
    wirefeed(&repo(), &["-q", "build", "--out", &out_arg]).expect_code(0);
    let same = client()
        .get(&url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 304);
    // New bytes are a new version.
    std::thread::sleep(Duration::from_millis(20));
    wirefeed::output::write_if_changed(&out.path().join("all.atom"), b"<feed/>").unwrap();
    let changed = client()
        .get(&url)
        .header(header::IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()[header::ETAG].to_str().unwrap(), etag);
    token.cancel();
}

#[tokio::test]
async fn gzip_and_brotli_when_the_reader_asks() {
    let (out, base, token) = serve_samples().await;
    let original = std::fs::read(out.path().join("all.rss")).unwrap();
    for (encoding, magic) in [("gzip", &[0x1f_u8, 0x8b][..]), ("br", &[][..])] {
        let r = client()
            .get(format!("{base}/all.rss"))
            .header(header::ACCEPT_ENCODING, encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], encoding);
        let vary: Vec<_> = r
            .headers()
            .get_all(header::VARY)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(
            vary.iter().any(|v| v.contains("accept-encoding")),
            "{vary:?}"
        );
        let body = r.bytes().await.unwrap();
        assert!(body.starts_with(magic));
        assert!(
            body.len() < original.len() / 2,
            "{encoding}: {} bytes",
            body.len()
        );
    }
    let plain = client()
        .get(format!("{base}/all.rss"))
        .send()
        .await
        .unwrap();
    assert!(!plain.headers().contains_key(header::CONTENT_ENCODING));
    token.cancel();
}

#[tokio::test]
async fn only_get_and_head() {
    let (_out, base, token) = serve_samples().await;
    let head = client()
        .head(format!("{base}/all.rss"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.headers().contains_key(header::ETAG));
    assert!(head.bytes().await.unwrap().is_empty());
    let post = client()
        .post(format!("{base}/all.rss"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()[header::ALLOW], "GET, HEAD");
    token.cancel();
}

/// Sends `path` as written (an HTTP client would normalize `..` away) and
/// returns the status code.
fn raw_status(base: &str, path: &str) -> u16 {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = s.read_to_string(&mut response);
    response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_outside_the_folder_are_404() {
    let (_out, base, token) = serve_samples().await;
    let b = base.clone();
    let codes = tokio::task::spawn_blocking(move || {
        [
            "/../Cargo.toml",
            "/%2e%2e/Cargo.toml",
            "/%2E%2E%2FCargo.toml",
            "/category/..%2F..%2FCargo.toml",
            "//etc/passwd",
            "/escape.rss",
            "/.wirefeed-cache",
            "/category",
        ]
        .map(|p| (p, raw_status(&b, p)))
    })
    .await
    .unwrap();
    for (path, code) in codes {
        assert_eq!(code, 404, "{path}");
    }
    token.cancel();
}

const LIMIT: Duration = Duration::from_secs(15);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(port: u16, path: &str, etag: Option<&str>) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let condition = etag.map_or(String::new(), |e| format!("If-None-Match: {e}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{condition}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let code = response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let etag = response
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .unwrap_or("")
        .to_owned();
    (code, etag, response)
}

#[test]
fn watch_rebuilds_and_readers_see_a_change_only_when_there_is_one() {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["serve", "--watch", "--bind", &bind])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the server", LIMIT, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let (code, etag, body) = get(port, "/all.rss", None);
    assert_eq!(code, 200);
    assert!(body.contains("First story"));
    assert_eq!(get(port, "/all.rss", Some(&etag)).0, 304);

    // A file outside the sources changes nothing.
    std::fs::write(dir.path().join("notes.txt"), "not an article").unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(get(port, "/all.rss", Some(&etag)).0, 304);

    std::fs::write(
        dir.path().join("articles/b.txt"),
        story("2026-10-02 09:00:00", "Second story"),
    )
    .unwrap();
    wait_until("the rebuild", LIMIT, || {
        get(port, "/all.rss", Some(&etag)).0 == 200
    });
    let (_, new_etag, body) = get(port, "/all.rss", None);
    assert!(body.contains("Second story"));
    assert_eq!(get(port, "/all.rss", Some(&new_etag)).0, 304);

    terminate(child);
}
