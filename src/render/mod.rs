//! Render stage: [`Feed`] → bytes, one pure module per format, the feed's
//! HTML page (`page.rs`), plus the site-wide files (`index.html`,
//! `feeds.opml`, the stylesheets).
//!
//! Same feed in, same bytes out: nothing here reads the clock or the file
//! system. A document is a [`Frame`] (everything before and after the
//! items) around item fragments, so that a feed of any size can be written
//! as a stream, a chunk of items at a time, and fragments can be rendered
//! in parallel; concatenated, they are exactly [`render`]'s bytes.
//! Renderers take complete items (normalize guaranteed every field they
//! need), so the only failure is the XML writer's.

mod atom;
mod jsonfeed;
mod page;
mod rss;
mod site;
mod xml;

pub use page::{page_url, STYLE_NAME};
pub use site::{index_html, opml, site_files};
pub use xml::looks_like_html;

use chrono::{DateTime, FixedOffset};

use crate::config::{Format, Site};
use crate::model::{Feed, FeedInfo, Item};

/// The generator name written into feeds.
pub const GENERATOR: &str = "wirefeed";
/// The generator version written into feeds.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A feed that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot render feed `{feed}` as {format:?}: {reason}")]
pub struct RenderError {
    /// The feed's name.
    pub feed: String,
    /// The format.
    pub format: Format,
    /// What the writer said.
    pub reason: String,
}

/// A document without its items: `head`, then the item fragments, then
/// `tail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Everything before the first item.
    pub head: Vec<u8>,
    /// Everything after the last item.
    pub tail: Vec<u8>,
}

/// Rendered items: a part of `bytes` (kept whole to save a copy of large
/// documents).
#[derive(Debug, Clone, Default)]
pub struct Fragment {
    bytes: Vec<u8>,
    range: std::ops::Range<usize>,
}

impl Fragment {
    fn whole(bytes: Vec<u8>) -> Fragment {
        Fragment {
            range: 0..bytes.len(),
            bytes,
        }
    }

    /// The fragment's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[self.range.clone()]
    }
}

/// What a feed is written as: each of its formats, and its HTML page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Document {
    /// The feed in a feed format.
    Feed(Format),
    /// The feed's page for people, `NAME.html`.
    Page,
}

impl From<Format> for Document {
    fn from(format: Format) -> Document {
        Document::Feed(format)
    }
}

impl Document {
    /// Every document of `info`, in the order they are written: its
    /// formats, then its page.
    pub fn all(info: &FeedInfo) -> Vec<Document> {
        let formats = info.formats.iter().map(|&f| Document::Feed(f));
        formats.chain([Document::Page]).collect()
    }

    /// The relative path of feed `feed_name`'s document in the output
    /// folder.
    pub fn file_name(self, feed_name: &str) -> String {
        match self {
            Document::Feed(format) => file_name(feed_name, format),
            Document::Page => page_name(feed_name),
        }
    }
}

/// Renders `feed` as `document` (a format or the page), whole.
pub fn render(
    feed: &Feed<&Item>,
    document: impl Into<Document>,
    site: &Site,
) -> Result<Vec<u8>, RenderError> {
    let document = document.into();
    let frame = frame(&feed.info, document, site)?;
    let items = items(&feed.items, document, site, true).map_err(|e| e.named(&feed.info.name))?;
    let mut out = frame.head;
    out.extend_from_slice(items.as_bytes());
    out.extend_from_slice(&frame.tail);
    Ok(out)
}

/// The frame of `document` (a format or the page) for `info`.
pub fn frame(
    info: &FeedInfo,
    document: impl Into<Document>,
    site: &Site,
) -> Result<Frame, RenderError> {
    let format = match document.into() {
        Document::Feed(format) => format,
        Document::Page => return Ok(page::frame(info, site)),
    };
    let result = match format {
        Format::Rss => rss::frame(info, site),
        Format::Atom => atom::frame(info, site),
        Format::Json => jsonfeed::frame(info, site),
    };
    let result = result.map(|frame| match format {
        Format::Json => frame,
        Format::Rss | Format::Atom => Frame {
            head: with_stylesheet(frame.head, &info.name),
            tail: frame.tail,
        },
    });
    result.map_err(|reason| RenderError {
        feed: info.name.clone(),
        format,
        reason,
    })
}

