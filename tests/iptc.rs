//! The IPTC formats end to end: the shipped samples in `articles/iptc`
//! (NewsML-G2 items and a message, NITF, ninjs 1.x and 2.x) built by the
//! real binary, at times before and after an embargo, with a story killed
//! after it went out, versions in either path order, and errors. Every
//! feed is read back by feed-rs, and the rules the W3C validator applies
//! to what this adds (Media RSS, `dcterms:modified`, the channel image,
//! Atom enclosures and ids) are checked on the bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::Path;

use common::{files, repo, wirefeed};

const TYPHOON: &str = "urn:newsml:news.example.com:20261118:typhoon-jeju";
const RATES: &str = "urn:newsml:news.example.com:20261119:rate-decision";
const RECALL: &str = "urn:newsml:news.example.com:20261117:car-recall";
const MERGER: &str = "urn:newsml:news.example.com:20261119:merger-talks";
const PHOTO: &str = "rate-decision-photo";
const NITF_ID: &str = "tag:news.example.com,2000:EXW-20261119-0012";
const NINJS_ID: &str = "tag:news.example.com,2000:urn:6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f";
const BRIDGE: &str = "https://news.example.com/ninjs/incheon-bridge";

/// A project over copies of the IPTC samples (`only`: those whose names
/// hold any of these; all when empty), with icon and logo.
fn project(only: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = r#"
[site]
title = "Test Desk"
base_url = "https://news.example.com/"
item_link = "https://news.example.com/news/{id}"
icon = "https://news.example.com/icon.png"
logo = "https://news.example.com/logo.png"

[[source]]
path = "articles"

[[feed]]
name = "all"

[category_feeds]
title = "Test Desk: {category}"
"#;
    fs::write(dir.path().join("config.toml"), config).unwrap();
    fs::create_dir_all(dir.path().join("articles")).unwrap();
    for entry in fs::read_dir(repo().join("articles/iptc")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if only.is_empty() || only.iter().any(|o| name.contains(o)) {
            fs::copy(&path, dir.path().join("articles").join(&name)).unwrap();
        }
    }
    dir
}

fn build(dir: &Path, now: &str, code: i32) -> String {
    let run = wirefeed(dir, &["build", "--now", now]);
    run.expect_code(code);
    run.stdout() + &run.stderr()
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join("feeds").join(name)).unwrap()
}

/// Every output file that names `needle`.
fn naming(dir: &Path, needle: &str) -> Vec<String> {
    files(&dir.join("feeds"))
        .into_iter()
        .filter(|(_, bytes)| String::from_utf8_lossy(bytes).contains(needle))
        .map(|(name, _)| name)
        .collect()
}

fn parse(dir: &Path, name: &str) -> feed_rs::model::Feed {
    let bytes = fs::read(dir.join("feeds").join(name)).unwrap();
    feed_rs::parser::parse(bytes.as_slice()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn entry<'f>(feed: &'f feed_rs::model::Feed, id: &str) -> &'f feed_rs::model::Entry {
    feed.entries
        .iter()
        .find(|e| e.id == id)
        .unwrap_or_else(|| panic!("no entry {id}"))
}

#[test]
fn the_samples_publish_what_their_status_says_and_hold_the_embargo() {
    let dir = project(&[]);
    let before = build(dir.path(), "2026-11-20T08:00:00+09:00", 0);
    assert!(before.contains("0 errors"), "{before}");
    assert!(
        before.contains("3 withheld or canceled, 1 embargoed (next due 2026-11-20T09:00:00+09:00)"),
        "{before}"
    );
    for gone in [
        RATES,
        RECALL,
        MERGER,
        PHOTO,
        "rate-package",
        "election-briefing",
    ] {
        assert_eq!(naming(dir.path(), gone), Vec::<String>::new(), "{gone}");
    }
    let rss = read(dir.path(), "all.rss");
    for id in [TYPHOON, NITF_ID, NINJS_ID, BRIDGE] {
        assert_eq!(rss.matches(&format!(">{id}</guid>")).count(), 1, "{id}");
    }
    // The version 2 correction won, with no duplicate-id error.
    assert!(rss.contains("(CORRECTED) Typhoon Dolphin"), "{rss}");
    assert!(!rss.contains("35 meters per second"));
    // After the embargo, the story is out.
    let after = build(dir.path(), "2026-11-20T09:00:01+09:00", 0);
    assert!(!after.contains("embargoed"), "{after}");
    let rss = read(dir.path(), "all.rss");
    assert!(rss.contains(&format!(">{RATES}</guid>")));
    assert!(rss.contains("<p>The board cited household debt and a weak won.</p>"));
    assert!(!rss.contains(MERGER) && !rss.contains(PHOTO));
}

