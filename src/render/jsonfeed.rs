//! JSON Feed 1.1. The feed object is written by serde; items, most of the
//! bytes, are written by hand in the same pretty layout, straight into the
//! fragment. Fields that JSON Feed has no key for (wire version, dateline,
//! native names, rights) go in the `_wirefeed` extension object, as the
//! spec allows for keys starting with `_`.

use serde::Serialize;

use super::{rfc3339, Fragment, Frame};
use crate::config::{Format, Site};
use crate::model::{FeedInfo, Item};

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    /// The feed's page: "the resource the feed describes", in HTML.
    home_page_url: String,
    feed_url: String,
    description: &'a str,
    language: &'a str,
    /// `[site] logo`.
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<&'a str>,
    /// `[site] icon`.
    #[serde(skip_serializing_if = "Option::is_none")]
    favicon: Option<&'a str>,
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

/// The feed object without its items.
fn feed<'a>(info: &'a FeedInfo, site: &'a Site) -> JsonFeed<'a> {
    JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &info.title,
        home_page_url: super::page_url(&info.name, site),
        feed_url: site.feed_url(&info.name, Format::Json),
        description: &info.description,
        language: &site.language,
        icon: site.logo.as_ref().map(|u| u.as_str()),
        favicon: site.icon.as_ref().map(|u| u.as_str()),
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
/// two levels deep, separated by commas, with serde_json's escapes.
pub fn items(items: &[&Item], first: bool) -> Result<Fragment, String> {
    let mut out = Vec::with_capacity(items.iter().map(|it| estimated_len(it)).sum());
    for (i, it) in items.iter().enumerate() {
        let mut json = Pretty {
            out: &mut out,
            depth: 2,
            has_value: !(first && i == 0),
        };
        json.value();
        write_item(&mut json, it);
    }
    Ok(Fragment::whole(out))
}

/// About the bytes an item takes, so that a fragment is seldom grown: its
/// long texts and some room for the keys and short fields.
fn estimated_len(item: &Item) -> usize {
    512 + item.content_html.len() + item.title.len() + item.summary.as_ref().map_or(0, String::len)
}

/// The item object. Keys are in JSON Feed's order; those of fields an item
/// does not have are left out, and so are `tags`, `attachments` and
/// `_wirefeed` when they would be empty.
fn write_item(json: &mut Pretty, item: &Item) {
    json.open(b'{');
    json.string_field("id", &item.id);
    if let Some(url) = &item.link {
        json.string_field("url", url);
    }
    json.string_field("title", &item.title);
    json.string_field("content_html", &item.content_html);
    if let Some(summary) = &item.summary {
        json.string_field("summary", summary);
    }
    if let Some(image) = &item.image {
        json.string_field("image", &image.url);
    }
    json.string_field("date_published", &rfc3339(&item.published));
    json.string_field("date_modified", &rfc3339(&item.updated));
    json.key("authors");
    json.open(b'[');
    for author in &item.authors {
        json.value();
        json.open(b'{');
        json.string_field("name", &author.name);
        json.close(b'}');
    }
    json.close(b']');
    if !item.categories.is_empty() {
        json.key("tags");
        json.open(b'[');
        for tag in &item.categories {
            json.value();
            json.string(tag);
        }
        json.close(b']');
    }
    if let Some(language) = &item.language {
        json.string_field("language", language);
    }
    if let Some(enclosure) = &item.enclosure {
        json.key("attachments");
        json.open(b'[');
        json.value();
        json.open(b'{');
        json.string_field("url", &enclosure.url);
        json.string_field("mime_type", &enclosure.mime_type);
        json.key("size_in_bytes");
        json.number(enclosure.length);
        json.close(b'}');
        json.close(b']');
    }
    let natives = || {
        item.authors
            .iter()
            .filter_map(|p| Some((&p.name, p.native_name.as_deref()?)))
    };
    let wire = &item.wire;
    if item.version.is_some()
        || item.dateline.is_some()
        || natives().next().is_some()
        || item.rights.is_some()
        || *wire != crate::model::WireMeta::default()
    {
        json.key("_wirefeed");
        json.open(b'{');
        if let Some(version) = &item.version {
            json.string_field("version", version);
        }
        if let Some(dateline) = &item.dateline {
            json.key("dateline");
            json.open(b'{');
            json.string_field("place", &dateline.place);
            json.string_field("agency", &dateline.agency);
            json.close(b'}');
        }
        if natives().next().is_some() {
            json.key("authors_native");
            json.open(b'[');
            for (name, native_name) in natives() {
                json.value();
                json.open(b'{');
                json.string_field("name", name);
                json.string_field("native_name", native_name);
                json.close(b'}');
            }
            json.close(b']');
        }
        if let Some(rights) = &item.rights {
            json.string_field("rights", rights);
        }
        if let Some(urgency) = wire.urgency {
            json.key("urgency");
            json.number(u64::from(urgency));
        }
        if let Some(slugline) = &wire.slugline {
            json.string_field("slugline", slugline);
        }
        if !wire.signals.is_empty() {
            json.key("signals");
            json.open(b'[');
            for signal in &wire.signals {
                json.value();
                json.string(signal);
            }
            json.close(b']');
        }
        if let Some(ednote) = &wire.ednote {
            json.string_field("ednote", ednote);
        }
        json.close(b'}');
    }
    json.close(b'}');
}

/// A writer of serde_json's pretty layout (two spaces an indent, `[]` and
/// `{}` when empty), at `depth` inside the document.
struct Pretty<'a> {
    out: &'a mut Vec<u8>,
    depth: usize,
    /// Whether the innermost open array or object has a value yet.
    has_value: bool,
}

