//! Normalize stage: [`Article`] → [`Item`]. Infallible.
//!
//! Fills what an article leaves out from the site's defaults (author,
//! rights, link template), derives a stable id, makes every text XML-safe,
//! and turns the body into sanitized HTML: paragraphs are escaped into
//! `<p>` elements, HTML is cleaned with `ammonia` (no scripts, event
//! handlers, `style` or `javascript:` URLs; relative URLs made absolute).
//! It does not decide which feeds an item goes to.

use std::borrow::Cow;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use url::Url;

use crate::config::Site;
use crate::model::{Article, Body, Enclosure, Image, Item, ItemKey, Person, WireMeta};
use crate::text::{lede_text, one_line, push_safe_escaped_html, story_id_date, xml_safe};

/// Characters escaped in the last part of a `tag:` id and in `{id}` of
/// link templates: everything but unreserved characters and a few safe
/// sub-delimiters.
const ID_ESCAPE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The date of `tag:` ids that are not wire story ids (RFC 4151 allows a
/// year alone): fixed, so that an id depends only on what the author wrote.
pub const TAG_DATE: &str = "2000";

/// Relative links made absolute against the site's base URL, except a
/// link to a place in the same document (`#notes`, a footnote), which
/// stays as it is: against the site it would point at the home page.
struct RelativeLinks(Url);

impl<'a> ammonia::UrlRelativeEvaluate<'a> for RelativeLinks {
    fn evaluate<'url>(&self, url: &'url str) -> Option<Cow<'url, str>> {
        match url.starts_with('#') {
            true => Some(Cow::Borrowed(url)),
            false => self.0.join(url).ok().map(|u| Cow::Owned(u.to_string())),
        }
    }
}

/// What [`Normalizer::shared`] computes.
struct Shared {
    id: String,
    authors: Vec<Person>,
    updated: chrono::DateTime<chrono::FixedOffset>,
    categories: Vec<String>,
}

/// Normalizes articles for one site. Build once, use for every article.
pub struct Normalizer<'a> {
    site: &'a Site,
    sanitizer: ammonia::Builder<'static>,
    /// Whether keys carry author names (see [`Self::without_key_authors`]).
    key_authors: bool,
}

impl<'a> Normalizer<'a> {
    /// A normalizer for `site`.
    pub fn new(site: &'a Site) -> Normalizer<'a> {
        let mut sanitizer = ammonia::Builder::default();
        let resolve = RelativeLinks(site.base_url.clone());
        sanitizer
            .url_relative(ammonia::UrlRelative::Custom(Box::new(resolve)))
            .link_rel(None);
        Normalizer {
            site,
            sanitizer,
            key_authors: true,
        }
    }

    /// Keys made without author names, for builds in which no feed
    /// chooses by author ([`Config::chooses_by_author`]): nothing looks
    /// at them there, and a cold scan makes a key for every article.
    ///
    /// [`Config::chooses_by_author`]: crate::config::Config::chooses_by_author
    pub fn without_key_authors(mut self) -> Normalizer<'a> {
        self.key_authors = false;
        self
    }

