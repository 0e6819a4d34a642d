//! IPTC NewsML-G2: a `newsItem`, or a `newsMessage` whose `itemSet`
//! holds several items (namespace `http://iptc.org/std/nar/2006-10-01/`).
//!
//! Text items become articles; pictures, videos, packages and concept
//! items are skipped without an error (a message often carries them beside
//! its stories). A bad item is an error at its own line; the message's
//! other items are still published. What each element becomes is in the
//! README ("NewsML-G2").

use std::path::Path;

use super::iptc::{self, Located, Story};
use super::limits::Warning;
use super::xml::{self, Element};
use super::{ParseContext, SourceError};
use crate::model::{Article, ArticleFormat, Dateline, Image, Person};

/// The NewsML-G2 namespace.
pub const NAMESPACE: &str = "http://iptc.org/std/nar/2006-10-01/";

/// Whether `root` is a NewsML-G2 item or message.
pub fn is_newsml(root: &Element) -> bool {
    matches!(root.name.as_str(), "newsItem" | "newsMessage") && root.namespace() == Some(NAMESPACE)
}

/// Parses a NewsML-G2 document (already parsed as XML).
pub fn parse(
    path: &Path,
    root: &Element,
    ctx: ParseContext,
    warnings: &mut Vec<Warning>,
) -> (Vec<Article>, Vec<SourceError>) {
    let mut articles = Vec::new();
    let mut errors = Vec::new();
    let mut push = |r: Result<Option<Article>, Located>| match r {
        Ok(Some(a)) => articles.push(a),
        Ok(None) => {}
        Err((line, reason)) => errors.push(SourceError::new(path, line, reason)),
    };
    if !is_newsml(root) {
        push(Err((
            root.line,
            format!(
                "`{}` is not a NewsML-G2 newsItem or newsMessage (namespace {NAMESPACE})",
                root.name
            ),
        )));
        return (articles, errors);
    }
    match root.name.as_str() {
        "newsMessage" => {
            for set in root.all("itemSet") {
                // Other items (packages, concepts) are not stories.
                for item in set.all("newsItem") {
                    push(news_item(path, item, ctx, warnings));
                }
            }
        }
        _ => push(news_item(path, root, ctx, warnings)),
    }
    (articles, errors)
}

/// One `newsItem`: `None` when it is not text.
fn news_item(
    path: &Path,
    item: &Element,
    ctx: ParseContext,
    warnings: &mut Vec<Warning>,
) -> Result<Option<Article>, Located> {
    let meta = item.child("itemMeta");
    let class = meta
        .and_then(|m| m.child("itemClass"))
        .and_then(|c| c.attr("qcode"))
        .unwrap_or("ninat:text");
    if class.rsplit([':', '/']).next() != Some("text") {
        return Ok(None);
    }
    let mut story = Story {
        line: item.line,
        ..Story::default()
    };
    story.id = Some(
        item.attr("guid")
            .ok_or((item.line, "newsItem has no `guid`".to_owned()))?
            .trim()
            .to_owned(),
    );
    story.revision = match item.attr("version") {
        Some(v) => iptc::version(v).map_err(|r| (item.line, r))?,
        None => 1,
    };
    story.language = item.attr("xml:lang").map(str::to_owned);
    if let Some(meta) = meta {
        item_meta(meta, &mut story, ctx)?;
    }
    if let Some(content) = item.child("contentMeta") {
        content_meta(content, &mut story, ctx)?;
    }
    if let Some(notice) = item.at(&["rightsInfo", "copyrightNotice"]) {
        story.rights = notice.text_opt();
    }
    if let Some(set) = item.child("contentSet") {
        content_set(set, &mut story);
    }
    story
        .finish(path, ArticleFormat::NewsMlG2, warnings, "newsItem")
        .map(Some)
}

fn dated(e: &Element, ctx: ParseContext) -> Result<chrono::DateTime<chrono::FixedOffset>, Located> {
    iptc::date(&e.text(), ctx).map_err(|r| (e.line, format!("`{}`: {r}", e.name)))
}

fn item_meta(meta: &Element, story: &mut Story, ctx: ParseContext) -> Result<(), Located> {
    for e in meta.elements() {
        match e.name.as_str() {
            "versionCreated" => story.updated = Some(dated(e, ctx)?),
            "firstCreated" => story.published = Some(dated(e, ctx)?),
            "embargoed" if !e.text().is_empty() => story.embargo = Some(dated(e, ctx)?),
            "pubStatus" => {
                let code = e.attr("qcode").or(e.attr("uri")).unwrap_or_default();
                story.status = iptc::status(code).map_err(|r| (e.line, r))?;
            }
            "edNote" => story.wire.ednote = e.text_opt(),
            "signal" => {
                if let Some(code) = e.attr("qcode").or(e.attr("uri")) {
                    story.wire.signals.push(code.to_owned());
                }
            }
            "link" if story.image.is_none() => story.image = picture(e, "href"),
            _ => {}
        }
    }
    Ok(())
}

