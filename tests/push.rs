//! `wirefeed push` against a real HTTP server in this process that injects
//! faults (500, 429 with Retry-After, stalls past the timeout, a permanent
//! 403), a fake WebSub hub, and a push killed with SIGKILL halfway.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fake::{start, Fault, Shared};
use common::{files, project, story, wirefeed};

fn site(base: &str, extra: &str) -> tempfile::TempDir {
    let dir = project(&[
        ("a.txt", &story("2026-10-01 09:00:00", "First story")),
        ("b.txt", &story("2026-10-02 09:00:00", "Second story")),
    ]);
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let more = format!(
        "\n[category_feeds]\nlimit = 5\n\n[[push]]\nname = \"dav\"\nkind = \"http-put\"\n\
         url = \"{base}/site/\"\ntoken_env = \"WIREFEED_TEST_TOKEN\"\ntimeout_secs = 1\nmax_attempts = 4\n\
         \n[websub]\nhub = \"{base}/hub\"\n{extra}"
    );
    std::fs::write(&config, format!("{text}{more}")).unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    dir
}

fn push(dir: &Path, args: &[&str]) -> common::Run {
    let mut all = vec!["push"];
    all.extend_from_slice(args);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(&all)
        .current_dir(dir)
        .env("WIREFEED_TEST_TOKEN", "s3cret-token")
        .output()
        .unwrap();
    common::Run { output }
}

/// The server's copy equals the output folder (less what was refused).
fn assert_mirrors(shared: &Shared, out: &Path, except: &[&str]) {
    let s = shared.lock().unwrap();
    for (name, bytes) in files(out) {
        if except.contains(&name.as_str()) {
            continue;
        }
        let stored = s.stored.get(&format!("/site/{name}"));
        assert!(
            stored == Some(&bytes),
            "server's {name} is not the newest version"
        );
    }
}

#[test]
fn faults_are_retried_refusals_reported_and_nothing_sent_twice() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    {
        let mut s = shared.lock().unwrap();
        s.faults.insert(
            "/site/all.rss".into(),
            vec![Fault::Status500, Fault::Status500],
        );
        s.faults
            .insert("/site/all.atom".into(), vec![Fault::TooMany]);
        s.faults.insert("/site/all.json".into(), vec![Fault::Stall]);
        s.faults
            .insert("/site/index.html".into(), vec![Fault::Drop]);
        s.forbidden.push("/site/feeds.opml".into());
    }
    let dir = site(&base, "");
    let out = dir.path().join("feeds");

    let first = push(dir.path(), &[]);
    first.expect_code(1); // feeds.opml refused
    assert!(
        first
            .stderr()
            .contains("dav: feeds.opml: HTTP 403 Forbidden: not allowed here"),
        "{}",
        first.stderr()
    );
    assert!(!first.stderr().contains("s3cret") && !first.stdout().contains("s3cret"));
    assert_mirrors(&shared, &out, &["feeds.opml"]);
    {
        let s = shared.lock().unwrap();
        assert_eq!(s.puts["/site/all.rss"], 3, "two 500s, then stored");
        assert_eq!(
            s.puts["/site/all.atom"], 2,
            "429, then stored after Retry-After"
        );
        assert_eq!(
            s.puts["/site/all.json"], 2,
            "a stall past the timeout, then stored"
        );
        assert!(s.tokens.iter().all(|t| t == "Bearer s3cret-token"));
        // One ping per feed file, after the target has it.
        let mut pinged: Vec<_> = s
            .pings
            .iter()
            .filter(|p| p.ends_with("all%2Erss"))
            .collect();
        pinged.dedup();
        assert_eq!(pinged, ["hub%2Emode=publish&hub%2Eurl=https%3A%2F%2Fnews%2Eexample%2Ecom%2Ffeeds%2Fall%2Erss"]);
        let feeds = files(&out)
            .iter()
            .filter(|(n, _)| n.ends_with(".rss") || n.ends_with(".atom") || n.ends_with(".json"))
            .count();
        assert_eq!(s.pings.len(), feeds);
    }

    // Nothing changed: nothing is sent again, the refusal stays reported.
    let puts_before: usize = shared.lock().unwrap().puts.values().sum();
    let again = push(dir.path(), &[]);
    again.expect_code(1);
    assert!(
        again.stdout().contains("dav: sent 0,"),
        "{}",
        again.stdout()
    );
    assert_eq!(
        shared.lock().unwrap().puts.values().sum::<usize>(),
        puts_before
    );
    assert_eq!(
        shared.lock().unwrap().pings.len(),
        files(&out)
            .iter()
            .filter(|(n, _)| n.ends_with(".rss") || n.ends_with(".atom") || n.ends_with(".json"))
            .count()
    );
    let status = wirefeed(dir.path(), &["status"]);
    status.expect_code(0);
    assert!(
        status.stdout().contains("feeds.opml"),
        "{}",
        status.stdout()
    );
    assert!(
        status.stdout().contains("refused, 1 attempts: HTTP 403"),
        "{}",
        status.stdout()
    );

    // A new story: only what changed goes out, and the hub hears of it.
    std::fs::write(
        dir.path().join("articles/c.txt"),
        story("2026-10-03 09:00:00", "Third story"),
    )
    .unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    let pings_before = shared.lock().unwrap().pings.len();
    let third = push(dir.path(), &["--dry-run"]);
    third.expect_code(0);
    assert!(
        third.stdout().contains("dav: would send all.rss"),
        "{}",
        third.stdout()
    );
    assert_eq!(
        shared.lock().unwrap().puts.values().sum::<usize>(),
        puts_before,
        "a dry run sends nothing"
    );
    push(dir.path(), &[]).expect_code(1);
    assert_mirrors(&shared, &out, &["feeds.opml"]);
    let s = shared.lock().unwrap();
    assert_eq!(s.puts["/site/category/test.atom"], 2, "changed: sent again");
    assert_eq!(s.puts["/site/feed.xsl"], 1, "unchanged: sent once");
    assert!(s.pings.len() > pings_before);
}

