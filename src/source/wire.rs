//! The news-wire text format (see DESIGN.md, "The wire format").
//!
//! ```text
//! 박보람                         reporter's name in Korean (optional)
//! | 2025-09-02 09:25:54          filing time, desk-local
//! NK leader-Russia-China         slug → categories
//! (LEAD) N. Korea's Kim ...      headline, optional version tag
//! By Park Boram                  byline (optional)
//! SEOUL, Sept. 2 (Yonhap) -- ... body, one paragraph a line
//! (END)                          optional
//! [ⓒ K-VIBE. 무단전재-재배포 금지]   rights (optional)
//! ```
//!
//! Tolerates CRLF, blank lines and trailing spaces; the BOM and EUC-KR are
//! handled by the caller's decoding.

use std::path::Path;
use std::sync::LazyLock;

use chrono::NaiveDateTime;
use regex::Regex;

use super::limits::{cap_categories, categories_warning, Warning};
use super::{local_time, stem_of, ParseContext, SourceError};
use crate::model::{Article, ArticleFormat, Body, Dateline, Person};
use crate::text::{find_story_id, split_lines};

static VERSION_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\((LEAD|URGENT|\d+(?:st|nd|rd|th) LD|[A-Z][A-Za-z0-9 ]{1,24})\)\s+")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

static DATELINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^([A-Z][A-Z .'&-]*(?:, [A-Z][A-Za-z .]*)?), [A-Z][a-z]{2,4}\.? \d{1,2} \(([^()]+)\) --",
    )
    .unwrap_or_else(|e| unreachable!("{e}"))
});

/// A non-blank line with its 1-based number.
struct Line<'a> {
    number: usize,
    text: &'a str,
}

/// Parses one wire story; a problem that does not stop it goes to
/// `warnings`.
pub fn parse(
    path: &Path,
    text: &str,
    ctx: ParseContext,
    warnings: &mut Vec<Warning>,
) -> Result<Article, SourceError> {
    let err = |line: usize, reason: String| SourceError::new(path, line, reason);
    let mut lines = split_lines(text)
        .enumerate()
        .map(|(i, l)| Line {
            number: i + 1,
            text: l.trim(),
        })
        .filter(|l| !l.text.is_empty());

    let first = lines
        .next()
        .ok_or_else(|| err(1, "empty file: no filing time, headline or body".into()))?;
    let (native_names, time_line) = if first.text.starts_with('|') {
        (Vec::new(), first)
    } else {
        let names = split_native_names(first.text);
        let next = lines.next().ok_or_else(|| {
            err(
                first.number + 1,
                "missing the filing time line `| YYYY-MM-DD HH:MM:SS`".into(),
            )
        })?;
        (names, next)
    };
    let published = parse_time_line(time_line.text, ctx).map_err(|r| err(time_line.number, r))?;

    let slug = lines.next().ok_or_else(|| {
        err(
            time_line.number + 1,
            "missing the slug line (keywords joined by `-`)".into(),
        )
    })?;
    let mut categories: Vec<String> = slug
        .text
        .split('-')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some((distinct, _)) = cap_categories(&mut categories) {
        warnings.push(categories_warning(slug.number, distinct));
    }

    let headline = lines
        .next()
        .ok_or_else(|| err(slug.number + 1, "missing the headline".into()))?;
    if headline.text.starts_with("By ") {
        return Err(err(
            headline.number,
            "missing the headline (found the byline here)".into(),
        ));
    }
    let title = headline.text.to_owned();
    let version = Some(&title)
        .filter(|t| t.starts_with('('))
        .and_then(|t| VERSION_TAG.captures(t))
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned());

    // Room for a story's lines at once (the sample has 17): collecting
    // the filtered lines would grow the list three times.
    let mut rest: Vec<Line> = Vec::with_capacity(32);
    rest.extend(lines);
    let (byline, body_start) = match rest.first() {
        Some(l) if l.text.starts_with("By ") => (Some(l.text), 1),
        _ => (None, 0),
    };
    let body = &rest[body_start..];
    let (paragraphs, rights) = match ctx.bodies {
        true => split_body(body),
        false => (Vec::new(), None),
    };
    if !has_paragraph(body) {
        let line = rest.last().map_or(headline.number + 1, |l| l.number);
        return Err(err(line, "no body paragraphs after the headline".into()));
    }

    let authors = match byline {
        Some(b) => pair_names(split_byline(b), &native_names),
        // No byline: the reporter's own name is all there is.
        None => pair_names(native_names, &[]),
    };
    let dateline = paragraphs
        .first()
        .and_then(|p| DATELINE.captures(p))
        .map(|c| Dateline {
            place: c[1].to_owned(),
            agency: c[2].to_owned(),
        });
    let stem = stem_of(path);
    Ok(Article {
        path: path.to_owned(),
        line: 1,
        format: ArticleFormat::Wire,
        id: find_story_id(&stem).map(str::to_owned),
        stem,
        title,
        version,
        authors,
        published,
        updated: None,
        categories,
        dateline,
        summary: None,
        body: Body::Paragraphs(paragraphs),
        rights,
        link: None,
        image: None,
        enclosure: None,
        language: None,
        draft: false,
        status: crate::model::Status::Usable,
        revision: None,
        embargo: None,
        wire: crate::model::WireMeta::default(),
    })
}