    /// What selection needs of `article`: the same id, authors, dates and
    /// categories as [`Self::item`] gives, from the same computation
    /// ([`Self::shared`]).
    pub fn key(&self, article: &Article) -> ItemKey<'static> {
        let Shared {
            id,
            authors,
            updated,
            categories,
        } = self.shared(article, self.key_authors);
        ItemKey {
            id: id.into(),
            line: article.line,
            published: article.published,
            updated,
            categories: categories.into_iter().map(Cow::Owned).collect(),
            authors: authors
                .into_iter()
                .flat_map(|p| std::iter::once(p.name).chain(p.native_name))
                .map(Cow::Owned)
                .collect(),
            draft: article.draft,
            status: article.status,
            revision: article.revision,
            embargo: article.embargo,
        }
    }

    /// The fields an item and its key share: one owner for each; the
    /// authors only `with_authors`.
    fn shared(&self, article: &Article, with_authors: bool) -> Shared {
        Shared {
            id: self.item_id(article),
            authors: match with_authors {
                true => self.authors(article),
                false => Vec::new(),
            },
            updated: updated(article),
            categories: categories(article),
        }
    }

    /// The item for `article`.
    pub fn item(&self, article: &Article) -> Item {
        let site = self.site;
        let Shared {
            id,
            authors,
            updated,
            categories,
        } = self.shared(article, true);
        let id_is_url = id.starts_with("https://") || id.starts_with("http://");
        let link = match &article.link {
            Some(link) => self.absolute(link),
            None if id_is_url => Some(id.clone()),
            None => site.item_link.as_ref().map(|t| {
                t.replace(
                    "{id}",
                    &utf8_percent_encode(short_id(article), ID_ESCAPE).to_string(),
                )
            }),
        };

        let content_html = match &article.body {
            Body::Paragraphs(paragraphs) => {
                let len = paragraphs.iter().map(|p| p.len() + 16).sum();
                let mut html = String::with_capacity(len);
                for p in paragraphs {
                    html.push_str("<p>");
                    push_safe_escaped_html(&mut html, p);
                    html.push_str("</p>");
                }
                html
            }
            // XML safety applies to what the sanitizer writes: it turns
            // character references such as `&#1;` into the characters.
            Body::Html(html) => {
                let clean = self.sanitizer.clean(&xml_safe(html)).to_string();
                xml_safe(clean.trim()).into_owned()
            }
        };
        Item {
            id,
            title: one_line(&article.title),
            version: article.version.clone(),
            link,
            authors,
            published: article.published,
            updated,
            categories,
            dateline: article.dateline.clone(),
            summary: summary(article, &content_html),
            content_html,
            rights: article
                .rights
                .as_ref()
                .or(site.rights.as_ref())
                .map(|r| one_line(r)),
            language: article.language.clone(),
            image: article.image.as_ref().and_then(|i| {
                Some(Image {
                    url: self.absolute(&i.url)?,
                    mime_type: i
                        .mime_type
                        .as_deref()
                        .map(one_line)
                        .filter(|t| t.contains('/')),
                    ..i.clone()
                })
            }),
            enclosure: article.enclosure.as_ref().and_then(|e| {
                Some(Enclosure {
                    url: self.absolute(&e.url)?,
                    ..e.clone()
                })
            }),
            draft: article.draft,
            status: article.status,
            revision: article.revision,
            embargo: article.embargo,
            wire: WireMeta {
                urgency: article.wire.urgency,
                slugline: article.wire.slugline.as_deref().map(one_line),
                signals: article.wire.signals.iter().map(|s| one_line(s)).collect(),
                ednote: article.wire.ednote.as_deref().map(one_line),
            },
            source: article.path.clone(),
            line: article.line,
        }
    }

    /// The article's authors, cleaned; the site's author when it has none.
    fn authors(&self, article: &Article) -> Vec<Person> {
        let mut authors: Vec<Person> = article
            .authors
            .iter()
            .map(|p| Person {
                name: one_line(&p.name),
                native_name: p.native_name.as_deref().map(one_line),
                email: p.email.as_deref().map(one_line),
            })
            .filter(|p| !p.name.is_empty())
            .collect();
        if authors.is_empty() {
            authors.push(Person {
                name: one_line(self.site.author_name()),
                ..Person::default()
            });
        }
        authors
    }

    /// An absolute id: the article's own when it is one Atom accepts (an
    /// http(s) URL, a URN of RFC 8141, a `tag:` URI of RFC 4151), else a
    /// `tag:` URI (RFC 4151) of the site's host, a date and the short id,
    /// which then ends in the original (`urn:<uuid>` without a namespace
    /// id, an agency's `AP-2026-0012`): the same for every version.
    /// The date is the one in a wire story id, else [`TAG_DATE`]: body
    /// edits, date corrections and rebuilds never change it, and two
    /// articles with the same explicit id always have the same id.
    fn item_id(&self, article: &Article) -> String {
        let short_id = short_id(article);
        if let Some(id) = article.id.as_deref().map(str::trim) {
            if let Some(kept) = absolute_id(id) {
                return kept;
            }
        }
        // Nothing an editor corrects goes into an id: a story id's own date,
        // else one fixed date, never the article's (a corrected date would
        // make readers show the story twice).
        // Pieces pushed, not formatted: made for every article of a scan.
        let authority = self.site.tag_authority();
        let mut id = String::with_capacity(authority.len() + short_id.len() + 20);
        id.push_str("tag:");
        id.push_str(authority);
        id.push(',');
        match story_id_date(short_id) {
            Some((y, m, d)) => {
                for part in [y, "-", m, "-", d] {
                    id.push_str(part);
                }
            }
            None => id.push_str(TAG_DATE),
        }
        id.push(':');
        id.extend(utf8_percent_encode(&xml_safe(short_id), ID_ESCAPE));
        id
    }

    /// `url` made absolute against the site, or `None` unless it is
    /// http(s): a `javascript:` or `data:` link would run in a reader or
    /// in the browser view.
    fn absolute(&self, url: &str) -> Option<String> {
        let url = self.site.base_url.join(url.trim()).ok()?;
        matches!(url.scheme(), "http" | "https").then(|| url.to_string())
    }
}

