//! XML for the IPTC formats (NewsML-G2, NITF): a small element tree built
//! from quick-xml's events in one pass, each element with its line.
//!
//! quick-xml reads without recursion and expands no entities a document
//! declares (no DTD is read: a `<!DOCTYPE>` is stepped over), so the only
//! costs that could grow faster than the text are the tree's depth (walked
//! recursively by the parsers) and an element's attributes (each compared
//! with those before it): both are bounded here, as the file's size is
//! before it is read. Names are kept without their prefix; `xml:lang`
//! keeps its own.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::limits::{MAX_XML_ATTRIBUTES, MAX_XML_DEPTH};

/// One element: its local name, attributes, children and line.
#[derive(Debug, Default)]
pub struct Element {
    /// The name without its prefix (`newsItem`, `p`).
    pub name: String,
    /// The namespace prefix as written (`""` for none).
    pub prefix: String,
    /// Attributes by local name (`xml:lang` as written), values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Child elements and text, in document order.
    pub children: Vec<Node>,
    /// 1-based line of its start tag.
    pub line: usize,
}

/// A child of an element.
#[derive(Debug)]
pub enum Node {
    /// An element.
    Element(Element),
    /// Text (character data, CDATA and references), unescaped.
    Text(String),
}

impl Element {
    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The child elements named `name`.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Element> + 's {
        self.elements().filter(move |e| e.name == name)
    }

    /// The first child element named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    /// The element at `path` of child names below this one.
    pub fn at(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |e, name| e.child(name))
    }

    /// All its text, white space folded to single spaces and trimmed.
    pub fn text(&self) -> String {
        let mut raw = String::new();
        self.push_text(&mut raw);
        raw.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn push_text(&self, out: &mut String) {
        for node in &self.children {
            match node {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) => {
                    e.push_text(out);
                    // Block elements never run their words together.
                    out.push(' ');
                }
            }
        }
    }

    /// Its text when it has any that is not white space.
    pub fn text_opt(&self) -> Option<String> {
        Some(self.text()).filter(|t| !t.is_empty())
    }

    /// The namespace its prefix is bound to by its own declarations.
    pub fn namespace(&self) -> Option<&str> {
        match self.prefix.as_str() {
            "" => self.attr("xmlns"),
            prefix => self
                .attrs
                .iter()
                .find(|(k, _)| k.strip_prefix("xmlns:") == Some(prefix))
                .map(|(_, v)| v.as_str()),
        }
    }
}

/// A problem with the XML, at a line.
pub type XmlError = (usize, String);

/// Parses `text` into its root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut lines = Lines {
        text: text.as_bytes(),
        counted: 0,
        line: 1,
    };
    // The elements open, innermost last.
    let mut open: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let line = lines.at(at);
        let event = reader.read_event().map_err(|e| {
            let at = usize::try_from(reader.error_position()).unwrap_or(at);
            (lines.at(at), format!("not well-formed XML: {e}"))
        })?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err((line, "content after the root element".into()));
            }
            Event::Start(start) => {
                if open.len() >= MAX_XML_DEPTH {
                    return Err((
                        line,
                        format!("XML elements nested more than {MAX_XML_DEPTH} deep"),
                    ));
                }
                open.push(element(&start, line)?);
            }
            Event::Empty(start) => {
                let e = element(&start, line)?;
                match open.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(e)),
                    None => root = Some(e),
                }
            }
            Event::End(_) => {
                // quick-xml checked that the names match.
                let Some(done) = open.pop() else {
                    return Err((line, "an end tag with no start tag".into()));
                };
                match open.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let t = t
                    .xml10_content()
                    .map_err(|e| (line, format!("not well-formed XML: {e}")))?;
                push_text(&mut open, &t, line)?;
            }
            Event::CData(t) => {
                let t = t
                    .xml10_content()
                    .map_err(|e| (line, format!("not well-formed XML: {e}")))?;
                push_text(&mut open, &t, line)?;
            }
            Event::GeneralRef(r) => {
                let name = r
                    .decode()
                    .map_err(|e| (line, format!("not well-formed XML: {e}")))?;
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| {
                            (line, format!("unknown entity `&{name};` (no DTD is read)"))
                        })?
                        .to_owned(),
                    Err(e) => return Err((line, format!("not well-formed XML: {e}"))),
                };
                push_text(&mut open, &resolved, line)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(unclosed) = open.last() {
        return Err((
            unclosed.line,
            format!("`{}` is never closed", unclosed.name),
        ));
    }
    root.ok_or_else(|| (1, "no root element".to_owned()))
}

fn push_text(open: &mut [Element], text: &str, line: usize) -> Result<(), XmlError> {
    match open.last_mut() {
        Some(e) => {
            match e.children.last_mut() {
                Some(Node::Text(t)) => t.push_str(text),
                _ => e.children.push(Node::Text(text.to_owned())),
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err((line, "text outside the root element".into())),
    }
}

fn element(start: &BytesStart<'_>, line: usize) -> Result<Element, XmlError> {
    let qname = start.name();
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let prefix = qname
        .prefix()
        .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
        .unwrap_or_default();
    let mut attrs = Vec::new();
    // Counted before each is read: the duplicate check compares every
    // attribute with those before it.
    for attr in start.attributes() {
        if attrs.len() >= MAX_XML_ATTRIBUTES {
            return Err((
                line,
                format!("more than {MAX_XML_ATTRIBUTES} attributes on `{name}`"),
            ));
        }
        let attr = attr.map_err(|e| (line, format!("not well-formed XML: {e}")))?;
        let key = attr.key;
        let key = match key.prefix().map(|p| p.as_ref().to_vec()) {
            Some(p) if p == b"xml" || p == b"xmlns" => {
                String::from_utf8_lossy(key.as_ref()).into_owned()
            }
            _ => String::from_utf8_lossy(key.local_name().as_ref()).into_owned(),
        };
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| {
                (
                    line,
                    format!("attribute `{key}` of `{name}`: {e} (no DTD is read)"),
                )
            })?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        prefix,
        attrs,
        children: Vec::new(),
        line,
    })
}