#[test]
fn a_push_killed_halfway_is_completed_by_the_next() {
    let shared: Shared = Arc::default();
    shared.lock().unwrap().slow = Duration::from_millis(150);
    let base = start(shared.clone());
    let dir = site(&base, "");
    let out = dir.path().join("feeds");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("push")
        .current_dir(dir.path())
        .env("WIREFEED_TEST_TOKEN", "t")
        .spawn()
        .unwrap();
    // Kill it once some, not all, files have arrived.
    let total = files(&out).len();
    let start = Instant::now();
    loop {
        let stored = shared.lock().unwrap().stored.len();
        if stored >= 3 {
            assert!(
                stored < total,
                "the push finished before it could be killed"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no upload arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signals our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    shared.lock().unwrap().slow = Duration::ZERO;
    push(dir.path(), &[]).expect_code(0);
    assert_mirrors(&shared, &out, &[]);
    assert!(wirefeed(dir.path(), &["status"])
        .stdout()
        .contains("dav: 0 pending"));
}

#[test]
fn a_webhook_hears_which_items_came_and_went() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let extra = format!("\n[[push]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{base}/hook\"\n");
    let dir = site(&base, &extra);
    push(dir.path(), &[]).expect_code(0);
    std::fs::remove_file(dir.path().join("articles/a.txt")).unwrap();
    std::fs::write(
        dir.path().join("articles/c.txt"),
        story("2026-10-03 09:00:00", "Third story"),
    )
    .unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    push(dir.path(), &[]).expect_code(0);
    let s = shared.lock().unwrap();
    assert_eq!(s.hooks.len(), 2, "one POST per push");
    let all_rss = s.hooks[1]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "all" && c["format"] == "rss")
        .unwrap()
        .clone();
    assert_eq!(all_rss["url"], "https://news.example.com/feeds/all.rss");
    assert_eq!(all_rss["sha256"].as_str().unwrap().len(), 64);
    let id = |s: &str| format!("tag:news.example.com,2000:{s}");
    assert_eq!(all_rss["added"], serde_json::json!([id("c")]));
    assert_eq!(all_rss["removed"], serde_json::json!([id("a")]));
}

#[test]
fn a_dead_target_does_not_hold_up_the_others() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    // A port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/", dead.local_addr().unwrap());
    drop(dead);
    let extra = format!(
        "\n[[push]]\nname = \"dead\"\nkind = \"http-put\"\nurl = \"{dead_url}\"\nmax_attempts = 2\ntimeout_secs = 1\n"
    );
    let dir = site(&base, &extra);
    let started = Instant::now();
    let run = push(dir.path(), &[]);
    run.expect_code(1);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_mirrors(&shared, &dir.path().join("feeds"), &[]);
    assert!(
        run.stderr().contains("dead: all.rss: cannot connect"),
        "{}",
        run.stderr()
    );
    // The hub waits until every target has a feed.
    assert!(shared.lock().unwrap().pings.is_empty());
    let status = wirefeed(dir.path(), &["status"]);
    assert!(
        status.stdout().contains("dav: 0 pending"),
        "{}",
        status.stdout()
    );
    assert!(
        status
            .stdout()
            .contains("pending, 2 attempts: cannot connect"),
        "{}",
        status.stdout()
    );
}

#[test]
fn a_redirect_is_not_a_delivery() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let extra =
        format!("\n[[push]]\nname = \"moved\"\nkind = \"webhook\"\nurl = \"{base}/redirect\"\n");
    let dir = site(&base, &extra);
    let run = push(dir.path(), &[]);
    run.expect_code(1);
    assert!(
        shared.lock().unwrap().hooks.is_empty(),
        "the body never arrived anywhere"
    );
    assert!(
        run.stderr()
            .contains("HTTP 301 Moved Permanently: redirected to /hook"),
        "{}",
        run.stderr()
    );
    let status = wirefeed(dir.path(), &["status"]);
    assert!(
        !status.stdout().contains("moved: 0 pending"),
        "{}",
        status.stdout()
    );
}
