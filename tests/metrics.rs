//! `/metrics` and `/healthz` of the real binary, over real HTTP on
//! 127.0.0.1: `serve` on a built folder and with `--watch`, and `run` with
//! `[metrics] bind`, pushing to a local webhook server that takes one
//! target's announcements and refuses the other's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{fake, project, story, terminate, wait_until, wirefeed};

const LIMIT: Duration = Duration::from_secs(20);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One answer: status, header lines (lower-case names), body.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

fn get(port: u16, path: &str, extra: &str) -> Answer {
    request(port, "GET", path, extra)
}

fn request(port: u16, method: &str, path: &str, extra: &str) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Answer {
        status,
        headers: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

/// Starts `wirefeed ARGS` in `dir` and waits until `port` accepts.
fn spawn(dir: &Path, args: &[&str], port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the listener", LIMIT, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    child
}

/// Checks the text exposition format 0.0.4 line by line and returns every
/// sample, `name{labels}` → value: each family has `# HELP` then `# TYPE`
/// before its samples, names and label sets are well formed, values are
/// numbers, no sample appears twice.
fn parse_exposition(text: &str) -> BTreeMap<String, f64> {
    let name_ok = |n: &str| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut helped = BTreeSet::new();
    let mut typed = BTreeMap::new();
    let mut samples = BTreeMap::new();
    assert!(text.ends_with('\n'), "the text ends with a line feed");
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            assert!(name_ok(name) && !help.is_empty(), "{line}");
            assert!(helped.insert(name.to_owned()), "two HELP lines: {line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(helped.contains(name), "TYPE before HELP: {line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(
                typed.insert(name.to_owned(), kind.to_owned()).is_none(),
                "{line}"
            );
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line: {line:?}"
        );
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        let name = series.split('{').next().unwrap();
        assert!(name_ok(name), "{line}");
        if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
            let inner = labels.strip_prefix('{').and_then(|l| l.strip_suffix('}'));
            let inner = inner.unwrap_or_else(|| panic!("labels: {line}"));
            for pair in inner.split("\",") {
                let (label, quoted) = pair.split_once('=').unwrap();
                assert!(name_ok(label) && quoted.starts_with('"'), "{line}");
            }
        }
        let family = match typed.get(name) {
            Some(_) => name,
            None => ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .filter(|f| typed.get(*f).is_some_and(|k| k == "histogram"))
                .unwrap_or_else(|| panic!("a sample of no declared family: {line}")),
        };
        assert!(typed.contains_key(family));
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "a sample twice: {line}"
        );
    }
    samples
}

fn scrape(port: u16) -> BTreeMap<String, f64> {
    let answer = get(port, "/metrics", "");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer
            .headers
            .contains("content-type: text/plain; version=0.0.4"),
        "{}",
        answer.headers
    );
    parse_exposition(&answer.body)
}

