//! `wirefeed serve` under pressure, over real sockets on 127.0.0.1: files
//! replaced while readers fetch them (never a torn body), the header and
//! idle timeouts, the connection limit, shutdown with a deadline, and a
//! request without `Host`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// A server in this process on 127.0.0.1:0 over `root`, on its own
/// runtime thread; stopped (and waited for) with `stop`.
struct Server {
    port: u16,
    token: CancellationToken,
    done: std::sync::mpsc::Receiver<()>,
    _thread: std::thread::JoinHandle<()>,
}

impl Server {
    fn start(root: &Path, settings: wirefeed::config::Serve) -> Server {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (done_tx, done) = std::sync::mpsc::channel();
        let token = CancellationToken::new();
        let (root, t) = (root.to_owned(), token.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready_tx
                    .send(listener.local_addr().unwrap().port())
                    .unwrap();
                wirefeed::serve::run(listener, &root, &settings, t)
                    .await
                    .unwrap();
            });
            let _ = done_tx.send(());
        });
        let port = ready_rx.recv().unwrap();
        Server {
            port,
            token,
            done,
            _thread: thread,
        }
    }

    /// Asks the server to stop; returns how long it took to return.
    fn stop(&self, limit: Duration) -> Duration {
        let start = Instant::now();
        self.token.cancel();
        self.done
            .recv_timeout(limit)
            .unwrap_or_else(|_| panic!("serve did not return within {limit:?}"));
        start.elapsed()
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }
}

fn settings() -> wirefeed::config::Serve {
    wirefeed::config::Serve::default()
}

/// A folder with an index and a feed.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>x</title>",
    )
    .unwrap();
    std::fs::write(dir.path().join("all.rss"), "<rss>".repeat(100)).unwrap();
    dir
}

/// One response read off `s`: status, headers (lower-case names), body.
/// Status, headers (lower-case names) and body of one response.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn read_response(s: &mut TcpStream) -> Option<Answer> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8(head).unwrap();
    let mut lines = head.split("\r\n");
    let code = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; len];
    s.read_exact(&mut body).ok()?;
    Some((code, headers, body))
}

fn get(s: &mut TcpStream, path: &str, extra: &str) -> Option<Answer> {
    // One write: written piece by piece, Nagle would hold the request.
    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\n{extra}\r\n");
    s.write_all(request.as_bytes()).ok()?;
    read_response(s)
}

fn value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Waits until the server closes `s`; returns how long that took, or
/// `None` when it is still open after `limit`.
fn closed_within(s: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(start.elapsed())
            }
            Err(_) => return None,
        }
    }
}

/// Version `v` of the feed: its number, its length and a pattern
/// throughout, so a reader can tell one whole version from a truncated or
/// mixed one. Sizes cross the streamed-body threshold (1 MiB).
fn version(v: usize) -> Vec<u8> {
    let len = [3_000, 40_000, 9_000, 1_300_000, 90_000, 20_000][v % 6] + v;
    let head = format!("<!-- version {v} length {len} -->\n");
    let mut bytes = head.into_bytes();
    let fill = format!("<item>{v}</item>\n");
    while bytes.len() < len - 20 {
        bytes.extend_from_slice(fill.as_bytes());
    }
    bytes.truncate(len - 20);
    let tail = format!("\n<!--end {v:>8}-->\n");
    bytes.extend_from_slice(&tail.as_bytes()[..20]);
    assert_eq!(bytes.len(), len);
    bytes
}

/// The versions the writer cycles through (each written again is a new
/// file, with a new `ETag`).
const VERSIONS: usize = 48;

