//! JSON articles: one object or an array of objects (`.json`), or one
//! object a line (`.jsonl`). Keys are those of Markdown front matter plus
//! `content_html` (sanitized later) or `content_text` (paragraphs split on
//! blank lines, escaped later).
//!
//! A bad object is an error located at its own line; the other objects of
//! the same file are still published.

use std::path::Path;

use serde_json::value::RawValue;

use super::fields::{key_line, unknown_field, FieldError, Fields, Notes};
use super::limits::{check_html, Warning};
use super::{ParseContext, SourceError};
use crate::model::{Article, ArticleFormat, Body};

/// Parses a `.json` or `.jsonl` file into its articles and its errors; a
/// problem that does not stop an article goes to `warnings`.
pub fn parse(
    path: &Path,
    text: &str,
    ctx: ParseContext,
    warnings: &mut Vec<Warning>,
) -> (Vec<Article>, Vec<SourceError>) {
    let mut articles = Vec::new();
    let mut errors = Vec::new();
    let mut push = |r: Result<Article, SourceError>| match r {
        Ok(a) => articles.push(a),
        Err(e) => errors.push(e),
    };
    let is_lines = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"));
    if is_lines {
        for (i, line) in text.lines().enumerate() {
            if !line.trim().is_empty() {
                push(parse_object(path, line, i + 1, ctx, warnings).map(one_of_many));
            }
        }
    } else if text.trim_start().starts_with('[') {
        match serde_json::from_str::<Vec<&RawValue>>(text) {
            Ok(objects) => {
                // Lines are counted on from one object to the next: counting
                // from the start for each would cost the file's length times
                // the number of objects.
                let (mut line, mut counted) = (1, 0);
                for raw in objects {
                    let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
                    let between = text.as_bytes().get(counted..offset).unwrap_or_default();
                    line += memchr::memchr_iter(b'\n', between).count();
                    counted = counted.max(offset);
                    push(parse_object(path, raw.get(), line, ctx, warnings).map(one_of_many));
                }
            }
            Err(e) => push(Err(syntax_error(path, &e, 1))),
        }
    } else {
        push(parse_object(path, text, 1, ctx, warnings));
    }
    (articles, errors)
}

/// Objects that share a file share its stem: tell them apart by their
/// publication time (which body edits do not change) for ids derived from it.
fn one_of_many(mut article: Article) -> Article {
    let when = article.published.format("%Y%m%dT%H%M%S");
    article.stem = format!("{}-{when}", article.stem);
    article
}

fn syntax_error(path: &Path, e: &serde_json::Error, first_line: usize) -> SourceError {
    let message = e.to_string();
    let reason = match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    };
    SourceError::new(path, first_line + e.line().max(1) - 1, reason)
}

/// One object, whose text starts at line `first_line` of the file.
fn parse_object(
    path: &Path,
    object: &str,
    first_line: usize,
    ctx: ParseContext,
    warnings: &mut Vec<Warning>,
) -> Result<Article, SourceError> {
    let fields: Fields = serde_json::from_str(object).map_err(|e| {
        let located = unknown_field(&e.to_string()).and_then(|k| key_line(object, k));
        match located {
            Some(l) => {
                let mut error = syntax_error(path, &e, first_line);
                error.line = first_line + l - 1;
                error
            }
            None => syntax_error(path, &e, first_line),
        }
    })?;
    let at_key = |key: &str| key_line(object, key).map_or(first_line, |l| first_line + l - 1);
    let body = match (&fields.content_html, &fields.content_text) {
        (Some(html), _) => {
            // The sanitizer's HTML parser is not linear in nesting:
            // checked first.
            check_html(html)
                .map_err(|(_, reason)| SourceError::new(path, at_key("content_html"), reason))?;
            Body::Html(html.clone())
        }
        (None, Some(text)) => Body::Paragraphs(paragraphs(text)),
        (None, None) => {
            return Err(SourceError::new(
                path,
                first_line,
                "missing `content_html` or `content_text`",
            ))
        }
    };
    if matches!(&body, Body::Paragraphs(p) if p.is_empty()) {
        return Err(SourceError::new(
            path,
            at_key("content_text"),
            "`content_text` is empty",
        ));
    }
    fields
        .into_article(
            path,
            first_line,
            ArticleFormat::Json,
            body,
            ctx,
            Notes {
                line_of: &at_key,
                warnings,
            },
        )
        .map_err(|FieldError { key, reason }| SourceError::new(path, at_key(key), reason))
}

