//! `kind = "s3"` against a real S3-protocol server on 127.0.0.1: moto's
//! (`moto_server`), which `.ci/run` installs and starts, setting
//! `WIREFEED_S3_ENDPOINT`; without it these tests say they skipped. Each
//! test makes its own bucket. What the bucket holds is read back with
//! plain HTTP requests (not through wirefeed's client).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::s3::{bucket, endpoint, keys, listing, objects, run, s3, s3_with, KEY, SECRET};
use common::{files, project, story, wirefeed};

/// The bucket under `prefix` equals the output folder, byte for byte.
fn assert_mirrors(endpoint: &str, bucket: &str, prefix: &str, out: &Path, foreign: &[&str]) {
    let mut held = objects(endpoint, bucket, prefix);
    for f in foreign {
        assert!(held.remove(*f).is_some(), "{f}, not ours, was removed");
    }
    let built: BTreeMap<String, Vec<u8>> = files(out).into_iter().collect();
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&held), names(&built));
    for (name, bytes) in &built {
        assert!(&held[name] == bytes, "the bucket's {name} differs");
    }
}

/// The bucket under `prefix` holds the output folder's files, by the MD5
/// of their bytes: for many files, where a GET of each would be slow.
fn assert_mirrors_by_md5(endpoint: &str, bucket: &str, prefix: &str, out: &Path) {
    use md5::{Digest, Md5};
    let held: BTreeMap<String, String> = listing(endpoint, bucket, prefix)
        .into_iter()
        .map(|(k, e)| (k[prefix.len()..].to_owned(), e))
        .collect();
    let built: BTreeMap<String, String> = files(out)
        .into_iter()
        .map(|(name, bytes)| {
            let md5: String = Md5::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            (name, md5)
        })
        .collect();
    assert_eq!(held, built);
}

