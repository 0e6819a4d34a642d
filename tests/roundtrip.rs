//! Round trip: every feed the samples produce, in every format, is parsed
//! back with an independent parser (feed-rs) and compared field by field
//! with the items it was rendered from. Plus the validator's rules that a
//! generator easily breaks, checked on the rendered bytes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Utc;
use regex::Regex;
use wirefeed::config::{Config, Format};
use wirefeed::model::Item;
use wirefeed::normalize::Normalizer;
use wirefeed::select::select;
use wirefeed::source::{self, ParseContext};
use wirefeed::text::escape_html;

/// The sample project's items, as the build makes them.
fn sample_items(config: &Config) -> Vec<Item> {
    let files = source::discover(&config.sources).unwrap();
    let ctx = ParseContext {
        timezone: config.site.timezone,
        bodies: true,
    };
    let loaded = source::load(&files, ctx, &|| {});
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let normalizer = Normalizer::new(&config.site);
    // Of several versions of one id (the IPTC samples), the build keeps
    // the highest, then the latest updated.
    let mut items: Vec<Item> = Vec::new();
    for item in loaded.articles.iter().map(|a| normalizer.item(a)) {
        match items.iter_mut().find(|i| i.id == item.id) {
            Some(kept) if (item.revision, item.updated) > (kept.revision, kept.updated) => {
                *kept = item
            }
            Some(_) => {}
            None => items.push(item),
        }
    }
    items
}

fn sample_config() -> Config {
    Config::load(&common::repo().join("config.toml")).unwrap()
}