fn parse_time_line(
    text: &str,
    ctx: ParseContext,
) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    let Some(rest) = text.strip_prefix('|') else {
        return Err(format!(
            "expected the filing time `| YYYY-MM-DD HH:MM:SS`, found `{}`",
            shorten(text)
        ));
    };
    let rest = rest.trim();
    let naive = match exact_time(rest) {
        Some(naive) => naive,
        None => NaiveDateTime::parse_from_str(rest, "%Y-%m-%d %H:%M:%S")
            .map_err(|e| format!("filing time `{rest}` is not `YYYY-MM-DD HH:MM:SS` ({e})"))?,
    };
    local_time(naive, ctx.timezone)
}

/// `YYYY-MM-DD HH:MM:SS` exactly, read without a format interpreter (it is
/// on every story); anything else goes to chrono, which also explains
/// what is wrong.
fn exact_time(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    // A leap second (`:60`) is left to chrono.
    chrono::NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)?.and_hms_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    )
}

/// Body paragraphs, stopping at `(END)`; a bracketed last line is the
/// rights statement.
fn split_body(lines: &[Line]) -> (Vec<String>, Option<String>) {
    let mut paragraphs = Vec::new();
    let mut rights = None;
    for (i, line) in lines.iter().enumerate() {
        let is_last = i + 1 == lines.len();
        if line.text == "(END)" {
            rights = lines[i + 1..].iter().rev().find_map(|l| bracketed(l.text));
            break;
        }
        if is_last {
            if let Some(r) = bracketed(line.text) {
                rights = Some(r);
                break;
            }
        }
        paragraphs.push(line.text.to_owned());
    }
    (paragraphs, rights)
}

/// Whether [`split_body`] finds a paragraph, without splitting: only the
/// first line decides.
fn has_paragraph(lines: &[Line]) -> bool {
    match lines.first() {
        None => false,
        Some(l) if l.text == "(END)" => false,
        Some(l) => lines.len() > 1 || bracketed(l.text).is_none(),
    }
}

fn bracketed(text: &str) -> Option<String> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?.trim();
    (!inner.is_empty()).then(|| inner.to_owned())
}

