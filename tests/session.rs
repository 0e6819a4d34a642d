//! A long-running process's builds (`run`, `serve --watch`) start from
//! what the last one learned and read only the paths a watcher reported:
//! after every kind of change, told or not, their output is byte-identical
//! to a fresh build without the cache, and the problems reported are the
//! same.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::files;
use wirefeed::config::Config;
use wirefeed::pipeline::Session;
use wirefeed::{build, BuildOptions, BuildReport};

const CONFIG: &str = r#"
[site]
title = "Session Desk"
base_url = "https://news.example.com/"
item_link = "https://news.example.com/news/{id}"

[[source]]
path = "articles"

[[feed]]
name = "all"
limit = 40

[[feed]]
name = "busan"
categories = ["Busan"]
limit = 5

[category_feeds]
limit = 3
"#;

const CATEGORIES: [&str; 4] = ["Seoul", "Busan", "economy", "culture"];

fn story(i: usize, body: &str) -> String {
    format!(
        "김기자\n| 2026-{:02}-{:02} {:02}:00:00\n{}\nHeadline {i}\nBy Kim Gi-ja\n\
         SEOUL, Oct. 1 (Yonhap) -- {body}\nSecond paragraph of story {i}.\n(END)",
        1 + i % 10,
        1 + i % 28,
        i % 24,
        CATEGORIES[i % 4],
    )
}

fn path_of(i: usize) -> String {
    format!("articles/{:02}/AEN20260101{:09}.txt", i % 5, i)
}

fn options(now: chrono::DateTime<chrono::Utc>, out: Option<PathBuf>) -> BuildOptions {
    BuildOptions {
        out,
        cache: false,
        ..BuildOptions::service(now)
    }
}

/// What a report says, as a reader of the log would compare it.
fn summary(r: &BuildReport) -> (usize, usize, usize, Vec<String>) {
    let errors = r.errors.iter().map(|e| e.to_string()).collect();
    (r.files, r.articles, r.published, errors)
}

/// Builds with the session told `changed`, then a fresh build elsewhere,
/// and compares the two: every file's bytes and the report. `quick`: the
/// session's build should start from what it knew (else: a whole scan).
fn check(root: &Path, session: &Session, changed: &[&str], quick: bool, step: &str) {
    let config = Config::load(&root.join("config.toml")).unwrap();
    let now = chrono::Utc::now();
    let changed: Vec<PathBuf> = changed.iter().map(|p| root.join(p)).collect();
    let ours = session
        .build(&config, &BuildOptions::service(now), Some(&changed))
        .unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let theirs = build(&config, &options(now, Some(fresh.path().to_owned()))).unwrap();
    assert_eq!(summary(&ours), summary(&theirs), "{step}: reports differ");
    assert_eq!(ours.from_memory, quick, "{step}: from memory");
    let a = files(&config.output);
    let b = files(fresh.path());
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "{step}: different files"
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{step}: {name} differs from a fresh build");
    }
}

