//! A feed's HTML page (`NAME.html` beside `NAME.rss`): what a person who
//! opens the feed in a browser reads. Its title and description, how to
//! subscribe (each format's absolute address, to copy), then the items:
//! title linked to the story, date in the site's time zone, authors and
//! summary. Archive documents get a page too, linked to their neighbours.
//!
//! Like the feeds, a page is a frame around item fragments, so that a feed
//! of any size is written as a stream. No script; every text goes through
//! the one escaper; summaries are plain text (normalize made them so), and
//! the sanitized HTML bodies are left to the feeds.

use chrono::{DateTime, FixedOffset};

use super::{file_name, label, page_name, rfc3339, up_to_root, Fragment, Frame, GENERATOR};
use crate::config::Site;
use crate::model::{FeedInfo, Item, Person};
use crate::text::{push_escaped, SAFE_HTML};

/// The site's stylesheet, written beside `index.html`.
pub const STYLE_NAME: &str = "style.css";

/// The stylesheet's bytes.
pub fn style() -> &'static [u8] {
    include_bytes!("style.css")
}

fn esc(out: &mut String, text: &str) {
    push_escaped(out, text, &SAFE_HTML);
}

/// `date` in the site's zone, for people: `19 Nov 2026, 16:20 KST`.
pub(super) fn local_date(date: &DateTime<FixedOffset>, site: &Site) -> String {
    date.with_timezone(&site.timezone)
        .format("%-d %b %Y, %H:%M %Z")
        .to_string()
}

/// `<time>` of `date`: machine-readable with its own offset, shown in the
/// site's zone.
pub(super) fn push_time(out: &mut String, date: &DateTime<FixedOffset>, site: &Site) {
    out.push_str("<time datetime=\"");
    out.push_str(&rfc3339(date));
    out.push_str("\">");
    esc(out, &local_date(date, site));
    out.push_str("</time>");
}

/// The `<head>` every page of the site opens with, up to `<body>`.
/// `links` are extra `<link>` elements, already escaped.
pub(super) fn push_head(out: &mut String, title: &str, up: &str, links: &str, site: &Site) {
    out.push_str("<!DOCTYPE html>\n<html lang=\"");
    esc(out, &site.language);
    out.push_str("\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n<title>");
    esc(out, title);
    out.push_str("</title>\n<link rel=\"stylesheet\" href=\"");
    esc(out, up);
    out.push_str(STYLE_NAME);
    out.push_str("\">\n");
    out.push_str(links);
    out.push_str("</head>\n<body>\n");
}

/// The end of every page: the rights and who made it.
pub(super) fn push_foot(out: &mut String, site: &Site) {
    out.push_str("<footer>\n");
    if let Some(rights) = &site.rights {
        out.push_str("<p>");
        esc(out, rights);
        out.push_str("</p>\n");
    }
    out.push_str("<p>Made by ");
    out.push_str(GENERATOR);
    out.push_str(".</p>\n</footer>\n</body>\n</html>\n");
}

/// `<a href="{up}{name}.html">{text}</a>`: a link to another feed's page.
fn push_page_link(out: &mut String, up: &str, name: &str, text: &str) {
    out.push_str("<a href=\"");
    esc(out, up);
    esc(out, &page_name(name));
    out.push_str("\">");
    out.push_str(text);
    out.push_str("</a>");
}

/// Everything before the first item and after the last.
pub fn frame(info: &FeedInfo, site: &Site) -> Frame {
    let up = up_to_root(&info.name);
    let mut links = String::new();
    // Autodiscovery for one format: the feed is one feed, whatever it is
    // written as; the others are links below.
    if let Some(&format) = info.formats.first() {
        links.push_str("<link rel=\"alternate\" type=\"");
        links.push_str(format.media_type());
        links.push_str("\" title=\"");
        esc(&mut links, &info.title);
        links.push_str("\" href=\"");
        esc(&mut links, &site.feed_url(&info.name, format));
        links.push_str("\">\n");
    }
    let mut out = String::with_capacity(4096);
    push_head(&mut out, &info.title, &up, &links, site);
    out.push_str("<header class=\"site\"><a href=\"");
    esc(&mut out, &up);
    out.push_str("index.html\">");
    esc(&mut out, &site.title);
    out.push_str("</a></header>\n<main>\n<h1>");
    esc(&mut out, &info.title);
    out.push_str("</h1>\n<p class=\"lede\">");
    esc(&mut out, &info.description);
    out.push_str("</p>\n");
    push_archive_note(&mut out, info, &up);
    push_subscribe(&mut out, info, site);
    out.push_str("<h2>");
    out.push_str(match info.len {
        0 => "No stories yet",
        1 => "1 story",
        _ => "Stories",
    });
    out.push_str("</h2>\n<p class=\"meta\">Updated ");
    push_time(&mut out, &info.updated, site);
    out.push_str("</p>\n<ol class=\"items\">\n");
    let head = out.into_bytes();

    let mut out = String::from("</ol>\n");
    push_archive_nav(&mut out, info, &up);
    out.push_str("</main>\n");
    push_foot(&mut out, site);
    Frame {
        head,
        tail: out.into_bytes(),
    }
}

