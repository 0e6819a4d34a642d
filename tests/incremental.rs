//! The build cache never serves a stale item: after edits, touches,
//! renames, deletions and additions, an incremental build's output is
//! byte-identical to a single-threaded build without the cache.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use common::{files, wirefeed};

/// The project's config: the site and source, then `feeds`.
fn config(feeds: &str) -> String {
    let site = r#"
[site]
title = "Cache Desk"
base_url = "https://news.example.com/"
item_link = "https://news.example.com/news/{id}"

[[source]]
path = "articles"
"#;
    format!("{site}\n{feeds}")
}

/// A feed large enough that the first pass keeps the bodies it parsed.
const LARGE_FEEDS: &str = r#"
[[feed]]
name = "all"
limit = 25

[[feed]]
name = "archive"
limit = 100000

[category_feeds]
limit = 5
"#;

/// Small feeds only: the first pass parses headers, and the published
/// files are read again when written.
const SMALL_FEEDS: &str = r#"
[[feed]]
name = "archive"
limit = 1000

[category_feeds]
limit = 5
"#;

const CATEGORIES: [&str; 6] = ["Seoul", "Busan", "economy", "culture", "sports", "tech"];

fn story(i: usize, body: &str) -> String {
    format!(
        "김기자\n| 2026-{:02}-{:02} {:02}:{:02}:00\n{}-{}\nHeadline {i}\nBy Kim Gi-ja\n\
         SEOUL, Oct. 1 (Yonhap) -- {body}\nSecond paragraph of story {i}.\n(END)",
        1 + i % 10,
        1 + i % 28,
        i % 24,
        i % 60,
        CATEGORIES[i % 6],
        CATEGORIES[(i / 6) % 6],
    )
}

fn path_of(i: usize) -> String {
    format!("articles/{:02}/AEN20260101{:09}.txt", i % 7, i)
}

/// Sets the modification time of every article to an hour ago, and waits
/// until no file is "racy" (modified too close to the cache's writing).
fn age_everything(dir: &Path) {
    let past = SystemTime::now() - Duration::from_secs(3600);
    for (name, _) in files(&dir.join("articles")) {
        let file = fs::File::options()
            .write(true)
            .open(dir.join("articles").join(name))
            .unwrap();
        file.set_modified(past).unwrap();
    }
    std::thread::sleep(Duration::from_millis(2100));
}

fn cached_count(stderr: &str) -> usize {
    let line = stderr
        .lines()
        .find(|l| l.contains("from the cache"))
        .unwrap_or_else(|| panic!("no cache line in:\n{stderr}"));
    let start = line.rfind('(').unwrap() + 1;
    line[start..].split(' ').next().unwrap().parse().unwrap()
}

fn assert_same_as_fresh_build(dir: &Path, incremental: &Path, code: i32) {
    let fresh = tempfile::tempdir().unwrap();
    let fresh_arg = fresh.path().to_str().unwrap();
    wirefeed(dir, &["-j", "1", "build", "--no-cache", "--out", fresh_arg]).expect_code(code);
    let a = files(incremental);
    let b = files(fresh.path());
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs from a fresh single-threaded build");
    }
}

#[test]
fn incremental_builds_equal_fresh_single_threaded_builds() {
    edits_deletions_and_renames(&config(LARGE_FEEDS));
}

#[test]
fn incremental_builds_equal_fresh_builds_when_bodies_are_read_again() {
    edits_deletions_and_renames(&config(SMALL_FEEDS));
}

