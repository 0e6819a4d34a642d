//! Two `wirefeed run` processes, as on two machines (each its own output
//! folder, both reading one source folder), against one bucket of a real
//! S3-protocol server (moto's: `WIREFEED_S3_ENDPOINT`, started by
//! `.ci/run`; without it these tests say they skipped). One holds the
//! target's lease and publishes, the other waits; when the first dies the
//! second takes over within the lease's duration and a margin, and what
//! lands after the death reaches the bucket. A poller watches every
//! object the whole time: each only ever moves forward, from a version
//! the first built to one the second built, and never holds anything
//! else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::s3::{bucket, endpoint, listing, objects, run, s3, KEY, LEASE, SECRET};
use common::{files, story, wirefeed};

/// Short, so the test is quick; renewed every 2 s.
const LEASE_SECS: u64 = 6;

/// A project (config and output folder) reading `articles`, pushing to
/// `bucket` under `site/`.
fn machine(root: &Path, name: &str, articles: &Path, endpoint: &str, bucket: &str) -> PathBuf {
    desk(root, name, "Test Desk", articles, endpoint, bucket)
}

/// [`machine`] with the site titled `title`.
fn desk(
    root: &Path,
    name: &str,
    title: &str,
    articles: &Path,
    endpoint: &str,
    bucket: &str,
) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        r#"[site]
title = "{title}"
base_url = "https://news.example.com/"
item_link = "https://news.example.com/news/{{id}}"

[[source]]
path = "{articles}"

[[feed]]
name = "all"

[category_feeds]
limit = 5

[schedule]
every = "1h"

[[push]]
name = "bucket"
kind = "s3"
bucket = "{bucket}"
prefix = "site/"
endpoint = "{endpoint}"
timeout_secs = 5
max_attempts = 2
lease = "{LEASE_SECS}s"
"#,
        articles = articles.display()
    );
    std::fs::write(dir.join("config.toml"), config).unwrap();
    dir
}

/// `wirefeed run` in `dir`, its log going to `dir/run.log`.
fn start(dir: &Path) -> Child {
    let log = std::fs::File::create(dir.join("run.log")).unwrap();
    Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("run")
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("run.log")).unwrap_or_default()
}