/// What an archive document is, and its feed.
fn push_archive_note(out: &mut String, info: &FeedInfo, up: &str) {
    let (true, Some(current)) = (info.archive.is_archive, &info.archive.current) else {
        return;
    };
    out.push_str(
        "<p class=\"note\">An archive page: its stories do not change. New stories are in ",
    );
    push_page_link(out, up, current, "the current feed");
    out.push_str(".</p>\n");
}

/// Links to the older and newer archive documents.
fn push_archive_nav(out: &mut String, info: &FeedInfo, up: &str) {
    let a = &info.archive;
    let newer = a.next_archive.as_ref().or(a.current.as_ref());
    if a.prev_archive.is_none() && newer.is_none() {
        return;
    }
    out.push_str("<nav class=\"pages\">\n");
    if let Some(prev) = &a.prev_archive {
        push_page_link(out, up, prev, "← Older stories");
        out.push('\n');
    }
    if let Some(newer) = newer.filter(|_| a.is_archive) {
        push_page_link(out, up, newer, "Newer stories →");
        out.push('\n');
    }
    out.push_str("</nav>\n");
}

/// How to subscribe: each format's absolute address, shown whole so that
/// it can be copied (one tap selects it) and linked.
fn push_subscribe(out: &mut String, info: &FeedInfo, site: &Site) {
    // An archive document never changes: nothing to follow, but its
    // addresses are still what a reader fetches to page back.
    out.push_str(match info.archive.is_archive {
        false => {
            "<section class=\"subscribe\">\n<h2>Subscribe</h2>\n\
                  <p>Copy an address into your feed reader:</p>\n"
        }
        true => {
            "<section class=\"subscribe\">\n<h2>This page as a feed</h2>\n\
                 <p>Feed readers page back through these addresses:</p>\n"
        }
    });
    out.push_str("<ul class=\"formats\">\n");
    let up = up_to_root(&info.name);
    for &format in &info.formats {
        let url = site.feed_url(&info.name, format);
        // A relative link works wherever the folder is served (`wirefeed
        // serve` on a laptop); the address shown is the one to subscribe to.
        out.push_str("<li><a class=\"format\" href=\"");
        esc(out, &up);
        esc(out, &file_name(&info.name, format));
        out.push_str("\" type=\"");
        out.push_str(format.media_type());
        out.push_str("\">");
        out.push_str(label(format));
        out.push_str("</a> <code class=\"url\">");
        push_breakable(out, &url);
        out.push_str("</code></li>\n");
    }
    out.push_str("</ul>\n</section>\n");
}

/// `url` escaped, with a line-break opportunity (`<wbr>`, which copying
/// leaves out) after each `/` of its path, so that a long address wraps
/// between its parts on a phone.
fn push_breakable(out: &mut String, url: &str) {
    let path_start = url.find("://").map_or(0, |i| i + 3);
    let (scheme, rest) = url.split_at(path_start);
    esc(out, scheme);
    let mut parts = rest.split_inclusive('/').peekable();
    while let Some(part) = parts.next() {
        esc(out, part);
        if part.ends_with('/') && parts.peek().is_some() {
            out.push_str("<wbr>");
        }
    }
}

/// The `<li>` of each item.
pub fn items(items: &[&Item], site: &Site) -> Fragment {
    let mut out = String::with_capacity(items.len() * 640);
    for item in items {
        push_item(&mut out, item, site);
    }
    Fragment::whole(out.into_bytes())
}

