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
        run.stderr().contains("dead: feed.xsl: cannot connect"),
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

/// A story of its own category, `Solo`.
fn solo_story() -> Vec<u8> {
    b"| 2026-10-04 09:00:00\nSolo\nA story alone in its category\nBy Kim Test\n\
      SEOUL, Oct. 4 (Yonhap) -- A story alone, officials said.\n(END)"
        .to_vec()
}

/// The site of [`site`] plus a story whose category only it has.
fn site_with_solo(base: &str, extra: &str) -> tempfile::TempDir {
    let dir = site(base, extra);
    std::fs::write(dir.path().join("articles/solo.txt"), solo_story()).unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    dir
}

/// Removes the solo story and rebuilds: `category/solo.*` are gone.
fn drop_solo(dir: &Path) {
    std::fs::remove_file(dir.join("articles/solo.txt")).unwrap();
    wirefeed(dir, &["-q", "build"]).expect_code(0);
    assert!(!dir.join("feeds/category/solo.rss").exists());
}

#[test]
fn files_go_out_in_link_order_and_what_is_gone_is_deleted_after_them() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let dir = site_with_solo(&base, "");
    let out = dir.path().join("feeds");
    push(dir.path(), &[]).expect_code(0);
    {
        let s = shared.lock().unwrap();
        let at = |f: &str| {
            s.order
                .iter()
                .position(|p| p == &format!("/site/{f}"))
                .unwrap_or_else(|| panic!("{f} not stored"))
        };
        assert!(at("feed.xsl") < at("category/solo.rss"));
        assert!(at("category/solo.rss") < at("all.rss"));
        assert!(at("category/test.atom") < at("all.atom"));
        assert!(at("all.json") < at("index.html") && at("all.json") < at("feeds.opml"));
        assert_eq!(s.order.len(), files(&out).len());
        // The last stage (sent side by side): the lists of every feed.
        let mut last: Vec<&str> = s.order[s.order.len() - 2..]
            .iter()
            .map(String::as_str)
            .collect();
        last.sort();
        assert_eq!(last, ["/site/feeds.opml", "/site/index.html"]);
    }
    // Something on the target this wirefeed did not publish.
    shared
        .lock()
        .unwrap()
        .stored
        .insert("/site/category/foreign.rss".into(), b"not ours".to_vec());

    drop_solo(dir.path());
    let status = wirefeed(dir.path(), &["status"]);
    assert!(
        status.stdout().contains("dav: 4 to delete")
            && status
                .stdout()
                .contains("category/solo.rss  gone from the output folder"),
        "{}",
        status.stdout()
    );
    let dry = push(dir.path(), &["--dry-run"]);
    dry.expect_code(0);
    for ext in ["rss", "atom", "json", "html"] {
        let line = format!("dav: would delete category/solo.{ext}");
        assert!(dry.stdout().contains(&line), "{}", dry.stdout());
    }
    assert!(dry.stdout().contains("would delete 4"), "{}", dry.stdout());
    assert!(
        shared.lock().unwrap().deleted.is_empty(),
        "a dry run deletes nothing"
    );

    let order_before = shared.lock().unwrap().order.len();
    let run = push(dir.path(), &[]);
    run.expect_code(0);
    assert!(run.stdout().contains("deleted 4"), "{}", run.stdout());
    let s = shared.lock().unwrap();
    let mut deleted = s.deleted.clone();
    deleted.sort();
    assert_eq!(
        deleted,
        [
            "/site/category/solo.atom",
            "/site/category/solo.html",
            "/site/category/solo.json",
            "/site/category/solo.rss"
        ]
    );
    assert!(
        s.stored.contains_key("/site/category/foreign.rss"),
        "not ours: kept"
    );
    // The pages that listed the removed feed were replaced first.
    assert!(s.order[order_before..].contains(&"/site/index.html".to_string()));
    drop(s);
    assert_mirrors(&shared, &out, &[]);
    let again = push(dir.path(), &[]);
    assert!(
        again.stdout().contains("dav: sent 0,"),
        "{}",
        again.stdout()
    );
    assert!(!again.stdout().contains("deleted"), "{}", again.stdout());
    let status = wirefeed(dir.path(), &["status"]);
    assert!(
        !status.stdout().contains("to delete"),
        "{}",
        status.stdout()
    );
}

#[test]
fn more_deletions_than_max_deletes_delete_nothing_and_say_which_key_to_raise() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    // `max_deletes` of the dav target (the last [[push]] key before [websub]).
    let dir = site_with_solo(&base, "");
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace("max_attempts = 4\n", "max_attempts = 4\nmax_deletes = 2\n");
    std::fs::write(&config, text).unwrap();
    push(dir.path(), &[]).expect_code(0);
    drop_solo(dir.path());
    let run = push(dir.path(), &[]);
    run.expect_code(1);
    assert!(
        run.stderr().contains(
            "dav: 4 files to delete, more than max_deletes = 2: none deleted (a broken build? if they are really gone, raise max_deletes in [[push]] `dav`)"
        ),
        "{}",
        run.stderr()
    );
    assert!(shared.lock().unwrap().deleted.is_empty());
    let status = wirefeed(dir.path(), &["status"]);
    assert!(
        status.stdout().contains("dav: 4 to delete")
            && status.stdout().contains("more than max_deletes = 2"),
        "{}",
        status.stdout()
    );
}

