//! IPTC NITF (News Industry Text Format): one story per `nitf` document.
//! Its metadata is in `head/docdata`, its headline, byline, dateline and
//! abstract in `body/body.head`, its text in `body/body.content`. What
//! each element becomes is in the README ("NITF").

use std::path::Path;

use super::iptc::{self, Located, Story};
use super::limits::Warning;
use super::xml::{self, Element};
use super::{ParseContext, SourceError};
use crate::model::{Article, ArticleFormat, Dateline, Image, Person};

/// Whether `root` is an NITF document.
pub fn is_nitf(root: &Element) -> bool {
    root.name == "nitf"
}

/// Parses an NITF document (already parsed as XML).
pub fn parse(
    path: &Path,
    root: &Element,
    ctx: ParseContext,
    warnings: &mut Vec<Warning>,
) -> (Vec<Article>, Vec<SourceError>) {
    let result = match is_nitf(root) {
        true => {
            story(root, ctx).and_then(|s| s.finish(path, ArticleFormat::Nitf, warnings, "nitf"))
        }
        false => Err((
            root.line,
            format!("`{}` is not an NITF document (`nitf`)", root.name),
        )),
    };
    match result {
        Ok(a) => (vec![a], vec![]),
        Err((line, reason)) => (vec![], vec![SourceError::new(path, line, reason)]),
    }
}

fn dated(e: &Element, ctx: ParseContext) -> Result<chrono::DateTime<chrono::FixedOffset>, Located> {
    let norm = e.attr("norm").unwrap_or_default();
    iptc::date(norm, ctx).map_err(|r| (e.line, format!("`{}` norm: {r}", e.name)))
}

fn story(root: &Element, ctx: ParseContext) -> Result<Story, Located> {
    let mut story = Story {
        line: root.line,
        revision: 1,
        language: root.attr("xml:lang").map(str::to_owned),
        ..Story::default()
    };
    let head = root.child("head");
    if let Some(head) = head {
        story.title = head.child("title").and_then(Element::text_opt);
        for subject in head.all("tobject").flat_map(|t| t.all("tobject.subject")) {
            let name = subject
                .attr("tobject.subject.matter")
                .or(subject.attr("tobject.subject.type"));
            if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
                if story.categories.is_empty() {
                    story.categories_line = subject.line;
                }
                story.categories.push(name.trim().to_owned());
            }
        }
        if let Some(docdata) = head.child("docdata") {
            docdata_fields(docdata, &mut story, ctx)?;
        }
    }
    let body = root.child("body");
    if let Some(body_head) = body.and_then(|b| b.child("body.head")) {
        body_head_fields(body_head, &mut story);
    }
    if let Some(content) = body.and_then(|b| b.child("body.content")) {
        let mut html = String::new();
        xml::push_html(content, &mut html);
        story.html = Some((html, content.line));
        let media = content
            .all("media")
            .filter(|m| m.attr("media-type").is_none_or(|t| t == "image"));
        story.image = media
            .flat_map(|m| m.all("media-reference"))
            .find_map(picture);
    }
    Ok(story)
}