fn push_item(out: &mut String, item: &Item, site: &Site) {
    out.push_str("<li>\n<article");
    if let Some(lang) = item.language.as_deref().filter(|l| *l != site.language) {
        out.push_str(" lang=\"");
        esc(out, lang);
        out.push('"');
    }
    // The title keeps its version tag, `(LEAD)`: nothing to add.
    out.push_str(">\n<h3>");
    match &item.link {
        Some(link) => {
            out.push_str("<a href=\"");
            esc(out, link);
            out.push_str("\">");
            esc(out, &item.title);
            out.push_str("</a>");
        }
        None => esc(out, &item.title),
    }
    out.push_str("</h3>\n<p class=\"meta\">");
    push_time(out, &item.published, site);
    if !item.authors.is_empty() {
        out.push_str(" · ");
        push_authors(out, &item.authors);
    }
    out.push_str("</p>\n");
    if let Some(summary) = &item.summary {
        out.push_str("<p>");
        esc(out, summary);
        out.push_str("</p>\n");
    }
    out.push_str("</article>\n</li>\n");
}

/// `Park Boram (박보람), Kim Eun-jung`.
fn push_authors(out: &mut String, authors: &[Person]) {
    for (i, person) in authors.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str("<span class=\"author\">");
        esc(out, &person.name);
        if let Some(native) = person.native_name.as_deref().filter(|n| *n != person.name) {
            out.push_str(" (");
            esc(out, native);
            out.push(')');
        }
        out.push_str("</span>");
    }
}

/// The address of feed `name`'s page.
pub fn page_url(name: &str, site: &Site) -> String {
    site.feed_url_of_file(&page_name(name))
}

