//! Markdown articles with YAML (`---`) or TOML (`+++`) front matter.
//!
//! The body becomes HTML with `pulldown-cmark`; it is *not* sanitized here
//! (raw HTML passes through): `normalize` sanitizes every HTML body.

use std::cell::Cell;
use std::path::Path;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::fields::{key_line, unknown_field, FieldError, Fields, Notes};
use super::limits::{check_html, check_markdown, check_yaml, Warning};
use super::{ParseContext, SourceError};
use crate::config::line_of;
use crate::model::{Article, ArticleFormat, Body};

/// Parses one Markdown file; a problem that does not stop it goes to
/// `warnings`.
pub fn parse(
    path: &Path,
    text: &str,
    ctx: ParseContext,
    warnings: &mut Vec<Warning>,
) -> Result<Article, SourceError> {
    let err = |line: usize, reason: String| SourceError::new(path, line, reason);
    let (fence, first) = match text.lines().next().map(str::trim_end) {
        Some("---") => ("---", 2),
        Some("+++") => ("+++", 2),
        _ => {
            return Err(err(
                1,
                "no front matter: start the file with `---` (YAML) or `+++` (TOML) and give at least title and date".into(),
            ))
        }
    };
    let mut lines = text.split_inclusive('\n');
    let opening = lines.next().map_or(0, str::len);
    let mut front_len = 0;
    let mut closed = false;
    for line in lines.by_ref() {
        if line.trim_end() == fence {
            closed = true;
            break;
        }
        front_len += line.len();
    }
    if !closed {
        return Err(err(
            1,
            format!("front matter opened with `{fence}` is never closed"),
        ));
    }
    let front = &text[opening..opening + front_len];
    let body_start = opening + front_len;
    let body_text = text[body_start..]
        .split_once('\n')
        .map_or("", |(_, rest)| rest);

    let fields = if fence == "---" {
        parse_yaml(front)
    } else {
        parse_toml(front)
    }
    .map_err(|(line, reason)| err(first + line - 1, reason))?;

    // The body's limits are checked with or without bodies, so that both
    // find the same errors; rendering is skipped without bodies unless the
    // HTML it gives must be checked.
    let body_line = line_of(text, text.len() - body_text.len());
    let check = check_markdown(body_text).map_err(|(line, r)| err(body_line + line - 1, r))?;
    let (html, lede) = match (ctx.bodies, check) {
        (false, false) => (String::new(), None),
        _ => {
            let rendered = render(body_text, check)
                .map_err(|(offset, r)| err(body_line + line_of(body_text, offset) - 1, r))?;
            match ctx.bodies {
                true => rendered,
                false => (String::new(), None),
            }
        }
    };
    let at_key = |key: &str| key_line(front, key).map_or(1, |l| first + l - 1);
    let mut article = fields
        .into_article(
            path,
            1,
            ArticleFormat::Markdown,
            Body::Html(html),
            ctx,
            Notes {
                line_of: &at_key,
                warnings,
            },
        )
        .map_err(|FieldError { key, reason }| err(at_key(key), reason))?;
    if article.summary.is_none() {
        article.summary = lede;
    }
    Ok(article)
}

/// Front matter errors carry a line relative to the front matter (1-based).
type FrontError = (usize, String);

fn parse_yaml(front: &str) -> Result<Fields, FrontError> {
    // The YAML parser is not linear in nesting: checked first.
    check_yaml(front)?;
    serde_yaml_ng::from_str(front).map_err(|e| {
        let message = e.to_string();
        let line = match unknown_field(&message) {
            Some(key) => key_line(front, key),
            None => e.location().map(|l| l.line()),
        };
        (line.unwrap_or(1), strip_location(&message))
    })
}

fn parse_toml(front: &str) -> Result<Fields, FrontError> {
    let table: toml::Table = toml::from_str(front).map_err(|e| {
        let line = e
            .span()
            .map_or(1, |s| crate::config::line_of(front, s.start));
        (line, crate::config::one_line(e.message()))
    })?;
    // TOML has a date type; the shared fields take dates as text.
    let value = dates_to_strings(toml::Value::Table(table));
    serde::Deserialize::deserialize(value).map_err(|e: toml::de::Error| {
        let message = crate::config::one_line(e.message());
        let line = unknown_field(&message).and_then(|k| key_line(front, k));
        (line.unwrap_or(1), message)
    })
}

