//! The article fields that Markdown front matter and JSON objects share,
//! and their conversion into an [`Article`].

use std::path::Path;

use serde::Deserialize;

use super::limits::{cap_categories, categories_warning, Warning};
use super::{parse_date, stem_of, ParseContext};
use crate::model::{Article, ArticleFormat, Body, Enclosure, Image, Person, Status, WireMeta};

/// One string or a list of strings (`author: A` or `authors: [A, B]`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// `"A"`.
    One(String),
    /// `["A", "B"]`.
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// `enclosure: { url, type, length }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnclosure {
    url: String,
    #[serde(rename = "type", alias = "mime_type")]
    mime_type: String,
    #[serde(alias = "size_in_bytes")]
    length: u64,
}

/// Front matter keys, also the keys of a JSON article.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    pub id: Option<String>,
    pub title: Option<String>,
    #[serde(alias = "date_published", alias = "published")]
    pub date: Option<String>,
    #[serde(alias = "date_modified")]
    pub updated: Option<String>,
    pub author: Option<OneOrMany>,
    pub authors: Option<OneOrMany>,
    pub categories: Option<OneOrMany>,
    pub tags: Option<OneOrMany>,
    pub summary: Option<String>,
    #[serde(alias = "url")]
    pub link: Option<String>,
    #[serde(default)]
    pub draft: bool,
    pub image: Option<String>,
    pub enclosure: Option<RawEnclosure>,
    pub language: Option<String>,
    pub rights: Option<String>,
    /// `usable` (the default), `withheld` or `canceled`.
    pub status: Option<String>,
    /// JSON only.
    pub content_html: Option<String>,
    /// JSON only.
    pub content_text: Option<String>,
}

/// Where problems that do not stop an article go.
pub struct Notes<'a> {
    /// The line of a key in the file.
    pub line_of: &'a dyn Fn(&'static str) -> usize,
    /// The problems.
    pub warnings: &'a mut Vec<Warning>,
}

/// A field-level problem; the caller locates it.
pub struct FieldError {
    /// The key the problem is about, for finding its line.
    pub key: &'static str,
    /// What is wrong.
    pub reason: String,
}

fn missing(key: &'static str) -> FieldError {
    FieldError {
        key,
        reason: format!("missing `{key}`"),
    }
}

impl Fields {
    /// Builds the article; `body` is the content the caller has found.
    pub fn into_article(
        self,
        path: &Path,
        line: usize,
        format: ArticleFormat,
        body: Body,
        ctx: ParseContext,
        notes: Notes<'_>,
    ) -> Result<Article, FieldError> {
        let title = self
            .title
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| missing("title"))?;
        let date = self.date.ok_or_else(|| missing("date"))?;
        let published = parse_date(&date, ctx.timezone).map_err(|reason| FieldError {
            key: "date",
            reason,
        })?;
        let updated = self
            .updated
            .map(|u| parse_date(&u, ctx.timezone))
            .transpose()
            .map_err(|reason| FieldError {
                key: "updated",
                reason,
            })?;
        let status = match &self.status {
            Some(s) => super::iptc::status(s).map_err(|reason| FieldError {
                key: "status",
                reason,
            })?,
            None => Status::Usable,
        };
        let mut authors = Vec::new();
        for name in [self.author, self.authors].into_iter().flatten() {
            authors.extend(name.into_vec().iter().map(|n| person(n)));
        }
        let mut categories = Vec::new();
        let mut from_categories = 0;
        for (key, list) in [("categories", self.categories), ("tags", self.tags)] {
            if let Some(list) = list {
                categories.extend(list.into_vec());
            }
            if key == "categories" {
                from_categories = categories.len();
            }
        }
        if let Some((distinct, first_dropped)) = cap_categories(&mut categories) {
            let key = match first_dropped < from_categories {
                true => "categories",
                false => "tags",
            };
            let line = (notes.line_of)(key);
            notes.warnings.push(categories_warning(line, distinct));
        }
        Ok(Article {
            path: path.to_owned(),
            line,
            format,
            id: self.id.filter(|i| !i.trim().is_empty()),
            stem: stem_of(path),
            title: title.trim().to_owned(),
            version: None,
            authors,
            published,
            updated,
            categories,
            dateline: None,
            summary: self.summary.filter(|s| !s.trim().is_empty()),
            body,
            rights: self.rights,
            link: self.link,
            image: self.image.map(|url| Image {
                mime_type: super::iptc::image_type(&url),
                url,
                ..Image::default()
            }),
            enclosure: self.enclosure.map(|e| Enclosure {
                url: e.url,
                mime_type: e.mime_type,
                length: e.length,
            }),
            language: self.language,
            draft: self.draft,
            status,
            revision: None,
            embargo: None,
            wire: WireMeta::default(),
        })
    }
}

/// `Name <addr@example.com>` or `Name`.
fn person(text: &str) -> Person {
    let text = text.trim();
    if let Some((name, rest)) = text.split_once('<') {
        if let Some(email) = rest.strip_suffix('>') {
            if email.contains('@') {
                return Person {
                    name: name.trim().to_owned(),
                    native_name: None,
                    email: Some(email.trim().to_owned()),
                };
            }
        }
    }
    Person {
        name: text.to_owned(),
        native_name: None,
        email: None,
    }
}

/// 1-based line in `text` of the first line that starts with `key` (as a
/// YAML, TOML or JSON key), for locating a field-level problem.
pub fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l
                .trim_start()
                .trim_start_matches(['"', '{', ','])
                .trim_start();
            l.strip_prefix(key).is_some_and(|rest| {
                rest.trim_start_matches('"')
                    .trim_start()
                    .starts_with([':', '='])
            })
        })
        .map(|i| i + 1)
}

/// The key named in a serde "unknown field" message.
pub fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.split("unknown field `").nth(1)?;
    rest.split('`').next()
}