/// `By A`, `By A and B`, `By A, B and C` → names. Hyphens belong to names.
fn split_byline(byline: &str) -> Vec<String> {
    let names = byline.trim_start_matches("By ").trim();
    names
        .split(", ")
        .flat_map(|part| part.split(" and "))
        .map(|n| n.trim().trim_end_matches(',').trim())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `김은중·이지훈` or `김은중, 이지훈` → names.
fn split_native_names(line: &str) -> Vec<String> {
    line.split(['·', ',', '/'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Pairs byline names with native names by position, only when the counts
/// agree (a mismatch would credit the wrong person).
fn pair_names(names: Vec<String>, native: &[String]) -> Vec<Person> {
    let paired = names.len() == native.len();
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| Person {
            name,
            native_name: if paired { native.get(i).cloned() } else { None },
            email: None,
        })
        .collect()
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEOUL: ParseContext = ParseContext {
        timezone: chrono_tz::Asia::Seoul,
        bodies: true,
    };

    const STORY: &str = "윤다은\n| 2026-10-14 08:42:17\nBusan-harbor festival-tourism\n\
        Busan's harbor festival draws record crowds\nBy Yoon Da-eun\n\
        BUSAN, Oct. 14 (Yonhap) -- The festival opened on Tuesday.\n\
        Organizers said 1.2 million people came.\n(END)\n[ⓒ K-VIBE. 무단전재-재배포 금지]";

    fn parse_str(text: &str) -> Result<Article, SourceError> {
        parse(
            Path::new("wire/AEN20261014000300315.txt"),
            text,
            SEOUL,
            &mut Vec::new(),
        )
    }

    #[test]
    fn seed_shaped_story_gives_every_field() {
        let a = parse_str(STORY).unwrap();
        assert_eq!(a.id.as_deref(), Some("AEN20261014000300315"));
        assert_eq!(a.title, "Busan's harbor festival draws record crowds");
        assert_eq!(a.version, None);
        assert_eq!(a.published.to_rfc3339(), "2026-10-14T08:42:17+09:00");
        assert_eq!(a.categories, ["Busan", "harbor festival", "tourism"]);
        assert_eq!(a.authors.len(), 1);
        assert_eq!(a.authors[0].name, "Yoon Da-eun");
        assert_eq!(a.authors[0].native_name.as_deref(), Some("윤다은"));
        let d = a.dateline.unwrap();
        assert_eq!((d.place.as_str(), d.agency.as_str()), ("BUSAN", "Yonhap"));
        assert_eq!(
            a.body,
            Body::Paragraphs(vec![
                "BUSAN, Oct. 14 (Yonhap) -- The festival opened on Tuesday.".into(),
                "Organizers said 1.2 million people came.".into()
            ])
        );
        assert_eq!(a.rights.as_deref(), Some("ⓒ K-VIBE. 무단전재-재배포 금지"));
    }

    #[test]
    fn crlf_blank_lines_and_trailing_spaces_change_nothing() {
        let messy = STORY.replace('\n', "  \r\n\r\n");
        assert_eq!(parse_str(&messy).unwrap(), parse_str(STORY).unwrap());
    }

    #[test]
    fn version_tags_and_several_authors() {
        let text = STORY
            .replace("윤다은", "김은중·이지훈·박민지")
            .replace("Busan's harbor", "(2nd LD) Busan's harbor")
            .replace(
                "By Yoon Da-eun",
                "By Kim Eun-jung, Lee Ji-hoon and Park Min-ji",
            );
        let a = parse_str(&text).unwrap();
        assert_eq!(a.version.as_deref(), Some("2nd LD"));
        assert!(a.title.starts_with("(2nd LD) Busan's"));
        let names: Vec<_> = a.authors.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Kim Eun-jung", "Lee Ji-hoon", "Park Min-ji"]);
        assert_eq!(a.authors[2].native_name.as_deref(), Some("박민지"));
        for tag in ["LEAD", "URGENT"] {
            let a = parse_str(&STORY.replace("Busan's harbor", &format!("({tag}) Busan's harbor")));
            assert_eq!(a.unwrap().version.as_deref(), Some(tag));
        }
    }

    #[test]
    fn missing_name_end_and_rights_lines_are_fine() {
        let text = STORY
            .replace("윤다은\n", "")
            .replace("(END)\n[ⓒ K-VIBE. 무단전재-재배포 금지]", "");
        let a = parse_str(&text).unwrap();
        assert_eq!(a.rights, None);
        assert_eq!(a.authors[0].native_name, None);
        assert!(matches!(a.body, Body::Paragraphs(ref p) if p.len() == 2));
        // Rights without (END).
        let a = parse_str(&STORY.replace("(END)\n", "")).unwrap();
        assert_eq!(a.rights.as_deref(), Some("ⓒ K-VIBE. 무단전재-재배포 금지"));
    }

    #[test]
    fn a_korean_name_without_a_byline_is_the_author() {
        let a = parse_str(&STORY.replace("By Yoon Da-eun\n", "")).unwrap();
        assert_eq!(a.authors.len(), 1);
        assert_eq!(a.authors[0].name, "윤다은");
        assert_eq!(a.authors[0].native_name, None);
    }

    #[test]
    fn a_slug_of_many_keywords_keeps_the_first_32_with_a_warning() {
        let slug: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        let text = STORY.replace("Busan-harbor festival-tourism", &slug.join("-"));
        let mut warnings = Vec::new();
        let a = parse(Path::new("w/x.txt"), &text, SEOUL, &mut warnings).unwrap();
        assert_eq!(a.categories, slug[..32]);
        assert_eq!(warnings, [categories_warning(3, 40)]);
        let mut warnings = Vec::new();
        parse(Path::new("w/x.txt"), STORY, SEOUL, &mut warnings).unwrap();
        assert_eq!(warnings, []);
    }

    #[test]
    fn a_file_name_without_story_id_has_no_explicit_id() {
        let a = parse(Path::new("x/typhoon.txt"), STORY, SEOUL, &mut Vec::new()).unwrap();
        assert_eq!(a.id, None);
        assert_eq!(a.stem, "typhoon");
    }

    #[test]
    fn filing_times_read_fast_agree_with_chrono() {
        for text in [
            "2026-10-14 08:42:17",
            "1999-12-31 23:59:59",
            "2024-02-29 00:00:00",
            "2025-02-29 00:00:00",
            "2026-13-14 08:42:17",
            "2026-10-14 24:00:00",
            "2026-10-14 08:42:60",
            "2026-1a-14 08:42:17",
            "+026-10-14 08:42:17",
        ] {
            let chrono = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok();
            // What the fast path does not read is left to chrono.
            if let Some(fast) = exact_time(text) {
                assert_eq!(Some(fast), chrono, "{text}");
            }
        }
        assert!(exact_time("2026-10-14 08:42:17").is_some());
    }

    /// The first pass parses without bodies: the same header fields and the
    /// same errors as a full parse.
    fn headers_only(text: &str) -> Result<Article, SourceError> {
        let ctx = ParseContext {
            bodies: false,
            ..SEOUL
        };
        parse(
            Path::new("wire/AEN20261014000300315.txt"),
            text,
            ctx,
            &mut Vec::new(),
        )
    }

    #[test]
    fn a_parse_without_bodies_agrees_on_headers_and_errors() {
        let variants = [
            STORY.to_owned(),
            STORY.replace("(END)\n", ""),
            STORY.replace("By Yoon Da-eun\n", ""),
            STORY.replace("Busan's harbor", "(LEAD) Busan's harbor"),
            "| 2026-10-14 08:42:17\nslug\nHeadline\nBy Someone\n(END)".into(),
            "| 2026-10-14 08:42:17\nslug\nHeadline\n[rights]".into(),
            "| 2026-10-14 08:42:17\nslug\nHeadline\n[photo]\n[rights]".into(),
            "| 2026-10-14 08:42:17\nslug\nHeadline\n(END)\nafter".into(),
            "| 2026-10-14 08:42\nslug\nHeadline\nBody.".into(),
            "| 2026-10-14 08:42:17\nslug".into(),
        ];
        for text in &variants {
            match (parse_str(text), headers_only(text)) {
                (Ok(full), Ok(head)) => {
                    assert_eq!(
                        (&full.id, &full.title, &full.version, &full.authors),
                        (&head.id, &head.title, &head.version, &head.authors),
                        "{text}"
                    );
                    assert_eq!(
                        (full.published, &full.categories, full.draft),
                        (head.published, &head.categories, head.draft)
                    );
                    assert_eq!(head.body, Body::Paragraphs(Vec::new()));
                }
                (Err(full), Err(head)) => assert_eq!(full, head, "{text}"),
                (full, head) => panic!("{text}: {full:?} but {head:?}"),
            }
        }
    }

    fn reason(text: &str) -> String {
        let e = parse_str(text).unwrap_err();
        format!("{}:{}", e.line, e.reason)
    }

    #[test]
    fn bad_files_name_the_line_and_the_problem() {
        assert_eq!(reason(""), "1:empty file: no filing time, headline or body");
        let r = reason(&STORY.replace("| 2026-10-14 08:42:17", "2026-10-14 08:42:17"));
        assert!(r.starts_with("2:expected the filing time"), "{r}");
        let r = reason(&STORY.replace("2026-10-14 08:42:17", "2026-13-14 08:42"));
        assert!(
            r.starts_with("2:filing time `2026-13-14 08:42` is not"),
            "{r}"
        );
        let no_body = "| 2026-10-14 08:42:17\nslug\nHeadline\nBy Someone\n(END)";
        assert_eq!(reason(no_body), "5:no body paragraphs after the headline");
        let no_headline = "| 2026-10-14 08:42:17\nslug";
        assert_eq!(reason(no_headline), "3:missing the headline");
        let byline_first = "| 2026-10-14 08:42:17\nslug\nBy Someone\nBody.";
        assert_eq!(
            reason(byline_first),
            "3:missing the headline (found the byline here)"
        );
    }
}
