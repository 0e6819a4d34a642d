//! Atom 1.0 (RFC 4287) with the `atom_syndication` crate. Every id, date and
//! author is set from our data: the crate's defaults (empty id, 1970 dates)
//! are never relied on.

use atom_syndication::{
    Category, Content, Entry, Feed as AtomFeed, Generator, Link, Person as AtomPerson, Text,
    WriteConfig,
};

use super::{GENERATOR, VERSION, XML_DECLARATION};
use crate::config::{Format, Site};
use crate::model::{Feed, Item, Person};

pub fn render(feed: &Feed, site: &Site) -> Result<Vec<u8>, String> {
    let self_url = site.feed_url(&feed.name, Format::Atom);
    let atom = AtomFeed {
        // The feed's own URL is an absolute IRI that does not change.
        id: self_url.clone(),
        title: Text::plain(feed.title.clone()),
        subtitle: Some(Text::plain(feed.description.clone())),
        updated: feed.updated,
        authors: vec![person(&Person {
            name: site.author_name().to_owned(),
            ..Person::default()
        })],
        links: vec![
            link(&self_url, "self", Format::Atom.media_type()),
            link(site.base_url.as_str(), "alternate", "text/html"),
        ],
        rights: site.rights.clone().map(Text::plain),
        generator: Some(Generator {
            value: GENERATOR.into(),
            uri: None,
            version: Some(VERSION.into()),
        }),
        lang: Some(site.language.clone()),
        entries: feed
            .items
            .iter()
            .map(|i| entry(i, &site.language))
            .collect(),
        ..AtomFeed::default()
    };
    let config = WriteConfig {
        write_document_declaration: false,
        indent_size: Some(2),
    };
    let out = XML_DECLARATION.as_bytes().to_vec();
    atom.write_with_config(out, config)
        .map_err(|e| e.to_string())
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