/// A comma, a newline and the indents of sixteen levels, to write a line
/// break in one go.
const BREAK: &[u8] = b",\n                                ";

impl Pretty<'_> {
    /// A newline (after a comma unless it is the first) and the indent.
    fn new_line(&mut self) {
        let start = usize::from(!self.has_value);
        match BREAK.get(start..2 + 2 * self.depth) {
            Some(bytes) => self.out.extend_from_slice(bytes),
            None => {
                self.out.extend_from_slice(&BREAK[start..2]);
                for _ in 0..self.depth {
                    self.out.extend_from_slice(b"  ");
                }
            }
        }
        self.has_value = true;
    }

    /// Starts an array (`[`) or an object (`{`).
    fn open(&mut self, bracket: u8) {
        self.depth += 1;
        self.has_value = false;
        self.out.push(bracket);
    }

    /// Ends an array (`]`) or an object (`}`).
    fn close(&mut self, bracket: u8) {
        self.depth = self.depth.saturating_sub(1);
        if self.has_value {
            self.has_value = false;
            self.new_line();
        }
        self.out.push(bracket);
        self.has_value = true;
    }

    /// Starts the next value of an array.
    fn value(&mut self) {
        self.new_line();
    }

    /// Starts the next key of an object, up to its value.
    fn key(&mut self, key: &str) {
        self.new_line();
        self.string(key);
        self.out.extend_from_slice(b": ");
    }

    /// A key and its string value.
    fn string_field(&mut self, key: &str, value: &str) {
        self.key(key);
        self.string(value);
    }

    /// A number value.
    fn number(&mut self, n: u64) {
        self.out.extend_from_slice(n.to_string().as_bytes());
    }

    /// A string value, quoted and escaped.
    fn string(&mut self, text: &str) {
        self.out.reserve(text.len() + 2);
        self.out.push(b'"');
        push_escaped(self.out, text);
        self.out.push(b'"');
    }
}