#[test]
fn a_kill_removes_a_story_that_went_out_from_every_feed() {
    let dir = project(&["recall-v1", "typhoon-v1"]);
    build(dir.path(), "2026-11-30T00:00:00Z", 0);
    let out = naming(dir.path(), RECALL);
    for name in ["all.rss", "all.atom", "all.json", "category/economy.rss"] {
        assert!(out.contains(&name.to_owned()), "{name} in {out:?}");
    }
    fs::copy(
        repo().join("articles/iptc/g2-recall-v2-canceled.xml"),
        dir.path().join("articles/g2-recall-v2-canceled.xml"),
    )
    .unwrap();
    let said = build(dir.path(), "2026-11-30T00:00:00Z", 0);
    assert!(said.contains("1 withheld or canceled"), "{said}");
    assert_eq!(naming(dir.path(), RECALL), Vec::<String>::new());
    assert_eq!(naming(dir.path(), "40,000 vans"), Vec::<String>::new());
    // The category only the killed story had is gone too.
    assert!(!dir.path().join("feeds/category/economy.rss").exists());
    assert!(read(dir.path(), "all.rss").contains(TYPHOON));
}

#[test]
fn the_highest_version_wins_in_any_path_order() {
    let dir = project(&["typhoon-v1"]);
    // Version 2 first in path order, version 1 after it.
    fs::copy(
        repo().join("articles/iptc/g2-typhoon-v2.xml"),
        dir.path().join("articles/0-typhoon.xml"),
    )
    .unwrap();
    let said = build(dir.path(), "2026-11-30T00:00:00Z", 0);
    assert!(said.contains("2 articles, 1 item published"), "{said}");
    assert!(read(dir.path(), "all.atom").contains("(CORRECTED)"));
    // The same guid without a version (a Markdown article) is a duplicate.
    fs::write(
        dir.path().join("articles/z-copy.md"),
        format!("---\ntitle: Copy\ndate: 2026-11-18\nid: \"{TYPHOON}\"\n---\n\nText.\n"),
    )
    .unwrap();
    let said = build(dir.path(), "2026-11-30T00:00:00Z", 1);
    assert!(
        said.contains(&format!("z-copy.md:1: duplicate id `{TYPHOON}`")),
        "{said}"
    );
}