/// A project of `stories` (name, category, time) with category feeds, an
/// archived feed of one item a page, and an s3 target.
fn site(stories: &[(String, String, String)], target: &str) -> tempfile::TempDir {
    let articles: Vec<(String, Vec<u8>)> = stories
        .iter()
        .map(|(name, category, time)| {
            let text = format!(
                "| {time}\n{category}\nA story of {category}\nBy Kim Test\n\
                 SEOUL, Oct. 1 (Yonhap) -- A story of {category}, officials said.\n(END)"
            );
            (format!("{name}.txt"), text.into_bytes())
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = articles
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let dir = project(&refs);
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let more = format!(
        "\n[[feed]]\nname = \"wire\"\nlimit = 1\narchive = true\n\n[category_feeds]\nlimit = 5\n\n{target}"
    );
    std::fs::write(&config, text + &more).unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    dir
}

fn target(endpoint: &str, bucket: &str, extra: &str) -> String {
    format!(
        "[[push]]\nname = \"bucket\"\nkind = \"s3\"\nbucket = \"{bucket}\"\nprefix = \"site/\"\n\
         endpoint = \"{endpoint}\"\ntimeout_secs = 10\nmax_attempts = 3\n{extra}\n"
    )
}

fn stories(n: usize) -> Vec<(String, String, String)> {
    (0..n)
        .map(|i| {
            let time = format!("2026-10-{:02} 09:{:02}:00", 1 + i / 60 % 28, i % 60);
            (format!("s{i}"), format!("Topic{i}"), time)
        })
        .collect()
}

fn set_config(dir: &Path, from: &str, to: &str) {
    let config = dir.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains(from));
    std::fs::write(&config, text.replace(from, to)).unwrap();
}

#[test]
fn a_bucket_holds_exactly_the_output_folder_and_loses_only_what_wirefeed_published() {
    let Some(endpoint) = endpoint("a_bucket_holds_exactly_the_output_folder") else {
        return;
    };
    let bucket = bucket(&endpoint, "mirror");
    let extra = "cache_control = \"public, max-age=300\"\n\
                 archive_cache_control = \"public, max-age=31536000, immutable\"\nmax_deletes = 5";
    let dir = site(&stories(3), &target(&endpoint, &bucket, extra));
    let out = dir.path().join("feeds");
    assert!(out.join("wire/archive/1.rss").is_file());
    run(dir.path(), &["push"]).expect_code(0);
    assert_mirrors(&endpoint, &bucket, "site/", &out, &[]);

    // Types, Cache-Control and the sha256 as each object's metadata.
    for (name, bytes) in files(&out) {
        let (_, headers, _) = s3("HEAD", &format!("{endpoint}/{bucket}/site/{name}"), b"");
        let header = |h: &str| headers.get(h).and_then(|v| v.to_str().ok()).unwrap_or("");
        let want = match name.rsplit_once('.').unwrap().1 {
            "rss" => "application/rss+xml; charset=utf-8",
            "atom" => "application/atom+xml; charset=utf-8",
            "json" => "application/feed+json; charset=utf-8",
            "html" => "text/html; charset=utf-8",
            "opml" => "text/x-opml; charset=utf-8",
            "xsl" => "text/xsl; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            other => panic!("unexpected file type {other}"),
        };
        assert_eq!(header("content-type"), want, "{name}");
        let cache = match name.contains("/archive/") {
            true => "public, max-age=31536000, immutable",
            false => "public, max-age=300",
        };
        assert_eq!(header("cache-control"), cache, "{name}");
        assert_eq!(
            header("x-amz-meta-sha256"),
            wirefeed::publish::sha256(&bytes)
        );
    }

    // Nothing changed: nothing is sent.
    let again = run(dir.path(), &["push"]);
    again.expect_code(0);
    assert!(
        again.stdout().contains("bucket: sent 0,"),
        "{}",
        again.stdout()
    );

    // A changed Cache-Control sends again what it applies to, only.
    set_config(dir.path(), "max-age=300", "max-age=60");
    let archive = files(&out)
        .iter()
        .filter(|(n, _)| n.contains("/archive/"))
        .count();
    let changed = run(dir.path(), &["push"]);
    changed.expect_code(0);
    let expect = format!("bucket: sent {},", files(&out).len() - archive);
    assert!(changed.stdout().contains(&expect), "{}", changed.stdout());

    // A foreign object under the prefix; a category's only story goes.
    let foreign = format!("{endpoint}/{bucket}/site/category/foreign.rss");
    assert_eq!(s3("PUT", &foreign, b"not ours").0, 200);
    std::fs::remove_file(dir.path().join("articles/s0.txt")).unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    assert!(!out.join("category/topic0.rss").exists());

    // Eight deletions (the category's three feeds and its page, and the
    // newest archive page's, one story short now), max_deletes = 5: none
    // done, the key named.
    let guarded = run(dir.path(), &["push"]);
    guarded.expect_code(1);
    assert!(
        guarded
            .stderr()
            .contains("bucket: 8 files to delete, more than max_deletes = 5: none deleted")
            && guarded
                .stderr()
                .contains("raise max_deletes in [[push]] `bucket`"),
        "{}",
        guarded.stderr()
    );
    assert!(objects(&endpoint, &bucket, "site/").contains_key("category/topic0.rss"));
    let status = run(dir.path(), &["status"]);
    assert!(
        status.stdout().contains("bucket: 8 to delete"),
        "{}",
        status.stdout()
    );
    let dry = run(dir.path(), &["push", "--dry-run"]);
    assert!(
        dry.stdout().contains("bucket: would send 0,") && !dry.stdout().contains("would delete"),
        "{}",
        dry.stdout()
    );

    set_config(dir.path(), "max_deletes = 5", "max_deletes = 256");
    let dry = run(dir.path(), &["push", "--dry-run"]);
    assert!(
        dry.stdout()
            .contains("bucket: would delete category/topic0.rss"),
        "{}",
        dry.stdout()
    );
    let deleting = run(dir.path(), &["push"]);
    deleting.expect_code(0);
    assert!(
        deleting.stdout().contains("deleted 8"),
        "{}",
        deleting.stdout()
    );
    assert_mirrors(&endpoint, &bucket, "site/", &out, &["category/foreign.rss"]);
    let status = run(dir.path(), &["status"]);
    assert!(
        status.stdout().contains("bucket: 0 pending"),
        "{}",
        status.stdout()
    );
    assert!(
        !status.stdout().contains("to delete"),
        "{}",
        status.stdout()
    );
}

#[test]
fn an_object_this_wirefeed_did_not_write_is_not_overwritten() {
    let Some(endpoint) = endpoint("an_object_this_wirefeed_did_not_write") else {
        return;
    };
    let bucket = bucket(&endpoint, "conflict");
    let dir = site(&stories(2), &target(&endpoint, &bucket, ""));
    let out = dir.path().join("feeds");
    run(dir.path(), &["push"]).expect_code(0);

    // The outbox is lost: every object is ours already, none is rewritten.
    std::fs::remove_file(out.join(".wirefeed-outbox.json")).unwrap();
    let before = s3("HEAD", &format!("{endpoint}/{bucket}/site/all.rss"), b"").1;
    let recovered = run(dir.path(), &["push"]);
    recovered.expect_code(0);
    let after = s3("HEAD", &format!("{endpoint}/{bucket}/site/all.rss"), b"").1;
    assert_eq!(before.get("last-modified"), after.get("last-modified"));
    assert_eq!(before.get("etag"), after.get("etag"));

    // Another publisher writes all.rss; our build changes it too.
    let theirs = format!("{endpoint}/{bucket}/site/all.rss");
    assert_eq!(s3("PUT", &theirs, b"theirs").0, 200);
    std::fs::write(
        dir.path().join("articles/late.txt"),
        story("2026-11-01 09:00:00", "A later story"),
    )
    .unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    let refused = run(dir.path(), &["push"]);
    refused.expect_code(1);
    assert!(
        refused.stderr().contains(
            "bucket: all.rss: precondition failed: the target holds a version this wirefeed did not write"
        ),
        "{}",
        refused.stderr()
    );
    assert_eq!(s3("GET", &theirs, b"").2, b"theirs", "not overwritten");
    // What links to the feeds waits for them.
    assert!(
        refused
            .stderr()
            .contains("bucket: index.html: held back: all.rss"),
        "{}",
        refused.stderr()
    );
    let status = run(dir.path(), &["status"]);
    assert!(
        status.stdout().contains("precondition failed"),
        "{}",
        status.stdout()
    );

    run(dir.path(), &["push", "--force"]).expect_code(0);
    assert_mirrors(&endpoint, &bucket, "site/", &out, &[]);
}

#[test]
fn a_version_a_killed_push_wrote_is_recognised_as_ours_after_a_rebuild() {
    let Some(endpoint) = endpoint("a_version_a_killed_push_wrote_is_recognised") else {
        return;
    };
    let bucket = bucket(&endpoint, "partial");
    // No lease: its epochs would let the next push replace the version
    // anyway; this is the outbox's own rule.
    let dir = site(&stories(2), &target(&endpoint, &bucket, "lease = false"));
    let out = dir.path().join("feeds");
    run(dir.path(), &["push"]).expect_code(0);

    // v2 is built and a push of it is killed right after writing all.rss:
    // the bucket holds v2's all.rss, the outbox has v2 pending, as the
    // push left it before the acknowledgement was recorded.
    let late = |name: &str, time: &str| {
        std::fs::write(
            dir.path().join(format!("articles/{name}.txt")),
            story(time, name),
        )
        .unwrap();
        wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    };
    late("second", "2026-11-01 09:00:00");
    let v2 = std::fs::read(out.join("all.rss")).unwrap();
    let sha = wirefeed::publish::sha256(&v2);
    let url = format!("{endpoint}/{bucket}/site/all.rss");
    let put = s3_with("PUT", &url, &v2, &[("x-amz-meta-sha256", &sha)]);
    assert_eq!(put.0, 200);
    let outbox_path = out.join(".wirefeed-outbox.json");
    let mut outbox: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&outbox_path).unwrap()).unwrap();
    outbox["targets"]["bucket"]["pending"]["all.rss"] = serde_json::json!({
        "sha256": sha, "attempts": 0, "last_error": null, "permanent": false
    });
    std::fs::write(&outbox_path, serde_json::to_vec_pretty(&outbox).unwrap()).unwrap();

    // Another story: v3. The push recognises v2 as its own and goes on.
    late("third", "2026-11-02 09:00:00");
    let pushed = run(dir.path(), &["push"]);
    pushed.expect_code(0);
    assert!(
        !pushed.stderr().contains("precondition failed"),
        "{}",
        pushed.stderr()
    );
    assert_mirrors(&endpoint, &bucket, "site/", &out, &[]);

    // A version that was never ours is still not overwritten.
    assert_eq!(s3("PUT", &url, b"theirs").0, 200);
    late("fourth", "2026-11-03 09:00:00");
    let refused = run(dir.path(), &["push"]);
    refused.expect_code(1);
    assert!(
        refused.stderr().contains("all.rss: precondition failed"),
        "{}",
        refused.stderr()
    );
    assert_eq!(s3("GET", &url, b"").2, b"theirs");
}