/// The fragments of `items`, in order. `first` is true when the first of
/// them is the document's first item (JSON puts commas between items).
pub fn items(
    items: &[&Item],
    document: impl Into<Document>,
    site: &Site,
    first: bool,
) -> Result<Fragment, RenderError> {
    if items.is_empty() {
        return Ok(Fragment::default());
    }
    let format = match document.into() {
        Document::Feed(format) => format,
        Document::Page => return Ok(page::items(items, site)),
    };
    let result = match format {
        Format::Rss => rss::items(items),
        Format::Atom => atom::items(items, &site.language),
        Format::Json => jsonfeed::items(items, first),
    };
    result.map_err(|reason| RenderError {
        feed: String::new(),
        format,
        reason,
    })
}

impl RenderError {
    fn named(mut self, feed: &str) -> RenderError {
        feed.clone_into(&mut self.feed);
        self
    }
}

/// The relative path of a feed file inside the output folder.
pub fn file_name(feed_name: &str, format: Format) -> String {
    format!("{feed_name}.{}", format.extension())
}

/// The relative path of feed `feed_name`'s HTML page.
pub fn page_name(feed_name: &str) -> String {
    format!("{feed_name}.html")
}

/// The relative path from a feed's file up to the output folder's root:
/// `../` for `category/busan`, nothing for `all`.
fn up_to_root(feed_name: &str) -> String {
    "../".repeat(feed_name.matches('/').count())
}

/// How a format is named for people.
fn label(format: Format) -> &'static str {
    match format {
        Format::Rss => "RSS",
        Format::Atom => "Atom",
        Format::Json => "JSON Feed",
    }
}

/// RFC 822 with a four-digit year and a numeric offset, as RSS wants:
/// `Tue, 02 Sep 2025 09:25:54 +0900`.
pub fn rfc822(date: &DateTime<FixedOffset>) -> String {
    date.format("%a, %d %b %Y %H:%M:%S %z").to_string()
}

/// RFC 3339 with seconds and the original offset: `2025-09-02T09:25:54+09:00`.
pub fn rfc3339(date: &DateTime<FixedOffset>) -> String {
    date.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// RFC 5005's namespace, for `fh:archive`.
const HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";

/// The `(rel, href)` links of RFC 5005 a feed carries in `format`.
fn archive_links(info: &FeedInfo, format: Format, site: &Site) -> Vec<(&'static str, String)> {
    let mut links = Vec::new();
    if let Some(current) = &info.archive.current {
        links.push(("current", site.feed_url(current, format)));
    }
    if let Some(prev) = &info.archive.prev_archive {
        links.push(("prev-archive", site.feed_url(prev, format)));
    }
    if let Some(next) = &info.archive.next_archive {
        links.push(("next-archive", site.feed_url(next, format)));
    }
    links
}

/// The XML declaration every XML file starts with.
const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

/// The stylesheet that shows RSS and Atom feeds as a page in browsers.
pub const STYLESHEET_NAME: &str = "feed.xsl";

/// The stylesheet's bytes, written beside the feeds by every build.
pub fn stylesheet() -> &'static [u8] {
    include_bytes!("feed.xsl")
}

/// The processing instruction that points a feed at the stylesheet, by a
/// path relative to the feed (so it works wherever the folder is served).
fn stylesheet_pi(feed_name: &str) -> String {
    let up = up_to_root(feed_name);
    format!("<?xml-stylesheet type=\"text/xsl\" href=\"{up}{STYLESHEET_NAME}\"?>\n")
}

/// `head` with the stylesheet instruction after its XML declaration, each
/// on a line of its own.
fn with_stylesheet(head: Vec<u8>, feed_name: &str) -> Vec<u8> {
    let end = memchr::memmem::find(&head, b"?>").map_or(0, |i| i + 2);
    let rest = head[end..].strip_prefix(b"\n").unwrap_or(&head[end..]);
    let mut out = Vec::with_capacity(head.len() + 64);
    out.extend_from_slice(&head[..end]);
    out.push(b'\n');
    out.extend_from_slice(stylesheet_pi(feed_name).as_bytes());
    out.extend_from_slice(rest);
    out
}