/// What a reader shows for a text: text that looks like HTML is written as
/// HTML, escaped once more (Atom `type="html"`; RSS titles, which readers
/// then take for HTML), so undoing the escapes gives it back. Other text
/// holds no escapes to undo (they would look like HTML).
fn shown(text: &feed_rs::model::Text) -> String {
    let c = &text.content;
    assert!(
        !text.content_type.to_string().starts_with("text/html") || !c.contains('<'),
        "markup where text was written: {c}"
    );
    c.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// An author's name: RSS `author` is `address (Name)`, which feed-rs
/// keeps whole as the e-mail of a person named "author".
fn name_of(person: &feed_rs::model::Person) -> &str {
    match (person.name.as_str(), person.email.as_deref()) {
        ("author", Some(email)) => email
            .split_once(" (")
            .and_then(|(_, name)| name.strip_suffix(')'))
            .unwrap_or(email),
        (name, _) => name,
    }
}

#[test]
fn every_field_of_every_item_survives_feed_rs() {
    let config = sample_config();
    let items = sample_items(&config);
    let selection = select(&items, &config, Utc::now());
    let mut checked = 0;
    for feed in &selection.feeds {
        for &format in &feed.info.formats {
            let bytes = wirefeed::render::render(feed, format, &config.site).unwrap();
            let parsed = feed_rs::parser::parse(bytes.as_slice())
                .unwrap_or_else(|e| panic!("{} {format:?} does not parse: {e}", feed.info.name));
            let at = |what: &str| format!("{} {format:?}: {what}", feed.info.name);
            assert_eq!(
                shown(parsed.title.as_ref().unwrap()),
                feed.info.title,
                "{}",
                at("title")
            );
            assert_eq!(
                parsed.entries.len(),
                feed.items.len(),
                "{}",
                at("item count")
            );
            if format == Format::Atom {
                assert_eq!(
                    parsed.updated,
                    Some(feed.info.updated.to_utc()),
                    "{}",
                    at("updated")
                );
            }
            for (entry, item) in parsed.entries.iter().zip(&feed.items) {
                let at =
                    |what: &str| format!("{} {format:?} item {}: {what}", feed.info.name, item.id);
                assert_eq!(entry.id, item.id, "{}", at("id"));
                assert_eq!(
                    shown(entry.title.as_ref().unwrap()),
                    item.title,
                    "{}",
                    at("title")
                );
                let links: Vec<_> = entry.links.iter().map(|l| l.href.as_str()).collect();
                assert_eq!(
                    links.first().copied(),
                    item.link.as_deref(),
                    "{}",
                    at("link")
                );
                let authors: Vec<_> = entry.authors.iter().map(name_of).collect();
                let expected: Vec<_> = item.authors.iter().map(|p| p.name.as_str()).collect();
                assert_eq!(authors, expected, "{}", at("authors"));
                assert_eq!(
                    entry.published,
                    Some(item.published.to_utc()),
                    "{}",
                    at("published")
                );
                if format != Format::Rss {
                    assert_eq!(
                        entry.updated,
                        Some(item.updated.to_utc()),
                        "{}",
                        at("updated")
                    );
                }
                let terms: Vec<_> = entry.categories.iter().map(|c| c.term.as_str()).collect();
                assert_eq!(terms, item.categories, "{}", at("categories"));
                // RSS `description` is HTML, so the plain summary is escaped.
                let summary = entry.summary.as_ref().map(|s| match format {
                    Format::Rss => s.content.clone(),
                    _ => shown(s),
                });
                let expected = match format {
                    Format::Rss => {
                        Some(escape_html(item.summary.as_deref().unwrap_or(&item.title)))
                    }
                    _ => item.summary.clone(),
                };
                assert_eq!(summary, expected, "{}", at("summary"));
                let content = entry.content.as_ref().and_then(|c| c.body.clone());
                assert_eq!(
                    content.as_deref(),
                    Some(item.content_html.as_str()),
                    "{}",
                    at("content")
                );
                if format == Format::Atom {
                    let rights = entry.rights.as_ref().map(shown);
                    assert_eq!(rights, item.rights, "{}", at("rights"));
                }
                checked += 1;
            }
        }
    }
    // 13 published sample items, in several feeds and formats each.
    assert!(checked > 100, "only {checked} entries checked");
}

#[test]
fn the_seed_shaped_story_has_exactly_the_expected_fields() {
    let config = sample_config();
    let items = sample_items(&config);
    let item = items
        .iter()
        .find(|i| i.id.ends_with(":AEN20261014000300315"))
        .unwrap();
    let story = std::fs::read_to_string(
        common::repo().join("articles/wire/2026/10/AEN20261014000300315.txt"),
    )
    .unwrap();
    let lines: Vec<&str> = story.lines().collect();
    let end = lines.iter().position(|l| *l == "(END)").unwrap();
    let paragraphs = &lines[5..end];

    assert_eq!(
        item.id,
        "tag:news.example.com,2026-10-14:AEN20261014000300315"
    );
    assert_eq!(item.title, lines[3]);
    assert_eq!(item.authors.len(), 1);
    assert_eq!(item.authors[0].name, "Yoon Da-eun");
    assert_eq!(item.authors[0].native_name.as_deref(), Some("윤다은"));
    assert_eq!(item.published.to_rfc3339(), "2026-10-14T08:42:17+09:00");
    assert_eq!(
        wirefeed::render::rfc822(&item.published),
        "Wed, 14 Oct 2026 08:42:17 +0900"
    );
    assert_eq!(item.categories, ["Busan", "harbor festival", "tourism"]);
    let dateline = item.dateline.as_ref().unwrap();
    assert_eq!(
        (dateline.place.as_str(), dateline.agency.as_str()),
        ("BUSAN", "Yonhap")
    );
    assert_eq!(item.summary.as_deref(), Some(paragraphs[0]));
    let content: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape_html(p)))
        .collect();
    assert_eq!(paragraphs.len(), 6);
    assert_eq!(item.content_html, content);
    assert_eq!(
        item.rights.as_deref(),
        Some("ⓒ K-VIBE. 무단전재-재배포 금지")
    );
    assert_eq!(
        item.link.as_deref(),
        Some("https://news.example.com/news/AEN20261014000300315")
    );
}

