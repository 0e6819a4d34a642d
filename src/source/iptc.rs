//! What the three IPTC formats (NewsML-G2, NITF, ninjs) share: their
//! dates (NITF's compact ones too), their status codes, and the story
//! each parser fills in and turns into an [`Article`].

use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};

use super::limits::{cap_categories, categories_warning, check_html, Warning};
use super::{local_time, parse_date, stem_of, ParseContext};
use crate::model::{Article, ArticleFormat, Body, Dateline, Image, Person, Status, WireMeta};

/// A problem at a line.
pub type Located = (usize, String);

/// An IPTC date: an XML Schema `dateTime` (RFC 3339, or without an offset
/// in the site's zone), a date alone, or NITF's compact ISO 8601 forms
/// (`20080219T120000+0100`, `20080219T1200Z`, `20080219+0100`, `20080219`).
pub fn date(text: &str, ctx: ParseContext) -> Result<DateTime<FixedOffset>, String> {
    let text = text.trim();
    if let Ok(d) = parse_date(text, ctx.timezone) {
        return Ok(d);
    }
    compact(text, ctx).ok_or_else(|| {
        format!("`{text}` is not a date (expected e.g. 2026-11-02T09:00:00+09:00 or 20261102T090000+0900)")
    })
}

fn compact(text: &str, ctx: ParseContext) -> Option<DateTime<FixedOffset>> {
    let split = text
        .char_indices()
        .skip(8)
        .find(|&(_, c)| matches!(c, '+' | '-' | 'Z' | 'z'))
        .map_or(text.len(), |(i, _)| i);
    let (local, zone) = text.split_at(split);
    let (day, time) = match local.split_once(['T', 't']) {
        Some((d, t)) => (d, t),
        None => (local, ""),
    };
    if day.len() != 8 || !day.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = NaiveDate::parse_from_str(day, "%Y%m%d").ok()?;
    let time = match time.len() {
        0 => chrono::NaiveTime::MIN,
        4 => chrono::NaiveTime::parse_from_str(time, "%H%M").ok()?,
        1..=5 => return None,
        _ => chrono::NaiveTime::parse_from_str(time, "%H%M%S%.f").ok()?,
    };
    let naive = NaiveDateTime::new(date, time);
    if zone.is_empty() {
        return local_time(naive, ctx.timezone).ok();
    }
    let offset = match zone {
        "Z" | "z" => FixedOffset::east_opt(0)?,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hours: i32 = digits[..2].parse().ok()?;
            let minutes: i32 = digits[2..].parse().ok()?;
            FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))?
        }
    };
    naive.and_local_timezone(offset).single()
}

/// A status code: `usable`, `withheld`, `canceled` (NITF also
/// `embargoed`, which is usable once the release time has come), as a
/// bare word, a G2 qcode (`stat:canceled`) or a NewsCodes URI.
pub fn status(code: &str) -> Result<Status, String> {
    let word = code
        .trim()
        .rsplit([':', '/'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match word.as_str() {
        "usable" | "embargoed" => Ok(Status::Usable),
        "withheld" => Ok(Status::Withheld),
        "canceled" | "cancelled" => Ok(Status::Canceled),
        _ => Err(format!(
            "unknown status `{}` (expected usable, withheld or canceled)",
            code.trim()
        )),
    }
}

/// A version number: a positive integer.
pub fn version(text: &str) -> Result<u32, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("version `{}` is not a whole number", text.trim()))
}

/// `By A and B` → `A and B`.
pub fn strip_by(byline: &str) -> &str {
    let b = byline.trim();
    match b.get(..3) {
        Some(by) if by.eq_ignore_ascii_case("by ") => b[3..].trim(),
        _ => b,
    }
}

/// A byline's names: `A`, `A and B`, `A, B and C`.
pub fn names(byline: &str) -> Vec<Person> {
    strip_by(byline)
        .split(", ")
        .flat_map(|part| part.split(" and "))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| Person {
            name: n.to_owned(),
            ..Person::default()
        })
        .collect()
}

/// The picture's media type from its URL, when it ends in a known
/// extension.
pub fn image_type(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    let t = match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        _ => return None,
    };
    Some(t.to_owned())
}