fn content_meta(content: &Element, story: &mut Story, ctx: ParseContext) -> Result<(), Located> {
    let mut place = None;
    let mut byline = None;
    let mut agency = String::new();
    for e in content.elements() {
        match e.name.as_str() {
            "urgency" => {
                let u = e.text();
                story.wire.urgency =
                    Some(u.parse().ok().filter(|u| (1..=9).contains(u)).ok_or((
                        e.line,
                        format!("`urgency`: `{u}` is not a number from 1 to 9"),
                    ))?);
            }
            "contentCreated" if story.published.is_none() => story.published = Some(dated(e, ctx)?),
            "located" if place.is_none() => place = name_of(e),
            "creator" => {
                if let Some(name) = name_of(e) {
                    story.authors.push(Person {
                        name,
                        ..Person::default()
                    });
                }
            }
            "subject" => {
                if let Some(name) = name_of(e) {
                    if story.categories.is_empty() {
                        story.categories_line = e.line;
                    }
                    story.categories.push(name);
                }
            }
            "slugline" => story.wire.slugline = e.text_opt(),
            "headline" if story.title.is_none() => story.title = e.text_opt(),
            "dateline" => {
                if let Some(text) = e.text_opt() {
                    let first = text.split(',').next().unwrap_or_default().trim().to_owned();
                    place = place.or(Some(first));
                }
            }
            "by" => byline = e.text_opt(),
            "creditline" => agency = e.text(),
            "description" => {
                let summary = e.attr("role").is_none_or(|r| r.ends_with("summary"));
                if summary || story.summary.is_none() {
                    story.summary = e.text_opt();
                }
            }
            "language" if story.language.is_none() => {
                story.language = e.attr("tag").map(str::to_owned)
            }
            "icon" if story.image.is_none() => story.image = picture(e, "href"),
            _ => {}
        }
    }
    if story.authors.is_empty() {
        if let Some(by) = byline {
            story.authors = iptc::names(&by);
        }
    }
    story.dateline = place.map(|place| Dateline { place, agency });
    Ok(())
}

/// A concept's name: its `name` child, else its `literal`.
fn name_of(e: &Element) -> Option<String> {
    e.child("name")
        .and_then(Element::text_opt)
        .or_else(|| e.attr("literal").map(str::to_owned))
        .filter(|n| !n.trim().is_empty())
}

/// A picture `e` points at: an image media type, or none given and a URL
/// that ends like one.
fn picture(e: &Element, url_attr: &str) -> Option<Image> {
    let url = e.attr(url_attr).or(e.attr("residref"))?.trim();
    let given = e.attr("contenttype").map(str::to_owned);
    let mime_type = given.or_else(|| iptc::image_type(url));
    if !mime_type
        .as_deref()
        .is_some_and(|t| t.starts_with("image/"))
    {
        return None;
    }
    let number = |k: &str| e.attr(k).and_then(|v| v.trim().parse().ok());
    Some(Image {
        url: url.to_owned(),
        mime_type,
        length: e.attr("size").and_then(|v| v.trim().parse().ok()),
        width: number("width"),
        height: number("height"),
    })
}

