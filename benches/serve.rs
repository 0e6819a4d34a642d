//! `wirefeed serve` against nginx, side by side on loopback, with wrk.
//!
//! ```sh
//! cargo bench --bench serve                           # 10 s a case, 3 rounds
//! cargo bench --bench serve -- --seconds 2 --rounds 1 # what CI runs
//! ```
//!
//! Builds a site of 2,000 wire stories under `target/bench-serve/` (a
//! small feed of the newest 10, about 30 KB, and one of all 2,000, about
//! 6 MB), serves the output folder with `wirefeed serve` and with an nginx
//! of its own (own config, own port, gzip on, access log off), and runs
//! wrk against each, alternating the two case by case (which one goes
//! first alternates by round):
//!
//! - small feed, 1 connection;
//! - small feed, 64 connections;
//! - 304s (`If-None-Match` with each server's own ETag), 64 connections;
//! - large feed with `Accept-Encoding: gzip`, 16 connections.
//!
//! Prints each run's requests per second, then per case the medians and
//! the ratio wirefeed / nginx. Figures, not a pass/fail test; it fails only
//! when it cannot run (wrk or nginx missing, a server not answering as
//! expected).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, stop};

const STORIES: usize = 2000;
const WORDS: [&str; 32] = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "with",
    "said",
    "Seoul",
    "government",
    "ministry",
    "officials",
    "market",
    "exports",
    "week",
    "year",
    "Korea",
    "president",
    "company",
    "percent",
    "growth",
    "talks",
    "plan",
    "report",
    "data",
    "city",
    "people",
    "new",
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// A project of `STORIES` wire stories, built; returns its folder.
fn site(root: &Path) -> PathBuf {
    let dir = root.join(format!("site-{STORIES}"));
    let articles = dir.join("articles");
    if !dir.join(".complete").exists() {
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&articles).unwrap();
        let mut rng = Rng(7);
        for i in 0..STORIES {
            let t = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                + chrono::Duration::minutes(i as i64 * 90);
            let mut text = format!(
                "| {}\neconomy-Seoul\nHeadline {i}: {} {} {}\nBy Kim Test\n",
                t.format("%Y-%m-%d %H:%M:%S"),
                WORDS[rng.below(32)],
                WORDS[rng.below(32)],
                WORDS[rng.below(32)],
            );
            for p in 0..10 {
                if p == 0 {
                    text.push_str("SEOUL, Jan. 1 (Yonhap) -- ");
                }
                for w in 0..40 {
                    if w > 0 {
                        text.push(' ');
                    }
                    text.push_str(WORDS[rng.below(32)]);
                }
                text.push_str(".\n");
            }
            text.push_str("(END)\n");
            fs::write(articles.join(format!("AEN{i:017}.txt")), text).unwrap();
        }
        let config = "[site]\ntitle = \"Bench Wire\"\nbase_url = \"https://news.example.com/\"\n\
             item_link = \"https://news.example.com/news/{id}\"\n\n\
             [[source]]\npath = \"articles\"\nformat = \"wire\"\n\n\
             [[feed]]\nname = \"latest\"\nlimit = 10\nformats = [\"rss\"]\n\n\
             [[feed]]\nname = \"all\"\nlimit = 2000\nformats = [\"rss\"]\n";
        fs::write(dir.join("config.toml"), config).unwrap();
        let status = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
            .args(["-q", "build"])
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "wirefeed build failed");
        fs::write(dir.join(".complete"), "").unwrap();
    }
    dir
}

fn wait_for(port: u16, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what} does not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One request on a fresh connection: the status and the response head.
fn head_of(port: u16, path: &str, extra: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n");
    s.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    s.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let head = text.split("\r\n\r\n").next().unwrap_or("").to_owned();
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, head)
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

fn nginx(dir: &Path, out: &Path, port: u16) -> Child {
    let prefix = dir.join("nginx");
    let _ = fs::remove_dir_all(&prefix);
    fs::create_dir_all(prefix.join("tmp")).unwrap();
    // SAFETY: geteuid takes no arguments and cannot fail.
    let user = match unsafe { libc::geteuid() } {
        0 => "user root;",
        _ => "",
    };
    let conf = format!(
        "daemon off;\nmaster_process on;\nworker_processes auto;\n{user}\npid nginx.pid;\n\
         error_log error.log warn;\nevents {{ worker_connections 1024; }}\nhttp {{\n\
         access_log off;\nsendfile on;\ntcp_nopush on;\ntcp_nodelay on;\nkeepalive_timeout 65;\n\
         client_body_temp_path tmp;\nproxy_temp_path tmp;\nfastcgi_temp_path tmp;\n\
         uwsgi_temp_path tmp;\nscgi_temp_path tmp;\n\
         types {{ application/rss+xml rss; text/html html; }}\n\
         gzip on;\ngzip_types application/rss+xml;\ngzip_min_length 256;\n\
         server {{ listen 127.0.0.1:{port}; root {}; }}\n}}\n",
        out.display()
    );
    fs::write(prefix.join("nginx.conf"), conf).unwrap();
    let child = Command::new("nginx")
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(prefix.join("nginx.conf"))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("nginx runs");
    wait_for(port, "nginx");
    child
}

struct Case {
    name: &'static str,
    path: &'static str,
    connections: u32,
    gzip: bool,
    conditional: bool,
}