/// Which version `body` is, if it is one whole version.
fn which(body: &[u8], versions: &[Vec<u8>]) -> Option<usize> {
    let text = std::str::from_utf8(body.get(..64)?).ok()?;
    let v: usize = text
        .strip_prefix("<!-- version ")?
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    (body == versions.get(v)?.as_slice()).then_some(v)
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn a_reader_never_gets_a_torn_file_while_files_are_replaced() {
    let dir = folder();
    let feed: PathBuf = dir.path().join("all.rss");
    let versions: Arc<Vec<Vec<u8>>> = Arc::new((0..VERSIONS).map(version).collect());
    std::fs::write(&feed, &versions[0]).unwrap();
    let server = Server::start(dir.path(), settings());
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, feed, versions) = (stop.clone(), feed.clone(), versions.clone());
        std::thread::spawn(move || {
            let mut v = 0;
            while !stop.load(Ordering::Relaxed) {
                v += 1;
                let body = &versions[v % VERSIONS];
                // As the build replaces a file: a new one renamed over it
                // (not synced, so that versions change as fast as can be).
                let temp = feed.with_file_name(".all.rss.tmp");
                std::fs::write(&temp, body).unwrap();
                std::fs::rename(&temp, &feed).unwrap();
            }
            v
        })
    };
    let port = server.port;
    let readers: Vec<_> = (0..4)
        .map(|r| {
            let versions = versions.clone();
            std::thread::spawn(move || {
                let mut seen = std::collections::HashMap::<String, usize>::new();
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                let start = Instant::now();
                let mut count = 0;
                while start.elapsed() < Duration::from_secs(4) {
                    // Reader 0 asks for gzip every other time: those bodies
                    // come from the compression cache.
                    let gzip = r == 0 && count % 2 == 0;
                    let extra = if gzip {
                        "Accept-Encoding: gzip\r\n"
                    } else {
                        ""
                    };
                    let (code, headers, body) = match get(&mut s, "/all.rss", extra) {
                        Some(r) => r,
                        None => {
                            s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                            continue;
                        }
                    };
                    assert_eq!(code, 200);
                    let encoded = value(&headers, "content-encoding") == Some("gzip");
                    assert_eq!(encoded, gzip);
                    let body = if encoded { gunzip(&body) } else { body };
                    let v = which(&body, &versions).unwrap_or_else(|| {
                        panic!(
                            "a torn body: {} bytes starting {:?}",
                            body.len(),
                            String::from_utf8_lossy(&body[..body.len().min(60)])
                        )
                    });
                    // One ETag, one version.
                    let etag = value(&headers, "etag").unwrap().to_owned();
                    assert!(
                        etag.contains(&format!("\"{:x}-", body.len())),
                        "{etag} vs {}",
                        body.len()
                    );
                    if let Some(earlier) = seen.insert(etag.clone(), v) {
                        assert_eq!(earlier, v, "{etag} named two versions");
                    }
                    count += 1;
                }
                (count, seen.len())
            })
        })
        .collect();
    let mut total = 0;
    let mut versions = 0;
    for r in readers {
        let (count, distinct) = r.join().unwrap();
        total += count;
        versions += distinct;
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    eprintln!("{total} responses, {versions} versions seen of {written} written");
    assert!(total > 100, "only {total} responses");
    assert!(versions > 10, "readers saw only {versions} versions");
    server.stop(Duration::from_secs(15));
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let dir = folder();
    let server = Server::start(
        dir.path(),
        wirefeed::config::Serve {
            idle_timeout: Duration::from_millis(600),
            ..settings()
        },
    );
    let mut s = server.connect();
    // Requests keep it open: each answered, the connection kept.
    for _ in 0..3 {
        assert_eq!(get(&mut s, "/all.rss", "").unwrap().0, 200);
        std::thread::sleep(Duration::from_millis(300));
    }
    let after = closed_within(&mut s, Duration::from_secs(5)).expect("closed when idle");
    assert!(
        after >= Duration::from_millis(200),
        "closed after {after:?}"
    );
    server.stop(Duration::from_secs(15));
}

#[test]
fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let dir = folder();
    let server = Server::start(
        dir.path(),
        wirefeed::config::Serve {
            header_timeout: Duration::from_millis(500),
            idle_timeout: Duration::from_secs(30),
            ..settings()
        },
    );
    // Half a request, then nothing.
    let mut s = server.connect();
    s.write_all(b"GET /all.rss HTTP/1.1\r\nHost: t\r\n")
        .unwrap();
    let after = closed_within(&mut s, Duration::from_secs(5)).expect("closed");
    assert!(
        after >= Duration::from_millis(300),
        "closed after {after:?}"
    );

    // A byte every 100 ms does not keep it open either (slowloris).
    let mut s = server.connect();
    let start = Instant::now();
    let mut closed = false;
    for b in b"GET /all.rss HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
        if s.write_all(&[*b]).is_err() {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !closed {
        closed = closed_within(&mut s, Duration::from_secs(2)).is_some();
    }
    assert!(closed, "a trickled request kept the connection");
    assert!(start.elapsed() < Duration::from_secs(5));

    // A connection that never sends anything is closed too.
    let mut s = server.connect();
    assert!(closed_within(&mut s, Duration::from_secs(5)).is_some());
    server.stop(Duration::from_secs(15));
}