/// Paragraphs are separated by blank lines; single line breaks inside one
/// are kept as spaces.
fn paragraphs(text: &str) -> Vec<String> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: ParseContext = ParseContext {
        timezone: chrono_tz::Asia::Seoul,
        bodies: true,
    };

    #[test]
    fn array_objects_and_lines() {
        let text = r#"[
  {"id": "a", "title": "A", "date": "2026-10-16T07:45:00+09:00",
   "content_html": "<p>x</p>", "categories": ["c"], "authors": ["P", "Q"]},
  {"title": "B", "date": "2026-10-16 08:00", "content_text": "one\ntwo\n\nthree"}
]"#;
        let (a, e) = parse(Path::new("d/b.json"), text, CTX, &mut Vec::new());
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(a.len(), 2);
        assert_eq!((a[0].line, a[1].line), (2, 4));
        assert_eq!(a[0].body, Body::Html("<p>x</p>".into()));
        assert_eq!(a[0].authors.len(), 2);
        assert_eq!(a[1].published.to_rfc3339(), "2026-10-16T08:00:00+09:00");
        assert_eq!(
            a[1].body,
            Body::Paragraphs(vec!["one two".into(), "three".into()])
        );
        let lines =
            "{\"title\":\"A\",\"date\":\"2026-10-01\",\"content_text\":\"x\",\"author\":\"D\"}\n\n\
                     {\"title\":\"B\",\"date\":\"2026-10-02\",\"content_text\":\"y\"}\n";
        let (a, e) = parse(Path::new("d/t.jsonl"), lines, CTX, &mut Vec::new());
        assert!(e.is_empty());
        assert_eq!((a[0].line, a[1].line), (1, 3));
        assert_eq!(a[0].authors[0].name, "D");
    }

    fn errors(name: &str, text: &str) -> Vec<String> {
        let (_, e) = parse(Path::new(name), text, CTX, &mut Vec::new());
        e.iter()
            .map(|e| format!("{}:{}", e.line, e.reason))
            .collect()
    }

    #[test]
    fn one_bad_object_does_not_hide_the_others() {
        let text = "[\n{\"title\": \"A\", \"date\": \"2026-10-01\", \"content_text\": \"x\"},\n\
                    {\"title\": \"B\",\n \"date\": \"later\", \"content_text\": \"y\"},\n\
                    {\"title\": \"C\", \"date\": \"2026-10-01\"}\n]";
        let (a, _) = parse(Path::new("b.json"), text, CTX, &mut Vec::new());
        assert_eq!(a.len(), 1);
        let e = errors("b.json", text);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].starts_with("4:`later` is not a date"), "{e:?}");
        assert_eq!(e[1], "5:missing `content_html` or `content_text`");
    }

    #[test]
    fn syntax_and_key_errors_are_located() {
        let e = errors("b.json", "[\n{\"title\": \"A\",\n \"date\": }\n]");
        assert!(e[0].starts_with("3:expected value"), "{e:?}");
        let e = errors(
            "t.jsonl",
            "{\"title\":\"A\",\"content_text\":\"x\"}\n{\"colour\": 1}\n",
        );
        assert!(e[0].starts_with("1:missing `date`"), "{e:?}");
        assert!(e[1].starts_with("2:unknown field `colour`"), "{e:?}");
        let e = errors(
            "o.json",
            "{\"title\": \"A\",\n\"date\": \"2026-10-01\",\n\"content_text\": \"  \"}",
        );
        assert_eq!(e, ["3:`content_text` is empty"]);
    }
}