/// What serde_json writes for each byte after a backslash: `u` for
/// `\u00XX`, 0 for a byte written as it is.
const ESCAPES: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Appends `text` escaped as serde_json escapes strings: quotes,
/// backslashes and control characters; the rest, non-ASCII included, as
/// it is.
fn push_escaped(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    // `bytes[done..]` is not written yet; `bytes[done..at]` needs no escape.
    let mut done = 0;
    let mut at = crate::text::next_json_escape(bytes, 0);
    while at < bytes.len() {
        let b = bytes[at];
        out.extend_from_slice(&bytes[done..at]);
        match ESCAPES[usize::from(b)] {
            b'u' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]);
            }
            escape => out.extend_from_slice(&[b'\\', escape]),
        }
        done = at + 1;
        at = crate::text::next_json_escape(bytes, done);
    }
    out.extend_from_slice(&bytes[done..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_support::{generated_items, info, items as sample, site};

    // The item objects as serde wrote them before `items` wrote them by
    // hand: the reference the tests compare with.

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
        #[serde(skip_serializing_if = "Option::is_none")]
        urgency: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        slugline: Option<&'a str>,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        signals: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        ednote: Option<&'a str>,
    }

    impl Extension<'_> {
        fn is_empty(&self) -> bool {
            self.version.is_none()
                && self.dateline.is_none()
                && self.authors_native.is_empty()
                && self.rights.is_none()
                && self.urgency.is_none()
                && self.slugline.is_none()
                && self.signals.is_empty()
                && self.ednote.is_none()
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

    fn item(item: &Item) -> JsonItem<'_> {
        JsonItem {
            id: &item.id,
            url: item.link.as_deref(),
            title: &item.title,
            content_html: &item.content_html,
            summary: item.summary.as_deref(),
            image: item.image.as_ref().map(|i| i.url.as_str()),
            date_published: rfc3339(&item.published),
            date_modified: rfc3339(&item.updated),
            authors: item
                .authors
                .iter()
                .map(|p| Author { name: &p.name })
                .collect(),
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
                urgency: item.wire.urgency,
                slugline: item.wire.slugline.as_deref(),
                signals: &item.wire.signals,
                ednote: item.wire.ednote.as_deref(),
            },
        }
    }

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

    /// `value` written with [`Pretty`], starting at depth 0.
    fn write_value(json: &mut Pretty, value: &serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::Array(values) => {
                json.open(b'[');
                for v in values {
                    json.value();
                    write_value(json, v);
                }
                json.close(b']');
            }
            Value::Object(map) => {
                json.open(b'{');
                for (k, v) in map {
                    json.key(k);
                    write_value(json, v);
                }
                json.close(b'}');
            }
            Value::String(text) => json.string(text),
            Value::Number(n) => json.number(n.as_u64().unwrap()),
            Value::Null | Value::Bool(_) => {
                json.out.extend_from_slice(value.to_string().as_bytes())
            }
        }
    }

    #[test]
    fn layout_is_serdes_pretty_printers() {
        // Empty and nested lists and objects, deeper than `BREAK` reaches.
        let mut value = serde_json::json!({"a": [], "b": {}, "c": [[], {}, 1, "x"], "d": null});
        for i in 0..20 {
            value = serde_json::json!({"n": i, "inner": [value, [{}], {"e": [true]}]});
        }
        let mut out = Vec::new();
        let mut json = Pretty {
            out: &mut out,
            depth: 0,
            has_value: false,
        };
        write_value(&mut json, &value);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string_pretty(&value).unwrap()
        );
    }

    #[test]
    fn escapes_are_serde_jsons() {
        // The bytes the escaper looks at together.
        const BLOCK: usize = 16;
        let mut texts: Vec<String> = Vec::new();
        let specials = (0..0x80u8)
            .map(char::from)
            .chain(['é', '\u{85}', '\u{2028}', '회', '🎉']);
        for c in specials {
            // Alone, and before, at and after the edges of blocks.
            for before in [
                0,
                1,
                BLOCK - 1,
                BLOCK,
                BLOCK + 1,
                2 * BLOCK - 1,
                2 * BLOCK + 3,
            ] {
                for after in [0, 1, BLOCK] {
                    texts.push(format!("{}{c}{}", "a".repeat(before), "é".repeat(after)));
                }
            }
        }
        texts.push((0..0x80u8).map(char::from).collect());
        texts.push("\"\\\n".repeat(50));
        texts.push(String::new());
        for text in &texts {
            let mut out = Vec::new();
            Pretty {
                out: &mut out,
                depth: 0,
                has_value: false,
            }
            .string(text);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(text).unwrap(),
                "{text:?}"
            );
        }
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