const CASES: [Case; 4] = [
    Case {
        name: "small feed, 1 connection",
        path: "/latest.rss",
        connections: 1,
        gzip: false,
        conditional: false,
    },
    Case {
        name: "small feed, 64 connections",
        path: "/latest.rss",
        connections: 64,
        gzip: false,
        conditional: false,
    },
    Case {
        name: "304 (If-None-Match), 64 connections",
        path: "/latest.rss",
        connections: 64,
        gzip: false,
        conditional: true,
    },
    Case {
        name: "6 MB feed, gzip, 16 connections",
        path: "/all.rss",
        connections: 16,
        gzip: true,
        conditional: false,
    },
];

/// The extra request headers of `case` for the server on `port`, checked
/// once by hand: the right status, and gzip when asked.
fn headers_for(case: &Case, port: u16, server: &str) -> Vec<String> {
    let mut extra = Vec::new();
    if case.gzip {
        extra.push("Accept-Encoding: gzip".to_owned());
    }
    if case.conditional {
        let (code, head) = head_of(port, case.path, "");
        assert_eq!(code, 200, "{server}: {head}");
        let etag = header(&head, "etag").expect("an ETag");
        extra.push(format!("If-None-Match: {etag}"));
    }
    let raw: String = extra.iter().map(|h| format!("{h}\r\n")).collect();
    let (code, head) = head_of(port, case.path, &raw);
    let expected = if case.conditional { 304 } else { 200 };
    assert_eq!(code, expected, "{server} {}: {head}", case.name);
    if case.gzip {
        assert_eq!(
            header(&head, "content-encoding").as_deref(),
            Some("gzip"),
            "{server}: {head}"
        );
    }
    extra
}

/// One wrk run: requests per second, requests completed, and responses
/// that were errors (socket errors, non-2xx/3xx).
fn wrk(port: u16, case: &Case, headers: &[String], seconds: u32) -> (f64, u64, u64) {
    let threads = case.connections.min(2);
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t",
        &threads.to_string(),
        "-c",
        &case.connections.to_string(),
        "-d",
        &format!("{seconds}s"),
        "--timeout",
        "10s",
    ]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    cmd.arg(format!("http://127.0.0.1:{port}{}", case.path));
    let output = cmd.output().expect("wrk runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed:\n{text}");
    let rate = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in:\n{text}"));
    let done = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or(0);
    let mut errors = 0;
    for l in text.lines() {
        let l = l.trim();
        if let Some(n) = l.strip_prefix("Non-2xx or 3xx responses:") {
            errors += n.trim().parse::<u64>().unwrap_or(0);
        }
        if let Some(rest) = l.strip_prefix("Socket errors:") {
            errors += rest
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    (rate, done, errors)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn main() {
    let mut seconds = 10u32;
    let mut rounds = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(10),
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--bench" => {}
            other => panic!("unknown argument {other} (use --seconds N, --rounds N)"),
        }
    }
    for tool in ["wrk", "nginx"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            eprintln!("cannot run: `{tool}` is not installed (apt-get install {tool})");
            std::process::exit(1);
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-serve");
    let dir = site(&root);
    let out = dir.join("feeds").canonicalize().unwrap();
    for f in ["latest.rss", "all.rss"] {
        let len = fs::metadata(out.join(f)).unwrap().len();
        println!("{f}: {len} bytes");
    }

    let ours_port = free_port();
    let ours = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["-q", "serve", "--bind", &format!("127.0.0.1:{ours_port}")])
        .current_dir(&dir)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(ours_port, "wirefeed serve");
    let nginx_port = free_port();
    let theirs = nginx(&dir, &out, nginx_port);

    let servers = [("wirefeed", ours_port), ("nginx", nginx_port)];
    let headers: Vec<Vec<Vec<String>>> = CASES
        .iter()
        .map(|c| servers.iter().map(|(s, p)| headers_for(c, *p, s)).collect())
        .collect();
    // Warm both up (and fill wirefeed's compression cache, as nginx's
    // page cache is warm): one short run of every case.
    for (c, case) in CASES.iter().enumerate() {
        for (s, (_, port)) in servers.iter().enumerate() {
            wrk(*port, case, &headers[c][s], 1);
        }
    }
    let mut results = vec![[Vec::new(), Vec::new()]; CASES.len()];
    let mut log = String::new();
    println!("{seconds} s a case, {rounds} round(s), wrk -t min(2, connections)");
    for round in 0..rounds {
        for (c, case) in CASES.iter().enumerate() {
            let order: [usize; 2] = if (round + c) % 2 == 0 { [0, 1] } else { [1, 0] };
            for s in order {
                let (name, port) = servers[s];
                let (rate, done, errors) = wrk(port, case, &headers[c][s], seconds);
                let line = format!(
                    "round {}: {:<36} {name:<8} {rate:>10.0} req/s ({done} responses, {errors} errors)",
                    round + 1,
                    case.name
                );
                println!("{line}");
                let _ = writeln!(log, "{line}");
                results[c][s].push(rate);
            }
        }
    }
    stop(ours);
    stop(theirs);

    println!();
    println!("| case | wirefeed req/s | nginx req/s | wirefeed / nginx |");
    println!("|---|---:|---:|---:|");
    for (c, case) in CASES.iter().enumerate() {
        let ours = median(results[c][0].clone());
        let theirs = median(results[c][1].clone());
        let ratio = if theirs > 0.0 { ours / theirs } else { 0.0 };
        println!("| {} | {ours:.0} | {theirs:.0} | {ratio:.2} |", case.name);
    }
}
