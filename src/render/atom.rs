//! Atom 1.0 (RFC 4287) with the `atom_syndication` crate. Every id, date and
//! author is set from our data: the crate's defaults (empty id, 1970 dates)
//! are never relied on.

use atom_syndication::{
    Category, Content, Entry, Feed as AtomFeed, Generator, Link, Person as AtomPerson, Text,
    WriteConfig,
};

use atom_syndication::extension::Extension;

use super::{
    archive_links, item_fragment, split_frame, Fragment, Frame, GENERATOR, HISTORY_NS, VERSION,
    XML_DECLARATION,
};
use crate::config::{Format, Site};
use crate::model::{FeedInfo, Item, Person};

fn feed(info: &FeedInfo, site: &Site) -> AtomFeed {
    let self_url = site.feed_url(&info.name, Format::Atom);
    AtomFeed {
        // The feed's own URL is an absolute IRI that does not change.
        id: self_url.clone(),
        title: Text::plain(info.title.clone()),
        subtitle: Some(Text::plain(info.description.clone())),
        updated: info.updated,
        authors: vec![person(&Person {
            name: site.author_name().to_owned(),
            ..Person::default()
        })],
        links: [
            link(&self_url, "self", Format::Atom.media_type()),
            link(site.base_url.as_str(), "alternate", "text/html"),
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
        rights: site.rights.clone().map(Text::plain),
        generator: Some(Generator {
            value: GENERATOR.into(),
            uri: None,
            version: Some(VERSION.into()),
        }),
        lang: Some(site.language.clone()),
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

pub fn items(items: &[&Item], feed_language: &str) -> Result<Fragment, String> {
    let feed = AtomFeed {
        entries: items.iter().map(|i| entry(i, feed_language)).collect(),
        ..AtomFeed::default()
    };
    item_fragment(write(&feed)?, "<entry>", "</entry>")
}

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
    // Atom has no xml:lang on entries; the content carries it instead.
    let lang = item
        .language
        .clone()
        .filter(|l| !l.eq_ignore_ascii_case(feed_language));
    Entry {
        id: item.id.clone(),
        title: Text::plain(item.title.clone()),
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
        rights: item.rights.clone().map(Text::plain),
        summary: item.summary.clone().map(Text::plain),
        content: Some(Content {
            value: Some(item.content_html.clone()),
            content_type: Some("html".into()),
            lang,
            ..Content::default()
        }),
        ..Entry::default()
    }
}

fn person(p: &Person) -> AtomPerson {
    AtomPerson {
        name: p.name.clone(),
        email: p.email.clone(),
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
    use crate::render::test_support::{info, items as sample, site};

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
