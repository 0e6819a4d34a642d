//! The site-wide files: `index.html` (every feed, with autodiscovery
//! `<link rel="alternate">` tags) and `feeds.opml` (a subscription list).

use std::fmt::Write as _;

use super::{file_name, rfc3339, rfc822, XML_DECLARATION};
use crate::config::{Format, Site};
use crate::model::FeedInfo;
use crate::text::escape_html;

/// A plain HTML page listing every feed.
pub fn index_html(feeds: &[FeedInfo], site: &Site) -> Vec<u8> {
    let title = escape_html(&site.title);
    let mut head = String::new();
    let mut body = String::new();
    for feed in feeds {
        let feed_title = escape_html(&feed.title);
        for &format in &feed.formats {
            let _ = writeln!(
                head,
                "<link rel=\"alternate\" type=\"{}\" title=\"{feed_title}\" href=\"{}\">",
                format.media_type(),
                escape_html(&site.feed_url(&feed.name, format)),
            );
        }
        let links: Vec<String> = feed
            .formats
            .iter()
            .map(|&f| {
                format!(
                    "<a href=\"{}\">{}</a>",
                    escape_html(&file_name(&feed.name, f)),
                    label(f)
                )
            })
            .collect();
        let _ = write!(
            body,
            "<li>\n<h2>{feed_title}</h2>\n<p>{}</p>\n<p>{} {}, last updated <time datetime=\"{}\">{}</time></p>\n<p>{}</p>\n</li>\n",
            escape_html(&feed.description),
            feed.len,
            if feed.len == 1 { "item" } else { "items" },
            rfc3339(&feed.updated),
            rfc822(&feed.updated),
            links.join(" · "),
        );
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} — feeds</title>\n{head}</head>\n<body>\n<h1>{title} — feeds</h1>\n\
         <p>Copy a link into your feed reader to subscribe. <a href=\"feeds.opml\">All feeds as OPML</a>.</p>\n\
         <ul>\n{body}</ul>\n</body>\n</html>\n",
        lang = escape_html(&site.language),
    )
    .into_bytes()
}

fn label(format: Format) -> &'static str {
    match format {
        Format::Rss => "RSS",
        Format::Atom => "Atom",
        Format::Json => "JSON Feed",
    }
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
            escape_html(site.base_url.as_str()),
            t = escape_html(&feed.title),
        );
    }
    out.push_str("  </body>\n</opml>\n");
    out.into_bytes()
}
