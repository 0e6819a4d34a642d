//! Atom 1.0 (RFC 4287): the frame with the `atom_syndication` crate, the
//! entries written by hand into the same bytes the crate writes (tests
//! compare the two), without building an `Entry` per item. Every id, date
//! and author is set from our data: the crate's defaults (empty id, 1970
//! dates) are never relied on.

use atom_syndication::{
    Feed as AtomFeed, Generator, Link, Person as AtomPerson, Text, WriteConfig,
};

use atom_syndication::extension::Extension;

use super::xml::{as_html_if_it_looks_like_it, valid_email};
use super::xml::{push_attribute, push_escaped, push_line, push_text_element, XML};
use super::{
    archive_links, split_frame, Fragment, Frame, GENERATOR, HISTORY_NS, VERSION, XML_DECLARATION,
};
use crate::config::{Format, Site};
use crate::model::{FeedInfo, Item, Person};

fn feed(info: &FeedInfo, site: &Site) -> AtomFeed {
    let self_url = site.feed_url(&info.name, Format::Atom);
    AtomFeed {
        // The feed's own URL is an absolute IRI that does not change.
        id: self_url.clone(),
        title: text(&info.title),
        subtitle: Some(text(&info.description)),
        updated: info.updated,
        authors: vec![person(&Person {
            name: site.author_name().to_owned(),
            ..Person::default()
        })],
        links: [
            link(&self_url, "self", Format::Atom.media_type()),
            // The alternate of a feed is the same stories as a page.
            link(
                &super::page_url(&info.name, site),
                "alternate",
                super::page::media_type(),
            ),
        ]
        .into_iter()
        .chain(site.hub.iter().map(|hub| Link {
            href: hub.to_string(),
            rel: "hub".into(),
            ..Link::default()
        }))
        .chain(
            archive_links(info, Format::Atom, site)
                .into_iter()
                .map(|(rel, href)| link(&href, rel, Format::Atom.media_type())),
        )
        .collect(),
        namespaces: match info.archive.is_archive {
            true => [("fh".to_owned(), HISTORY_NS.to_owned())].into(),
            false => Default::default(),
        },
        extensions: match info.archive.is_archive {
            true => {
                let archive = Extension {
                    name: "fh:archive".into(),
                    ..Extension::default()
                };
                [(
                    "fh".to_owned(),
                    [("archive".to_owned(), vec![archive])].into(),
                )]
                .into()
            }
            false => Default::default(),
        },
        rights: site.rights.as_deref().map(text),
        generator: Some(Generator {
            value: GENERATOR.into(),
            uri: None,
            version: Some(VERSION.into()),
        }),
        lang: Some(site.language.clone()),
        icon: site.icon.as_ref().map(|u| u.to_string()),
        logo: site.logo.as_ref().map(|u| u.to_string()),
        ..AtomFeed::default()
    }
}

fn write(feed: &AtomFeed) -> Result<Vec<u8>, String> {
    let config = WriteConfig {
        write_document_declaration: false,
        indent_size: Some(2),
    };
    let out = XML_DECLARATION.as_bytes().to_vec();
    feed.write_with_config(out, config)
        .map_err(|e| e.to_string())
}

pub fn frame(info: &FeedInfo, site: &Site) -> Result<Frame, String> {
    split_frame(write(&feed(info, site))?, "</feed>")
}

/// The `<entry>` elements of `items`, as the crate writes them inside a
/// pretty-printed feed (see [`write_entry`]).
pub fn items(items: &[&Item], feed_language: &str) -> Result<Fragment, String> {
    let size: usize = items
        .iter()
        .map(|i| i.content_html.len() + i.content_html.len() / 4 + 1024)
        .sum();
    let mut out = Vec::with_capacity(size);
    for item in items {
        write_entry(&mut out, item, feed_language);
    }
    Ok(Fragment::whole(out))
}