/// Line numbers of byte offsets met in increasing order, counted on from
/// one to the next (linear in the text).
struct Lines<'t> {
    text: &'t [u8],
    counted: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        if offset > self.counted {
            self.line += memchr::memchr_iter(b'\n', &self.text[self.counted..offset]).count();
            self.counted = offset;
        }
        self.line
    }
}

/// Element names of article bodies written as HTML elements of the same
/// name; others map below, or give their content only.
const HTML_AS_IS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "sub",
    "sup",
    "br",
    "hr",
    "a",
    "q",
    "cite",
    "code",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "caption",
    "figure",
    "figcaption",
    "img",
    "span",
    "div",
    "abbr",
    "small",
    "s",
];

/// Writes the children of `body` as HTML (not yet sanitized: normalize
/// does that): XHTML and NITF body elements as their HTML counterparts,
/// with only the attributes links and pictures need; NITF's `media` and
/// anything unknown give their text only.
pub fn push_html(body: &Element, out: &mut String) {
    for node in &body.children {
        match node {
            Node::Text(t) => crate::text::push_safe_escaped_html(out, t),
            Node::Element(e) => push_element_html(e, out),
        }
    }
}

fn push_element_html(e: &Element, out: &mut String) {
    let name = match e.name.as_str() {
        "hl1" => "h2",
        "hl2" => "h3",
        "block" | "body.content" => "div",
        "media" | "head" | "title" | "style" | "script" => return,
        n if HTML_AS_IS.contains(&n) => n,
        _ => return push_html(e, out),
    };
    out.push('<');
    out.push_str(name);
    for key in ["href", "src", "alt", "title"] {
        if let Some(v) = e.attr(key) {
            out.push(' ');
            out.push_str(key);
            out.push_str("=\"");
            crate::text::push_safe_escaped_html(out, v);
            out.push('"');
        }
    }
    out.push('>');
    if !matches!(name, "br" | "hr" | "img") {
        push_html(e, out);
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_with_lines_prefixes_and_references() {
        let text = "<?xml version=\"1.0\"?>\n<!DOCTYPE nitf>\n<g:a xmlns:g=\"urn:x\" xml:lang=\"ko\">\n <b k=\"1 &amp; 2\">x &lt; y &#169;<![CDATA[<z>]]></b>\n <c/>\n</g:a>";
        let root = parse(text).unwrap();
        assert_eq!((root.name.as_str(), root.line), ("a", 3));
        assert_eq!(root.namespace(), Some("urn:x"));
        assert_eq!(root.attr("xml:lang"), Some("ko"));
        let b = root.child("b").unwrap();
        assert_eq!((b.line, b.attr("k")), (4, Some("1 & 2")));
        assert_eq!(b.text(), "x < y ©<z>");
        assert_eq!(root.child("c").unwrap().line, 5);
    }

    #[test]
    fn bad_xml_is_located_and_limits_hold() {
        let e = parse("<a>\n<b>\n</a>").unwrap_err();
        assert_eq!(e.0, 3, "{e:?}");
        assert!(e.1.starts_with("not well-formed XML"), "{e:?}");
        let e = parse("<a>\n&bomb;</a>").unwrap_err();
        assert_eq!(e, (2, "unknown entity `&bomb;` (no DTD is read)".into()));
        let deep = format!("{}{}", "<a>".repeat(MAX_XML_DEPTH + 1), "</a>".repeat(65));
        let e = parse(&deep).unwrap_err();
        assert!(e.1.contains("nested more than 64"), "{e:?}");
        let ok = format!(
            "{}{}",
            "<a>".repeat(MAX_XML_DEPTH),
            "</a>".repeat(MAX_XML_DEPTH)
        );
        assert!(parse(&ok).is_ok());
        let attrs: String = (0..=MAX_XML_ATTRIBUTES)
            .map(|i| format!(" a{i}=\"\""))
            .collect();
        let e = parse(&format!("<a{attrs}/>")).unwrap_err();
        assert!(e.1.contains("more than 64 attributes"), "{e:?}");
        let e = parse("<a/><b/>").unwrap_err();
        assert!(e.1.contains("after the root"), "{e:?}");
        let e = parse("<a>\n<b>").unwrap_err();
        assert!(
            e.1.contains("never closed") || e.1.contains("well-formed"),
            "{e:?}"
        );
    }

    #[test]
    fn bodies_become_html_with_links_only() {
        let root = parse(
            "<body.content><hl2>Sub</hl2><p class=\"x\" onclick=\"y\">A <a href=\"https://e.com/\">link</a> &amp; <em>em</em></p><media><media-caption>c</media-caption></media><unknown>t</unknown></body.content>",
        )
        .unwrap();
        let mut html = String::new();
        push_html(&root, &mut html);
        assert_eq!(
            html,
            "<h3>Sub</h3><p>A <a href=\"https://e.com/\">link</a> &amp; <em>em</em></p>t"
        );
    }
}
