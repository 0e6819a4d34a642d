//! IPTC ninjs (news in JSON), 1.x and 2.x: one object a file. Both
//! generations' names are read (`headline` or `headlines`, `body_html` or
//! `bodies`, `associations` as an object or an array); keys this module
//! does not use are ignored, as ninjs allows extensions. What each key
//! becomes is in the README ("ninjs").

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::fields::key_line;
use super::iptc::{self, Located, Story};
use super::limits::Warning;
use super::{ParseContext, SourceError};
use crate::model::{Article, ArticleFormat, Dateline, Image, Person};

/// The keys that tell a ninjs object from a wirefeed JSON article.
#[derive(Deserialize)]
struct Sniff {
    uri: Option<serde::de::IgnoredAny>,
    version: Option<serde::de::IgnoredAny>,
    versioncreated: Option<serde::de::IgnoredAny>,
    #[serde(rename = "$schema")]
    schema: Option<String>,
}

/// Whether `text` is a ninjs object: one with `uri` and `version` or
/// `versioncreated`, or whose `$schema` names ninjs. Reads the keys only.
pub fn is_ninjs(text: &str) -> bool {
    if !text.trim_start().starts_with('{') {
        return false;
    }
    match serde_json::from_str::<Sniff>(text) {
        Ok(s) => {
            (s.uri.is_some() && (s.version.is_some() || s.versioncreated.is_some()))
                || s.schema.is_some_and(|s| s.contains("ninjs"))
        }
        Err(_) => false,
    }
}

/// Parses a ninjs file.
pub fn parse(
    path: &Path,
    text: &str,
    ctx: ParseContext,
    warnings: &mut Vec<Warning>,
) -> (Vec<Article>, Vec<SourceError>) {
    let at = |key: &str| key_line(text, key).unwrap_or(1);
    let result = match serde_json::from_str::<Map<String, Value>>(text) {
        Ok(object) => story(&object, ctx, &at).and_then(|s| match s {
            Some(s) => s
                .finish(path, ArticleFormat::Ninjs, warnings, "ninjs object")
                .map(Some),
            None => Ok(None),
        }),
        Err(e) => {
            let message = e.to_string();
            let reason = match message.rfind(" at line ") {
                Some(i) => message[..i].to_owned(),
                None => message,
            };
            Err((e.line().max(1), reason))
        }
    };
    match result {
        Ok(a) => (a.into_iter().collect(), vec![]),
        Err((line, reason)) => (vec![], vec![SourceError::new(path, line, reason)]),
    }
}

/// A string, or a number written as one (`"version": 2`).
fn string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// ninjs 2.x lists of `{role, contenttype, value}` (headlines, bodies,
/// descriptions): the one whose role is `main` (or unnamed), else the
/// first; with its content type.
fn pick(list: &Value) -> Option<(String, String)> {
    let items = list.as_array()?;
    let main = items
        .iter()
        .find(|i| {
            i.get("role")
                .and_then(Value::as_str)
                .is_none_or(|r| r == "main")
        })
        .or(items.first())?;
    let value = main.get("value").and_then(string)?;
    let kind = main
        .get("contenttype")
        .and_then(Value::as_str)
        .unwrap_or("text/plain")
        .to_owned();
    Some((value, kind))
}