/// A story as an IPTC parser fills it in, each field with the line it
/// came from where an error may need it.
#[derive(Debug, Default)]
pub struct Story {
    pub line: usize,
    pub id: Option<String>,
    pub revision: u32,
    pub title: Option<String>,
    pub authors: Vec<Person>,
    pub published: Option<DateTime<FixedOffset>>,
    pub updated: Option<DateTime<FixedOffset>>,
    pub embargo: Option<DateTime<FixedOffset>>,
    pub status: Status,
    pub categories: Vec<String>,
    /// The line categories start at, for the warning when they are many.
    pub categories_line: usize,
    pub dateline: Option<Dateline>,
    pub summary: Option<String>,
    /// Paragraphs of plain text, or HTML (with the line it starts at).
    pub paragraphs: Vec<String>,
    pub html: Option<(String, usize)>,
    pub rights: Option<String>,
    pub link: Option<String>,
    pub image: Option<Image>,
    pub language: Option<String>,
    pub wire: WireMeta,
}

impl Story {
    /// The article, once the story has a headline and a date; with no
    /// body, its content is the summary, then the headline.
    pub fn finish(
        self,
        path: &Path,
        format: ArticleFormat,
        warnings: &mut Vec<Warning>,
        what: &str,
    ) -> Result<Article, Located> {
        let title = self
            .title
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| (self.line, format!("{what} has no headline")))?;
        let published = self
            .published
            .or(self.updated)
            .ok_or_else(|| (self.line, format!("{what} has no date")))?;
        let body = match (self.html, self.paragraphs.is_empty()) {
            (Some((html, line)), _) if !html.trim().is_empty() => {
                check_html(&html).map_err(|(_, reason)| (line, reason))?;
                Body::Html(html)
            }
            (_, false) => Body::Paragraphs(self.paragraphs),
            _ => Body::Paragraphs(vec![self.summary.clone().unwrap_or_else(|| title.clone())]),
        };
        let mut categories = self.categories;
        if let Some((distinct, _)) = cap_categories(&mut categories) {
            warnings.push(categories_warning(self.categories_line.max(1), distinct));
        }
        Ok(Article {
            path: path.to_owned(),
            line: self.line,
            format,
            id: self.id.filter(|i| !i.trim().is_empty()),
            stem: stem_of(path),
            title: title.trim().to_owned(),
            version: None,
            authors: self.authors,
            published,
            updated: self.updated,
            categories,
            dateline: self.dateline,
            summary: self.summary.filter(|s| !s.trim().is_empty()),
            body,
            rights: self.rights,
            link: self.link,
            image: self.image,
            enclosure: None,
            language: self.language.filter(|l| !l.trim().is_empty()),
            draft: false,
            status: self.status,
            revision: Some(self.revision.max(1)),
            embargo: self.embargo,
            wire: self.wire,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: ParseContext = ParseContext {
        timezone: chrono_tz::Asia::Seoul,
        bodies: true,
    };

    #[test]
    fn compact_and_extended_dates() {
        let d = |t: &str| date(t, CTX).map(|d| d.to_rfc3339());
        assert_eq!(
            d("20080219T120000+0100").unwrap(),
            "2008-02-19T12:00:00+01:00"
        );
        assert_eq!(d("20080219+0100").unwrap(), "2008-02-19T00:00:00+01:00");
        assert_eq!(d("20080219T1200Z").unwrap(), "2008-02-19T12:00:00+00:00");
        assert_eq!(
            d("20080219T120000-0500").unwrap(),
            "2008-02-19T12:00:00-05:00"
        );
        assert_eq!(d("20080219T120000").unwrap(), "2008-02-19T12:00:00+09:00");
        assert_eq!(d("20080219").unwrap(), "2008-02-19T00:00:00+09:00");
        assert_eq!(
            d("2026-11-02T09:00:00Z").unwrap(),
            "2026-11-02T09:00:00+00:00"
        );
        assert_eq!(
            d("2026-11-02T09:00:00").unwrap(),
            "2026-11-02T09:00:00+09:00"
        );
        assert!(d("2008021")
            .unwrap_err()
            .contains("`2008021` is not a date"));
        assert!(d("20080219T12+0100").is_err());
        assert!(d("20080219T120000+01").is_err());
    }

    #[test]
    fn status_codes_and_bylines() {
        assert_eq!(status("stat:canceled"), Ok(Status::Canceled));
        assert_eq!(
            status("http://cv.iptc.org/newscodes/pubstatusg2/withheld"),
            Ok(Status::Withheld)
        );
        assert_eq!(status("usable"), Ok(Status::Usable));
        assert!(status("stat:gone")
            .unwrap_err()
            .contains("unknown status `stat:gone`"));
        let n: Vec<_> = names("By Kim Eun-jung, Park Boram and Oh Jae-won")
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(n, ["Kim Eun-jung", "Park Boram", "Oh Jae-won"]);
        assert_eq!(
            image_type("https://e.com/a.JPG?x=1").as_deref(),
            Some("image/jpeg")
        );
        assert_eq!(image_type("https://e.com/a"), None);
    }
}