fn content_set(set: &Element, story: &mut Story) {
    for e in set.elements() {
        match e.name.as_str() {
            "inlineXML" if story.html.is_none() => {
                // XHTML: the `body` of its `html`, or whatever it holds.
                let body = e
                    .at(&["html", "body"])
                    .or_else(|| e.at(&["nitf", "body", "body.content"]));
                let mut html = String::new();
                xml::push_html(body.unwrap_or(e), &mut html);
                story.html = Some((html, e.line));
            }
            "inlineData" if story.paragraphs.is_empty() => {
                let text = e.children.iter().filter_map(|n| match n {
                    xml::Node::Text(t) => Some(t.as_str()),
                    xml::Node::Element(_) => None,
                });
                let text: String = text.collect();
                story.paragraphs = text
                    .replace("\r\n", "\n")
                    .split("\n\n")
                    .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                    .filter(|p| !p.is_empty())
                    .collect();
            }
            "remoteContent" if story.image.is_none() => story.image = picture(e, "href"),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Body, Status};

    const CTX: ParseContext = ParseContext {
        timezone: chrono_tz::Asia::Seoul,
        bodies: true,
    };

    fn read(text: &str) -> (Vec<Article>, Vec<String>) {
        let root = xml::parse(text).unwrap();
        let (a, e) = parse(Path::new("g2.xml"), &root, CTX, &mut Vec::new());
        (
            a,
            e.into_iter()
                .map(|e| format!("{}:{}", e.line, e.reason))
                .collect(),
        )
    }

    const ITEM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:newsml:example.com:20261102:typhoon" version="2" standard="NewsML-G2" standardversion="2.33" xml:lang="en">
  <rightsInfo><copyrightNotice>Copyright 2026 Example Wire</copyrightNotice></rightsInfo>
  <itemMeta>
    <itemClass qcode="ninat:text"/>
    <versionCreated>2026-11-02T10:30:00+09:00</versionCreated>
    <firstCreated>2026-11-02T09:00:00+09:00</firstCreated>
    <embargoed>2026-11-02T09:30:00+09:00</embargoed>
    <pubStatus qcode="stat:usable"/>
    <edNote>Corrects the wind speed.</edNote>
    <signal qcode="sig:correction"/>
    <link rel="irel:seeAlso" href="https://img.example.com/typhoon.jpg" contenttype="image/jpeg" size="48213" width="1200" height="800"/>
  </itemMeta>
  <contentMeta>
    <urgency>3</urgency>
    <located qcode="city:seoul"><name>SEOUL</name></located>
    <creator><name>Park Boram</name></creator>
    <subject qcode="medtop:17000000"><name>weather</name></subject>
    <subject qcode="medtop:06000000"/>
    <slugline>typhoon-warning</slugline>
    <headline>Typhoon warning issued for Jeju</headline>
    <creditline>Example Wire</creditline>
    <description role="drol:summary">A typhoon nears the island.</description>
  </contentMeta>
  <contentSet>
    <inlineXML contenttype="application/xhtml+xml">
      <html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head>
      <body><p>The weather agency issued a warning.</p><p>Ferries stop.</p></body></html>
    </inlineXML>
  </contentSet>
</newsItem>"#;

    #[test]
    fn a_news_item_maps_every_field() {
        let (a, e) = read(ITEM);
        assert!(e.is_empty(), "{e:?}");
        let a = &a[0];
        assert_eq!(
            a.id.as_deref(),
            Some("urn:newsml:example.com:20261102:typhoon")
        );
        assert_eq!(a.revision, Some(2));
        assert_eq!(a.title, "Typhoon warning issued for Jeju");
        assert_eq!(a.authors[0].name, "Park Boram");
        assert_eq!(a.published.to_rfc3339(), "2026-11-02T09:00:00+09:00");
        assert_eq!(a.updated.unwrap().to_rfc3339(), "2026-11-02T10:30:00+09:00");
        assert_eq!(a.embargo.unwrap().to_rfc3339(), "2026-11-02T09:30:00+09:00");
        assert_eq!(a.categories, ["weather"]);
        let d = a.dateline.as_ref().unwrap();
        assert_eq!(
            (d.place.as_str(), d.agency.as_str()),
            ("SEOUL", "Example Wire")
        );
        assert_eq!(a.summary.as_deref(), Some("A typhoon nears the island."));
        assert_eq!(
            a.body,
            Body::Html("<p>The weather agency issued a warning.</p><p>Ferries stop.</p>".into())
        );
        assert_eq!(a.rights.as_deref(), Some("Copyright 2026 Example Wire"));
        assert_eq!(a.language.as_deref(), Some("en"));
        assert_eq!(a.status, Status::Usable);
        assert_eq!(a.wire.urgency, Some(3));
        assert_eq!(a.wire.slugline.as_deref(), Some("typhoon-warning"));
        assert_eq!(a.wire.signals, ["sig:correction"]);
        assert_eq!(a.wire.ednote.as_deref(), Some("Corrects the wind speed."));
        let i = a.image.as_ref().unwrap();
        assert_eq!(
            (i.mime_type.as_deref(), i.length, i.width, i.height),
            (Some("image/jpeg"), Some(48213), Some(1200), Some(800))
        );
    }

    #[test]
    fn a_message_publishes_its_text_items_and_skips_the_others() {
        let text = r#"<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/">
<header><sent>2026-11-02T10:00:00Z</sent></header>
<itemSet>
<newsItem guid="urn:newsml:example.com:1" version="1"><itemMeta><itemClass qcode="ninat:picture"/></itemMeta></newsItem>
<packageItem guid="urn:newsml:example.com:p"/>
<newsItem guid="urn:newsml:example.com:2"><itemMeta><itemClass qcode="ninat:text"/><firstCreated>2026-11-02T09:00:00</firstCreated><pubStatus qcode="stat:canceled"/></itemMeta>
<contentMeta><headline>Killed</headline><language tag="ko"/></contentMeta></newsItem>
<newsItem guid="urn:newsml:example.com:3" version="x">
</newsItem>
<newsItem guid="urn:newsml:example.com:4"><contentMeta><headline>No date</headline></contentMeta></newsItem>
</itemSet>
</newsMessage>"#;
        let (a, e) = read(text);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].status, Status::Canceled);
        assert_eq!(a[0].language.as_deref(), Some("ko"));
        assert_eq!(a[0].published.to_rfc3339(), "2026-11-02T09:00:00+09:00");
        // No body: the headline is the content.
        assert_eq!(a[0].body, Body::Paragraphs(vec!["Killed".into()]));
        assert_eq!(
            e,
            [
                "8:version `x` is not a whole number",
                "10:newsItem has no date"
            ]
        );
    }

    #[test]
    fn other_roots_and_namespaces_are_errors() {
        let (_, e) = read("<newsItem xmlns=\"urn:other\" guid=\"g\"/>");
        assert!(e[0].contains("not a NewsML-G2"), "{e:?}");
        let (_, e) = read("<newsItem xmlns=\"http://iptc.org/std/nar/2006-10-01/\"/>");
        assert_eq!(e, ["1:newsItem has no `guid`"]);
    }
}