/// Appends the bytes `atom_syndication` writes for `tests::entry(item, ..)`
/// (`Entry::to_xml` through quick-xml with an indent of 2): its elements in
/// the crate's order, each on a line of its own indented by its depth,
/// text and attribute values escaped as quick-xml escapes them, links and
/// categories as empty elements.
fn write_entry(out: &mut Vec<u8>, item: &Item, feed_language: &str) {
    push_line(out, 2);
    out.extend_from_slice(b"<entry>");
    push_text_construct(out, "title", &item.title);
    push_text_element(out, 4, "id", &item.id, &XML);
    push_text_element(out, 4, "updated", &item.updated.to_rfc3339(), &XML);
    for author in &item.authors {
        push_line(out, 4);
        out.extend_from_slice(b"<author>");
        push_text_element(out, 6, "name", &author.name, &XML);
        if let Some(email) = author.email.as_deref().filter(|e| valid_email(e)) {
            push_text_element(out, 6, "email", email, &XML);
        }
        push_line(out, 4);
        out.extend_from_slice(b"</author>");
    }
    for category in &item.categories {
        push_line(out, 4);
        out.extend_from_slice(b"<category");
        push_attribute(out, "term", category, &XML);
        out.extend_from_slice(b"/>");
    }
    if let Some(href) = &item.link {
        push_line(out, 4);
        out.extend_from_slice(b"<link");
        push_attribute(out, "href", href, &XML);
        out.extend_from_slice(b" rel=\"alternate\" type=\"text/html\"/>");
    }
    if let Some(e) = &item.enclosure {
        push_line(out, 4);
        out.extend_from_slice(b"<link");
        push_attribute(out, "href", &e.url, &XML);
        out.extend_from_slice(b" rel=\"enclosure\"");
        push_attribute(out, "type", &e.mime_type, &XML);
        push_attribute(out, "length", &e.length.to_string(), &XML);
        out.extend_from_slice(b"/>");
    }
    // The story's picture, as an enclosure too (type and size when known).
    if let Some(image) = &item.image {
        push_line(out, 4);
        out.extend_from_slice(b"<link");
        push_attribute(out, "href", &image.url, &XML);
        out.extend_from_slice(b" rel=\"enclosure\"");
        if let Some(t) = &image.mime_type {
            push_attribute(out, "type", t, &XML);
        }
        if let Some(length) = image.length {
            push_attribute(out, "length", &length.to_string(), &XML);
        }
        out.extend_from_slice(b"/>");
    }
    push_text_element(out, 4, "published", &item.published.to_rfc3339(), &XML);
    if let Some(rights) = &item.rights {
        push_text_construct(out, "rights", rights);
    }
    if let Some(summary) = &item.summary {
        push_text_construct(out, "summary", summary);
    }
    push_line(out, 4);
    out.extend_from_slice(b"<content");
    // Atom has no xml:lang on entries; the content carries it instead.
    if let Some(lang) = &item.language {
        if !lang.eq_ignore_ascii_case(feed_language) {
            push_attribute(out, "xml:lang", lang, &XML);
        }
    }
    out.extend_from_slice(b" type=\"html\">");
    push_escaped(out, &item.content_html, &XML);
    out.extend_from_slice(b"</content>");
    push_line(out, 2);
    out.extend_from_slice(b"</entry>");
}

