//! RSS 2.0: `atom:link rel="self"`, `content:encoded`, `dc:creator`, guids
//! with the right `isPermaLink`. The frame is written with the `rss` crate,
//! the items by hand into the same bytes the crate writes (tests compare
//! the two), without building an `rss::Item` per item.

use std::collections::BTreeMap;

use ::rss::extension::atom::AtomExtension;
use ::rss::extension::{Extension, ExtensionMap};
use ::rss::Channel;
use atom_syndication::Link;

use super::xml::{as_html_if_it_looks_like_it, valid_email};
use super::xml::{push_attribute, push_cdata, push_escaped, push_line, push_text_element};
use super::xml::{HTML, RSS_TEXT};
use super::{archive_links, rfc822, split_frame, Fragment, Frame, GENERATOR, HISTORY_NS, VERSION};
use crate::config::{Format, Site};
use crate::model::{FeedInfo, Item, Person};

/// Dublin Core terms: `dcterms:modified`, an item's update time, which
/// feedparser reads as `updated`.
const DCTERMS_NS: &str = "http://purl.org/dc/terms/";

/// Media RSS: an item's picture (`media:content`, `media:thumbnail`).
const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

/// Declared on the root element whether or not a chunk uses them, so that
/// frame and fragments agree.
fn namespaces() -> BTreeMap<String, String> {
    [
        ("atom", "http://www.w3.org/2005/Atom"),
        ("content", "http://purl.org/rss/1.0/modules/content/"),
        ("dc", "http://purl.org/dc/elements/1.1/"),
        ("dcterms", DCTERMS_NS),
        ("media", MEDIA_NS),
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
    // The channel's `link` is the site; the feed's own page for people is
    // an alternate of the feed.
    links.push(Link {
        href: super::page_url(&info.name, site),
        rel: "alternate".into(),
        mime_type: Some(super::page::media_type().into()),
        ..Link::default()
    });
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
    // Plain-text elements that look like HTML are written as HTML (see
    // `looks_like_html`); feedparser reads them so, the validator is quiet.
    let text = |t: &str| as_html_if_it_looks_like_it(t).0.into_owned();
    Channel {
        title: text(&info.title),
        link: site.base_url.to_string(),
        description: text(&info.description),
        language: Some(site.language.clone()),
        copyright: site.rights.as_deref().map(text),
        last_build_date: Some(rfc822(&info.updated)),
        generator: Some(format!("{GENERATOR} {VERSION}")),
        // The site's icon (else its logo); title and link as the
        // channel's, as the validator wants.
        image: site
            .icon
            .as_ref()
            .or(site.logo.as_ref())
            .map(|url| ::rss::Image {
                url: url.to_string(),
                title: text(&info.title),
                link: site.base_url.to_string(),
                ..::rss::Image::default()
            }),
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

/// The `<item>` elements of `items`, as the crate writes them inside a
/// pretty-printed channel and [`char_refs`] leaves them (see [`write_item`]).
pub fn items(items: &[&Item]) -> Result<Fragment, String> {
    let size: usize = items
        .iter()
        .map(|i| i.content_html.len() + i.summary.as_ref().map_or(0, String::len) + 1024)
        .sum();
    let mut out = Vec::with_capacity(size);
    for item in items {
        write_item(&mut out, item);
    }
    Ok(Fragment::whole(out))
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

/// Appends the bytes the `rss` crate writes for `tests::item(item)`
/// (`Item::to_xml` through quick-xml, pretty-printed with an indent of 2)
/// after [`char_refs`]: the elements in the crate's order, each on a line
/// of its own; text and attribute values escaped with `&` and `<` as
/// character references; HTML in CDATA sections, split where it holds
/// `]]>`.
///
/// Bylines go in `dc:creator`, or in `author` (see [`author`]), never
/// both: the validator reports the two together as duplicate semantics.
/// A title that looks like HTML is written as HTML, escaped once more:
/// feedparser reads a title holding an end tag or a reference as HTML, and
/// the validator warns on one that holds HTML (`ContainsHTML`).
fn write_item(out: &mut Vec<u8>, item: &Item) {
    push_line(out, 4);
    out.extend_from_slice(b"<item>");
    let (title, _) = as_html_if_it_looks_like_it(&item.title);
    push_text_element(out, 6, "title", &title, &RSS_TEXT);
    if let Some(link) = &item.link {
        push_text_element(out, 6, "link", link, &RSS_TEXT);
    }
    // `description` is HTML: the plain-text summary escaped. An item with
    // no text of its own (an image, say) still needs one before
    // `content:encoded`: its title. Escaped HTML holds no `>`, so no `]]>`
    // to split the section at.
    push_line(out, 6);
    out.extend_from_slice(b"<description><![CDATA[");
    push_escaped(out, item.summary.as_deref().unwrap_or(&item.title), &HTML);
    out.extend_from_slice(b"]]></description>");
    let author = author(&item.authors);
    if let Some(author) = &author {
        push_text_element(out, 6, "author", author, &RSS_TEXT);
    }
    for category in &item.categories {
        push_text_element(out, 6, "category", category, &RSS_TEXT);
    }
    if let Some(e) = &item.enclosure {
        push_line(out, 6);
        out.extend_from_slice(b"<enclosure");
        push_attribute(out, "url", &e.url, &RSS_TEXT);
        push_attribute(out, "length", &e.length.to_string(), &RSS_TEXT);
        push_attribute(out, "type", &e.mime_type, &RSS_TEXT);
        out.extend_from_slice(b"/>");
    }
    push_line(out, 6);
    out.extend_from_slice(match is_permalink(&item.id) {
        true => b"<guid>".as_slice(),
        false => b"<guid isPermaLink=\"false\">",
    });
    push_escaped(out, &item.id, &RSS_TEXT);
    out.extend_from_slice(b"</guid>");
    push_text_element(out, 6, "pubDate", &rfc822(&item.published), &RSS_TEXT);
    push_line(out, 6);
    out.extend_from_slice(b"<content:encoded>");
    push_cdata(out, &item.content_html);
    out.extend_from_slice(b"</content:encoded>");
    if item.updated != item.published {
        let modified = super::rfc3339(&item.updated);
        push_text_element(out, 6, "dcterms:modified", &modified, &RSS_TEXT);
    }
    // Media RSS, as the crate writes an extension without children: its
    // attributes in name order, the end tag on a line of its own.
    for (name, attrs) in media(item) {
        push_line(out, 6);
        out.extend_from_slice(b"<media:");
        out.extend_from_slice(name.as_bytes());
        for (key, value) in &attrs {
            push_attribute(out, key, value, &RSS_TEXT);
        }
        out.push(b'>');
        push_line(out, 6);
        out.extend_from_slice(b"</media:");
        out.extend_from_slice(name.as_bytes());
        out.push(b'>');
    }
    if author.is_none() {
        for person in &item.authors {
            push_text_element(out, 6, "dc:creator", &person.name, &RSS_TEXT);
        }
    }
    push_line(out, 4);
    out.extend_from_slice(b"</item>");
}

/// The Media RSS elements of an item's picture, each with its attributes
/// in name order: `media:content` (with `medium`, `type`, `fileSize`,
/// `width`, `height` where known) and `media:thumbnail`.
fn media(item: &Item) -> Vec<(&'static str, BTreeMap<&'static str, String>)> {
    let Some(image) = &item.image else {
        return Vec::new();
    };
    let mut content = BTreeMap::from([("medium", "image".to_owned()), ("url", image.url.clone())]);
    if let Some(t) = &image.mime_type {
        content.insert("type", t.clone());
    }
    if let Some(length) = image.length {
        content.insert("fileSize", length.to_string());
    }
    if let Some(width) = image.width {
        content.insert("width", width.to_string());
    }
    if let Some(height) = image.height {
        content.insert("height", height.to_string());
    }
    let thumbnail = BTreeMap::from([("url", image.url.clone())]);
    vec![("content", content), ("thumbnail", thumbnail)]
}

/// RSS `author`, `address (Name)`, for an item whose one author has an
/// e-mail address the validator takes and a name that reads as a comment
/// in it (no parentheses, quotes, `<`, `>`, `&`, `\`). RSS has one
/// `author` an item, and the validator wants an e-mail address in it
/// (`InvalidContact`) and no `dc:creator` beside it, so every other item
/// credits its bylines with `dc:creator` only.
fn author(authors: &[Person]) -> Option<String> {
    let [person] = authors else {
        return None;
    };
    let email = person.email.as_deref().filter(|e| valid_email(e))?;
    let name = person.name.trim();
    let plain = !name.is_empty()
        && !name.contains(['(', ')', '"', '<', '>', '&', '\\'])
        && !name.chars().any(char::is_control);
    plain.then(|| format!("{email} ({name})"))
}

/// An id that is a URL is the item's permalink.
fn is_permalink(id: &str) -> bool {
    id.starts_with("http://") || id.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::item_fragment;
    use crate::render::test_support::{
        assert_same_bytes, generated_items, info, items as sample, site,
    };
    use crate::text::escape_html;
    use ::rss::extension::dublincore::DublinCoreExtension;
    use ::rss::{Category, Enclosure, Guid, Item as RssItem};

    /// The item the crate writes for `item`: the reference the hand-written
    /// [`write_item`] must match byte for byte.
    fn item(item: &Item) -> RssItem {
        let author = author(&item.authors);
        RssItem {
            title: Some(as_html_if_it_looks_like_it(&item.title).0.into_owned()),
            link: item.link.clone(),
            description: Some(escape_html(item.summary.as_deref().unwrap_or(&item.title))),
            author: author.clone(),
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
                permalink: is_permalink(&item.id),
            }),
            pub_date: Some(rfc822(&item.published)),
            extensions: extensions(item),
            dublin_core_ext: Some(DublinCoreExtension {
                creators: match author {
                    Some(_) => Vec::new(),
                    None => item.authors.iter().map(|p| p.name.clone()).collect(),
                },
                ..DublinCoreExtension::default()
            }),
            ..RssItem::default()
        }
    }

    fn extensions(item: &Item) -> ExtensionMap {
        let mut map = ExtensionMap::new();
        if item.updated != item.published {
            let modified = Extension {
                name: "dcterms:modified".into(),
                value: Some(crate::render::rfc3339(&item.updated)),
                ..Extension::default()
            };
            map.insert(
                "dcterms".into(),
                [("modified".to_owned(), vec![modified])].into(),
            );
        }
        let media: BTreeMap<String, Vec<Extension>> = media(item)
            .into_iter()
            .map(|(name, attrs)| {
                let extension = Extension {
                    name: format!("media:{name}"),
                    attrs: attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                    ..Extension::default()
                };
                (name.to_owned(), vec![extension])
            })
            .collect();
        if !media.is_empty() {
            map.insert("media".into(), media);
        }
        map
    }

    /// The items of `items` as the crate writes them in a whole channel,
    /// after [`char_refs`].
    fn crate_items(items: &[&Item]) -> Vec<u8> {
        let channel = Channel {
            items: items.iter().map(|i| item(i)).collect(),
            namespaces: namespaces(),
            ..Channel::default()
        };
        let xml = char_refs(write(&channel).unwrap());
        let fragment = item_fragment(xml, "<item>", "</item>").unwrap();
        fragment.as_bytes().to_vec()
    }

    fn assert_same(items: &[&Item]) {
        let expected = crate_items(items);
        let written = super::items(items).unwrap();
        assert_same_bytes(written.as_bytes(), &expected);
    }

    #[test]
    fn items_are_the_crates_bytes_for_the_samples() {
        let items = sample();
        let refs: Vec<&Item> = items.iter().collect();
        assert_same(&refs);
        for item in &refs {
            assert_same(&[item]);
        }
    }

    #[test]
    fn items_are_the_crates_bytes_for_generated_items() {
        let items = generated_items(3000, 0x5eed_0255);
        let refs: Vec<&Item> = items.iter().collect();
        for item in &refs {
            assert_same(&[item]);
        }
        for chunk in refs.chunks(61) {
            assert_same(chunk);
        }
    }

    #[test]
    fn plain_text_gets_hex_references_and_cdata_is_untouched() {
        let xml = b"<title>A &amp; B &lt;C&gt;</title><description><![CDATA[x &amp; &lt;b&gt; ]]]]><![CDATA[>]]></description><category>&lt;</category>".to_vec();
        assert_eq!(
            String::from_utf8(char_refs(xml)).unwrap(),
            "<title>A &#x26; B &#x3C;C&gt;</title><description><![CDATA[x &amp; &lt;b&gt; ]]]]><![CDATA[>]]></description><category>&#x3C;</category>"
        );
    }

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