fn sample(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no {series} in {samples:#?}"))
}

#[test]
fn serve_exposes_metrics_that_parse_and_count_requests() {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let child = spawn(dir.path(), &["serve", "--bind", &bind], port);

    let before = scrape(port);
    for name in [
        "wirefeed_builds_total{outcome=\"ok\"}",
        "wirefeed_builds_total{outcome=\"failed\"}",
        "wirefeed_build_duration_seconds_count",
        "wirefeed_build_duration_seconds_bucket{le=\"+Inf\"}",
        "wirefeed_articles",
        "wirefeed_article_errors_total",
        "wirefeed_feeds",
        "wirefeed_files_written_total",
        "wirefeed_last_publish_timestamp_seconds",
        "process_start_time_seconds",
    ] {
        sample(&before, name);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = sample(&before, "process_start_time_seconds");
    assert!(
        started <= now && now - started < 120.0,
        "{started} vs {now}"
    );

    for _ in 0..3 {
        assert_eq!(get(port, "/all.rss", "").status, 200);
    }
    assert_eq!(get(port, "/nothing-here.rss", "").status, 404);
    let after = scrape(port);
    let class = |s: &BTreeMap<String, f64>, c: &str| {
        sample(s, &format!("wirefeed_http_requests_total{{class=\"{c}\"}}"))
    };
    // The three feeds and the first scrape; the 404.
    assert_eq!(
        class(&after, "2xx") - class(&before, "2xx"),
        4.0,
        "{after:#?}"
    );
    assert_eq!(class(&after, "4xx") - class(&before, "4xx"), 1.0);
    assert_eq!(class(&after, "5xx"), 0.0);

    // Not for a client behind a proxy: the same 404 as a missing file.
    let proxied = get(port, "/metrics", "X-Forwarded-For: 192.0.2.1\r\n");
    assert_eq!(proxied.status, 404);
    assert!(!proxied.body.contains("wirefeed_"));
    let healthz = get(port, "/healthz", "");
    assert_eq!(healthz.status, 200);
    assert_eq!(healthz.body, "ok: serving what a build wrote\n");
    assert!(healthz.headers.contains("cache-control: no-store"));
    // HEAD: the headers of the GET, no body; other methods: 405.
    let head = request(port, "HEAD", "/metrics", "");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let length: usize = head
        .headers
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(length > 1000, "{}", head.headers);
    assert_eq!(
        request(port, "POST", "/metrics", "Content-Length: 0\r\n").status,
        405
    );
    terminate(child);

    // `[serve] metrics = "off"`: nobody.
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n[serve]\nmetrics = \"off\"\n")).unwrap();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let child = spawn(dir.path(), &["serve", "--bind", &bind], port);
    assert_eq!(get(port, "/metrics", "").status, 404);
    assert_eq!(get(port, "/healthz", "").status, 200);
    terminate(child);
}

#[test]
fn serve_healthz_waits_for_a_build_and_watch_goes_stale() {
    // Plain serve on a folder nobody built yet: up, but not healthy.
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let child = spawn(dir.path(), &["serve", "--bind", &bind], port);
    let waiting = get(port, "/healthz", "");
    assert_eq!(waiting.status, 503, "{}", waiting.body);
    assert!(
        waiting.body.starts_with("nothing to serve yet: no "),
        "{}",
        waiting.body
    );
    assert_eq!(get(port, "/all.rss", "").status, 404);
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    let ready = get(port, "/healthz", "");
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(get(port, "/all.rss", "").status, 200);
    terminate(child);

    // serve --watch publishes itself; with a tiny max age it goes stale
    // while nothing changes, and a new story makes it healthy again.
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[metrics]\nmax_publish_age = \"2s\"\n"),
    )
    .unwrap();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let child = spawn(dir.path(), &["serve", "--watch", "--bind", &bind], port);
    let first = scrape(port);
    assert_eq!(sample(&first, "wirefeed_builds_total{outcome=\"ok\"}"), 1.0);
    assert_eq!(sample(&first, "wirefeed_articles"), 1.0);
    assert!(sample(&first, "wirefeed_last_publish_timestamp_seconds") > 1.7e9);
    wait_until("a stale /healthz", LIMIT, || {
        get(port, "/healthz", "").status == 503
    });
    let stale = get(port, "/healthz", "");
    assert!(
        stale.body.starts_with("stale: last publish ")
            && stale.body.contains("more than max_publish_age (2s)"),
        "{}",
        stale.body
    );
    std::fs::write(
        dir.path().join("articles/b.txt"),
        story("2026-10-02 09:00:00", "Second story"),
    )
    .unwrap();
    // The rebuild publishes: healthy for the next 2 s.
    wait_until("a healthy /healthz after the rebuild", LIMIT, || {
        get(port, "/healthz", "").status == 200
    });
    let rebuilt = scrape(port);
    assert_eq!(
        sample(&rebuilt, "wirefeed_builds_total{outcome=\"ok\"}"),
        2.0
    );
    assert_eq!(sample(&rebuilt, "wirefeed_articles"), 2.0);
    terminate(child);
}