#[test]
fn a_conditional_target_keeps_a_version_this_wirefeed_did_not_write() {
    let shared: Shared = Arc::default();
    shared.lock().unwrap().conditional = true;
    let base = start(shared.clone());
    let dir = site(&base, "");
    let out = dir.path().join("feeds");
    push(dir.path(), &[]).expect_code(0);
    assert_eq!(shared.lock().unwrap().precondition_failed, 0);
    let outbox = std::fs::read_to_string(out.join(".wirefeed-outbox.json")).unwrap();
    assert!(outbox.contains("\"etag\""), "the ETags are kept: {outbox}");

    // The outbox is lost (or a push died after its PUTs): every file is
    // new to it, the target holds our bytes: nothing is sent again.
    std::fs::remove_file(out.join(".wirefeed-outbox.json")).unwrap();
    let puts: usize = shared.lock().unwrap().puts.values().sum();
    push(dir.path(), &[]).expect_code(0);
    let s = shared.lock().unwrap();
    assert_eq!(
        s.precondition_failed,
        files(&out).len(),
        "If-None-Match: * on each"
    );
    assert_eq!(
        s.puts.values().sum::<usize>(),
        puts,
        "ours already: not rewritten"
    );
    drop(s);

    // Another publisher writes all.rss; ours changes too.
    {
        let mut s = shared.lock().unwrap();
        s.stored.insert("/site/all.rss".into(), b"theirs".to_vec());
        s.etags.insert("/site/all.rss".into(), "\"theirs\"".into());
    }
    std::fs::write(
        dir.path().join("articles/c.txt"),
        story("2026-10-03 09:00:00", "Third story"),
    )
    .unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    let run = push(dir.path(), &[]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("dav: all.rss: precondition failed: the target holds a version this wirefeed did not write"),
        "{}",
        run.stderr()
    );
    assert_eq!(shared.lock().unwrap().stored["/site/all.rss"], b"theirs");
    let status = wirefeed(dir.path(), &["status"]);
    assert!(
        status.stdout().contains("all.rss") && status.stdout().contains("precondition failed"),
        "{}",
        status.stdout()
    );
    // Overwriting is a choice: --force.
    push(dir.path(), &["--force"]).expect_code(0);
    assert_mirrors(&shared, &out, &[]);
}

#[test]
fn a_version_a_killed_push_wrote_is_ours_after_a_rebuild() {
    let shared: Shared = Arc::default();
    shared.lock().unwrap().conditional = true;
    let base = start(shared.clone());
    let dir = site(&base, "");
    let out = dir.path().join("feeds");
    push(dir.path(), &[]).expect_code(0);
    let build_with = |name: &str, time: &str| {
        let path = dir.path().join(format!("articles/{name}.txt"));
        std::fs::write(path, story(time, name)).unwrap();
        wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    };
    // v2's all.rss reaches the server; the push dies before recording it.
    build_with("third", "2026-10-03 09:00:00");
    let v2 = std::fs::read(out.join("all.rss")).unwrap();
    {
        let mut s = shared.lock().unwrap();
        s.stored.insert("/site/all.rss".into(), v2.clone());
        s.etags.insert("/site/all.rss".into(), "\"v2\"".into());
    }
    let path = out.join(".wirefeed-outbox.json");
    let mut outbox: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    outbox["targets"]["dav"]["pending"]["all.rss"] = serde_json::json!({
        "sha256": wirefeed::publish::sha256(&v2),
        "attempts": 0, "last_error": null, "permanent": false
    });
    std::fs::write(&path, serde_json::to_vec(&outbox).unwrap()).unwrap();
    // v3: the 412 over v2 is recognised as ours, and v3 goes over it.
    build_with("fourth", "2026-10-04 09:00:00");
    let run = push(dir.path(), &[]);
    run.expect_code(0);
    assert!(
        shared.lock().unwrap().precondition_failed >= 1,
        "If-Match met v2"
    );
    assert_mirrors(&shared, &out, &[]);
}

#[test]
fn a_webhook_hears_which_feeds_were_removed() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let extra = format!("\n[[push]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{base}/hook\"\n");
    let dir = site_with_solo(&base, &extra);
    push(dir.path(), &[]).expect_code(0);
    drop_solo(dir.path());
    push(dir.path(), &[]).expect_code(0);
    let s = shared.lock().unwrap();
    assert_eq!(s.hooks.len(), 2);
    assert_eq!(s.hooks[0]["removed"], serde_json::json!([]));
    let removed = s.hooks[1]["removed"].as_array().unwrap();
    let mut names: Vec<String> = removed
        .iter()
        .map(|r| {
            format!(
                "{}.{}",
                r["name"].as_str().unwrap(),
                r["format"].as_str().unwrap()
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "category/solo.atom",
            "category/solo.json",
            "category/solo.rss"
        ]
    );
    assert!(removed
        .iter()
        .any(|r| r["url"] == "https://news.example.com/feeds/category/solo.rss"));
}