fn edits_deletions_and_renames(config: &str) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("config.toml"), config).unwrap();
    let n = 300;
    for i in 0..n {
        let path = root.join(path_of(i));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, story(i, &format!("Body of story {i}."))).unwrap();
    }
    fs::write(
        root.join("articles/briefs.json"),
        r#"[{"id": "b1", "title": "Brief one", "date": "2026-03-01T09:00:00+09:00", "content_text": "One.", "categories": ["Seoul"]},
            {"id": "b2", "title": "Brief two", "date": "2026-03-02T09:00:00+09:00", "content_text": "Two."}]"#,
    )
    .unwrap();
    fs::write(root.join("articles/broken.txt"), "no time line").unwrap();
    // Minified: both objects on line 1.
    fs::write(
        root.join("articles/minified.json"),
        r#"[{"id":"m1","title":"Minified one","date":"2026-03-03T09:00:00+09:00","content_text":"One."},{"id":"m2","title":"Minified two","date":"2026-03-04T09:00:00+09:00","content_text":"Two."}]"#,
    )
    .unwrap();
    age_everything(root);
    let out = root.join("feeds");

    let first = wirefeed(root, &["-v", "build"]);
    first.expect_code(1); // broken.txt
    assert_eq!(cached_count(&first.stderr()), 0);
    assert_same_as_fresh_build(root, &out, 1);

    // Nothing changed: every file comes from the cache, nothing is written.
    let again = wirefeed(root, &["-v", "build"]);
    again.expect_code(1);
    assert_eq!(cached_count(&again.stderr()), n + 3);
    assert_same_as_fresh_build(root, &out, 1);
    assert!(
        again.stdout().contains(" 0 files written"),
        "{}",
        again.stdout()
    );
    assert!(again
        .stderr()
        .contains("broken.txt:2: missing the filing time"));

    // Edits of every kind.
    let edit = |i: usize, body: &str| fs::write(root.join(path_of(i)), story(i, body)).unwrap();
    edit(5, "An edited body that is longer than before.");
    // Same size and the same modification time: only the status-change
    // time and the content differ.
    let same_size = root.join(path_of(6));
    let modified = fs::metadata(&same_size).unwrap().modified().unwrap();
    edit(6, "Body of story X.");
    fs::File::options()
        .write(true)
        .open(&same_size)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    fs::remove_file(root.join(path_of(7))).unwrap();
    fs::create_dir_all(root.join("articles/moved")).unwrap();
    fs::rename(
        root.join(path_of(8)),
        root.join("articles/moved/AEN20260101000000008.txt"),
    )
    .unwrap();
    fs::rename(
        root.join(path_of(9)),
        root.join("articles/00/renamed-story.txt"),
    )
    .unwrap();
    let touched = root.join(path_of(10));
    fs::File::options()
        .write(true)
        .open(&touched)
        .unwrap()
        .set_modified(SystemTime::now())
        .unwrap();
    fs::write(root.join(path_of(n)), story(n, "A brand new story.")).unwrap();
    fs::write(
        root.join("articles/briefs.json"),
        r#"[{"id": "b1", "title": "Brief one, corrected", "date": "2026-03-01T09:00:00+09:00", "content_text": "One.", "categories": ["Seoul"]},
            {"id": "b2", "title": "Brief two", "date": "2026-03-02T09:00:00+09:00", "content_text": "Two."}]"#,
    )
    .unwrap();
    fs::write(root.join("articles/broken.txt"), story(n + 1, "Fixed now.")).unwrap();

    let incremental = wirefeed(root, &["-v", "build"]);
    incremental.expect_code(0);
    // Still n + 3 files (7 is gone, one is new); re-read: 5, 6, both
    // renamed files, the touched one, the new one, briefs.json, broken.txt.
    assert_eq!(cached_count(&incremental.stderr()), n + 3 - 8);
    assert_same_as_fresh_build(root, &out, 0);
    let all = fs::read_to_string(out.join("archive.rss")).unwrap();
    assert!(all.contains("An edited body"));
    assert!(all.contains("Body of story X."));
    assert!(!all.contains("Headline 7<"));
    assert!(all.contains("Brief one, corrected"));
    assert!(all.contains("renamed-story"));
    assert!(all.contains("Minified one") && all.contains("Minified two"));
}

/// Keys carry author names only while a feed chooses by author: a cache
/// written without them is not trusted once one does (and the other way
/// round), so an author feed is never built from keys that lack them.
#[test]
fn a_feed_that_chooses_by_author_is_never_built_from_a_cache_without_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let by_author = r#"
[[feed]]
name = "kim"
authors = ["Kim Gi-ja"]
limit = 50
"#;
    fs::write(root.join("config.toml"), config(SMALL_FEEDS)).unwrap();
    for i in 0..40 {
        let path = root.join(path_of(i));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = story(i, &format!("Body of story {i}."));
        // Every other story is another reporter's.
        let text = match i % 2 {
            0 => text,
            _ => text.replace("By Kim Gi-ja", "By Lee Eun-ji"),
        };
        fs::write(path, text).unwrap();
    }
    age_everything(root);
    let out = root.join("feeds");
    wirefeed(root, &["-v", "build"]).expect_code(0);
    let cached = wirefeed(root, &["-v", "build"]);
    cached.expect_code(0);
    assert_eq!(cached_count(&cached.stderr()), 40);

    // A feed by author now: nothing is taken from the old cache.
    fs::write(
        root.join("config.toml"),
        config(&format!("{SMALL_FEEDS}\n{by_author}")),
    )
    .unwrap();
    let first = wirefeed(root, &["-v", "build"]);
    first.expect_code(0);
    assert_eq!(cached_count(&first.stderr()), 0);
    assert_same_as_fresh_build(root, &out, 0);
    let kim = fs::read_to_string(out.join("kim.json")).unwrap();
    assert_eq!(kim.matches("\"id\":").count(), 20, "{kim}");
    // And that cache, with names, is trusted by the next build.
    std::thread::sleep(Duration::from_millis(2100));
    let again = wirefeed(root, &["-v", "build"]);
    again.expect_code(0);
    assert_eq!(cached_count(&again.stderr()), 40);
    assert_same_as_fresh_build(root, &out, 0);

    // Back to no feed by author: the cache is made again, without names.
    fs::write(root.join("config.toml"), config(SMALL_FEEDS)).unwrap();
    let back = wirefeed(root, &["-v", "build"]);
    back.expect_code(0);
    assert_eq!(cached_count(&back.stderr()), 0);
    assert_same_as_fresh_build(root, &out, 0);
}
