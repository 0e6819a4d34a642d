//! JSON Feed 1.1 with serde. Fields that JSON Feed has no key for (wire
//! version, dateline, native names, rights) go in the `_wirefeed`
//! extension object, as the spec allows for keys starting with `_`.

use serde::Serialize;

use super::{rfc3339, Fragment, Frame};
use crate::config::{Format, Site};
use crate::model::{FeedInfo, Item, Person};

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: String,
    description: &'a str,
    language: &'a str,
    authors: Vec<Author<'a>>,
    /// The next older page: the newest archive document of a feed, or
    /// the next older one of an archive document.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub>,
}

#[derive(Serialize)]
struct Hub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    title: &'a str,
    content_html: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    date_published: String,
    date_modified: String,
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment<'a>>,
    #[serde(rename = "_wirefeed", skip_serializing_if = "Extension::is_empty")]
    extension: Extension<'a>,
}

#[derive(Serialize)]
struct Attachment<'a> {
    url: &'a str,
    mime_type: &'a str,
    size_in_bytes: u64,
}

#[derive(Serialize)]
struct Extension<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dateline: Option<Dateline<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors_native: Vec<NativeName<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rights: Option<&'a str>,
}

impl Extension<'_> {
    fn is_empty(&self) -> bool {
        self.version.is_none()
            && self.dateline.is_none()
            && self.authors_native.is_empty()
            && self.rights.is_none()
    }
}

#[derive(Serialize)]
struct NativeName<'a> {
    name: &'a str,
    native_name: &'a str,
}

#[derive(Serialize)]
struct Dateline<'a> {
    place: &'a str,
    agency: &'a str,
}

/// The feed object without its items.
fn feed<'a>(info: &'a FeedInfo, site: &'a Site) -> JsonFeed<'a> {
    JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &info.title,
        home_page_url: site.base_url.as_str(),
        feed_url: site.feed_url(&info.name, Format::Json),
        description: &info.description,
        language: &site.language,
        authors: vec![Author {
            name: site.author_name(),
        }],
        next_url: info
            .archive
            .prev_archive
            .as_ref()
            .map(|p| site.feed_url(p, Format::Json)),
        hubs: site
            .hub
            .iter()
            .map(|hub| Hub {
                kind: "WebSub",
                url: hub.to_string(),
            })
            .collect(),
    }
}

pub fn frame(info: &FeedInfo, site: &Site) -> Result<Frame, String> {
    let mut head = serde_json::to_vec_pretty(&feed(info, site)).map_err(|e| e.to_string())?;
    // Reopen the object to append the items array last.
    if head.pop() != Some(b'}') || head.pop() != Some(b'\n') {
        return Err("unexpected JSON layout".into());
    }
    head.extend_from_slice(b",\n  \"items\": [");
    Ok(Frame {
        head,
        tail: b"\n  ]\n}\n".to_vec(),
    })
}

/// Items as serde's pretty printer lays them out inside the feed object:
/// four spaces deeper, separated by commas.
pub fn items(items: &[&Item], first: bool) -> Result<Fragment, String> {
    let mut out = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if !(first && i == 0) {
            out.push(b',');
        }
        let json = serde_json::to_vec_pretty(&item(it)).map_err(|e| e.to_string())?;
        // Strings never hold a raw newline in JSON, so every newline is
        // layout and can take the extra indent.
        out.extend_from_slice(b"\n    ");
        for (i, line) in json.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\n    ");
            }
            out.extend_from_slice(line);
        }
    }
    Ok(Fragment::whole(out))
}

fn item(item: &Item) -> JsonItem<'_> {
    JsonItem {
        id: &item.id,
        url: item.link.as_deref(),
        title: &item.title,
        content_html: &item.content_html,
        summary: item.summary.as_deref(),
        image: item.image.as_deref(),
        date_published: rfc3339(&item.published),
        date_modified: rfc3339(&item.updated),
        authors: item.authors.iter().map(author).collect(),
        tags: &item.categories,
        language: item.language.as_deref(),
        attachments: item
            .enclosure
            .iter()
            .map(|e| Attachment {
                url: &e.url,
                mime_type: &e.mime_type,
                size_in_bytes: e.length,
            })
            .collect(),
        extension: Extension {
            version: item.version.as_deref(),
            dateline: item.dateline.as_ref().map(|d| Dateline {
                place: &d.place,
                agency: &d.agency,
            }),
            authors_native: item
                .authors
                .iter()
                .filter_map(|p| {
                    let native_name = p.native_name.as_deref()?;
                    Some(NativeName {
                        name: &p.name,
                        native_name,
                    })
                })
                .collect(),
            rights: item.rights.as_deref(),
        },
    }
}

fn author(p: &Person) -> Author<'_> {
    Author { name: &p.name }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::{info, items as sample, site};

    #[test]
    fn streamed_json_is_serdes_pretty_document() {
        let site = site();
        let items = sample();
        let refs: Vec<&Item> = items.iter().collect();
        let frame = frame(&info(refs.len()), &site).unwrap();
        let mut streamed = frame.head.clone();
        for (i, chunk) in refs.chunks(2).enumerate() {
            streamed.extend(super::items(chunk, i == 0).unwrap().as_bytes());
        }
        streamed.extend(&frame.tail);
        #[derive(Serialize)]
        struct Whole<'a> {
            #[serde(flatten)]
            head: JsonFeed<'a>,
            items: Vec<JsonItem<'a>>,
        }
        let info = info(refs.len());
        let whole = Whole {
            head: feed(&info, &site),
            items: refs.iter().map(|i| item(i)).collect(),
        };
        let mut expected = serde_json::to_vec_pretty(&whole).unwrap();
        expected.push(b'\n');
        let value: serde_json::Value = serde_json::from_slice(&streamed).unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        assert_eq!(value["items"].as_array().unwrap().len(), refs.len());
        assert_eq!(
            value["items"][0]["_wirefeed"]["authors_native"][0]["native_name"],
            "박보람"
        );
    }
}
