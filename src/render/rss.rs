//! RSS 2.0 with the `rss` crate: `atom:link rel="self"`, `content:encoded`,
//! `dc:creator`, guids with the right `isPermaLink`.

use ::rss::extension::atom::AtomExtension;
use ::rss::extension::dublincore::DublinCoreExtension;
use ::rss::{Category, Channel, Enclosure, Guid, Item as RssItem};
use atom_syndication::Link;

use super::{rfc822, GENERATOR, VERSION};
use crate::config::{Format, Site};
use crate::model::{Feed, Item};
use crate::text::escape_html;

pub fn render(feed: &Feed, site: &Site) -> Result<Vec<u8>, String> {
    let channel = Channel {
        title: feed.title.clone(),
        link: site.base_url.to_string(),
        description: feed.description.clone(),
        language: Some(site.language.clone()),
        copyright: site.rights.clone(),
        last_build_date: Some(rfc822(&feed.updated)),
        generator: Some(format!("{GENERATOR} {VERSION}")),
        atom_ext: Some(AtomExtension {
            links: vec![Link {
                href: site.feed_url(&feed.name, Format::Rss),
                rel: "self".into(),
                mime_type: Some(Format::Rss.media_type().into()),
                ..Link::default()
            }],
        }),
        items: feed.items.iter().map(|i| item(i)).collect(),
        ..Channel::default()
    };
    channel
        .pretty_write_to(Vec::new(), b' ', 2)
        .map_err(|e| e.to_string())
}

fn item(item: &Item) -> RssItem {
    // RSS `author` must be an e-mail address; names go in dc:creator.
    let author = item
        .authors
        .iter()
        .find_map(|p| p.email.as_ref().map(|e| format!("{e} ({})", p.name)));
    let is_url = item.id.starts_with("http://") || item.id.starts_with("https://");
    RssItem {
        title: Some(item.title.clone()),
        link: item.link.clone(),
        // `description` is HTML: escape the plain-text summary.
        description: item.summary.as_deref().map(escape_html),
        content: Some(item.content_html.clone()),
        author,
        categories: item
            .categories
            .iter()
            .map(|c| Category {
                name: c.clone(),
                domain: None,
            })
            .collect(),
        enclosure: item.enclosure.as_ref().map(|e| Enclosure {
            url: e.url.clone(),
            length: e.length.to_string(),
            mime_type: e.mime_type.clone(),
        }),
        guid: Some(Guid {
            value: item.id.clone(),
            permalink: is_url,
        }),
        pub_date: Some(rfc822(&item.published)),
        dublin_core_ext: Some(DublinCoreExtension {
            creators: item.authors.iter().map(|p| p.name.clone()).collect(),
            ..DublinCoreExtension::default()
        }),
        ..RssItem::default()
    }
}