/// Waits until `ready` holds, failing with both logs after `limit`.
fn wait(what: &str, limit: Duration, logs: &[&Path], mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        if start.elapsed() > limit {
            let logs: Vec<String> = logs
                .iter()
                .map(|d| format!("--- {}\n{}", d.display(), log(d)))
                .collect();
            panic!("timed out waiting for {what}\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The holder id a run's log says it holds the lease as.
fn holder_in(log: &str) -> Option<String> {
    let rest = log.split("holding the lease as ").last()?;
    if rest.len() == log.len() {
        return None;
    }
    rest.split_whitespace().next().map(str::to_owned)
}

fn lease_record(endpoint: &str, bucket: &str) -> serde_json::Value {
    let (status, _, body) = s3("GET", &format!("{endpoint}/{bucket}/site/{LEASE}"), b"");
    assert_eq!(status, 200, "no lease object");
    serde_json::from_slice(&body).unwrap()
}

fn md5(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Drops a story into the source folder as wire systems do: a temporary
/// name, then a rename.
fn deliver(articles: &Path, name: &str, bytes: &[u8]) {
    let tmp = articles.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, articles.join(name)).unwrap();
}

/// Lists the bucket every 50 ms until stopped; every object's ETags (the
/// MD5 of its bytes) in the order they were seen.
struct Poller {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Poller {
    fn start(endpoint: &str, bucket: &str) -> Poller {
        let stop = Arc::new(AtomicBool::new(false));
        let seen: Arc<Mutex<BTreeMap<String, Vec<String>>>> = Arc::default();
        let (e, b, s, t) = (
            endpoint.to_owned(),
            bucket.to_owned(),
            stop.clone(),
            seen.clone(),
        );
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                for (key, etag) in listing(&e, &b, "site/") {
                    let mut seen = t.lock().unwrap();
                    let versions = seen.entry(key["site/".len()..].to_owned()).or_default();
                    if versions.last() != Some(&etag) {
                        versions.push(etag);
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Poller { stop, seen, thread }
    }

    fn finish(self) -> BTreeMap<String, Vec<String>> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        Arc::try_unwrap(self.seen).unwrap().into_inner().unwrap()
    }
}

#[test]
fn a_standby_run_takes_over_when_the_holder_is_killed_and_nothing_is_lost_or_goes_back() {
    let Some(endpoint) = endpoint("a_standby_run_takes_over_when_the_holder_is_killed") else {
        return;
    };
    let bucket = bucket(&endpoint, "lease-takeover");
    let root = tempfile::tempdir().unwrap();
    let articles = root.path().join("articles");
    std::fs::create_dir_all(&articles).unwrap();
    for i in 0..5 {
        let text = story(&format!("2026-10-01 09:0{i}:00"), &format!("Story {i}"));
        std::fs::write(articles.join(format!("s{i}.txt")), text).unwrap();
    }
    // The only story of its categories: its removal after A's death
    // takes their feeds, which A published, off the bucket.
    let solo = "| 2026-10-01 09:10:00\nSolo-Desk\nA solo story\nBy Kim Test\n\
                SEOUL, Oct. 1 (Yonhap) -- A solo story, officials said.\n(END)";
    std::fs::write(articles.join("solo.txt"), solo).unwrap();
    let a = machine(root.path(), "a", &articles, &endpoint, &bucket);
    let b = machine(root.path(), "b", &articles, &endpoint, &bucket);
    let poller = Poller::start(&endpoint, &bucket);

    // A takes the lease and publishes.
    let mut first = start(&a);
    wait(
        "A holds the lease",
        Duration::from_secs(30),
        &[&a, &b],
        || holder_in(&log(&a)).is_some(),
    );
    let a_holder = holder_in(&log(&a)).unwrap();
    wait("A's first push", Duration::from_secs(30), &[&a, &b], || {
        log(&a).contains("pushed: bucket sent")
    });
    let v1: BTreeMap<String, Vec<u8>> = files(&a.join("feeds")).into_iter().collect();
    wait(
        "A's feeds in the bucket",
        Duration::from_secs(30),
        &[&a, &b],
        || objects(&endpoint, &bucket, "site/") == v1,
    );
    assert_eq!(
        lease_record(&endpoint, &bucket)["holder"],
        a_holder.as_str()
    );

    // B builds the same sources, and waits.
    let second = start(&b);
    wait("B is standby", Duration::from_secs(30), &[&a, &b], || {
        log(&b).contains(&format!(
            "push bucket: standby: held by {a_holder} (epoch 1"
        ))
    });
    wait("B's first tick", Duration::from_secs(30), &[&a, &b], || {
        log(&b).contains("pushed: bucket standby")
    });
    assert!(holder_in(&log(&b)).is_none(), "{}", log(&b));
    assert_eq!(objects(&endpoint, &bucket, "site/"), v1, "B wrote nothing");

    // A dies; stories land after its death.
    // SAFETY: signals our own child.
    unsafe { libc::kill(first.id() as i32, libc::SIGKILL) };
    first.wait().unwrap();
    let killed = Instant::now();
    deliver(
        &articles,
        "late1.txt",
        &story("2026-10-02 09:00:00", "Late story one"),
    );
    deliver(
        &articles,
        "late2.txt",
        &story("2026-10-02 09:01:00", "Late story two"),
    );
    std::fs::remove_file(articles.join("solo.txt")).unwrap();

    // B takes over within the lease, its look every third, and a margin.
    let limit = Duration::from_secs(LEASE_SECS + LEASE_SECS / 3 + 5);
    wait("B takes over", limit, &[&a, &b], || {
        holder_in(&log(&b)).is_some()
    });
    let takeover = killed.elapsed();
    let b_holder = holder_in(&log(&b)).unwrap();
    assert!(
        log(&b).contains(&format!(
            "taken over from {a_holder}, not renewed for {LEASE_SECS}s"
        )),
        "{}",
        log(&b)
    );
    let lease = lease_record(&endpoint, &bucket);
    assert_eq!(lease["holder"], b_holder.as_str());
    assert_eq!(lease["epoch"], 2);

    // What a build of the sources gives is what the bucket holds.
    let fresh = root.path().join("fresh");
    let out = fresh.to_str().unwrap().to_owned();
    wirefeed(&b, &["-q", "build", "--out", &out]).expect_code(0);
    let v2: BTreeMap<String, Vec<u8>> = files(&fresh).into_iter().collect();
    assert!(String::from_utf8_lossy(&v2["all.rss"]).contains("Late story two"));
    assert!(v1.contains_key("category/solo.rss") && !v2.contains_key("category/solo.rss"));
    wait(
        "the late stories in the bucket",
        Duration::from_secs(30),
        &[&a, &b],
        || objects(&endpoint, &bucket, "site/") == v2,
    );
    assert!(
        log(&b).contains("files an earlier holder of the lease published are gone from this build: they will be deleted"),
        "{}",
        log(&b)
    );
    println!(
        "lease {LEASE_SECS}s: B took over {:.1}s after A was killed; the bucket held the late stories {:.1}s after the kill",
        takeover.as_secs_f64(),
        killed.elapsed().as_secs_f64()
    );
    // Changed objects carry B's epoch; unchanged ones stay as A wrote them.
    let (_, headers, _) = s3("HEAD", &format!("{endpoint}/{bucket}/site/all.rss"), b"");
    assert_eq!(headers["x-amz-meta-lease-epoch"], "2");

    // A one-shot push from A's folder meanwhile is refused, naming B.
    let refused = run(&a, &["push"]);
    refused.expect_code(1);
    assert!(
        refused.stderr().contains(&format!(
            "bucket: the lease is held by another wirefeed: held by {b_holder} (epoch 2"
        )) && refused.stderr().contains("nothing sent here"),
        "{}",
        refused.stderr()
    );
    assert!(
        refused.stdout().contains("bucket: sent 0,"),
        "{}",
        refused.stdout()
    );
    assert_eq!(objects(&endpoint, &bucket, "site/"), v2);

    // A clean stop gives the lease up.
    let stopped = common::terminate(second);
    assert!(
        stopped.is_empty() || !stopped.contains("ERROR"),
        "{stopped}"
    );
    assert!(
        log(&b).contains("push bucket: lease released"),
        "{}",
        log(&b)
    );
    let lease = lease_record(&endpoint, &bucket);
    assert_eq!(lease["released"], true);
    assert_eq!(lease["holder"], b_holder.as_str());

    // Then A's push takes it at once; built from the same sources, A's
    // folder is what the bucket holds already: nothing is rewritten.
    wirefeed(&a, &["-q", "build"]).expect_code(0);
    let pushed = run(&a, &["push"]);
    pushed.expect_code(0);
    let (_, headers, _) = s3("HEAD", &format!("{endpoint}/{bucket}/site/all.rss"), b"");
    assert_eq!(headers["x-amz-meta-lease-epoch"], "2", "not rewritten");
    assert_eq!(objects(&endpoint, &bucket, "site/"), v2);
    let lease = lease_record(&endpoint, &bucket);
    assert_eq!(
        (lease["epoch"].as_u64(), lease["released"].as_bool()),
        (Some(3), Some(true))
    );

    // Every object only moved forward: A's version, then B's (or B's
    // from the start, when B was first to write it), then gone if B's
    // build lacks it; nothing else.
    let seen = poller.finish();
    let mut names: Vec<String> = v1.keys().chain(v2.keys()).cloned().collect();
    names.sort();
    names.dedup();
    assert_eq!(seen.keys().cloned().collect::<Vec<_>>(), names);
    for (file, versions) in &seen {
        let mut allowed: Vec<String> = v1.get(file).map(|b| md5(b)).into_iter().collect();
        allowed.extend(v2.get(file).map(|b| md5(b)));
        allowed.dedup();
        let start = allowed
            .iter()
            .position(|v| Some(v) == versions.first())
            .unwrap_or_else(|| panic!("{file}: a version no build gave: {versions:?}"));
        assert_eq!(
            versions.as_slice(),
            &allowed[start..],
            "{file} went back or held something else"
        );
    }
}

#[test]
fn a_holder_stopped_past_its_lease_writes_nothing_when_it_wakes() {
    let Some(endpoint) = endpoint("a_holder_stopped_past_its_lease_writes_nothing") else {
        return;
    };
    let bucket = bucket(&endpoint, "lease-stopped");
    let root = tempfile::tempdir().unwrap();
    let articles = root.path().join("articles");
    std::fs::create_dir_all(&articles).unwrap();
    std::fs::write(
        articles.join("s0.txt"),
        story("2026-10-01 09:00:00", "Story"),
    )
    .unwrap();
    // A's site has another title: anything A writes can be told apart.
    let a = desk(root.path(), "a", "Desk A", &articles, &endpoint, &bucket);
    let b = desk(root.path(), "b", "Desk B", &articles, &endpoint, &bucket);
    let mut first = start(&a);
    wait("A's first push", Duration::from_secs(30), &[&a, &b], || {
        log(&a).contains("pushed: bucket sent")
    });
    let a_holder = holder_in(&log(&a)).unwrap();
    let second = start(&b);
    wait("B is standby", Duration::from_secs(30), &[&a, &b], || {
        log(&b).contains(&format!("standby: held by {a_holder}"))
    });

    // A stops (a frozen VM, a long GC pause, a cut cable): B takes over.
    // SAFETY: signals our own child.
    unsafe { libc::kill(first.id() as i32, libc::SIGSTOP) };
    wait(
        "B takes over",
        Duration::from_secs(LEASE_SECS + 10),
        &[&a, &b],
        || holder_in(&log(&b)).is_some(),
    );
    let b_built: BTreeMap<String, Vec<u8>> = {
        wait("B's push", Duration::from_secs(30), &[&a, &b], || {
            let built: BTreeMap<String, Vec<u8>> = files(&b.join("feeds")).into_iter().collect();
            objects(&endpoint, &bucket, "site/") == built
        });
        files(&b.join("feeds")).into_iter().collect()
    };
    assert!(String::from_utf8_lossy(&b_built["index.html"]).contains("Desk B"));

    // A wakes, and a story lands that both see.
    unsafe { libc::kill(first.id() as i32, libc::SIGCONT) };
    deliver(
        &articles,
        "late.txt",
        &story("2026-10-02 09:00:00", "Late story"),
    );
    wait(
        "A knows it lost the lease",
        Duration::from_secs(30),
        &[&a, &b],
        || {
            let log = log(&a);
            log.contains("push bucket: lost the lease") || log.contains("was not renewed in time")
        },
    );
    wait(
        "A's tick after the story",
        Duration::from_secs(30),
        &[&a, &b],
        || log(&a).contains("pushed: bucket standby"),
    );
    wait(
        "B's push of the story",
        Duration::from_secs(30),
        &[&a, &b],
        || {
            let built: BTreeMap<String, Vec<u8>> = files(&b.join("feeds")).into_iter().collect();
            String::from_utf8_lossy(&built["all.rss"]).contains("Late story")
                && objects(&endpoint, &bucket, "site/") == built
        },
    );
    // A few more of A's renewal periods: still nothing of A's.
    std::thread::sleep(Duration::from_secs(LEASE_SECS / 2));
    let held = objects(&endpoint, &bucket, "site/");
    for (file, bytes) in &held {
        assert!(
            !String::from_utf8_lossy(bytes).contains("Desk A"),
            "A wrote {file}"
        );
    }
    assert_eq!(
        lease_record(&endpoint, &bucket)["holder"],
        holder_in(&log(&b)).unwrap().as_str()
    );
    let a_log = log(&a);
    // SAFETY: signals our own child.
    unsafe { libc::kill(first.id() as i32, libc::SIGKILL) };
    first.wait().unwrap();
    common::terminate(second);
    let after = a_log.split("not renewed in time").nth(1).unwrap();
    assert!(!after.contains("bucket sent"), "{a_log}");
}

/// A lease record as another machine's wirefeed writes it.
fn foreign_lease(holder: &str, epoch: u64, renewed: &str, expires: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "holder": holder, "epoch": epoch, "acquired": renewed, "renewed": renewed,
        "expires": expires, "duration_ms": 3000, "released": false
    }))
    .unwrap()
}

#[test]
fn a_push_watches_a_lease_whose_time_is_up_by_its_clock_before_taking_it() {
    let Some(endpoint) = endpoint("a_push_watches_a_lease_whose_time_is_up") else {
        return;
    };
    let bucket = bucket(&endpoint, "lease-push");
    let root = tempfile::tempdir().unwrap();
    let articles = root.path().join("articles");
    std::fs::create_dir_all(&articles).unwrap();
    std::fs::write(
        articles.join("s0.txt"),
        story("2026-10-01 09:00:00", "Story"),
    )
    .unwrap();
    let a = machine(root.path(), "a", &articles, &endpoint, &bucket);
    let config = a.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(&format!("lease = \"{LEASE_SECS}s\""), "lease = \"3s\""),
    )
    .unwrap();
    wirefeed(&a, &["-q", "build"]).expect_code(0);
    let url = format!("{endpoint}/{bucket}/site/{LEASE}");

    // Expired an hour ago by its holder's clock, but is it alive? A
    // holder that renews every half second is: the push is refused.
    let past = |n: u64| {
        foreign_lease(
            "elsewhere:1:0",
            5,
            "2026-01-01T00:00:00Z",
            &format!("2026-01-01T00:00:0{n}Z"),
        )
    };
    assert_eq!(s3("PUT", &url, &past(0)).0, 200);
    let stop = Arc::new(AtomicBool::new(false));
    let renewer = {
        let (stop, url) = (stop.clone(), url.clone());
        std::thread::spawn(move || {
            let mut n = 1;
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(500));
                s3("PUT", &url, &past(n % 10));
                n += 1;
            }
        })
    };
    let refused = run(&a, &["push"]);
    stop.store(true, Ordering::Relaxed);
    renewer.join().unwrap();
    refused.expect_code(1);
    assert!(
        refused.stderr().contains("ran out at 2026-01-01T00:00:00+00:00 by this machine's clock: watching it for up to 3s")
            && refused.stderr().contains("bucket: the lease is held by another wirefeed: held by elsewhere:1:0 (epoch 5"),
        "{}",
        refused.stderr()
    );
    assert!(
        objects(&endpoint, &bucket, "site/").is_empty(),
        "nothing sent"
    );

    // Not renewed: taken over after its duration, on this machine's clock.
    assert_eq!(s3("PUT", &url, &past(0)).0, 200);
    let start = Instant::now();
    let pushed = run(&a, &["push"]);
    pushed.expect_code(0);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(3), "took it after {waited:?}");
    println!(
        "an expired lease of 3s taken over by a push after {:.1}s",
        waited.as_secs_f64()
    );
    let lease = lease_record(&endpoint, &bucket);
    assert_eq!(
        (lease["epoch"].as_u64(), lease["released"].as_bool()),
        (Some(6), Some(true))
    );
    let built: BTreeMap<String, Vec<u8>> = files(&a.join("feeds")).into_iter().collect();
    assert_eq!(objects(&endpoint, &bucket, "site/"), built);
}
