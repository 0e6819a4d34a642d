//! Breaking news: how long from a story landing in a source folder to the
//! feed that carries it, served and pushed.
//!
//! ```sh
//! cargo bench --bench latency                        # 10,000 and 100,000 stories, 15 drops each
//! cargo bench --bench latency -- --sizes 10000 --drops 5
//! ```
//!
//! For each size it builds the benchmark corpus (the newsroom workload of
//! `benches/build.rs`: newest 50 plus a feed per category), then:
//!
//! - drop to served: `wirefeed serve --watch` runs; a story is written under
//!   a temporary name and renamed into the source folder (as wire systems
//!   deliver), and `/all.rss` is fetched from the server every 2 ms until it
//!   carries the story's headline;
//! - drop to pushed: `wirefeed run` (`every = "1h"`, so only its watching of
//!   the sources can be what publishes) pushes to an nginx WebDAV server this
//!   benchmark starts on loopback, and `/all.rss` is fetched from nginx
//!   until it carries the headline. Skipped, saying so, without nginx.
//!
//! Prints the median and the worst of the drops. Figures, not a pass/fail
//! test: machines are shared and noisy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{corpus, free_port, median, stop};

/// GET `path` from 127.0.0.1:`port`: the body, or `None` on any failure.
fn get(port: u16, path: &str) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    response
        .starts_with(b"HTTP/1.1 200")
        .then(|| response.split_off(end + 4))
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Polls `port`'s `/all.rss` until it carries `headline`: the time since
/// `since`, or `None` after 30 s.
fn until_published(port: u16, prefix: &str, headline: &str, since: Instant) -> Option<Duration> {
    while since.elapsed() < Duration::from_secs(30) {
        if get(port, &format!("{prefix}all.rss")).is_some_and(|b| contains(&b, headline)) {
            return Some(since.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

/// Writes a new story under a temporary name and renames it into
/// `articles/incoming/`; returns its headline and when it landed.
fn drop_story(dir: &Path, round: usize) -> (String, Instant) {
    let headline = format!("Breaking {round} {}", std::process::id());
    // Filed a minute ago (wire times are Seoul's): the newest story, not
    // an embargoed one.
    let filed = chrono::Utc::now() + chrono::Duration::hours(9) - chrono::Duration::minutes(1);
    let text = format!(
        "| {}\nbreaking\n{headline}\nBy Bench Desk\nSEOUL (Yonhap) -- {headline}, the desk said.\n(END)\n",
        filed.format("%Y-%m-%d %H:%M:%S")
    );
    let incoming = dir.join("articles/incoming");
    fs::create_dir_all(&incoming).unwrap();
    let temporary = incoming.join(format!("AEN{round:06}.txt.tmp"));
    fs::write(&temporary, text).unwrap();
    let landed = Instant::now();
    fs::rename(&temporary, incoming.join(format!("AEN{round:06}.txt"))).unwrap();
    (headline, landed)
}

fn config(dir: &Path, name: &str, push: Option<&str>) -> PathBuf {
    let push = push.map_or(String::new(), |url| {
        format!("[[push]]\nname = \"dav\"\nkind = \"http-put\"\nurl = \"{url}\"\n\n[schedule]\nevery = \"1h\"\n")
    });
    let text = format!(
        "output = \"out-{name}\"\n\n[site]\ntitle = \"Bench Wire\"\n\
         base_url = \"https://news.example.com/\"\nitem_link = \"https://news.example.com/news/{{id}}\"\n\n\
         [[source]]\npath = \"articles\"\nformat = \"wire\"\n\n\
         [[feed]]\nname = \"all\"\nlimit = 50\n\n[category_feeds]\nlimit = 20\n\n{push}"
    );
    let path = dir.join(format!("{name}.toml"));
    fs::write(&path, text).unwrap();
    path
}

fn wirefeed(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// nginx with WebDAV on a free port, its root and files in `dir`.
struct Nginx {
    prefix: PathBuf,
    port: u16,
}

impl Nginx {
    fn start(dir: &Path) -> Option<Nginx> {
        let prefix = dir.join("nginx");
        let _ = fs::remove_dir_all(&prefix);
        fs::create_dir_all(prefix.join("root")).unwrap();
        fs::create_dir_all(prefix.join("tmp")).unwrap();
        let port = free_port();
        let user = if unsafe { libc::geteuid() } == 0 {
            "user root;"
        } else {
            ""
        };
        let conf = format!(
            "daemon on; {user} pid nginx.pid; error_log error.log warn;\n\
             events {{ worker_connections 256; }}\n\
             http {{ access_log off; client_body_temp_path tmp; proxy_temp_path tmp;\n\
             fastcgi_temp_path tmp; uwsgi_temp_path tmp; scgi_temp_path tmp;\n\
             client_max_body_size 64m;\n\
             server {{ listen 127.0.0.1:{port}; location /feeds/ {{ alias root/;\n\
             dav_methods PUT DELETE MKCOL; create_full_put_path on; }} }} }}\n"
        );
        fs::write(prefix.join("nginx.conf"), conf).unwrap();
        let started = Command::new("nginx")
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(prefix.join("nginx.conf"))
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        started.then_some(Nginx { prefix, port })
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("nginx")
            .arg("-p")
            .arg(&self.prefix)
            .arg("-c")
            .arg(self.prefix.join("nginx.conf"))
            .args(["-s", "stop"])
            .status();
    }
}

fn report(n: usize, what: &str, times: Vec<Duration>, drops: usize) {
    if times.len() < drops {
        println!(
            "| {n} | {what} | {} of {drops} drops never arrived in 30 s | |",
            drops - times.len()
        );
    }
    if times.is_empty() {
        return;
    }
    let worst = times.iter().max().copied().unwrap_or_default();
    println!(
        "| {n} | {what} | {:.0} ms | {:.0} ms |",
        median(times).as_secs_f64() * 1000.0,
        worst.as_secs_f64() * 1000.0
    );
}

fn main() {
    let mut sizes = vec![10_000, 100_000];
    let mut drops = 15;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sizes" => {
                sizes = args
                    .next()
                    .expect("--sizes N,N")
                    .split(',')
                    .map(|s| s.parse().expect("a number"))
                    .collect()
            }
            "--drops" => drops = args.next().expect("--drops N").parse().expect("a number"),
            _ => {} // cargo bench passes --bench
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    println!(
        "wirefeed {} on {} cores; {drops} drops a case",
        env!("CARGO_PKG_VERSION"),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| stories | drop to | median | worst |");
    println!("|---:|---|---:|---:|");
    for &n in &sizes {
        let dir = corpus(&root, n);
        let _ = fs::remove_dir_all(dir.join("articles/incoming"));

        let served = config(&dir, "latency-serve", None);
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let server = wirefeed(
            &dir,
            &[
                "-q",
                "-c",
                served.to_str().unwrap(),
                "serve",
                "--watch",
                "--bind",
                &bind,
            ],
        );
        let ready = Instant::now();
        while get(port, "/all.rss").is_none() && ready.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Stories filed within two seconds of the cache are read again by
        // every build: let the first build's cache age first.
        std::thread::sleep(Duration::from_millis(2100));
        let mut times = Vec::new();
        for round in 0..drops {
            let (headline, landed) = drop_story(&dir, round);
            times.extend(until_published(port, "/", &headline, landed));
            std::thread::sleep(Duration::from_millis(500));
        }
        stop(server);
        report(n, "served (serve --watch)", times, drops);

        match Nginx::start(&dir) {
            None => println!(
                "| {n} | pushed (run → nginx WebDAV) | SKIPPED: nginx could not be started | |"
            ),
            Some(nginx) => {
                let url = format!("http://127.0.0.1:{}/feeds/", nginx.port);
                let pushed = config(&dir, "latency-push", Some(&url));
                let runner = wirefeed(&dir, &["-q", "-c", pushed.to_str().unwrap(), "run"]);
                let ready = Instant::now();
                while get(nginx.port, "/feeds/all.rss").is_none()
                    && ready.elapsed() < Duration::from_secs(120)
                {
                    std::thread::sleep(Duration::from_millis(50));
                }
                std::thread::sleep(Duration::from_millis(2100));
                let mut times = Vec::new();
                for round in drops..2 * drops {
                    let (headline, landed) = drop_story(&dir, round);
                    times.extend(until_published(nginx.port, "/feeds/", &headline, landed));
                    std::thread::sleep(Duration::from_millis(500));
                }
                stop(runner);
                report(n, "pushed (run → nginx WebDAV)", times, drops);
            }
        }
        let _ = fs::remove_dir_all(dir.join("articles/incoming"));
    }
}