#[test]
fn run_counts_ticks_and_pushes_per_target_on_its_metrics_listener() {
    let shared: fake::Shared = Arc::new(Mutex::new(fake::Server::default()));
    let base = fake::start(shared.clone());
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    let config = dir.path().join("config.toml");
    let plain = std::fs::read_to_string(&config).unwrap();
    let port = free_port();
    let metrics = format!(
        "\n[schedule]\nevery = \"1h\"\n\n[metrics]\nbind = \"127.0.0.1:{port}\"\nmax_publish_age = \"3s\"\n"
    );
    let good = format!("\n[[push]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{base}/hook\"\n");
    // The fake answers 403 there: refused for good.
    let bad = format!("\n[[push]]\nname = \"gate\"\nkind = \"webhook\"\nurl = \"{base}/echo/x\"\n");
    std::fs::write(&config, format!("{plain}{metrics}{good}{bad}")).unwrap();
    let child = spawn(dir.path(), &["run"], port);

    wait_until("the first tick's push", LIMIT, || {
        scrape(port).contains_key("wirefeed_pushes_total{target=\"gate\",outcome=\"refused\"}")
    });
    let first = scrape(port);
    assert_eq!(sample(&first, "wirefeed_builds_total{outcome=\"ok\"}"), 1.0);
    assert_eq!(sample(&first, "wirefeed_build_duration_seconds_count"), 1.0);
    assert_eq!(sample(&first, "wirefeed_articles"), 1.0);
    assert!(sample(&first, "wirefeed_files_written_total") > 0.0);
    assert_eq!(
        sample(
            &first,
            "wirefeed_pushes_total{target=\"hook\",outcome=\"complete\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &first,
            "wirefeed_pushes_total{target=\"gate\",outcome=\"refused\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(&first, "wirefeed_outbox_pending_files{target=\"hook\"}"),
        0.0
    );
    assert!(sample(&first, "wirefeed_outbox_pending_files{target=\"gate\"}") >= 1.0);
    // A target refused a file: nothing counts as published yet.
    assert_eq!(
        sample(&first, "wirefeed_last_publish_timestamp_seconds"),
        0.0
    );
    let waiting = get(port, "/healthz", "");
    assert_eq!(waiting.status, 503);
    assert!(
        waiting
            .body
            .starts_with("not published yet: the last push left files pending or refused (gate "),
        "{}",
        waiting.body
    );
    assert_eq!(shared.lock().unwrap().hooks.len(), 1);
    // A second run on the same config: the folder's lock is what it
    // reports (exit 3), not the metrics address it cannot have.
    let second = wirefeed(dir.path(), &["run", "--once"]);
    second.expect_code(3);
    assert!(
        second.stderr().contains("another wirefeed (process"),
        "{}",
        second.stderr()
    );

    // The refusing target goes from the config; run reloads it on the
    // change, ticks, and this time everything is delivered.
    std::fs::write(&config, format!("{plain}{metrics}{good}")).unwrap();
    wait_until("a tick that publishes", LIMIT, || {
        get(port, "/healthz", "").status == 200
    });
    let second = scrape(port);
    assert!(sample(&second, "wirefeed_builds_total{outcome=\"ok\"}") >= 2.0);
    let published = sample(&second, "wirefeed_last_publish_timestamp_seconds");
    let started = sample(&second, "process_start_time_seconds");
    assert!(
        published >= started && started > 1.7e9,
        "{published} {started}"
    );
    assert_eq!(
        sample(
            &second,
            "wirefeed_pushes_total{target=\"gate\",outcome=\"refused\"}"
        ),
        1.0
    );
    assert!(sample(&second, "wirefeed_http_requests_total{class=\"2xx\"}") >= 1.0);
    // No story lands and the schedule is an hour: stale after 3 s.
    wait_until("a stale /healthz", LIMIT, || {
        get(port, "/healthz", "").status == 503
    });
    assert!(get(port, "/healthz", "").body.starts_with("stale: "));
    // Files are not served on the metrics listener.
    assert_eq!(get(port, "/all.rss", "").status, 404);
    terminate(child);
}
