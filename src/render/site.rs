//! The site-wide files: `index.html` (every feed once, autodiscovery for
//! the main ones), `feeds.opml` (a subscription list) and the stylesheets.

use std::fmt::Write as _;

use super::page::{self, STYLE_NAME};
use super::{file_name, label, page_name, XML_DECLARATION};
use crate::config::Site;
use crate::model::FeedInfo;
use crate::text::{escape_html, push_escaped_html};

/// The files every build writes beside the feeds, by name: the index,
/// the OPML list, and the two stylesheets. `feeds` are the subscribable
/// feeds (no archive documents); `main` names the configured `[[feed]]`s.
pub fn site_files(feeds: &[FeedInfo], site: &Site, main: &[&str]) -> [(&'static str, Vec<u8>); 4] {
    [
        ("index.html", index_html(feeds, site, main)),
        ("feeds.opml", opml(feeds, site)),
        (super::STYLESHEET_NAME, super::stylesheet().to_vec()),
        (STYLE_NAME, page::style().to_vec()),
    ]
}

/// The site's front page: every feed once, linked to its page, with its
/// formats as links. Autodiscovery (`<link rel="alternate">`, what a
/// reader's "subscribe" prompt offers) names only the `main` feeds, each
/// in its first format: the category feeds would make it a long list of
/// near-duplicates.
pub fn index_html(feeds: &[FeedInfo], site: &Site, main: &[&str]) -> Vec<u8> {
    let is_main = |f: &&FeedInfo| main.contains(&f.name.as_str());
    let (mains, others): (Vec<&FeedInfo>, Vec<&FeedInfo>) = feeds.iter().partition(is_main);
    let mut links = String::new();
    for feed in &mains {
        let Some(&format) = feed.formats.first() else {
            continue;
        };
        let _ = writeln!(
            links,
            "<link rel=\"alternate\" type=\"{}\" title=\"{}\" href=\"{}\">",
            format.media_type(),
            escape_html(&feed.title),
            escape_html(&site.feed_url(&feed.name, format)),
        );
    }
    let mut out = String::with_capacity(2048 + feeds.len() * 512);
    page::push_head(&mut out, &site.title, "", &links, site);
    out.push_str("<main>\n<h1>");
    push_escaped_html(&mut out, &site.title);
    out.push_str("</h1>\n");
    if let Some(description) = &site.description {
        out.push_str("<p class=\"lede\">");
        push_escaped_html(&mut out, description);
        out.push_str("</p>\n");
    }
    out.push_str(
        "<p>Open a feed to read its stories and find the address to give your feed \
         reader, or take a format&#39;s link straight to it. \
         <a href=\"feeds.opml\">Every feed as an OPML list</a>.</p>\n",
    );
    if !mains.is_empty() {
        out.push_str("<h2>Feeds</h2>\n<ul class=\"feeds\">\n");
        for feed in &mains {
            push_feed(&mut out, feed, site, true);
        }
        out.push_str("</ul>\n");
    }
    if !others.is_empty() {
        out.push_str("<h2>By category</h2>\n<ul class=\"feeds compact\">\n");
        for feed in &others {
            push_feed(&mut out, feed, site, false);
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</main>\n");
    page::push_foot(&mut out, site);
    out.into_bytes()
}

/// One feed of the index: its title linked to its page, then (for a main
/// feed) its description and date, then its formats.
fn push_feed(out: &mut String, feed: &FeedInfo, site: &Site, full: bool) {
    out.push_str("<li>\n<h3><a href=\"");
    push_escaped_html(out, &page_name(&feed.name));
    out.push_str("\">");
    push_escaped_html(out, &feed.title);
    out.push_str("</a></h3>\n");
    if full {
        out.push_str("<p>");
        push_escaped_html(out, &feed.description);
        out.push_str("</p>\n");
    }
    let _ = write!(
        out,
        "<p class=\"meta\">{} {}",
        feed.len,
        if feed.len == 1 { "story" } else { "stories" }
    );
    if full && feed.len > 0 {
        out.push_str(", updated ");
        page::push_time(out, &feed.updated, site);
    }
    out.push_str("</p>\n<p class=\"formats\">");
    for (i, &format) in feed.formats.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str("<a href=\"");
        push_escaped_html(out, &file_name(&feed.name, format));
        let _ = write!(
            out,
            "\" type=\"{}\">{}</a>",
            format.media_type(),
            label(format)
        );
    }
    out.push_str("</p>\n</li>\n");
}

/// An OPML 2.0 subscription list: one outline per feed, in its preferred
/// format (RSS, then Atom, then JSON Feed). OPML readers take
/// `type="rss"` for any feed format.
pub fn opml(feeds: &[FeedInfo], site: &Site) -> Vec<u8> {
    let mut out = String::from(XML_DECLARATION);
    let _ = write!(
        out,
        "<opml version=\"2.0\">\n  <head>\n    <title>{}</title>\n  </head>\n  <body>\n",
        escape_html(&site.title)
    );
    for feed in feeds {
        let Some(&format) = feed.formats.first() else {
            continue;
        };
        let _ = writeln!(
            out,
            "    <outline type=\"rss\" text=\"{t}\" title=\"{t}\" xmlUrl=\"{}\" htmlUrl=\"{}\"/>",
            escape_html(&site.feed_url(&feed.name, format)),
            escape_html(&page::page_url(&feed.name, site)),
            t = escape_html(&feed.title),
        );
    }
    out.push_str("  </body>\n</opml>\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{info, site};
    use super::*;
    use crate::config::Format;

    fn feeds() -> Vec<FeedInfo> {
        let feed = |name: &str, formats: &[Format]| FeedInfo {
            name: name.into(),
            title: format!("Title of {name} & <co>"),
            formats: formats.to_vec(),
            ..info(2)
        };
        vec![
            feed("all", &Format::ALL),
            feed("editors", &[Format::Atom, Format::Json]),
            feed("category/busan", &Format::ALL),
            feed("category/seoul", &Format::ALL),
        ]
    }

    #[test]
    fn the_index_lists_each_feed_once_and_offers_only_the_main_feeds_to_readers() {
        let html = String::from_utf8(index_html(&feeds(), &site(), &["all", "editors"])).unwrap();
        let discovery: Vec<&str> = html
            .lines()
            .filter(|l| l.starts_with("<link rel=\"alternate\""))
            .collect();
        assert_eq!(
            discovery,
            [
                "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"Title of all &amp; &lt;co&gt;\" href=\"https://news.example.com/feeds/all.rss\">",
                "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Title of editors &amp; &lt;co&gt;\" href=\"https://news.example.com/feeds/editors.atom\">",
            ]
        );
        for feed in feeds() {
            let link = format!(
                "<a href=\"{}.html\">{}</a>",
                feed.name,
                escape_html(&feed.title)
            );
            assert_eq!(html.matches(&link).count(), 1, "{link} in\n{html}");
            for format in &feed.formats {
                let href = format!("href=\"{}\"", file_name(&feed.name, *format));
                assert_eq!(html.matches(&href).count(), 1, "{href}");
            }
        }
        assert!(!html.contains("editors.rss"));
        let (main, categories) = html.split_once("<h2>By category</h2>").unwrap();
        assert!(main.contains("editors.html") && !main.contains("busan"));
        assert!(categories.contains("category/busan.html") && !categories.contains("all.html"));
        assert!(html.contains("<link rel=\"stylesheet\" href=\"style.css\">"));
        assert!(html.contains(
            "2 stories, updated <time datetime=\"2025-09-02T09:25:54+09:00\">2 Sep 2025, 09:25 KST</time>"
        ));
        assert_eq!(
            html,
            String::from_utf8(index_html(&feeds(), &site(), &["all", "editors"])).unwrap()
        );
    }

    #[test]
    fn opml_points_readers_at_each_feeds_page() {
        let opml = String::from_utf8(opml(&feeds(), &site())).unwrap();
        assert!(opml.contains(
            "xmlUrl=\"https://news.example.com/feeds/editors.atom\" htmlUrl=\"https://news.example.com/feeds/editors.html\""
        ), "{opml}");
    }
}