#[test]
fn a_deletion_is_conditional_and_spares_a_version_someone_else_wrote() {
    let Some(endpoint) = endpoint("a_deletion_is_conditional") else {
        return;
    };
    let bucket = bucket(&endpoint, "delete-if");
    let dir = site(&stories(3), &target(&endpoint, &bucket, ""));
    let out = dir.path().join("feeds");
    run(dir.path(), &["push"]).expect_code(0);
    // Someone else writes one of a category's feeds; then the category's
    // only story goes.
    let theirs = format!("{endpoint}/{bucket}/site/category/topic0.rss");
    assert_eq!(s3("PUT", &theirs, b"theirs").0, 200);
    std::fs::remove_file(dir.path().join("articles/s0.txt")).unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    let pushed = run(dir.path(), &["push"]);
    pushed.expect_code(1);
    assert!(
        pushed.stderr().contains(
            "bucket: category/topic0.rss: precondition failed: the target holds a version this wirefeed did not write"
        ) && pushed.stderr().contains("so it was not deleted"),
        "{}",
        pushed.stderr()
    );
    assert_eq!(s3("GET", &theirs, b"").2, b"theirs", "not deleted");
    let held = objects(&endpoint, &bucket, "site/");
    for gone in [
        "category/topic0.atom",
        "category/topic0.json",
        "category/topic0.html",
    ] {
        assert!(!held.contains_key(gone), "{gone} was not deleted");
    }
    // Everything else is exactly the folder.
    assert_mirrors(&endpoint, &bucket, "site/", &out, &["category/topic0.rss"]);
    // `--force` deletes it, knowingly.
    run(dir.path(), &["push", "--force"]).expect_code(0);
    assert_mirrors(&endpoint, &bucket, "site/", &out, &[]);
}