fn story(
    o: &Map<String, Value>,
    ctx: ParseContext,
    at: &dyn Fn(&str) -> usize,
) -> Result<Option<Story>, Located> {
    // Pictures, video, audio and the like are not stories.
    if o.get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t != "text")
    {
        return Ok(None);
    }
    let text_of = |key: &str| o.get(key).and_then(string);
    let date = |key: &'static str| {
        text_of(key)
            .map(|t| iptc::date(&t, ctx).map_err(|r| (at(key), format!("`{key}`: {r}"))))
            .transpose()
    };
    let mut story = Story {
        line: 1,
        id: Some(text_of("uri").ok_or((1, "ninjs object has no `uri`".to_owned()))?),
        revision: match text_of("version") {
            Some(v) => iptc::version(&v).map_err(|r| (at("version"), r))?,
            None => 1,
        },
        published: date("firstcreated")?.or(date("contentcreated")?),
        updated: date("versioncreated")?,
        embargo: date("embargoed")?,
        language: text_of("language"),
        rights: text_of("copyrightnotice").or_else(|| {
            o.get("rightsinfo")
                .and_then(|r| r.get("copyrightnotice"))
                .and_then(string)
        }),
        ..Story::default()
    };
    if let Some(s) = text_of("pubstatus") {
        story.status = iptc::status(&s).map_err(|r| (at("pubstatus"), r))?;
    }
    story.title = text_of("headline").or_else(|| o.get("headlines").and_then(pick).map(|(v, _)| v));
    let byline = text_of("byline").or_else(|| text_of("by"));
    story.authors = byline.as_deref().map(iptc::names).unwrap_or_default();
    if story.authors.is_empty() {
        story.authors = people(o);
    }
    story.dateline = text_of("located").map(|place| Dateline {
        place,
        agency: String::new(),
    });
    for key in ["subject", "subjects"] {
        for s in o.get(key).and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = s.get("name").and_then(string) {
                story.categories_line = at(key);
                story.categories.push(name);
            }
        }
    }
    story.summary = text_of("description_text")
        .or_else(|| text_of("description_html").map(|h| crate::text::lede_text(&h)))
        .or_else(|| {
            let (value, kind) = o.get("descriptions").and_then(pick)?;
            Some(match kind.contains("html") {
                true => crate::text::lede_text(&value),
                false => value,
            })
        });
    let html = text_of("body_html").or_else(|| text_of("body_xhtml"));
    let (body, kind) = match html {
        Some(h) => (Some(h), "text/html".to_owned()),
        None => match text_of("body_text") {
            Some(t) => (Some(t), "text/plain".to_owned()),
            None => match o.get("bodies").and_then(pick) {
                Some((v, k)) => (Some(v), k),
                None => (None, String::new()),
            },
        },
    };
    if let Some(body) = body {
        let line = ["body_html", "body_xhtml", "body_text", "bodies"]
            .iter()
            .find_map(|k| o.contains_key(*k).then(|| at(k)))
            .unwrap_or(1);
        match kind.contains("html") {
            true => story.html = Some((body, line)),
            false => {
                story.paragraphs = body
                    .replace("\r\n", "\n")
                    .split("\n\n")
                    .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                    .filter(|p| !p.is_empty())
                    .collect()
            }
        }
    }
    story.wire.urgency = o
        .get("urgency")
        .and_then(Value::as_u64)
        .and_then(|u| u8::try_from(u).ok())
        .filter(|u| (1..=9).contains(u));
    story.wire.slugline = text_of("slugline");
    story.wire.ednote = text_of("ednote");
    story.image = o.get("associations").and_then(picture);
    Ok(Some(story))
}

/// ninjs `person` (1.x) or `people` (2.x) whose role is not a subject of
/// the story: `rel`/`role` naming an author or creator, or none given.
fn people(o: &Map<String, Value>) -> Vec<Person> {
    let list = o
        .get("person")
        .or(o.get("people"))
        .and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter(|p| {
            let role = p.get("rel").or(p.get("role")).and_then(Value::as_str);
            role.is_none_or(|r| r.contains("author") || r.contains("creator"))
        })
        .filter_map(|p| p.get("name").and_then(string))
        .map(|name| Person {
            name,
            ..Person::default()
        })
        .collect()
}

