//! Hostile articles and crashes against the build's promises: nothing an
//! article says stops the others, nothing invalid is written, ids never
//! change when an editor corrects a date, links stay where they point, and
//! a crashed writer's leftovers go away. Each test failed before its fix.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;

use common::{files, project, story, wirefeed};

/// Adds `[category_feeds]` to a `common::project` config.
fn with_category_feeds(dir: &std::path::Path) {
    let path = dir.join("config.toml");
    let mut config = fs::read_to_string(&path).unwrap();
    config.push_str("\n[category_feeds]\nlimit = 5\n");
    fs::write(path, config).unwrap();
}

/// True for a character XML 1.0 forbids.
fn xml_illegal(c: char) -> bool {
    !matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[test]
fn a_category_too_long_for_a_file_name_publishes_under_a_bounded_name() {
    let long_latin = "k".repeat(300);
    let long_hangul = "가".repeat(90);
    let slug_line = format!("{long_latin}-{long_hangul}-Seoul");
    let hostile = format!(
        "| 2026-10-01 09:00:00\n{slug_line}\nA long category\nBy Kim Test\n\
         SEOUL, Oct. 1 (Yonhap) -- Text.\n(END)"
    );
    let dir = project(&[
        ("long.txt", hostile.as_bytes()),
        ("good.txt", &story("2026-10-01 10:00:00", "Good story")),
    ]);
    with_category_feeds(dir.path());
    wirefeed(dir.path(), &["build"]).expect_code(0);
    let written = files(&dir.path().join("feeds"));
    for (name, _) in &written {
        for part in name.split('/') {
            assert!(
                part.len() <= 200,
                "{name}: a name part of {} bytes",
                part.len()
            );
        }
    }
    let categories = written
        .iter()
        .filter(|(n, _)| n.starts_with("category/"))
        .count();
    // The two long ones, Seoul, and the good story's Test and desk.
    assert_eq!(
        categories,
        5 * 4,
        "five category feeds in three formats, and their pages"
    );
    let all = fs::read_to_string(dir.path().join("feeds/all.rss")).unwrap();
    assert!(all.contains("Good story") && all.contains("A long category"));
}

#[test]
fn character_references_never_put_characters_xml_forbids_into_a_feed() {
    let refs = "&#1; &#x1b; &#11; &#xFFFE; &#xFFFF; &#0;";
    let json = format!(
        r#"{{"id": "refs", "title": "Refs", "date_published": "2026-10-01T09:00:00+09:00",
            "content_html": "<p>before {refs} after</p>", "summary": "s {refs}"}}"#
    );
    let md = format!(
        "---\ntitle: Refs in Markdown\ndate: 2026-10-01T10:00:00+09:00\n---\nText {refs} end.\n"
    );
    let dir = project(&[
        ("refs.json", json.as_bytes()),
        ("refs-md.md", md.as_bytes()),
    ]);
    wirefeed(dir.path(), &["build"]).expect_code(0);
    for (name, bytes) in files(&dir.path().join("feeds")) {
        let text = String::from_utf8(bytes).unwrap();
        if let Some(c) = text.chars().find(|&c| xml_illegal(c)) {
            panic!("{name} holds U+{:04X}", u32::from(c));
        }
        if name.ends_with(".rss") || name.ends_with(".atom") {
            assert!(text.contains("before") && text.contains("after"), "{name}");
        }
    }
}

fn markdown(title: &str, date: &str) -> Vec<u8> {
    format!("---\ntitle: {title}\ndate: {date}\nid: launch-notes\n---\nBody.\n").into_bytes()
}

#[test]
fn correcting_an_articles_date_keeps_its_id() {
    let dir = project(&[("post.md", &markdown("Launch", "2026-10-01T09:00:00+09:00"))]);
    wirefeed(dir.path(), &["build"]).expect_code(0);
    let before = fs::read_to_string(dir.path().join("feeds/all.json")).unwrap();
    fs::write(
        dir.path().join("articles/post.md"),
        markdown("Launch", "2026-09-30T09:00:00+09:00"),
    )
    .unwrap();
    wirefeed(dir.path(), &["build"]).expect_code(0);
    let after = fs::read_to_string(dir.path().join("feeds/all.json")).unwrap();
    let id = |feed: &str| {
        let v: serde_json::Value = serde_json::from_str(feed).unwrap();
        v["items"][0]["id"].as_str().unwrap().to_owned()
    };
    assert_eq!(id(&before), id(&after));
    assert!(id(&after).ends_with(":launch-notes"), "{}", id(&after));
}

#[test]
fn the_same_explicit_id_with_different_dates_is_a_duplicate() {
    let dir = project(&[
        ("a.md", &markdown("First", "2026-10-01T09:00:00+09:00")),
        ("b.md", &markdown("Second", "2026-10-05T09:00:00+09:00")),
    ]);
    let run = wirefeed(dir.path(), &["build"]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("b.md:") && run.stderr().contains("duplicate id"),
        "{}",
        run.stderr()
    );
    let all = fs::read_to_string(dir.path().join("feeds/all.json")).unwrap();
    assert!(all.contains("First") && !all.contains("Second"));
}

#[test]
fn links_to_a_place_in_the_article_stay_in_the_article() {
    let md = "---\ntitle: Notes\ndate: 2026-10-01T09:00:00+09:00\n---\n\
              See [the notes](#notes) and a footnote[^1].\n\n[^1]: The footnote.\n\n\
              A [relative](/about) link.\n";
    let dir = project(&[("notes.md", md.as_bytes())]);
    wirefeed(dir.path(), &["build"]).expect_code(0);
    let feed = fs::read_to_string(dir.path().join("feeds/all.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&feed).unwrap();
    let html = v["items"][0]["content_html"].as_str().unwrap();
    assert!(html.contains(r##"href="#notes""##), "{html}");
    assert!(!html.contains("news.example.com/#"), "{html}");
    assert!(
        html.contains(r#"href="https://news.example.com/about""#),
        "{html}"
    );
}

#[test]
fn temp_files_a_killed_writer_left_are_removed_by_the_next_build() {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "Story"))]);
    wirefeed(dir.path(), &["build"]).expect_code(0);
    let feeds = dir.path().join("feeds");
    // What a writer killed with SIGKILL leaves: its pid is gone.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let gone = child.id();
    child.wait().unwrap();
    let left = [
        feeds.join(format!(".all.rss.{gone}.tmp")),
        feeds.join(format!(".wirefeed-outbox.json.{gone}.tmp")),
    ];
    for path in &left {
        fs::write(path, vec![b'x'; 1 << 20]).unwrap();
    }
    let mine = feeds.join(".my-notes.tmp");
    fs::write(&mine, "mine").unwrap();
    wirefeed(dir.path(), &["build"]).expect_code(0);
    for path in &left {
        assert!(!path.exists(), "{} is still there", path.display());
    }
    assert!(mine.exists(), "a file not of wirefeed's naming stays");
}