/// An entry's text construct (`title`, `summary`, `rights`), as
/// [`text`] makes it and the crate writes it.
fn push_text_construct(out: &mut Vec<u8>, name: &str, value: &str) {
    let (value, html) = as_html_if_it_looks_like_it(value);
    push_line(out, 4);
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    if html {
        out.extend_from_slice(b" type=\"html\"");
    }
    out.push(b'>');
    push_escaped(out, &value, &XML);
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

/// A plain-text Atom text construct; text that looks like HTML is given as
/// HTML (`type="html"`, escaped once more), which the validator accepts
/// (`type="text"` holding HTML is `ContainsUndeclaredHTML`) and readers
/// show as written.
fn text(value: &str) -> Text {
    match as_html_if_it_looks_like_it(value) {
        (html, true) => Text::html(html.into_owned()),
        (plain, false) => Text::plain(plain.into_owned()),
    }
}

/// An Atom person; an e-mail address the validator would refuse
/// (`InvalidContact`) is left out.
fn person(p: &Person) -> AtomPerson {
    AtomPerson {
        name: p.name.clone(),
        email: p.email.clone().filter(|e| valid_email(e)),
        ..AtomPerson::default()
    }
}

fn link(href: &str, rel: &str, mime_type: &str) -> Link {
    Link {
        href: href.to_owned(),
        rel: rel.to_owned(),
        mime_type: Some(mime_type.to_owned()),
        ..Link::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::item_fragment;
    use crate::render::test_support::{
        assert_same_bytes, generated_items, info, items as sample, site,
    };
    use atom_syndication::{Category, Content, Entry};

    /// The entry the crate writes for `item`: the reference the hand-written
    /// [`write_entry`] must match byte for byte.
    fn entry(item: &Item, feed_language: &str) -> Entry {
        let mut links = Vec::new();
        if let Some(href) = &item.link {
            links.push(link(href, "alternate", "text/html"));
        }
        if let Some(e) = &item.enclosure {
            let mut enclosure = link(&e.url, "enclosure", &e.mime_type);
            enclosure.length = Some(e.length.to_string());
            links.push(enclosure);
        }
        if let Some(image) = &item.image {
            links.push(Link {
                href: image.url.clone(),
                rel: "enclosure".into(),
                mime_type: image.mime_type.clone(),
                length: image.length.map(|l| l.to_string()),
                ..Link::default()
            });
        }
        let lang = item
            .language
            .clone()
            .filter(|l| !l.eq_ignore_ascii_case(feed_language));
        Entry {
            id: item.id.clone(),
            title: text(&item.title),
            updated: item.updated,
            published: Some(item.published),
            authors: item.authors.iter().map(person).collect(),
            categories: item
                .categories
                .iter()
                .map(|c| Category {
                    term: c.clone(),
                    scheme: None,
                    label: None,
                })
                .collect(),
            links,
            rights: item.rights.as_deref().map(text),
            summary: item.summary.as_deref().map(text),
            content: Some(Content {
                value: Some(item.content_html.clone()),
                content_type: Some("html".into()),
                lang,
                ..Content::default()
            }),
            ..Entry::default()
        }
    }

    /// The entries of `items` as the crate writes them in a whole feed.
    fn crate_items(items: &[&Item], feed_language: &str) -> Vec<u8> {
        let feed = AtomFeed {
            entries: items.iter().map(|i| entry(i, feed_language)).collect(),
            ..AtomFeed::default()
        };
        let fragment = item_fragment(write(&feed).unwrap(), "<entry>", "</entry>").unwrap();
        fragment.as_bytes().to_vec()
    }

    fn assert_same(items: &[&Item], feed_language: &str) {
        let expected = crate_items(items, feed_language);
        let written = super::items(items, feed_language).unwrap();
        assert_same_bytes(written.as_bytes(), &expected);
    }

    #[test]
    fn entries_are_the_crates_bytes_for_the_samples() {
        let items = sample();
        let refs: Vec<&Item> = items.iter().collect();
        for language in ["en", "ko", "EN"] {
            assert_same(&refs, language);
            for item in &refs {
                assert_same(&[item], language);
            }
        }
    }

    #[test]
    fn entries_are_the_crates_bytes_for_generated_items() {
        let items = generated_items(3000, 0x5eed_a70e);
        let refs: Vec<&Item> = items.iter().collect();
        for language in ["en", "ko"] {
            for item in &refs {
                assert_same(&[item], language);
            }
            for chunk in refs.chunks(61) {
                assert_same(chunk, language);
            }
        }
    }

    #[test]
    fn frame_and_fragments_are_the_crates_whole_document() {
        let site = site();
        let items = sample();
        let refs: Vec<&Item> = items.iter().collect();
        let info = info(refs.len());
        let mut whole = feed(&info, &site);
        whole.entries = refs.iter().map(|i| entry(i, "en")).collect();
        let expected = write(&whole).unwrap();

        let frame = frame(&info, &site).unwrap();
        let mut streamed = frame.head.clone();
        for chunk in refs.chunks(2) {
            streamed.extend(super::items(chunk, "en").unwrap().as_bytes());
        }
        streamed.extend(&frame.tail);
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }
}