/// `id` as an item id when it is absolute and valid as it is: an http(s)
/// URL (in its serialized, percent-encoded form), a URN (`urn:NID:NSS`,
/// RFC 8141) or a `tag:` URI (RFC 4151).
fn absolute_id(id: &str) -> Option<String> {
    let scheme = id.split_once(':')?.0.to_ascii_lowercase();
    match scheme.as_str() {
        "http" | "https" => {
            let url = Url::parse(&xml_safe(id)).ok()?;
            url.host_str()
                .is_some_and(|h| !h.is_empty())
                .then(|| url.to_string())
        }
        "urn" => valid_urn(id).then(|| id.to_owned()),
        "tag" => valid_tag(id).then(|| id.to_owned()),
        _ => None,
    }
}

/// Characters of a URI path segment (`pchar`) and `/`, `%XX` escapes whole.
fn uri_chars(text: &str, also: &[u8]) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        let ok =
            b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) || also.contains(&b);
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// `urn:NID:NSS` (RFC 8141): a namespace id of 2 to 32 letters, digits and
/// hyphens (not first or last), and a namespace-specific string.
fn valid_urn(id: &str) -> bool {
    let Some((nid, nss)) = id[4..].split_once(':') else {
        return false;
    };
    let nid_ok = (2..=32).contains(&nid.len())
        && nid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !nid.starts_with('-')
        && !nid.ends_with('-');
    nid_ok && !nss.is_empty() && !nss.starts_with('/') && uri_chars(nss, b"")
}

/// `tag:AUTHORITY,DATE:SPECIFIC` (RFC 4151): a domain name or e-mail
/// address, a date `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, and the rest.
fn valid_tag(id: &str) -> bool {
    let Some((authority, rest)) = id[4..].split_once(',') else {
        return false;
    };
    let Some((date, specific)) = rest.split_once(':') else {
        return false;
    };
    let domain = authority.rsplit('@').next().unwrap_or_default();
    let domain_ok = !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = date.split('-').collect();
    let date_ok = match parts.as_slice() {
        [y] => digits(y, 4),
        [y, m] => digits(y, 4) && digits(m, 2),
        [y, m, d] => digits(y, 4) && digits(m, 2) && digits(d, 2),
        _ => false,
    };
    domain_ok && date_ok && uri_chars(specific, b"?")
}

/// The explicit summary, else the lede: the first paragraph's text. RSS
/// needs a `description` before `content:encoded`, so every item with text
/// gets one.
fn summary(article: &Article, content_html: &str) -> Option<String> {
    let summary = match (&article.summary, &article.body) {
        (Some(s), _) => one_line(s),
        (None, Body::Paragraphs(p)) => p.first().map(|p| one_line(p)).unwrap_or_default(),
        (None, Body::Html(_)) => lede_text(content_html),
    };
    (!summary.is_empty()).then_some(summary)
}