#[test]
fn builds_told_what_changed_equal_fresh_builds() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("config.toml"), CONFIG).unwrap();
    for i in 0..60 {
        let path = root.join(path_of(i));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, story(i, &format!("Body of story {i}."))).unwrap();
    }
    fs::write(root.join("articles/broken.txt"), "no time line").unwrap();
    let session = Session::new();
    let config = Config::load(&root.join("config.toml")).unwrap();
    session
        .build(&config, &BuildOptions::service(chrono::Utc::now()), None)
        .unwrap();
    check(root, &session, &[], true, "nothing changed");

    // A new story, the newest: into every feed it belongs to.
    fs::write(root.join(path_of(60)), story(60, "Breaking.")).unwrap();
    check(root, &session, &[&path_of(60)], true, "a new story");

    // An edit that moves a story to another category.
    fs::write(
        root.join(path_of(1)),
        story(1, "Edited.").replace("\nBusan\n", "\nSeoul\n"),
    )
    .unwrap();
    check(root, &session, &[&path_of(1)], true, "an edit");

    // A story removed: the next one down takes its place in its feeds.
    fs::remove_file(root.join(path_of(59))).unwrap();
    check(root, &session, &[&path_of(59)], true, "a removal");

    // A rename within a folder: both names reported.
    fs::rename(root.join(path_of(58)), root.join("articles/03/renamed.txt")).unwrap();
    check(
        root,
        &session,
        &[&path_of(58), "articles/03/renamed.txt"],
        true,
        "a rename",
    );

    // A story that breaks, and a duplicate id.
    fs::write(root.join(path_of(57)), "no time line either").unwrap();
    fs::write(
        root.join("articles/00/copy-of-56.txt"),
        fs::read(root.join(path_of(56))).unwrap(),
    )
    .unwrap();
    check(
        root,
        &session,
        &[&path_of(57), "articles/00/copy-of-56.txt"],
        true,
        "a broken story and a duplicate",
    );

    // Names no walk lists: hidden, being written, another extension.
    fs::write(root.join("articles/00/.hidden.txt"), story(70, "Hidden.")).unwrap();
    fs::write(root.join("articles/00/next.txt.tmp"), story(71, "Half.")).unwrap();
    fs::write(root.join("articles/00/notes.doc"), "not an article").unwrap();
    check(
        root,
        &session,
        &[
            "articles/00/.hidden.txt",
            "articles/00/next.txt.tmp",
            "articles/00/notes.doc",
        ],
        true,
        "names that are no articles",
    );

    // A new folder, renamed in whole: only a walk can list it.
    let staging = root.join("staging");
    fs::create_dir_all(&staging).unwrap();
    fs::write(
        staging.join("AEN20260101000000080.txt"),
        story(80, "Batch."),
    )
    .unwrap();
    fs::write(
        staging.join("AEN20260101000000081.txt"),
        story(81, "Batch."),
    )
    .unwrap();
    fs::rename(&staging, root.join("articles/09")).unwrap();
    check(
        root,
        &session,
        &["articles/09"],
        false,
        "a folder renamed in",
    );

    // That folder removed again.
    fs::remove_dir_all(root.join("articles/09")).unwrap();
    check(root, &session, &["articles/09"], false, "a folder removed");

    // The config changed (a limit): what the session knows is not used.
    fs::write(
        root.join("config.toml"),
        CONFIG.replace("limit = 40", "limit = 7"),
    )
    .unwrap();
    check(
        root,
        &session,
        &["config.toml"],
        false,
        "the config changed",
    );

    // A change the session was not told of is not seen by a told build
    // (that is what told means), but the next whole one sees it.
    fs::write(root.join(path_of(2)), story(2, "Quietly edited.")).unwrap();
    let config = Config::load(&root.join("config.toml")).unwrap();
    session
        .build(&config, &BuildOptions::service(chrono::Utc::now()), None)
        .unwrap();
    check(
        root,
        &session,
        &[],
        true,
        "a told build after a whole one that saw an untold edit",
    );

    // A config named by a relative path (`wirefeed -c config.toml` in its
    // folder) has relative source folders; a watcher names absolute paths.
    // (The only test in this file: changing the folder touches no other.)
    std::env::set_current_dir(root).unwrap();
    let relative = Config::load(Path::new("config.toml")).unwrap();
    assert!(relative.sources[0].path.is_relative());
    let session = Session::new();
    let now = chrono::Utc::now();
    session
        .build(&relative, &BuildOptions::service(now), None)
        .unwrap();
    fs::write(root.join(path_of(61)), story(61, "Told by absolute path.")).unwrap();
    let told = session
        .build(
            &relative,
            &BuildOptions::service(now),
            Some(&[root.join(path_of(61))]),
        )
        .unwrap();
    assert!(
        told.from_memory,
        "a relative source folder: not from memory"
    );
    let fresh = tempfile::tempdir().unwrap();
    let theirs = build(&relative, &options(now, Some(fresh.path().to_owned()))).unwrap();
    assert_eq!(summary(&told), summary(&theirs), "relative: reports differ");
    assert_eq!(
        files(&root.join("feeds")),
        files(fresh.path()),
        "relative: output differs"
    );
}