#[test]
fn shutdown_returns_within_its_deadline_with_a_half_request_open() {
    let dir = folder();
    let server = Server::start(
        dir.path(),
        wirefeed::config::Serve {
            shutdown_timeout: Duration::from_millis(800),
            ..settings()
        },
    );
    let mut half = server.connect();
    half.write_all(b"GET /all.rss HTTP/1.1\r\nHost: t\r\nX-Half: ")
        .unwrap();
    let mut idle = server.connect();
    assert_eq!(get(&mut idle, "/all.rss", "").unwrap().0, 200);
    std::thread::sleep(Duration::from_millis(100));
    let took = server.stop(Duration::from_secs(5));
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(3),
        "stopped after {took:?}"
    );
    assert!(closed_within(&mut half, Duration::from_secs(1)).is_some());
    assert!(closed_within(&mut idle, Duration::from_secs(1)).is_some());
}

#[test]
fn a_request_in_flight_is_finished_before_shutdown() {
    let dir = folder();
    let big = "<item>x</item>\n".repeat(700_000); // 10 MB, streamed
    std::fs::write(dir.path().join("big.rss"), &big).unwrap();
    let server = Server::start(
        dir.path(),
        wirefeed::config::Serve {
            shutdown_timeout: Duration::from_secs(10),
            ..settings()
        },
    );
    let mut s = server.connect();
    s.set_nodelay(true).unwrap();
    write!(s, "GET /big.rss HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
    let mut first = [0u8; 4096];
    s.read_exact(&mut first).unwrap();
    // Ask to stop while most of the body has not been taken yet.
    server.token.cancel();
    std::thread::sleep(Duration::from_millis(300));
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    let whole = [&first[..], &rest[..]].concat();
    let text = String::from_utf8_lossy(&whole);
    let body = text.split_once("\r\n\r\n").unwrap().1;
    assert_eq!(body.len(), big.len(), "the body in flight was cut");
    server
        .done
        .recv_timeout(Duration::from_secs(5))
        .expect("stopped once the request was finished");
}

#[test]
fn http_1_1_without_host_is_a_400() {
    let dir = folder();
    let server = Server::start(dir.path(), settings());
    let mut s = server.connect();
    s.write_all(b"GET /all.rss HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).unwrap().0, 400);
    let mut s = server.connect();
    s.write_all(b"GET /all.rss HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut s).unwrap().0, 400);
    // HTTP/1.0 had no Host.
    let mut s = server.connect();
    s.write_all(b"GET /all.rss HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).unwrap().0, 200);
    server.stop(Duration::from_secs(15));
}

#[test]
fn the_connection_limit_keeps_serving_established_clients() {
    let dir = folder();
    let server = Server::start(
        dir.path(),
        wirefeed::config::Serve {
            max_connections: 2,
            ..settings()
        },
    );
    let mut reader = server.connect();
    assert_eq!(get(&mut reader, "/all.rss", "").unwrap().0, 200);
    // A hoarder takes the other place and then some; they send nothing.
    let hoard: Vec<TcpStream> = (0..5).map(|_| server.connect()).collect();
    // The established reader goes on being served, on its connection.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        assert_eq!(get(&mut reader, "/all.rss", "").unwrap().0, 200);
        std::thread::sleep(Duration::from_millis(100));
    }
    // A new reader is let in: silent connections were closed to make room.
    let mut late = server.connect();
    late.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    assert_eq!(get(&mut late, "/all.rss", "").unwrap().0, 200);
    drop(hoard);
    server.stop(Duration::from_secs(15));
}

#[test]
fn sigterm_stops_the_binary_within_shutdown_timeout() {
    let dir = common::project(&[(
        "a.txt",
        &common::story("2026-10-01 09:00:00", "First story"),
    )]);
    let config = dir.path().join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[serve]\nshutdown_timeout = \"1s\"\n");
    std::fs::write(&config, text).unwrap();
    common::wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::wait_until("the server", Duration::from_secs(15), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
    half.write_all(b"GET /all.rss HTTP/1.1\r\nHost: t\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    // SAFETY: signals our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(6) {
            let _ = child.kill();
            panic!("no exit 6 s after SIGTERM with shutdown_timeout = 1s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    assert!(
        start.elapsed() >= Duration::from_millis(800),
        "{:?}",
        start.elapsed()
    );
    drop(half);
}