/// The explicit id, or the file stem.
fn short_id(article: &Article) -> &str {
    article.id.as_deref().unwrap_or(&article.stem)
}

/// The update time, never before publication.
fn updated(article: &Article) -> chrono::DateTime<chrono::FixedOffset> {
    article
        .updated
        .filter(|u| *u > article.published)
        .unwrap_or(article.published)
}

/// Categories cleaned, without case-insensitive repeats, in source order.
fn categories(article: &Article) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in article.categories.iter().map(|c| one_line(c)) {
        if !c.is_empty() && !out.iter().any(|k| k.eq_ignore_ascii_case(&c)) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ArticleFormat;
    use chrono::DateTime;
    use std::path::PathBuf;

    /// An item's key and the key made without the item agree, for every
    /// shipped sample article.
    #[test]
    fn keys_agree_with_the_items_they_stand_for() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = crate::config::Config::load(&root.join("config.toml")).unwrap();
        let files = crate::source::discover(&config.sources).unwrap();
        let ctx = crate::source::ParseContext {
            timezone: config.site.timezone,
            bodies: true,
        };
        let corpus = crate::source::load(&files, ctx, &|| {});
        assert!(corpus.articles.len() > 10);
        let normalizer = Normalizer::new(&config.site);
        for article in corpus.articles.iter().chain([&article()]) {
            let item = normalizer.item(article);
            // (Compared as text: a key's lifetime is invariant, so an owned
            // key and a borrowed one have no `==` between them.)
            assert_eq!(
                format!("{:?}", normalizer.key(article)),
                format!("{:?}", crate::select::key_of(&item)),
                "{}",
                article.path.display()
            );
        }
    }

    fn site() -> Site {
        toml::from_str(
            r#"title = "Example Wire"
               base_url = "https://news.example.com/"
               rights = "ⓒ Example"
               item_link = "https://news.example.com/news/{id}""#,
        )
        .unwrap()
    }

    fn article() -> Article {
        Article {
            path: PathBuf::from("wire/000_ae439f1b439a733f.txt"),
            line: 1,
            format: ArticleFormat::Wire,
            id: None,
            stem: "000_ae439f1b439a733f".into(),
            title: "Kim  set to\tattend".into(),
            version: None,
            authors: vec![],
            published: DateTime::parse_from_rfc3339("2025-09-02T09:25:54+09:00").unwrap(),
            updated: None,
            categories: vec!["Russia".into(), "russia".into(), " China ".into()],
            dateline: None,
            summary: None,
            body: Body::Paragraphs(vec!["A <b> & \"c\"\u{1}".into(), "Second.".into()]),
            rights: None,
            link: None,
            image: None,
            enclosure: None,
            language: None,
            draft: false,
            status: crate::model::Status::Usable,
            revision: None,
            embargo: None,
            wire: crate::model::WireMeta::default(),
        }
    }

    #[test]
    fn wire_story_gets_tag_id_link_defaults_and_escaped_paragraphs() {
        let site = site();
        let item = Normalizer::new(&site).item(&article());
        assert_eq!(item.id, "tag:news.example.com,2000:000_ae439f1b439a733f");
        assert_eq!(
            item.link.as_deref(),
            Some("https://news.example.com/news/000_ae439f1b439a733f")
        );
        assert_eq!(item.title, "Kim set to attend");
        assert_eq!(item.authors[0].name, "Example Wire");
        assert_eq!(item.categories, ["Russia", "China"]);
        assert_eq!(item.summary.as_deref(), Some("A <b> & \"c\""));
        assert_eq!(
            item.content_html,
            "<p>A &lt;b&gt; &amp; &quot;c&quot;</p><p>Second.</p>"
        );
        assert_eq!(item.rights.as_deref(), Some("ⓒ Example"));
        assert_eq!(item.updated, item.published);
    }

    #[test]
    fn ids_are_stable_and_explicit_ids_win() {
        let site = site();
        let n = Normalizer::new(&site);
        let mut edited = article();
        edited.body = Body::Paragraphs(vec!["Rewritten body.".into()]);
        assert_eq!(n.item(&edited).id, n.item(&article()).id);
        let mut yonhap = article();
        yonhap.id = Some("AEN20250901001500315".into());
        assert_eq!(
            n.item(&yonhap).id,
            "tag:news.example.com,2025-09-01:AEN20250901001500315"
        );
        let mut absolute = article();
        absolute.id = Some("urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427".into());
        assert_eq!(
            n.item(&absolute).id,
            "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"
        );
        let mut spaced = article();
        spaced.id = Some("my post/1".into());
        let item = n.item(&spaced);
        assert_eq!(item.id, "tag:news.example.com,2000:my%20post%2F1");
        assert_eq!(
            item.link.as_deref(),
            Some("https://news.example.com/news/my%20post%2F1")
        );
    }

    #[test]
    fn html_is_sanitized_and_relative_urls_made_absolute() {
        let site = site();
        let mut a = article();
        a.body = Body::Html(
            "<p style=\"color:red\" onclick=\"x()\">Hi <a href=\"/archive/\">old</a> \
             <a href=\"javascript:alert(1)\">bad</a></p><script>alert(1)</script>\
             <img src=\"i.png\" onerror=\"x()\">"
                .into(),
        );
        let item = Normalizer::new(&site).item(&a);
        assert_eq!(
            item.content_html,
            "<p>Hi <a href=\"https://news.example.com/archive/\">old</a> <a>bad</a></p>\
             <img src=\"https://news.example.com/i.png\">"
        );
        assert_eq!(item.summary.as_deref(), Some("Hi old bad"));
    }

    #[test]
    fn only_web_links_are_kept() {
        let site = site();
        let mut a = article();
        a.link = Some("javascript:alert(document.domain)".into());
        a.image = Some(Image {
            url: "data:image/png;base64,AAAA".into(),
            ..Image::default()
        });
        let item = Normalizer::new(&site).item(&a);
        assert_eq!(item.link, None);
        assert_eq!(item.image, None);
        a.link = Some("/news/1".into());
        let item = Normalizer::new(&site).item(&a);
        assert_eq!(
            item.link.as_deref(),
            Some("https://news.example.com/news/1")
        );
    }

    #[test]
    fn only_ids_atom_accepts_are_kept_the_others_end_a_tag() {
        let site = site();
        let n = Normalizer::new(&site);
        let id = |given: &str| {
            let mut a = article();
            a.id = Some(given.into());
            n.item(&a).id
        };
        for kept in [
            "urn:newsml:example.com:20261102:typhoon",
            "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            "tag:example.com,2026-11-02:typhoon",
            "tag:desk@example.com,2026:a/b?c",
            "https://news.example.com/a",
        ] {
            assert_eq!(id(kept), kept);
        }
        let t = "tag:news.example.com,2000:";
        for (given, made) in [
            (
                "urn:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                "urn:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            ),
            ("urn:x:y", "urn:x:y"),
            ("urn:-ab:y", "urn:-ab:y"),
            ("tag:example.com:x", "tag:example.com:x"),
            ("tag:example.com,26:x", "tag:example.com,26:x"),
            ("mailto:desk@example.com", "mailto:desk@example.com"),
            ("EXW-20261105-0012", "EXW-20261105-0012"),
            ("urn:news:a b", "urn:news:a%20b"),
        ] {
            assert_eq!(id(given), format!("{t}{made}"), "{given}");
        }
    }

    #[test]
    fn url_ids_are_percent_encoded_and_serve_as_links() {
        let site = site();
        let mut a = article();
        a.id = Some("https://news.example.com/뉴스/1".into());
        let item = Normalizer::new(&site).item(&a);
        assert_eq!(item.id, "https://news.example.com/%EB%89%B4%EC%8A%A4/1");
        assert_eq!(item.link.as_deref(), Some(item.id.as_str()));
    }
}