#[test]
fn variants_of_the_wire_format_normalize_as_expected() {
    let config = sample_config();
    let items = sample_items(&config);
    let find = |suffix: &str| items.iter().find(|i| i.id.ends_with(suffix)).unwrap();

    let lead = find(":AEN20261020004651315"); // BOM + CRLF, two authors
    assert_eq!(lead.version.as_deref(), Some("LEAD"));
    assert!(lead.title.starts_with("(LEAD) "));
    let names: Vec<_> = lead
        .authors
        .iter()
        .map(|p| (p.name.as_str(), p.native_name.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("Kim Eun-jung", Some("김은중")),
            ("Lee Ji-hoon", Some("이지훈"))
        ]
    );
    assert!(!lead.content_html.contains('\r') && !lead.title.contains('\u{feff}'));

    let second = find(":AEN20261102000800320"); // blank lines, trailing spaces
    assert_eq!(second.version.as_deref(), Some("2nd LD"));
    assert_eq!(second.authors.len(), 3);
    assert_eq!(second.content_html.matches("<p>").count(), 6);
    assert!(!second.content_html.contains(" </p>"));

    let urgent = find(":typhoon-warning"); // no story id, no (END), no rights
    assert_eq!(urgent.version.as_deref(), Some("URGENT"));
    // No story id: the fixed date, not the filing time (a corrected time keeps the id).
    assert_eq!(urgent.id, "tag:news.example.com,2000:typhoon-warning");
    assert_eq!(urgent.rights.as_deref(), config.site.rights.as_deref());

    let euc_kr = find(":AEN20261105001200315");
    assert!(
        euc_kr.content_html.contains("반도체 수출"),
        "{}",
        euc_kr.content_html
    );
    assert_eq!(euc_kr.authors[0].native_name.as_deref(), Some("정수빈"));

    let korean_only = find(":AEN20261116000700315"); // no byline
    assert_eq!(korean_only.authors.len(), 1);
    assert_eq!(korean_only.authors[0].name, "김하늘");

    let awkward = find(":awkward-characters");
    assert_eq!(
        awkward.title,
        "Q&A: \"Kim\" <meets> 'Lee' 🎉 — 김정은 회담 ]]> test"
    );
    assert!(awkward
        .content_html
        .contains("characters: that XML forbids"));
    let photo = find(":photo-of-the-day"); // an image and no text
    assert_eq!(photo.summary, None);
    assert!(photo
        .content_html
        .contains("src=\"https://news.example.com/img/namsan-snow.jpg\""));

    let escaped = find(":AEN20261111002100315");
    assert!(escaped.title.contains("\"빛나는 밤\""));
    assert!(escaped.content_html.contains("&amp;") && escaped.content_html.contains("🎉"));
}

#[test]
fn markdown_and_json_samples_are_sanitized_and_complete() {
    let config = sample_config();
    let items = sample_items(&config);
    let find = |suffix: &str| items.iter().find(|i| i.id.ends_with(suffix)).unwrap();

    let post = find(":newsletter-launch");
    for banned in ["<script", "javascript:", "onclick", "onerror"] {
        assert!(
            !post.content_html.contains(banned),
            "{banned} in {}",
            post.content_html
        );
    }
    assert!(post
        .content_html
        .contains("<img src=\"https://news.example.com/img/launch.png\""));
    let policy = find(":2026-11-12-corrections-policy");
    assert!(policy
        .content_html
        .contains("href=\"https://news.example.com/archive/\""));
    assert_eq!(policy.updated.to_rfc3339(), "2026-11-13T09:00:00+09:00");
    assert!(policy
        .summary
        .as_deref()
        .unwrap()
        .starts_with("When we get something wrong"));
    assert!(items.iter().any(|i| i.draft), "the draft is read");

    let brief = find(":brief-20261016-ferry");
    assert!(!brief.content_html.contains("style=") && !brief.content_html.contains("onmouseover"));
    assert_eq!(
        brief.link.as_deref(),
        Some("https://news.example.com/briefs/brief-20261016-ferry")
    );
    let text = find(":brief-20261108-marathon");
    assert!(
        text.content_html.contains("&lt; 10 degrees")
            && text.content_html.contains("&amp; residents")
    );
    assert_eq!(text.content_html.matches("<p>").count(), 2);
    let chips = find(":brief-20261119-chips");
    assert_eq!(
        chips.title,
        "Chipmakers & suppliers lift <Outlook> for 2027"
    );
    assert_eq!(
        chips.summary.as_deref(),
        Some("Two memory chipmakers & their suppliers raised next year's outlook on Thursday, citing orders for AI servers.")
    );
    // JSON Lines objects without ids get distinct, stable ones.
    let ticker: Vec<_> = items.iter().filter(|i| i.id.contains(":ticker-")).collect();
    assert_eq!(ticker.len(), 2);
    assert_ne!(ticker[0].id, ticker[1].id);
}