/// The first associated picture's largest rendition (1.x: objects by
/// name; 2.x: arrays).
fn picture(associations: &Value) -> Option<Image> {
    let all: Vec<&Value> = match associations {
        Value::Object(m) => m.values().collect(),
        Value::Array(a) => a.iter().collect(),
        _ => return None,
    };
    let picture = all
        .into_iter()
        .find(|a| a.get("type").and_then(Value::as_str) == Some("picture"))?;
    let renditions: Vec<&Value> = match picture.get("renditions") {
        Some(Value::Object(m)) => m.values().collect(),
        Some(Value::Array(a)) => a.iter().collect(),
        _ => Vec::new(),
    };
    let number = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64);
    let best = renditions
        .into_iter()
        .filter(|r| r.get("href").and_then(Value::as_str).is_some())
        .max_by_key(|r| number(r, "width").unwrap_or(0));
    let (source, url) = match best {
        Some(r) => (r, r.get("href").and_then(string)?),
        None => (picture, picture.get("uri").and_then(string)?),
    };
    let mime_type = source
        .get("mimetype")
        .or(source.get("contenttype"))
        .and_then(string)
        .or_else(|| iptc::image_type(&url));
    Some(Image {
        length: number(source, "sizeinbytes"),
        width: number(source, "width").and_then(|w| u32::try_from(w).ok()),
        height: number(source, "height").and_then(|h| u32::try_from(h).ok()),
        url,
        mime_type,
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

    fn read(text: &str) -> (Vec<Article>, Vec<String>) {
        let (a, e) = parse(Path::new("n.json"), text, CTX, &mut Vec::new());
        (
            a,
            e.into_iter()
                .map(|e| format!("{}:{}", e.line, e.reason))
                .collect(),
        )
    }

    #[test]
    fn sniffing_tells_ninjs_from_articles() {
        assert!(is_ninjs(r#"{"uri": "x", "version": "1"}"#));
        assert!(is_ninjs(r#"{"uri": "x", "versioncreated": "2026-01-01"}"#));
        assert!(is_ninjs(
            r#"{"$schema": "http://www.iptc.org/std/ninjs/ninjs-schema_2.0.json"}"#
        ));
        assert!(!is_ninjs(r#"{"uri": "x", "title": "t"}"#));
        assert!(!is_ninjs(r#"[{"uri": "x", "version": "1"}]"#));
        assert!(!is_ninjs(r#"{"title": "A", "date": "2026-10-01"}"#));
    }

    #[test]
    fn ninjs_1_and_2_map_alike() {
        let one = r#"{
  "uri": "https://news.example.com/ninjs/rail-fares",
  "version": "2",
  "type": "text",
  "firstcreated": "2026-11-10T07:00:00+09:00",
  "versioncreated": "2026-11-10T08:00:00+09:00",
  "pubstatus": "usable",
  "urgency": 5,
  "language": "en",
  "headline": "Rail fares rise in January",
  "byline": "By Han Seo-yeon",
  "located": "DAEJEON",
  "subject": [{"name": "transport", "code": "medtop:20000000"}],
  "description_text": "Fares go up 3 percent.",
  "body_html": "<p>Fares go up.</p>",
  "copyrightnotice": "Copyright 2026 Example Wire",
  "associations": {"featureimage": {"type": "picture", "renditions": {
     "thumb": {"href": "https://img.example.com/rail-s.jpg", "width": 200},
     "large": {"href": "https://img.example.com/rail.jpg", "mimetype": "image/jpeg", "width": 1600, "height": 900, "sizeinbytes": 204800}}}}
}"#;
        let (a, e) = read(one);
        assert!(e.is_empty(), "{e:?}");
        let a = &a[0];
        assert_eq!(
            a.id.as_deref(),
            Some("https://news.example.com/ninjs/rail-fares")
        );
        assert_eq!((a.revision, a.status), (Some(2), Status::Usable));
        assert_eq!(a.title, "Rail fares rise in January");
        assert_eq!(a.authors[0].name, "Han Seo-yeon");
        assert_eq!(a.updated.unwrap().to_rfc3339(), "2026-11-10T08:00:00+09:00");
        assert_eq!(a.categories, ["transport"]);
        assert_eq!(a.dateline.as_ref().unwrap().place, "DAEJEON");
        assert_eq!(a.body, Body::Html("<p>Fares go up.</p>".into()));
        let i = a.image.as_ref().unwrap();
        assert_eq!(i.url, "https://img.example.com/rail.jpg");
        assert_eq!((i.length, i.width), (Some(204800), Some(1600)));

        let two = r#"{
  "uri": "urn:example:rail", "version": "1",
  "firstcreated": "2026-11-10T07:00:00Z",
  "headlines": [{"role": "sub", "value": "Sub"}, {"role": "main", "value": "Main"}],
  "bodies": [{"role": "main", "contenttype": "text/plain", "value": "One\n\nTwo"}],
  "people": [{"name": "Oh Jae-won", "rel": "author"}, {"name": "A Minister", "rel": "subject"}],
  "subjects": [{"name": "rail"}],
  "pubstatus": "canceled"
}"#;
        let (a, e) = read(two);
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(a[0].title, "Main");
        assert_eq!(
            a[0].body,
            Body::Paragraphs(vec!["One".into(), "Two".into()])
        );
        assert_eq!(a[0].authors.len(), 1);
        assert_eq!(a[0].status, Status::Canceled);
    }

    #[test]
    fn ninjs_errors_and_skips() {
        let (a, e) = read(r#"{"uri": "x", "version": "1", "type": "picture"}"#);
        assert!(a.is_empty() && e.is_empty());
        let (_, e) = read("{\"uri\": \"x\",\n\"version\": \"1\",\n\"firstcreated\": \"soon\", \"headline\": \"H\"}");
        assert!(
            e[0].starts_with("3:`firstcreated`: `soon` is not a date"),
            "{e:?}"
        );
        let (_, e) = read("{\"uri\": \"x\", \"version\": \"1\",\n\"pubstatus\": \"lost\"}");
        assert!(e[0].starts_with("2:unknown status `lost`"), "{e:?}");
        let (_, e) = read("{\"uri\": \"x\",\n \"version\": }");
        assert!(e[0].starts_with("2:expected value"), "{e:?}");
        let (a, _) = read(
            r#"{"uri": "x", "version": "1", "versioncreated": "2026-11-10T07:00:00Z", "headline": "Only a headline"}"#,
        );
        assert_eq!(a[0].body, Body::Paragraphs(vec!["Only a headline".into()]));
    }
}
