//! RSS 2.0 with the `rss` crate: `atom:link rel="self"`, `content:encoded`,
//! `dc:creator`, guids with the right `isPermaLink`.

use std::collections::BTreeMap;

use ::rss::extension::atom::AtomExtension;
use ::rss::extension::dublincore::DublinCoreExtension;
use ::rss::extension::{Extension, ExtensionMap};
use ::rss::{Category, Channel, Enclosure, Guid, Item as RssItem};
use atom_syndication::Link;

use super::{
    archive_links, item_fragment, rfc822, split_frame, Fragment, Frame, GENERATOR, HISTORY_NS,
    VERSION,
};
use crate::config::{Format, Site};
use crate::model::{FeedInfo, Item};
use crate::text::escape_html;

/// Declared on the root element whether or not a chunk uses them, so that
/// frame and fragments agree.
fn namespaces() -> BTreeMap<String, String> {
    [
        ("atom", "http://www.w3.org/2005/Atom"),
        ("content", "http://purl.org/rss/1.0/modules/content/"),
        ("dc", "http://purl.org/dc/elements/1.1/"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn channel(info: &FeedInfo, site: &Site) -> Channel {
    let mut links = vec![Link {
        href: site.feed_url(&info.name, Format::Rss),
        rel: "self".into(),
        mime_type: Some(Format::Rss.media_type().into()),
        ..Link::default()
    }];
    if let Some(hub) = &site.hub {
        links.push(Link {
            href: hub.to_string(),
            rel: "hub".into(),
            ..Link::default()
        });
    }
    for (rel, href) in archive_links(info, Format::Rss, site) {
        links.push(Link {
            href,
            rel: rel.into(),
            mime_type: Some(Format::Rss.media_type().into()),
            ..Link::default()
        });
    }
    let mut namespaces = namespaces();
    let mut extensions = ExtensionMap::new();
    if info.archive.is_archive {
        namespaces.insert("fh".into(), HISTORY_NS.into());
        let archive = Extension {
            name: "fh:archive".into(),
            ..Extension::default()
        };
        extensions.insert("fh".into(), [("archive".to_owned(), vec![archive])].into());
    }
    Channel {
        title: info.title.clone(),
        link: site.base_url.to_string(),
        description: info.description.clone(),
        language: Some(site.language.clone()),
        copyright: site.rights.clone(),
        last_build_date: Some(rfc822(&info.updated)),
        generator: Some(format!("{GENERATOR} {VERSION}")),
        atom_ext: Some(AtomExtension { links }),
        namespaces,
        extensions,
        ..Channel::default()
    }
}

fn write(channel: &Channel) -> Result<Vec<u8>, String> {
    channel
        .pretty_write_to(Vec::new(), b' ', 2)
        .map_err(|e| e.to_string())
}

pub fn frame(info: &FeedInfo, site: &Site) -> Result<Frame, String> {
    split_frame(char_refs(write(&channel(info, site))?), "</channel>")
}

pub fn items(items: &[&Item]) -> Result<Fragment, String> {
    let channel = Channel {
        items: items.iter().map(|i| item(i)).collect(),
        namespaces: namespaces(),
        ..Channel::default()
    };
    item_fragment(char_refs(write(&channel)?), "<item>", "</item>")
}

/// The RSS Best Practices Profile wants `&` and `<` in plain-text elements
/// (titles, categories, copyright) as hexadecimal character references;
/// quick-xml writes `&amp;` and `&lt;`. Outside CDATA sections those are
/// replaced by the equivalent `&#x26;` and `&#x3C;`; the HTML inside CDATA
/// is left exactly as it is.
fn char_refs(xml: Vec<u8>) -> Vec<u8> {
    use memchr::memmem;
    if memmem::find(&xml, b"&amp;").is_none() && memmem::find(&xml, b"&lt;").is_none() {
        return xml;
    }
    let mut out = Vec::with_capacity(xml.len() + 64);
    let mut rest = xml.as_slice();
    while !rest.is_empty() {
        let plain_end = memmem::find(rest, b"<![CDATA[").unwrap_or(rest.len());
        let plain = &rest[..plain_end];
        let mut i = 0;
        while i < plain.len() {
            if plain[i..].starts_with(b"&amp;") {
                out.extend_from_slice(b"&#x26;");
                i += 5;
            } else if plain[i..].starts_with(b"&lt;") {
                out.extend_from_slice(b"&#x3C;");
                i += 4;
            } else {
                out.push(plain[i]);
                i += 1;
            }
        }
        rest = &rest[plain_end..];
        let cdata_end = memmem::find(rest, b"]]>").map_or(rest.len(), |e| e + 3);
        out.extend_from_slice(&rest[..cdata_end]);
        rest = &rest[cdata_end..];
    }
    out
}

/// Bylines go in `dc:creator`: RSS `author` must be an e-mail address, and
/// a person in both would be reported as duplicate item semantics.
fn item(item: &Item) -> RssItem {
    let is_url = item.id.starts_with("http://") || item.id.starts_with("https://");
    RssItem {
        title: Some(item.title.clone()),
        link: item.link.clone(),
        // `description` is HTML: escape the plain-text summary. An item
        // with no text of its own (an image, say) still needs one before
        // `content:encoded`: its title.
        description: Some(escape_html(item.summary.as_deref().unwrap_or(&item.title))),
        content: Some(item.content_html.clone()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_gets_hex_references_and_cdata_is_untouched() {
        let xml = b"<title>A &amp; B &lt;C&gt;</title><description><![CDATA[x &amp; &lt;b&gt; ]]]]><![CDATA[>]]></description><category>&lt;</category>".to_vec();
        assert_eq!(
            String::from_utf8(char_refs(xml)).unwrap(),
            "<title>A &#x26; B &#x3C;C&gt;</title><description><![CDATA[x &amp; &lt;b&gt; ]]]]><![CDATA[>]]></description><category>&#x3C;</category>"
        );
    }
    use crate::render::test_support::{info, items as sample, site};

    #[test]
    fn frame_and_fragments_are_the_crates_whole_document() {
        let site = site();
        let items = sample();
        let refs: Vec<&Item> = items.iter().collect();
        let info = info(refs.len());
        let mut whole = channel(&info, &site);
        whole.items = refs.iter().map(|i| item(i)).collect();
        let expected = char_refs(write(&whole).unwrap());

        let frame = frame(&info, &site).unwrap();
        let mut streamed = frame.head.clone();
        for chunk in refs.chunks(2) {
            streamed.extend(super::items(chunk).unwrap().as_bytes());
        }
        streamed.extend(&frame.tail);
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }
}