#[test]
fn a_push_killed_midway_is_completed_by_the_next() {
    let Some(endpoint) = endpoint("a_push_killed_midway") else {
        return;
    };
    let bucket = bucket(&endpoint, "kill");
    // 100 categories and 99 archive pages: about 600 files.
    let dir = site(&stories(100), &target(&endpoint, &bucket, ""));
    let out = dir.path().join("feeds");
    let total = files(&out).len();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("push")
        .current_dir(dir.path())
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let held = keys(&endpoint, &bucket, "site/").len();
        if held >= 50 {
            assert!(held < total, "the push finished before it could be killed");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no upload arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signals our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    let held = keys(&endpoint, &bucket, "site/").len();
    println!(
        "killed after {:.1}s with {held} of {total} files in the bucket",
        start.elapsed().as_secs_f64()
    );
    let resumed = Instant::now();
    run(dir.path(), &["push"]).expect_code(0);
    println!(
        "the next push completed in {:.1}s",
        resumed.elapsed().as_secs_f64()
    );
    assert_mirrors_by_md5(&endpoint, &bucket, "site/", &out);
    let status = run(dir.path(), &["status"]);
    assert!(
        status.stdout().contains("bucket: 0 pending"),
        "{}",
        status.stdout()
    );
}

#[test]
fn missing_keys_are_named_and_nothing_is_tried() {
    let dir = site(&stories(1), &target("http://127.0.0.1:9", "b", ""));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("push")
        .current_dir(dir.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    let run = common::Run { output };
    run.expect_code(2);
    assert!(
        run.stderr().contains(
            "push `bucket`: environment variable AWS_ACCESS_KEY_ID is not set (it holds the access key id)"
        ),
        "{}",
        run.stderr()
    );
}