/// Splits a whole XML document rendered by a crate into what comes before
/// and after its items: the items are the last children of an element that
/// closes with `close` on a line of its own.
fn split_frame(doc: Vec<u8>, close: &str) -> Result<Frame, String> {
    let text = String::from_utf8(doc).map_err(|e| e.to_string())?;
    let end = text
        .rfind(close)
        .ok_or_else(|| format!("no {close} in the rendered document"))?;
    let cut = text[..end].rfind('\n').unwrap_or(end);
    Ok(Frame {
        head: text.as_bytes()[..cut].to_vec(),
        tail: text.as_bytes()[cut..].to_vec(),
    })
}

/// The item elements of a document rendered by a crate: from the line that
/// opens the first `<open>` to the end of the last `</close>`. The
/// renderers write items by hand; tests compare them with the crates'.
#[cfg(test)]
fn item_fragment(doc: Vec<u8>, open: &str, close: &str) -> Result<Fragment, String> {
    let first = memchr::memmem::find(&doc, open.as_bytes())
        .ok_or_else(|| format!("no {open} in the rendered document"))?;
    let start = memchr::memrchr(b'\n', &doc[..first]).unwrap_or(first);
    let last = memchr::memmem::rfind(&doc, close.as_bytes())
        .ok_or_else(|| format!("no {close} in the rendered document"))?;
    Ok(Fragment {
        range: start..last + close.len(),
        bytes: doc,
    })
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::config::Site;

    /// Asserts that hand-written items are the bytes of the reference
    /// rendering, showing both as text first (a readable difference).
    pub fn assert_same_bytes(written: &[u8], expected: &[u8]) {
        assert_eq!(
            String::from_utf8_lossy(written),
            String::from_utf8_lossy(expected)
        );
        assert_eq!(written, expected);
    }

    use crate::model::{Dateline, Enclosure, FeedInfo, Item, Person};
    use chrono::{DateTime, FixedOffset};

    pub fn site() -> Site {
        toml::from_str(
            "title = \"Desk\"\nbase_url = \"https://news.example.com/\"\nrights = \"(c) Desk\"\n\
             icon = \"https://news.example.com/icon.png\"\nlogo = \"https://news.example.com/logo.png\"",
        )
        .unwrap()
    }

    pub fn info(len: usize) -> FeedInfo {
        FeedInfo {
            name: "all".into(),
            title: "All & <everything>".into(),
            description: "Every story".into(),
            formats: crate::config::Format::ALL.to_vec(),
            updated: DateTime::parse_from_rfc3339("2025-09-02T09:25:54+09:00").unwrap(),
            len,
            archive: Default::default(),
        }
    }

    /// Items with awkward content: markup, `]]>`, quotes, Korean, emoji.
    pub fn items() -> Vec<Item> {
        (0..5)
            .map(|i| {
                let published =
                    DateTime::parse_from_rfc3339(&format!("2025-09-0{}T09:25:54+09:00", 5 - i))
                        .unwrap();
                Item {
                    id: format!("tag:news.example.com,2025-09-02:story-{i}"),
                    title: format!("Story {i}: Kim & \"Xi\" <meet> 🎉 회담"),
                    version: (i == 1).then(|| "LEAD".to_owned()),
                    link: Some(format!("https://news.example.com/news/story-{i}")),
                    authors: vec![Person {
                        name: "Park Boram".into(),
                        native_name: Some("박보람".into()),
                        email: (i == 2).then(|| "park@example.com".to_owned()),
                    }],
                    published,
                    updated: published,
                    categories: vec!["NK leader".into(), "Russia".into()],
                    dateline: None,
                    summary: (i != 3).then(|| "A <b>summary</b> & more".to_owned()),
                    content_html: format!("<p>Body {i} with ]]> inside &amp; more</p>"),
                    rights: Some("ⓒ K-VIBE".into()),
                    language: (i == 4).then(|| "ko".to_owned()),
                    image: None,
                    enclosure: None,
                    draft: false,
                    status: crate::model::Status::Usable,
                    revision: None,
                    embargo: None,
                    wire: crate::model::WireMeta::default(),
                    source: "x.txt".into(),
                    line: 1,
                }
            })
            .collect()
    }

    /// A deterministic stream of pseudo-random numbers (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn chance(&mut self, percent: u64) -> bool {
            self.below(100) < percent
        }

        fn pick<'a>(&mut self, pool: &[&'a str]) -> &'a str {
            pool[self.below(pool.len() as u64) as usize]
        }

        /// Up to `max` fragments of `pool`, concatenated (maybe none).
        fn text(&mut self, pool: &[&str], max: u64) -> String {
            let n = self.below(max + 1);
            (0..n).map(|_| self.pick(pool)).collect()
        }
    }

    /// Text that XML and JSON escaping, CDATA and character references must
    /// get right: markup, control characters, backslashes, any script.
    const AWKWARD: &[&str] = &[
        "&",
        "<",
        ">",
        "\"",
        "'",
        "]]>",
        "]]",
        "]",
        "]]]]>",
        "]]]>",
        "<![CDATA[",
        "&amp;",
        "&lt;",
        "&#x26;",
        "&gt;",
        "\t",
        "\n",
        "\r\n",
        "\r",
        " ",
        "  ",
        "🎉",
        "회담",
        "박보람",
        "é",
        "ⓒ",
        "plain words",
        "Kim",
        "x",
        "-->",
        "<!--",
        "<p>",
        "</p>",
        "<b>",
        "</b>",
        "<a href=\"https://example.com/?a=1&amp;b=2\">",
        "</a>",
        "<img alt='x'/>",
        "?>",
        "\u{a0}",
        "\u{1}",
        "\u{0}",
        "\u{8}",
        "\u{c}",
        "\u{b}",
        "\u{1b}",
        "\u{1f}",
        "\u{7f}",
        "\u{85}",
        "\u{2028}",
        "\u{feff}",
        "\\",
        "\\\"",
        "\\u0041",
        "/",
        "</script>",
        "👨‍👩‍👧",
        "한국어 기사",
        "%20",
        ";",
        "=",
    ];

    /// Content ends: the start and the end of a CDATA section.
    const EDGES: &[&str] = &["", "]]>", "]]", "]", ">", "]]]]>", "<p>", "&"];

    fn date(rng: &mut Rng) -> DateTime<FixedOffset> {
        let offset = match rng.below(4) {
            0 => 0,
            1 => 9 * 3600,
            2 => -(5 * 3600 + 30 * 60),
            _ => (rng.below(26 * 60) as i32 - 13 * 60) * 60,
        };
        let nanos = match rng.chance(20) {
            true => rng.below(1_000_000_000) as u32,
            false => 0,
        };
        let secs = 946_684_800 + rng.below(2_000_000_000) as i64;
        DateTime::from_timestamp(secs, nanos)
            .unwrap()
            .with_timezone(&FixedOffset::east_opt(offset).unwrap())
    }

    /// `n` items from `seed`, every optional field present or absent (lists
    /// empty or not), every text drawn from [`AWKWARD`].
    pub fn generated_items(n: usize, seed: u64) -> Vec<Item> {
        let mut rng = Rng(seed | 1);
        (0..n)
            .map(|i| {
                let id = match rng.below(4) {
                    0 => format!(
                        "https://news.example.com/{i}?a=1&b={}",
                        rng.text(AWKWARD, 2)
                    ),
                    1 => format!("http://example.com/{i}"),
                    2 => format!("tag:news.example.com,2025:{i}{}", rng.text(AWKWARD, 3)),
                    _ => format!("{}{i}", rng.text(AWKWARD, 3)),
                };
                let authors = (0..rng.below(4))
                    .map(|_| Person {
                        name: rng.text(AWKWARD, 4),
                        native_name: rng.chance(30).then(|| rng.text(AWKWARD, 2)),
                        email: rng.chance(40).then(|| rng.text(AWKWARD, 3)),
                    })
                    .collect();
                let published = date(&mut rng);
                let updated = match rng.chance(50) {
                    true => published,
                    false => date(&mut rng),
                };
                let body_len = match rng.chance(5) {
                    true => 400,
                    false => 40,
                };
                let content_html = format!(
                    "{}{}{}",
                    rng.pick(EDGES),
                    rng.text(AWKWARD, body_len),
                    rng.pick(EDGES)
                );
                Item {
                    id,
                    title: rng.text(AWKWARD, 8),
                    version: match rng.below(10) {
                        0 | 1 => Some("LEAD".to_owned()),
                        2 => Some("2nd LD".to_owned()),
                        3 => Some(rng.text(AWKWARD, 2)),
                        _ => None,
                    },
                    link: rng.chance(70).then(|| {
                        format!("https://news.example.com/{i}?q={}", rng.text(AWKWARD, 2))
                    }),
                    authors,
                    published,
                    updated,
                    categories: (0..rng.below(5)).map(|_| rng.text(AWKWARD, 3)).collect(),
                    dateline: rng.chance(40).then(|| Dateline {
                        place: rng.text(AWKWARD, 2),
                        agency: rng.text(AWKWARD, 2),
                    }),
                    summary: rng.chance(70).then(|| rng.text(AWKWARD, 10)),
                    content_html,
                    rights: rng.chance(50).then(|| rng.text(AWKWARD, 3)),
                    language: match rng.below(5) {
                        0 => Some("en".to_owned()),
                        1 => Some("EN".to_owned()),
                        2 => Some("ko".to_owned()),
                        3 => Some(rng.text(AWKWARD, 2)),
                        _ => None,
                    },
                    image: rng.chance(30).then(|| crate::model::Image {
                        url: format!("https://cdn.example.com/{i}.jpg?w={}", rng.text(AWKWARD, 2)),
                        mime_type: rng.chance(50).then(|| "image/jpeg".to_owned()),
                        length: rng.chance(50).then(|| rng.below(1_000_000)),
                        width: rng.chance(50).then_some(640),
                        height: rng.chance(50).then_some(480),
                    }),
                    enclosure: rng.chance(30).then(|| Enclosure {
                        url: format!("https://cdn.example.com/{i}.mp3?x={}", rng.text(AWKWARD, 2)),
                        mime_type: rng.pick(&["audio/mpeg", "", "a&b<c>\"'"]).to_owned(),
                        length: match rng.below(3) {
                            0 => 0,
                            1 => u64::MAX,
                            _ => rng.below(100_000_000),
                        },
                    }),
                    draft: false,
                    status: crate::model::Status::Usable,
                    revision: None,
                    embargo: None,
                    wire: crate::model::WireMeta::default(),
                    source: "x.txt".into(),
                    line: i + 1,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_point_at_the_stylesheet_relative_to_themselves() {
        let head = b"<?xml version=\"1.0\"?><rss>".to_vec();
        assert_eq!(
            String::from_utf8(with_stylesheet(head, "category/busan")).unwrap(),
            "<?xml version=\"1.0\"?>\n<?xml-stylesheet type=\"text/xsl\" href=\"../feed.xsl\"?>\n<rss>"
        );
        let head = b"<?xml version=\"1.0\"?>\n<feed>".to_vec();
        assert_eq!(
            String::from_utf8(with_stylesheet(head, "all")).unwrap(),
            "<?xml version=\"1.0\"?>\n<?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>\n<feed>"
        );
    }

    #[test]
    fn dates() {
        let d = DateTime::parse_from_rfc3339("2025-09-02T09:25:54+09:00").unwrap();
        assert_eq!(rfc822(&d), "Tue, 02 Sep 2025 09:25:54 +0900");
        assert_eq!(rfc3339(&d), "2025-09-02T09:25:54+09:00");
        let utc = DateTime::parse_from_rfc3339("2026-11-12T15:30:00Z").unwrap();
        assert_eq!(rfc822(&utc), "Thu, 12 Nov 2026 15:30:00 +0000");
        assert_eq!(rfc3339(&utc), "2026-11-12T15:30:00+00:00");
    }
}