#[test]
fn updates_pictures_ids_and_dates_read_back_in_every_format() {
    let dir = project(&[]);
    build(dir.path(), "2026-11-30T00:00:00Z", 0);
    let published = "2026-11-17T22:40:00Z".parse().unwrap();
    let updated = "2026-11-18T00:15:00Z".parse().unwrap();

    let atom = parse(dir.path(), "all.atom");
    let typhoon = entry(&atom, TYPHOON);
    assert_eq!(
        (typhoon.published, typhoon.updated),
        (Some(published), Some(updated))
    );
    let enclosure = typhoon
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("enclosure"))
        .unwrap();
    assert_eq!(
        enclosure.href,
        "https://img.example.com/2026/11/typhoon-jeju.jpg"
    );
    assert_eq!(enclosure.media_type.as_deref(), Some("image/jpeg"));
    assert_eq!(enclosure.length, Some(182340));
    assert_eq!(
        atom.icon.as_ref().map(|i| i.uri.as_str()),
        Some("https://news.example.com/icon.png")
    );
    assert_eq!(
        atom.logo.as_ref().map(|i| i.uri.as_str()),
        Some("https://news.example.com/logo.png")
    );
    // NITF's compact date, in its own offset.
    let nitf = entry(&atom, NITF_ID);
    assert_eq!(
        nitf.published,
        Some("2026-11-18T23:15:00Z".parse().unwrap())
    );
    assert_eq!(entry(&atom, NINJS_ID).authors[0].name, "Han Seo-yeon");

    let rss = parse(dir.path(), "all.rss");
    let typhoon = entry(&rss, TYPHOON);
    assert_eq!(typhoon.published, Some(published));
    let media = &typhoon.media[0].content[0];
    assert_eq!(
        media.url.as_ref().map(|u| u.as_str()),
        Some("https://img.example.com/2026/11/typhoon-jeju.jpg")
    );
    assert_eq!(media.size, Some(182340));
    assert_eq!((media.width, media.height), (Some(1600), Some(1067)));
    assert_eq!(
        rss.logo.as_ref().map(|i| i.uri.as_str()),
        Some("https://news.example.com/icon.png")
    );
    let ninjs_media = &entry(&rss, NINJS_ID).media[0].content[0];
    assert_eq!(
        ninjs_media.url.as_ref().map(|u| u.as_str()),
        Some("https://img.example.com/2026/11/rail-1600.jpg")
    );

    let json = parse(dir.path(), "all.json");
    let typhoon = entry(&json, TYPHOON);
    assert_eq!(
        (typhoon.published, typhoon.updated),
        (Some(published), Some(updated))
    );
    let raw: serde_json::Value = serde_json::from_str(&read(dir.path(), "all.json")).unwrap();
    assert_eq!(raw["icon"], "https://news.example.com/logo.png");
    assert_eq!(raw["favicon"], "https://news.example.com/icon.png");
    let by_id = |id: &str| {
        raw["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap()
            .clone()
    };
    let item = by_id(TYPHOON);
    assert_eq!(
        item["image"],
        "https://img.example.com/2026/11/typhoon-jeju.jpg"
    );
    let wire = &item["_wirefeed"];
    assert_eq!(wire["urgency"], 2);
    assert_eq!(wire["slugline"], "typhoon-jeju");
    assert_eq!(wire["signals"][0], "sig:correction");
    assert!(wire["ednote"]
        .as_str()
        .unwrap()
        .starts_with("Corrects the wind speed"));
    assert_eq!(wire["dateline"]["place"], "JEJU");
    // A ninjs 2.x story with no body: its description is the content.
    let bridge = by_id(BRIDGE);
    assert!(bridge["content_html"]
        .as_str()
        .unwrap()
        .contains("reopened to traffic at 4 p.m."));
}

#[test]
fn the_validators_rules_on_what_the_iptc_formats_add() {
    let dir = project(&[]);
    build(dir.path(), "2026-11-30T00:00:00Z", 0);
    let mut checked = 0;
    for (name, bytes) in files(&dir.path().join("feeds")) {
        let text = String::from_utf8(bytes).unwrap();
        if name.ends_with(".rss") {
            check_rss(&name, &text);
            checked += 1;
        } else if name.ends_with(".atom") {
            check_atom(&name, &text);
            checked += 1;
        }
    }
    assert!(checked > 10, "{checked}");
}

/// Media RSS: `media:content` and `media:thumbnail` need an absolute
/// `url`, `medium` is one of the spec's, `fileSize`, `width`, `height`
/// are integers; `dcterms:modified` is a W3C date-time; the channel image
/// has the channel's title and link (`ImageTitleDoesntMatch`,
/// `ImageLinkDoesntMatch`).
fn check_rss(name: &str, text: &str) {
    let doc = roxmltree::Document::parse(text).unwrap();
    const MEDIA: &str = "http://search.yahoo.com/mrss/";
    let media = doc
        .descendants()
        .filter(|n| n.tag_name().namespace() == Some(MEDIA));
    for node in media {
        assert!(
            node.attribute("url")
                .is_some_and(|u| u.starts_with("https://")),
            "{name}: {node:?}"
        );
        if node.tag_name().name() == "content" {
            let medium = node.attribute("medium").unwrap();
            assert!(["image", "audio", "video", "document", "executable"].contains(&medium));
            for number in ["fileSize", "width", "height"] {
                if let Some(v) = node.attribute(number) {
                    assert!(v.parse::<u64>().is_ok(), "{name}: {number}={v}");
                }
            }
        }
    }
    let terms = doc
        .descendants()
        .filter(|n| n.tag_name().namespace() == Some("http://purl.org/dc/terms/"));
    for node in terms {
        assert_eq!(node.tag_name().name(), "modified");
        chrono::DateTime::parse_from_rfc3339(node.text().unwrap()).unwrap();
    }
    let channel = doc
        .descendants()
        .find(|n| n.has_tag_name("channel"))
        .unwrap();
    let child = |parent: roxmltree::Node, tag: &str| {
        parent
            .children()
            .find(|c| c.has_tag_name(tag))
            .and_then(|c| c.text())
            .map(str::to_owned)
    };
    let image = channel
        .children()
        .find(|c| c.has_tag_name("image"))
        .unwrap();
    assert_eq!(child(image, "title"), child(channel, "title"), "{name}");
    assert_eq!(child(image, "link"), child(channel, "link"), "{name}");
}