fn dates_to_strings(value: toml::Value) -> toml::Value {
    match value {
        toml::Value::Datetime(d) => toml::Value::String(d.to_string()),
        toml::Value::Table(t) => toml::Value::Table(
            t.into_iter()
                .map(|(k, v)| (k, dates_to_strings(v)))
                .collect(),
        ),
        toml::Value::Array(a) => toml::Value::Array(a.into_iter().map(dates_to_strings).collect()),
        other => other,
    }
}

/// serde_yaml appends " at line L column C"; the caller gives the line
/// itself, relative to the file.
fn strip_location(message: &str) -> String {
    // Every " at line L column C" (the YAML parser gives one after the
    // problem and one after its context): our `path:line:` says where.
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " at line ".len()..];
        let digits = |t: &str| t.bytes().take_while(u8::is_ascii_digit).count();
        let n = digits(after);
        let column = after[n..].strip_prefix(" column ");
        match column.map(|c| (c, digits(c))) {
            Some((c, m)) if n > 0 && m > 0 => rest = &c[m..],
            _ => {
                out.push_str(" at line ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The body as (unsanitized) HTML, and the plain text of its first
/// paragraph. With `check`, the HTML is held to the limits of
/// [`check_html`]; an error carries the offset in `markdown` of what made
/// the HTML that broke them.
fn render(markdown: &str, check: bool) -> Result<(String, Option<String>), (usize, String)> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_SMART_PUNCTUATION;
    let events: Vec<_> = Parser::new_ext(markdown, options)
        .into_offset_iter()
        .collect();
    let mut lede = String::new();
    let mut depth = 0usize;
    let mut done = false;
    for (event, _) in &events {
        match event {
            Event::Start(Tag::Paragraph) if !done => depth += 1,
            Event::End(TagEnd::Paragraph) if depth > 0 => {
                done = !lede.trim().is_empty();
                depth -= 1;
            }
            Event::Text(t) | Event::Code(t) if depth > 0 && !done => lede.push_str(t),
            Event::SoftBreak | Event::HardBreak if depth > 0 && !done => lede.push(' '),
            _ => {}
        }
    }
    let mut html = String::with_capacity(markdown.len() * 5 / 4);
    if check {
        // Where in the HTML each event's output starts, and where the
        // event is in the Markdown.
        let written = Cell::new(0);
        let mut starts = Vec::with_capacity(events.len());
        let mut sink = Sink {
            html: &mut html,
            written: &written,
        };
        let events = events.into_iter().map(|(event, range)| {
            starts.push((written.get(), range.start));
            event
        });
        // Writing to a String does not fail.
        let _ = pulldown_cmark::html::write_html_fmt(&mut sink, events);
        if let Err((at, reason)) = check_html(&html) {
            let event = starts.partition_point(|&(html_at, _)| html_at <= at);
            let offset = starts.get(event.saturating_sub(1)).map_or(0, |&(_, md)| md);
            return Err((offset, reason));
        }
    } else {
        pulldown_cmark::html::push_html(&mut html, events.into_iter().map(|(event, _)| event));
    }
    let lede = lede.trim().to_owned();
    Ok((html, (!lede.is_empty()).then_some(lede)))
}

/// Collects the HTML pulldown-cmark writes, counting how much was written.
struct Sink<'a> {
    html: &'a mut String,
    written: &'a Cell<usize>,
}

impl std::fmt::Write for Sink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.html.push_str(s);
        self.written.set(self.html.len());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: ParseContext = ParseContext {
        timezone: chrono_tz::Asia::Seoul,
        bodies: true,
    };

    fn parse_str(text: &str) -> Result<Article, SourceError> {
        parse(Path::new("posts/hello.md"), text, CTX, &mut Vec::new())
    }

    #[test]
    fn yaml_front_matter() {
        let a = parse_str(
            "---\ntitle: Hello\ndate: 2026-10-03T10:00:00+09:00\nauthor: Han Seo-yeon <han@example.com>\n\
             tags: [a, b]\nid: hello-1\ndraft: true\nenclosure: {url: \"https://x.example/a.mp3\", type: audio/mpeg, length: 1234}\n---\n\n\
             First *para*\nline two.\n\n## Head\n\n<script>x</script>\n",
        )
        .unwrap();
        assert_eq!(a.title, "Hello");
        assert_eq!(a.id.as_deref(), Some("hello-1"));
        assert_eq!(a.published.to_rfc3339(), "2026-10-03T10:00:00+09:00");
        assert_eq!(a.authors[0].name, "Han Seo-yeon");
        assert_eq!(a.authors[0].email.as_deref(), Some("han@example.com"));
        assert_eq!(a.categories, ["a", "b"]);
        assert!(a.draft);
        assert_eq!(a.enclosure.unwrap().length, 1234);
        assert_eq!(a.summary.as_deref(), Some("First para line two."));
        let Body::Html(html) = a.body else {
            panic!("html body")
        };
        assert!(html.starts_with("<p>First <em>para</em>"), "{html}");
        assert!(html.contains("<h2>Head</h2>"), "{html}");
        // Raw HTML is passed on; normalize sanitizes it.
        assert!(html.contains("<script>"), "{html}");
    }

    #[test]
    fn toml_front_matter_with_native_dates() {
        let a = parse_str(
            "+++\ntitle = \"T\"\ndate = 2026-11-12T15:30:00Z\nupdated = 2026-11-13T09:00:00+09:00\n\
             authors = [\"A\", \"B\"]\ncategories = [\"policy\"]\n+++\nBody.\n",
        )
        .unwrap();
        assert_eq!(a.published.to_rfc3339(), "2026-11-12T15:30:00+00:00");
        assert_eq!(a.updated.unwrap().to_rfc3339(), "2026-11-13T09:00:00+09:00");
        assert_eq!(a.authors.len(), 2);
        assert_eq!(a.summary.as_deref(), Some("Body."));
    }

    #[test]
    fn a_toml_error_is_one_line_at_its_line() {
        let e = error("+++\ntitle = \"x\"\ndate = 2026-13-45T00:00:00Z\n+++\nBody.\n");
        assert_eq!(e, "3:invalid date-time; value is out of range");
    }

    fn error(text: &str) -> String {
        let e = parse_str(text).unwrap_err();
        format!("{}:{}", e.line, e.reason)
    }

    #[test]
    fn body_limits_are_the_same_errors_with_and_without_bodies() {
        let front = "---\ntitle: T\ndate: 2026-10-03\n---\nFine.\n\n";
        let quotes = format!("{front}{}x\n", "> ".repeat(40));
        let divs = format!("{front}{}", "<div>\n".repeat(200));
        let emphasis = format!("{front}{}x{}\n", "*".repeat(300), "*".repeat(300));
        let yaml = format!("---\ntitle: T\ntags: {}\n---\nx\n", "[".repeat(65));
        for bodies in [true, false] {
            let ctx = ParseContext { bodies, ..CTX };
            let error = |text: &str| {
                let e = parse(Path::new("p.md"), text, ctx, &mut Vec::new()).unwrap_err();
                format!("{}:{}", e.line, e.reason)
            };
            let e = error(&quotes);
            assert!(
                e.starts_with("7:40 block quotes and lists open on one line"),
                "{e}"
            );
            assert_eq!(error(&divs), "135:HTML nested deeper than 128 elements");
            assert_eq!(error(&emphasis), "7:HTML nested deeper than 128 elements");
            assert_eq!(error(&yaml), "3:front matter nested deeper than 64 levels");
            let fine = format!("{front}{}", "<div>\n".repeat(100));
            assert!(parse(Path::new("p.md"), &fine, ctx, &mut Vec::new()).is_ok());
        }
    }

    #[test]
    fn bad_front_matter_is_located() {
        let e = error("Just text\n");
        assert!(e.starts_with("1:no front matter"), "{e}");
        let e = error("---\ntitle: T\ndate: 2026-10-03\n");
        assert_eq!(e, "1:front matter opened with `---` is never closed");
        let e = error("---\ntitle: T\ndate: 2026-10-03\ncolour: red\n---\nx");
        assert!(e.starts_with("4:unknown field `colour`"), "{e}");
        let e = error("+++\ntitle = \"T\"\ndate = 2026-10-03\ncolour = 1\n+++\nx");
        assert!(e.starts_with("4:unknown field `colour`"), "{e}");
        let e = error("---\ntitle: T\n---\nx");
        assert_eq!(e, "1:missing `date`");
        let e = error("---\ntitle: T\ndate: soon\n---\nx");
        assert!(e.starts_with("3:`soon` is not a date"), "{e}");
        let e = error("---\ntitle: [unclosed\ndate: x\n---\nx");
        assert!(e.starts_with("3:") || e.starts_with("2:"), "{e}");
        let e = error("+++\ntitle = \n+++\nx");
        assert!(e.starts_with("2:"), "{e}");
    }
}
