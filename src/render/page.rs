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
    out.push_str("<p class=\"note\">An archive page: its stories do not change. New stories are in ");
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
    out.push_str("<section class=\"subscribe\">\n<h2>Subscribe</h2>\n");
    out.push_str("<p>Copy an address into your feed reader:</p>\n<ul class=\"formats\">\n");
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
        esc(out, &url);
        out.push_str("</code></li>\n");
    }
    out.push_str("</ul>\n</section>\n");
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
    out.push_str(">\n<h3>");
    if let Some(version) = &item.version {
        out.push_str("<span class=\"version\">");
        esc(out, version);
        out.push_str("</span> ");
    }
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
