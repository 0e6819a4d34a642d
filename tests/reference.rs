//! The fast build (streamed, cached, two passes, in parallel) makes the
//! same bytes as the plain pipeline (`pipeline::reference`): on the shipped
//! samples, and on a generated project with duplicates, broken articles,
//! archives, category feeds and feeds large enough to be streamed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use chrono::{DateTime, Utc};
use wirefeed::config::Config;
use wirefeed::{pipeline, BuildOptions};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-01T09:00:00+09:00")
        .unwrap()
        .to_utc()
}

/// Builds `config` both ways (the fast one with and without the cache, and
/// streaming every feed) and compares every file and every error.
fn assert_same_as_reference(config_path: &Path) {
    let config = Config::load(config_path).unwrap();
    let plain = pipeline::reference::build(&config, now()).unwrap();
    assert!(plain.files.len() > 3, "the project builds feeds");
    assert!(
        !plain.errors.is_empty() || config_path.starts_with(common::repo()),
        "the generated project has problems to report"
    );
    for (cache, whole_up_to) in [(false, BuildOptions::WHOLE_UP_TO), (true, 0), (true, 0)] {
        let out = tempfile::tempdir().unwrap();
        let options = BuildOptions {
            out: Some(out.path().to_owned()),
            now: now(),
            write: true,
            progress: false,
            cache,
            lock: true,
            whole_up_to,
        };
        let report = wirefeed::build(&config, &options).unwrap();
        assert_eq!(report.errors, plain.errors, "errors (cache {cache})");
        let written = common::files(out.path());
        let names: Vec<&String> = written.iter().map(|(n, _)| n).collect();
        let expected: Vec<&String> = plain.files.keys().collect();
        assert_eq!(names, expected, "file names (cache {cache})");
        for (name, bytes) in &written {
            assert!(
                &plain.files[name] == bytes,
                "{name} differs from the plain pipeline's (cache {cache}, whole_up_to {whole_up_to})"
            );
        }
    }
}

#[test]
fn the_samples_build_as_the_plain_pipeline_builds_them() {
    assert_same_as_reference(&common::repo().join("config.toml"));
}

#[test]
fn a_generated_project_builds_as_the_plain_pipeline_builds_it() {
    let mut articles: Vec<(String, Vec<u8>)> = Vec::new();
    let categories = ["Seoul", "Busan", "economy", "culture"];
    for i in 0..300 {
        let slug = format!("{}-{}", categories[i % 4], categories[(i / 4) % 4]);
        let story = format!(
            "김기자\n| 2026-{:02}-{:02} {:02}:{:02}:00\n{slug}\nHeadline {i} & <more>\nBy Kim Gi-ja\n\
             SEOUL, Oct. 1 (Yonhap) -- Story {i} begins.\nSecond paragraph of {i}.\n(END)",
            1 + i % 10,
            1 + i % 28,
            i % 24,
            i % 60
        );
        articles.push((
            format!("wire/{:02}/story-{i:03}.txt", i % 7),
            story.into_bytes(),
        ));
    }
    // Two wire stories with one story id: the second is an error.
    for n in 0..2 {
        let story = format!(
            "| 2026-10-14 0{n}:00:00\nSeoul\nSame story {n}\nBy Kim Gi-ja\nSEOUL, Oct. 14 (Yonhap) -- Body {n}.\n"
        );
        articles.push((
            format!("dup{n}/AEN20261014000300315.txt"),
            story.into_bytes(),
        ));
    }
    // Two Markdown files with one explicit id.
    for n in 0..2 {
        let md = format!(
            "---\ntitle: Same id {n}\ndate: 2026-10-0{}T10:00:00+09:00\nid: shared\n---\nBody {n}.\n",
            n + 1
        );
        articles.push((format!("md/same-{n}.md"), md.into_bytes()));
    }
    // Broken articles, and an embargoed one.
    articles.push(("wire/broken.txt".into(), b"no time line\n".to_vec()));
    articles.push((
        "md/later.md".into(),
        b"---\ntitle: Later\ndate: 2027-01-01T00:00:00+09:00\n---\nNot yet.\n".to_vec(),
    ));
    let refs: Vec<(&str, &[u8])> = articles
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let dir = common::project(&refs);
    let config = r#"
[site]
title = "Reference Desk"
base_url = "https://news.example.com/"
item_link = "https://news.example.com/news/{id}"

[[source]]
path = "articles"

[[feed]]
name = "all"
limit = 40
archive = true

[[feed]]
name = "everything"
limit = 100000

[[feed]]
name = "busan"
categories = ["Busan"]
limit = 10

[category_feeds]
limit = 7
"#;
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    assert_same_as_reference(&dir.path().join("config.toml"));
}