/// The media type feeds link their page with (`text/html`, from the one
/// table).
pub fn media_type() -> &'static str {
    let full = crate::config::media_type(std::path::Path::new("page.html"));
    full.split_once(';').map_or(full, |(bare, _)| bare)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{generated_items, info, items, site};
    use super::*;
    use crate::config::Format;
    use crate::model::Archive;

    fn page(info: &FeedInfo, items: &[Item]) -> String {
        let refs: Vec<&Item> = items.iter().collect();
        let frame = frame(info, &site());
        let mut out = frame.head;
        out.extend_from_slice(super::items(&refs, &site()).as_bytes());
        out.extend_from_slice(&frame.tail);
        String::from_utf8(out).unwrap()
    }

    const TAGS: &[&str] = &[
        "!DOCTYPE", "html", "head", "meta", "title", "link", "body", "header", "main", "h1", "h2",
        "h3", "p", "section", "ul", "ol", "li", "a", "code", "time", "article", "span", "nav",
        "footer", "wbr",
    ];

    /// Every tag of `html` is one the page writes, and every attribute is
    /// `name="value"` with nothing in the value that could end it: no text
    /// made markup, no value broke out of its quotes.
    fn assert_only_our_markup(html: &str) {
        let mut rest = html;
        while let Some(open) = rest.find('<') {
            assert!(
                !rest[..open].contains('>'),
                "a bare > in text: {}",
                &rest[..open]
            );
            let after = &rest[open + 1..];
            let close = after
                .find('>')
                .unwrap_or_else(|| panic!("unclosed tag: {after}"));
            let tag = after[..close].trim_start_matches('/');
            let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
            assert!(TAGS.contains(&name), "a tag we never write: <{tag}>");
            if name == "!DOCTYPE" {
                attrs = "";
            }
            while !attrs.is_empty() {
                let (key, value) = attrs.split_once("=\"").expect(attrs);
                assert!(
                    key.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                    "attribute name {key:?} in <{tag}>"
                );
                let end = value.find('"').expect(value);
                assert!(!value[..end].contains(['<', '>']), "{tag}");
                attrs = value[end + 1..].trim_start();
            }
            rest = &after[close + 1..];
        }
        assert!(!rest.contains('>'), "a bare > after the last tag");
    }

    #[test]
    fn a_page_has_the_feed_how_to_subscribe_and_every_item() {
        let items = items();
        let html = page(&info(items.len()), &items);
        assert_only_our_markup(&html);
        assert!(
            html.contains("<title>All &amp; &lt;everything&gt;</title>"),
            "{html}"
        );
        assert!(html.contains("<h1>All &amp; &lt;everything&gt;</h1>"));
        for format in Format::ALL {
            let url = site().feed_url("all", format);
            let shown = url.replace("/feeds/", "/<wbr>feeds/<wbr>");
            assert!(
                html.contains(&format!("<code class=\"url\">{shown}</code>")),
                "{shown}"
            );
            assert!(html.contains(&format!("href=\"all.{}\"", format.extension())));
        }
        // Autodiscovery names the feed once, in its first format.
        assert_eq!(html.matches("rel=\"alternate\"").count(), 1);
        assert_eq!(html.matches("<article").count(), items.len());
        assert!(html.contains(
            "<a href=\"https://news.example.com/news/story-0\">Story 0: Kim &amp; &quot;Xi&quot; &lt;meet&gt; 🎉 회담</a>"
        ));
        assert!(html.contains("<span class=\"author\">Park Boram (박보람)</span>"));
        assert!(html.contains("<p>A &lt;b&gt;summary&lt;/b&gt; &amp; more</p>"));
        // Bodies stay in the feeds; the page shows summaries.
        assert!(!html.contains("Body 0"));
        assert!(html.contains("<article lang=\"ko\">"));
        assert!(html.contains("<h2>Subscribe</h2>") && !html.contains("archive"));
        assert!(html.contains("<p>(c) Desk</p>"));
    }

    #[test]
    fn dates_are_shown_in_the_sites_zone_with_their_own_offset_kept() {
        let mut items = items();
        items.truncate(1);
        items[0].published = DateTime::parse_from_rfc3339("2026-11-19T07:20:00+00:00").unwrap();
        let html = page(&info(1), &items);
        // Seoul is nine hours ahead.
        assert!(
            html.contains(
                "<time datetime=\"2026-11-19T07:20:00+00:00\">19 Nov 2026, 16:20 KST</time>"
            ),
            "{html}"
        );
        let mut elsewhere = site();
        elsewhere.timezone = chrono_tz::America::New_York;
        assert_eq!(
            local_date(&items[0].published, &elsewhere),
            "19 Nov 2026, 02:20 EST"
        );
    }

    #[test]
    fn hostile_text_is_shown_as_text_and_never_becomes_markup() {
        let mut items = items();
        items.truncate(1);
        let hostile = "\"><script>alert('x')</script><img src=x onerror=alert(1)> ' \u{1}&amp;";
        items[0].title = hostile.into();
        items[0].summary = Some(hostile.into());
        items[0].authors[0].name = hostile.into();
        items[0].authors[0].native_name = Some(hostile.into());
        items[0].language = Some(hostile.into());
        items[0].link = Some(format!("https://news.example.com/?q={hostile}"));
        let mut info = info(1);
        info.title = hostile.into();
        info.description = hostile.into();
        let html = page(&info, &items);
        assert_only_our_markup(&html);
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
        assert!(html.contains("&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        // What XML forbids is dropped; an entity in text stays text.
        assert!(!html.contains('\u{1}'));
        assert!(html.contains("&amp;amp;"));
        for seed in 1..40 {
            let items = generated_items(30, seed);
            let html = page(&super::super::test_support::info(items.len()), &items);
            assert_only_our_markup(&html);
            assert_eq!(html.matches("<article").count(), items.len());
        }
    }

    #[test]
    fn the_same_feed_gives_the_same_bytes_whole_or_in_chunks() {
        let items = generated_items(50, 7);
        let refs: Vec<&Item> = items.iter().collect();
        let whole = page(&info(items.len()), &items);
        assert_eq!(whole, page(&info(items.len()), &items));
        let mut chunked = frame(&info(items.len()), &site()).head;
        for part in refs.chunks(7) {
            chunked.extend_from_slice(super::items(part, &site()).as_bytes());
        }
        chunked.extend_from_slice(&frame(&info(items.len()), &site()).tail);
        assert_eq!(whole.as_bytes(), chunked);
    }

    #[test]
    fn archive_pages_link_their_feed_and_neighbours() {
        let mut info = info(0);
        info.name = "wire/archive/2".into();
        info.archive = Archive {
            is_archive: true,
            current: Some("wire".into()),
            prev_archive: Some("wire/archive/1".into()),
            next_archive: Some("wire/archive/3".into()),
        };
        let html = page(&info, &[]);
        assert_only_our_markup(&html);
        assert!(html.contains("<link rel=\"stylesheet\" href=\"../../style.css\">"));
        assert!(html.contains("<a href=\"../../index.html\">Desk</a>"));
        assert!(html.contains("<a href=\"../../wire.html\">the current feed</a>"));
        assert!(html.contains("<a href=\"../../wire/archive/1.html\">← Older stories</a>"));
        assert!(html.contains("<a href=\"../../wire/archive/3.html\">Newer stories →</a>"));
        assert!(html.contains("<h2>No stories yet</h2>"));
        assert!(html.contains("<h2>This page as a feed</h2>") && !html.contains("Subscribe"));
        assert!(html.contains(
            "<code class=\"url\">https://news.example.com/<wbr>feeds/<wbr>wire/<wbr>archive/<wbr>2.rss</code>"
        ));
    }
}