/// Atom: enclosure links are absolute with integer lengths; entry ids are
/// absolute (`tag:`, `urn:`, `https:`) and unique (`DuplicateEntries`).
fn check_atom(name: &str, text: &str) {
    let doc = roxmltree::Document::parse(text).unwrap();
    for link in doc.descendants().filter(|n| n.has_tag_name("link")) {
        if link.attribute("rel") == Some("enclosure") {
            assert!(link.attribute("href").unwrap().starts_with("https://"));
            if let Some(length) = link.attribute("length") {
                assert!(length.parse::<u64>().is_ok(), "{name}: length {length}");
            }
        }
    }
    let ids: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("entry"))
        .filter_map(|e| e.children().find(|c| c.has_tag_name("id")))
        .filter_map(|i| i.text())
        .collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{name}: DuplicateEntries");
    for id in ids {
        let absolute = ["tag:", "urn:", "https://"]
            .iter()
            .any(|s| id.starts_with(s));
        assert!(absolute, "{name}: {id}");
    }
}

#[test]
fn a_bad_iptc_file_is_one_located_error_and_the_rest_is_published() {
    let dir = project(&["typhoon-v1"]);
    fs::write(
        dir.path().join("articles/broken.xml"),
        "<?xml version=\"1.0\"?>\n<newsItem xmlns=\"http://iptc.org/std/nar/2006-10-01/\" guid=\"g\">\n<itemMeta>\n</newsItem>\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("articles/other.xml"),
        "<rss version=\"2.0\"/>\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("articles/ninjs.json"),
        "{\"uri\": \"urn:x:y\", \"version\": \"1\",\n \"firstcreated\": \"tomorrow\"}\n",
    )
    .unwrap();
    let said = build(dir.path(), "2026-11-30T00:00:00Z", 1);
    assert!(said.contains("broken.xml:4: not well-formed XML"), "{said}");
    assert!(
        said.contains("other.xml:1: root element `rss` is neither"),
        "{said}"
    );
    assert!(
        said.contains("ninjs.json:2: `firstcreated`: `tomorrow` is not a date"),
        "{said}"
    );
    assert!(said.contains("3 errors"), "{said}");
    assert!(read(dir.path(), "all.rss").contains(TYPHOON));
}

#[test]
fn markdown_and_json_articles_can_be_withheld_or_canceled() {
    let dir = common::project(&[
        (
            "kept.md",
            b"---\ntitle: Kept\ndate: 2026-11-01T09:00:00+09:00\n---\n\nText.\n",
        ),
        (
            "held.md",
            b"---\ntitle: Held\ndate: 2026-11-01T09:00:00+09:00\nstatus: withheld\n---\n\nText.\n",
        ),
        (
            "killed.json",
            br#"{"title": "Killed", "date": "2026-11-01", "status": "canceled", "content_text": "x"}"#,
        ),
        (
            "bad.json",
            b"{\"title\": \"Bad\", \"date\": \"2026-11-01\",\n\"status\": \"gone\", \"content_text\": \"x\"}",
        ),
    ]);
    let said = build(dir.path(), "2026-11-30T00:00:00Z", 1);
    assert!(said.contains("bad.json:2: unknown status `gone`"), "{said}");
    assert!(said.contains("2 withheld or canceled"), "{said}");
    let rss = read(dir.path(), "all.rss");
    assert!(rss.contains("<title>Kept</title>"));
    assert!(!rss.contains("Held") && !rss.contains("Killed"));
}

#[test]
fn a_cached_rebuild_gives_the_same_bytes() {
    let dir = project(&[]);
    build(dir.path(), "2026-11-30T00:00:00Z", 0);
    let first = files(&dir.path().join("feeds"));
    let said = build(dir.path(), "2026-11-30T00:00:00Z", 0);
    assert!(said.contains(" 0 files written"), "{said}");
    let run = wirefeed(
        dir.path(),
        &[
            "build",
            "--now",
            "2026-11-30T00:00:00Z",
            "--no-cache",
            "--out",
            "fresh",
        ],
    );
    run.expect_code(0);
    assert_eq!(files(&dir.path().join("fresh")), first);
}