/// The W3C Feed Validation Service's rules we rely on (see FEEDS.md),
/// checked on every RSS and Atom file of the sample build.
#[test]
fn rendered_feeds_keep_the_validators_rules() {
    let config = sample_config();
    let items = sample_items(&config);
    let selection = select(&items, &config, Utc::now());
    let rfc822 =
        Regex::new(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
            .unwrap();
    let rfc3339 = Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$").unwrap();
    let element = |tag: &str| Regex::new(&format!("<{tag}(?: [^>]*)?>([^<]*)</{tag}>")).unwrap();
    let guid_re = Regex::new("<guid([^>]*)>([^<]*)</guid>").unwrap();
    let author = Regex::new(r"<author>[^ <]+@[^ <]+ \([^()<]+\)</author>").unwrap();
    let illegal = Regex::new("[\u{0}-\u{8}\u{B}\u{C}\u{E}-\u{1F}\u{FFFE}\u{FFFF}]").unwrap();
    for feed in &selection.feeds {
        for &format in &feed.info.formats {
            let bytes = wirefeed::render::render(feed, format, &config.site).unwrap();
            let xml = String::from_utf8(bytes).unwrap();
            let at = format!("{} {format:?}", feed.info.name);
            assert!(!illegal.is_match(&xml), "{at}: XML-illegal character");
            let self_url = config.site.feed_url(&feed.info.name, format);
            match format {
                Format::Rss => {
                    assert!(
                        xml.contains(&format!(
                        "<atom:link href=\"{self_url}\" rel=\"self\" type=\"application/rss+xml\"/>"
                    )),
                        "{at}: self link"
                    );
                    for date in element("pubDate")
                        .captures_iter(&xml)
                        .chain(element("lastBuildDate").captures_iter(&xml))
                    {
                        assert!(rfc822.is_match(&date[1]), "{at}: bad date {}", &date[1]);
                    }
                    for guid in guid_re.captures_iter(&xml) {
                        if !guid[2].starts_with("http") {
                            assert_eq!(
                                &guid[1], " isPermaLink=\"false\"",
                                "{at}: guid {}",
                                &guid[2]
                            );
                        }
                    }
                    for item in xml.split("<item>").skip(1) {
                        assert_eq!(
                            item.matches("<author>").count(),
                            author.find_iter(item).count(),
                            "{at}: author is `address (Name)`"
                        );
                        assert!(
                            !(item.contains("<author>") && item.contains("<dc:creator>")),
                            "{at}: author and dc:creator (DuplicateItemSemantics)"
                        );
                    }
                    let outside_cdata: String = xml
                        .split("<![CDATA[")
                        .map(|part| part.split_once("]]>").map_or(part, |(_, after)| after))
                        .collect();
                    assert!(
                        !outside_cdata.contains("&amp;") && !outside_cdata.contains("&lt;"),
                        "{at}: plain text needs &#x26; and &#x3C; (CharacterData)"
                    );
                    for item in xml.split("<item>").skip(1) {
                        let d = item.find("<description>").unwrap();
                        let c = item.find("<content:encoded>").unwrap();
                        assert!(d < c, "{at}: description after content:encoded");
                        assert!(item.matches("<enclosure").count() <= 1, "{at}: enclosures");
                    }
                }
                Format::Atom => {
                    assert!(
                        xml.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""),
                        "{at}"
                    );
                    assert!(
                        xml.contains(&format!("<link href=\"{self_url}\" rel=\"self\"")),
                        "{at}"
                    );
                    for date in element("updated")
                        .captures_iter(&xml)
                        .chain(element("published").captures_iter(&xml))
                    {
                        assert!(rfc3339.is_match(&date[1]), "{at}: bad date {}", &date[1]);
                    }
                    let ids: Vec<String> = element("id")
                        .captures_iter(&xml)
                        .map(|c| c[1].to_owned())
                        .collect();
                    assert_eq!(ids.len(), feed.items.len() + 1);
                    for id in &ids {
                        assert!(
                            url::Url::parse(id).is_ok(),
                            "{at}: id {id} is not an absolute IRI"
                        );
                    }
                    let mut unique = ids.clone();
                    unique.sort();
                    unique.dedup();
                    assert_eq!(unique.len(), ids.len(), "{at}: duplicate ids");
                    for entry in xml.split("<entry>").skip(1) {
                        assert!(entry.contains("<author>"), "{at}: entry without author");
                        assert!(entry.contains("<content type=\"html\">"), "{at}");
                    }
                }
                Format::Json => {
                    let v: serde_json::Value = serde_json::from_str(&xml).unwrap();
                    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
                    assert_eq!(v["feed_url"], self_url.as_str());
                    for item in v["items"].as_array().unwrap() {
                        assert!(item["id"].is_string() && item["content_html"].is_string());
                        assert!(rfc3339.is_match(item["date_published"].as_str().unwrap()));
                        assert!(item["authors"].is_array());
                    }
                }
            }
        }
    }
}
