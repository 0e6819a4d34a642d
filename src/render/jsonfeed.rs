//! JSON Feed 1.1 with serde. Fields that JSON Feed has no key for (wire
//! version, dateline, native names, rights) go in the `_wirefeed`
//! extension object, as the spec allows for keys starting with `_`.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

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
/// two levels deep, separated by commas. Each is serialized straight into
/// the fragment.
pub fn items(items: &[&Item], first: bool) -> Result<Fragment, String> {
    let mut out = Vec::with_capacity(items.iter().map(|it| estimated_len(it)).sum());
    for (i, it) in items.iter().enumerate() {
        // The item is a value of the `items` array, at depth 1 inside the
        // feed object.
        let mut layout = Pretty::at_depth(2);
        layout
            .begin_array_value(&mut out, first && i == 0)
            .map_err(|e| e.to_string())?;
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, layout);
        item(it)
            .serialize(&mut serializer)
            .map_err(|e| e.to_string())?;
    }
    Ok(Fragment::whole(out))
}

/// About the bytes an item takes, so that a fragment is seldom grown: its
/// long texts and some room for the keys and short fields.
fn estimated_len(item: &Item) -> usize {
    512 + item.content_html.len() + item.title.len() + item.summary.as_ref().map_or(0, String::len)
}

/// serde_json's [`serde_json::ser::PrettyFormatter`] (two spaces an indent,
/// `[]` and `{}` when empty) for values that start `depth` levels deep.
struct Pretty {
    depth: usize,
    has_value: bool,
}

/// A comma, a newline and the indents of sixteen levels, to write a line
/// break in one go.
const BREAK: &[u8] = b",\n                                ";

impl Pretty {
    fn at_depth(depth: usize) -> Pretty {
        Pretty {
            depth,
            has_value: false,
        }
    }

    /// A newline (after a comma if `comma`) and the current indent.
    fn new_line<W: ?Sized + io::Write>(&self, writer: &mut W, comma: bool) -> io::Result<()> {
        let start = usize::from(!comma);
        match BREAK.get(start..2 + 2 * self.depth) {
            Some(bytes) => writer.write_all(bytes),
            None => {
                writer.write_all(&BREAK[start..2])?;
                for _ in 0..self.depth {
                    writer.write_all(b"  ")?;
                }
                Ok(())
            }
        }
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if self.has_value {
            self.new_line(writer, false)?;
        }
        writer.write_all(b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.new_line(writer, !first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth = self.depth.saturating_sub(1);
        if self.has_value {
            self.new_line(writer, false)?;
        }
        writer.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.new_line(writer, !first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
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
    use crate::render::test_support::{generated_items, info, items as sample, site};

    /// How items were first rendered, kept to compare with: each item
    /// pretty-printed on its own by serde, then every line indented again.
    fn reindented(items: &[&Item], first: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, it) in items.iter().enumerate() {
            if !(first && i == 0) {
                out.push(b',');
            }
            let json = serde_json::to_vec_pretty(&item(it)).unwrap();
            out.extend_from_slice(b"\n    ");
            for (i, line) in json.split(|&b| b == b'\n').enumerate() {
                if i > 0 {
                    out.extend_from_slice(b"\n    ");
                }
                out.extend_from_slice(line);
            }
        }
        out
    }

    /// `items` rendered `size` at a time, the first chunk starting the
    /// document when `first` is.
    fn chunked(items: &[&Item], size: usize, first: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, chunk) in items.chunks(size).enumerate() {
            out.extend_from_slice(super::items(chunk, first && i == 0).unwrap().as_bytes());
        }
        out
    }

    /// `items`, however chunked, are exactly the reference's bytes.
    fn assert_same_as_reindented(items: &[&Item]) {
        for first in [true, false] {
            let expected = String::from_utf8(reindented(items, first)).unwrap();
            for size in [1, 2, 3, 7, 64, items.len().max(1)] {
                let got = String::from_utf8(chunked(items, size, first)).unwrap();
                assert!(got == expected, "chunks of {size}, first {first}");
            }
        }
    }

    #[test]
    fn layout_is_serdes_pretty_printers() {
        // Empty and nested lists and objects, deeper than `BREAK` reaches.
        let mut value = serde_json::json!({"a": [], "b": {}, "c": [[], {}, 1, "x"], "d": null});
        for i in 0..20 {
            value = serde_json::json!({"n": i, "inner": [value, [{}], {"e": []}]});
        }
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, Pretty::at_depth(0));
        value.serialize(&mut serializer).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string_pretty(&value).unwrap()
        );
    }

    #[test]
    fn items_are_the_reindented_bytes_for_the_samples() {
        let items = sample();
        let refs: Vec<&Item> = items.iter().collect();
        assert_same_as_reindented(&refs);
        for it in &refs {
            assert_same_as_reindented(&[it]);
        }
        assert!(super::items(&[], true).unwrap().as_bytes().is_empty());
        assert!(super::items(&[], false).unwrap().as_bytes().is_empty());
    }

    #[test]
    fn items_are_the_reindented_bytes_for_generated_items() {
        for seed in [0x5eed_0150, 0x5eed_7a11] {
            let items = generated_items(3000, seed);
            let refs: Vec<&Item> = items.iter().collect();
            assert_same_as_reindented(&refs);
            // Every key, every kind of escape and both empty lists occur.
            let text = String::from_utf8(reindented(&refs, true)).unwrap();
            for needle in [
                "\"url\": ",
                "\"summary\": ",
                "\"image\": ",
                "\"authors\": []",
                "\"tags\": [",
                "\"language\": ",
                "\"attachments\": [",
                "\"size_in_bytes\": 18446744073709551615",
                "\"_wirefeed\": {",
                "\"version\": ",
                "\"dateline\": {",
                "\"authors_native\": [",
                "\"rights\": ",
                "\"name\": \"\"",
                "\\\"",
                "\\\\",
                "\\n",
                "\\r",
                "\\t",
                "\\b",
                "\\f",
                "\\u0000",
                "\\u0001",
                "\\u000b",
                "\\u001b",
                "\\u001f",
                "\u{7f}",
                "\u{85}",
                "\u{2028}",
                "</script>",
                "👨‍👩‍👧",
                "한국어 기사",
            ] {
                assert!(text.contains(needle), "{needle:?} never occurs");
            }
            let value: serde_json::Value =
                serde_json::from_slice(&[b"[".as_slice(), text.as_bytes(), b"]"].concat()).unwrap();
            let parsed = value.as_array().unwrap();
            assert_eq!(parsed.len(), refs.len());
            assert!(parsed.iter().any(|v| v.get("summary").is_none()));
            assert!(parsed.iter().any(|v| v.get("_wirefeed").is_none()));
            assert!(parsed.iter().any(|v| v.get("tags").is_none()));
        }
    }

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