fn docdata_fields(docdata: &Element, story: &mut Story, ctx: ParseContext) -> Result<(), Located> {
    if let Some(status) = docdata.attr("management-status") {
        story.status = iptc::status(status).map_err(|r| (docdata.line, r))?;
    }
    for e in docdata.elements() {
        match e.name.as_str() {
            "doc-id" => story.id = e.attr("id-string").map(|s| s.trim().to_owned()),
            "date.issue" => story.published = Some(dated(e, ctx)?),
            "date.release" => story.embargo = Some(dated(e, ctx)?),
            "urgency" => {
                let u = e.attr("ed-urg").unwrap_or_default();
                story.wire.urgency = Some(
                    u.trim()
                        .parse()
                        .ok()
                        .filter(|u| (1..=9).contains(u))
                        .ok_or((
                            e.line,
                            format!("`urgency` ed-urg: `{u}` is not a number from 1 to 9"),
                        ))?,
                );
            }
            "du-key" => {
                if let Some(v) = e.attr("version") {
                    story.revision = iptc::version(v).map_err(|r| (e.line, r))?;
                }
                story.wire.slugline = e.attr("key").map(str::to_owned);
            }
            "ed-msg" => story.wire.ednote = e.attr("info").map(str::to_owned),
            "doc.copyright" => {
                let year = e.attr("year").unwrap_or_default();
                let holder = e.attr("holder").unwrap_or_default();
                let notice = format!("Copyright {year} {holder}");
                story.rights = Some(notice.split_whitespace().collect::<Vec<_>>().join(" "))
                    .filter(|n| n != "Copyright");
            }
            "key-list" => {
                for keyword in e.all("keyword") {
                    if let Some(k) = keyword.attr("key").filter(|k| !k.trim().is_empty()) {
                        if story.categories.is_empty() {
                            story.categories_line = keyword.line;
                        }
                        story.categories.push(k.trim().to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn body_head_fields(body_head: &Element, story: &mut Story) {
    if let Some(hl1) = body_head
        .at(&["hedline", "hl1"])
        .and_then(Element::text_opt)
    {
        story.title = Some(hl1);
    }
    let mut agency = String::new();
    let mut place = None;
    for e in body_head.elements() {
        match e.name.as_str() {
            "byline" => {
                let persons: Vec<Person> = e
                    .all("person")
                    .filter_map(Element::text_opt)
                    .map(|name| Person {
                        name,
                        ..Person::default()
                    })
                    .collect();
                match persons.is_empty() {
                    true => story.authors.extend(iptc::names(&e.text())),
                    false => story.authors.extend(persons),
                }
            }
            "dateline" => {
                let city = e
                    .at(&["location", "city"])
                    .or(e.child("location"))
                    .and_then(Element::text_opt);
                let text = e.text();
                let first = text.split(',').next().unwrap_or_default().trim().to_owned();
                place = city.or(Some(first).filter(|f| !f.is_empty()));
            }
            "abstract" => story.summary = e.text_opt(),
            "distributor" => agency = e.text(),
            _ => {}
        }
    }
    story.dateline = place.map(|place| Dateline { place, agency });
}

fn picture(reference: &Element) -> Option<Image> {
    let url = reference.attr("source")?.trim();
    let mime_type = reference
        .attr("mime-type")
        .map(str::to_owned)
        .or_else(|| iptc::image_type(url));
    let number = |k: &str| reference.attr(k).and_then(|v| v.trim().parse().ok());
    Some(Image {
        url: url.to_owned(),
        mime_type,
        length: None,
        width: number("width"),
        height: number("height"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Body, Status};

    const CTX: ParseContext = ParseContext {
        timezone: chrono_tz::Asia::Seoul,
        bodies: true,
    };

    fn read(text: &str) -> Result<Article, String> {
        let root = xml::parse(text).unwrap();
        let (mut a, e) = parse(Path::new("s.xml"), &root, CTX, &mut Vec::new());
        match e.first() {
            Some(e) => Err(format!("{}:{}", e.line, e.reason)),
            None => Ok(a.remove(0)),
        }
    }

    #[test]
    fn an_nitf_story_maps_every_field() {
        let a = read(
            r#"<nitf version="-//IPTC//DTD NITF 3.6//EN" xml:lang="en">
<head>
  <title>Port strike ends</title>
  <tobject tobject.type="news"><tobject.subject tobject.subject.refnum="04000000" tobject.subject.matter="economy"/></tobject>
  <docdata management-status="usable">
    <doc-id regsrc="EXW" id-string="EXW-20261105-0012"/>
    <urgency ed-urg="4"/>
    <date.issue norm="20261105T081500+0900"/>
    <date.release norm="20261105+0900"/>
    <du-key version="3" key="port-strike"/>
    <doc.copyright year="2026" holder="Example Wire"/>
    <key-list><keyword key="Busan"/><keyword key="labour"/></key-list>
  </docdata>
</head>
<body>
  <body.head>
    <hedline><hl1>Busan port strike ends after three days</hl1></hedline>
    <byline>By <person>Oh Jae-won</person></byline>
    <dateline><location><city>BUSAN</city></location>, Nov. 5</dateline>
    <abstract><p>Dock workers return.</p></abstract>
    <distributor>Example Wire</distributor>
  </body.head>
  <body.content>
    <p>Workers voted to return.</p>
    <media media-type="image"><media-reference source="https://img.example.com/port.png" width="640" height="480"/></media>
  </body.content>
</body>
</nitf>"#,
        )
        .unwrap();
        assert_eq!(a.id.as_deref(), Some("EXW-20261105-0012"));
        assert_eq!(a.title, "Busan port strike ends after three days");
        assert_eq!(a.authors[0].name, "Oh Jae-won");
        assert_eq!(a.published.to_rfc3339(), "2026-11-05T08:15:00+09:00");
        assert_eq!(a.embargo.unwrap().to_rfc3339(), "2026-11-05T00:00:00+09:00");
        assert_eq!(a.revision, Some(3));
        assert_eq!(a.categories, ["economy", "Busan", "labour"]);
        assert_eq!(a.dateline.as_ref().unwrap().place, "BUSAN");
        assert_eq!(a.summary.as_deref(), Some("Dock workers return."));
        assert!(
            matches!(&a.body, Body::Html(h) if h.trim() == "<p>Workers voted to return.</p>"),
            "{:?}",
            a.body
        );
        assert_eq!(a.rights.as_deref(), Some("Copyright 2026 Example Wire"));
        assert_eq!(a.wire.urgency, Some(4));
        assert_eq!(a.wire.slugline.as_deref(), Some("port-strike"));
        let i = a.image.unwrap();
        assert_eq!(
            (i.mime_type.as_deref(), i.width),
            (Some("image/png"), Some(640))
        );
        assert_eq!(a.status, Status::Usable);
    }

    #[test]
    fn nitf_errors_are_located() {
        let e = read(
            "<nitf>\n<head><docdata>\n<date.issue norm=\"2026-13-01\"/></docdata></head></nitf>",
        );
        assert!(e
            .unwrap_err()
            .starts_with("3:`date.issue` norm: `2026-13-01` is not a date"));
        let e = read("<nitf>\n<head><docdata management-status=\"gone\"/></head></nitf>");
        assert!(e.unwrap_err().starts_with("2:unknown status `gone`"));
        let e = read("<nitf><head><title>T</title></head></nitf>");
        assert_eq!(e.unwrap_err(), "1:nitf has no date");
        let a = read("<nitf><head><title>T</title><docdata management-status=\"withheld\"><date.issue norm=\"20080219T120000+0100\"/></docdata></head></nitf>").unwrap();
        assert_eq!(
            (a.status, a.body),
            (Status::Withheld, Body::Paragraphs(vec!["T".into()]))
        );
    }
}
