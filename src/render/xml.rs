//! Byte-level XML writing for the item fragments of RSS and Atom: the same
//! bytes the feed crates' writer (quick-xml, pretty-printed) produces for
//! the elements our items use, appended straight into a `Vec<u8>`.
//!
//! Text is escaped by the one escaper, `text::push_escaped`.

pub(super) use crate::text::{push_escaped, Escapes, HTML, RSS_TEXT, XML};

/// Appends `text` as CDATA, split as quick-xml's `BytesCData::escaped`
/// splits it: every `]]>` becomes `]]]]><![CDATA[>`, so that no section
/// ends early.
pub(super) fn push_cdata(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.extend_from_slice(b"<![CDATA[");
    let mut start = 0;
    for end in memchr::memmem::find_iter(bytes, b"]]>") {
        out.extend_from_slice(&bytes[start..end + 2]);
        out.extend_from_slice(b"]]><![CDATA[");
        start = end + 2;
    }
    out.extend_from_slice(&bytes[start..]);
    out.extend_from_slice(b"]]>");
}

/// Appends a new line indented by `indent` spaces, as the pretty-printing
/// writer starts every tag that does not follow text.
#[inline]
pub(super) fn push_line(out: &mut Vec<u8>, indent: usize) {
    const SPACES: &[u8] = b"\n                ";
    out.extend_from_slice(&SPACES[..=indent]);
}

/// Appends `<name>text</name>` on a line of its own, the text escaped.
#[inline]
pub(super) fn push_text_element(
    out: &mut Vec<u8>,
    indent: usize,
    name: &str,
    text: &str,
    escapes: &Escapes,
) {
    push_line(out, indent);
    out.push(b'<');
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
    push_escaped(out, text, escapes);
    out.extend_from_slice(b"</");
    out.extend_from_slice(name.as_bytes());
    out.push(b'>');
}

/// Appends ` name="value"`, the value escaped.
#[inline]
pub(super) fn push_attribute(out: &mut Vec<u8>, name: &str, value: &str, escapes: &Escapes) {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    push_escaped(out, value, escapes);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdata(text: &str) -> String {
        let mut out = Vec::new();
        push_cdata(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn cdata_sections_never_end_early() {
        assert_eq!(cdata(""), "<![CDATA[]]>");
        assert_eq!(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
        assert_eq!(cdata("]]>"), "<![CDATA[]]]]><![CDATA[>]]>");
        assert_eq!(
            cdata("]]]]>]]>"),
            "<![CDATA[]]]]]]><![CDATA[>]]]]><![CDATA[>]]>"
        );
        assert_eq!(cdata("] ]> ]]"), "<![CDATA[] ]> ]]]]>");
    }
}
