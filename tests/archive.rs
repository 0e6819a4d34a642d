//! RFC 5005 archived feeds: a late subscriber can walk back from the feed
//! through `prev-archive` links to every older item, and full archive pages
//! never change as new stories arrive.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::Path;

use common::{project, story, wirefeed};

fn titles(path: &Path) -> Vec<String> {
    let feed = feed_rs::parser::parse(fs::read(path).unwrap().as_slice()).unwrap();
    feed.entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.clone())
        .collect()
}

fn add_story(dir: &Path, i: u32) {
    let time = format!("2026-10-{:02} 09:00:00", i);
    fs::write(
        dir.join(format!("articles/s{i}.txt")),
        story(&time, &format!("Story {i}")),
    )
    .unwrap();
}

#[test]
fn archive_pages_reach_every_item_and_stay_the_same_once_full() {
    let dir = project(&[]);
    let config = dir.path().join("config.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        text.replace(
            "name = \"all\"",
            "name = \"all\"\nlimit = 3\narchive = true",
        ),
    )
    .unwrap();
    for i in 1..=7 {
        add_story(dir.path(), i);
    }
    let run = wirefeed(dir.path(), &["build"]);
    run.expect_code(0);
    let feeds = dir.path().join("feeds");
    let s = |list: &[&str]| list.iter().map(|t| t.to_string()).collect::<Vec<_>>();
    assert_eq!(
        titles(&feeds.join("all.atom")),
        s(&["Story 7", "Story 6", "Story 5"])
    );
    assert_eq!(
        titles(&feeds.join("all/archive/2.atom")),
        s(&["Story 6", "Story 5", "Story 4"])
    );
    assert_eq!(
        titles(&feeds.join("all/archive/1.rss")),
        s(&["Story 3", "Story 2", "Story 1"])
    );
    assert!(
        !feeds.join("all/archive/3.atom").exists(),
        "only full pages"
    );

    let current = fs::read_to_string(feeds.join("all.atom")).unwrap();
    assert!(current.contains(
        "<link href=\"https://news.example.com/feeds/all/archive/2.atom\" rel=\"prev-archive\""
    ));
    assert!(!current.contains("fh:archive"));
    let page2 = fs::read_to_string(feeds.join("all/archive/2.atom")).unwrap();
    assert!(page2.contains("xmlns:fh=\"http://purl.org/syndication/history/1.0\""));
    assert!(page2.contains("<fh:archive>"));
    assert!(page2.contains("href=\"https://news.example.com/feeds/all.atom\" rel=\"current\""));
    assert!(page2.contains(
        "href=\"https://news.example.com/feeds/all/archive/1.atom\" rel=\"prev-archive\""
    ));
    let page1 = fs::read_to_string(feeds.join("all/archive/1.rss")).unwrap();
    assert!(page1.contains("<fh:archive>") && !page1.contains("prev-archive"));
    assert!(page1.contains("href=\"../../feed.xsl\""));
    // The oldest page links to the next one (without either link the W3C
    // validator calls an archive page incomplete); the newest to none yet.
    assert!(page1.contains(
        "<atom:link href=\"https://news.example.com/feeds/all/archive/2.rss\" rel=\"next-archive\""
    ));
    assert!(!page2.contains("next-archive"));
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(feeds.join("all.json")).unwrap()).unwrap();
    assert_eq!(
        json["next_url"],
        "https://news.example.com/feeds/all/archive/2.json"
    );
    let index = fs::read_to_string(feeds.join("index.html")).unwrap();
    assert!(
        !index.contains("archive/"),
        "archives are reached through their feed"
    );

    // One more story: the feed changes, the full pages do not.
    let page_files = [
        "all/archive/1.atom",
        "all/archive/2.rss",
        "all/archive/2.json",
    ];
    let before: Vec<_> = page_files
        .iter()
        .map(|f| {
            (
                fs::read(feeds.join(f)).unwrap(),
                fs::metadata(feeds.join(f)).unwrap().modified().unwrap(),
            )
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    add_story(dir.path(), 8);
    wirefeed(dir.path(), &["build"]).expect_code(0);
    for (f, old) in page_files.iter().zip(&before) {
        let now = (
            fs::read(feeds.join(f)).unwrap(),
            fs::metadata(feeds.join(f)).unwrap().modified().unwrap(),
        );
        assert!(now == *old, "{f} changed");
    }
    assert_eq!(titles(&feeds.join("all.atom"))[0], "Story 8");

    // A third page fills up and becomes the newest archive.
    add_story(dir.path(), 9);
    wirefeed(dir.path(), &["build"]).expect_code(0);
    assert_eq!(
        titles(&feeds.join("all/archive/3.atom")),
        s(&["Story 9", "Story 8", "Story 7"])
    );
    let current = fs::read_to_string(feeds.join("all.rss")).unwrap();
    assert!(current.contains("all/archive/3.rss\" rel=\"prev-archive\""));
    // The page before it gains its next-archive link, the one change a
    // full page sees; nothing else changes, and older pages not at all.
    let next = |format: &str| {
        let link = match format {
            "rss" => "atom:link",
            _ => "link",
        };
        let media = match format {
            "rss" => "application/rss+xml",
            _ => "application/atom+xml",
        };
        format!(
            "\n    <{link} href=\"https://news.example.com/feeds/all/archive/3.{format}\" rel=\"next-archive\" type=\"{media}\"/>"
        )
        .replace("\n    <link", "\n  <link")
    };
    for (f, old) in page_files.iter().zip(&before) {
        let now = fs::read_to_string(feeds.join(f)).unwrap();
        let old = String::from_utf8(old.0.clone()).unwrap();
        match *f {
            "all/archive/2.rss" => {
                assert_eq!(now.matches(&next("rss")).count(), 1, "{now}");
                assert_eq!(now.replace(&next("rss"), ""), old, "{f}");
            }
            _ => assert!(now == old, "{f} changed"),
        }
    }
    let page2 = fs::read_to_string(feeds.join("all/archive/2.atom")).unwrap();
    assert!(page2.contains(&next("atom")), "{page2}");
    let page3 = fs::read_to_string(feeds.join("all/archive/3.atom")).unwrap();
    assert!(!page3.contains("next-archive"));
}
