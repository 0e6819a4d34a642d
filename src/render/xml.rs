//! Byte-level XML writing for the item fragments of RSS and Atom: the same
//! bytes the feed crates' writer (quick-xml, pretty-printed) produces for
//! the elements our items use, appended straight into a `Vec<u8>`.
//!
//! Text is escaped a clean run at a time: `memchr` finds the next byte to
//! replace, and everything before it is copied with one
//! `extend_from_slice`.

use memchr::{memchr2, memchr3};

/// The replacements for the five bytes XML text may need escaped.
pub(super) struct Escapes {
    amp: &'static [u8],
    lt: &'static [u8],
    gt: &'static [u8],
    quot: &'static [u8],
    apos: &'static [u8],
}

/// quick-xml's `escape`, used by the crates for text and attribute values.
pub(super) const XML: Escapes = Escapes {
    amp: b"&amp;",
    lt: b"&lt;",
    gt: b"&gt;",
    quot: b"&quot;",
    apos: b"&apos;",
};

/// [`XML`] followed by the RSS renderer's pass that writes `&amp;` and
/// `&lt;` outside CDATA as the character references `&#x26;` and `&#x3C;`.
pub(super) const RSS_TEXT: Escapes = Escapes {
    amp: b"&#x26;",
    lt: b"&#x3C;",
    ..XML
};

/// [`crate::text::escape_html`]: for HTML that carries plain text.
pub(super) const HTML: Escapes = Escapes {
    quot: b"&quot;",
    apos: b"&#39;",
    ..XML
};

/// Appends `text` with `& < > " '` replaced as `escapes` says.
///
/// Two cursors run ahead of the copy: the next markup byte (`< > &`) and
/// the next quote (`" '`), each found with `memchr`; only the one that was
/// just replaced searches again. Text between them is copied whole.
pub(super) fn push_escaped(out: &mut Vec<u8>, text: &str, escapes: &Escapes) {
    let bytes = text.as_bytes();
    let end = bytes.len();
    let markup = |from: usize| memchr3(b'<', b'>', b'&', &bytes[from..]).map_or(end, |i| from + i);
    let quote = |from: usize| memchr2(b'"', b'\'', &bytes[from..]).map_or(end, |i| from + i);
    let mut next_markup = markup(0);
    let mut next_quote = quote(0);
    let mut start = 0;
    loop {
        let i = next_markup.min(next_quote);
        if i == end {
            break;
        }
        let replacement = match bytes[i] {
            b'&' => escapes.amp,
            b'<' => escapes.lt,
            b'>' => escapes.gt,
            b'"' => escapes.quot,
            _ => escapes.apos,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(replacement);
        start = i + 1;
        if i == next_markup {
            next_markup = markup(start);
        } else {
            next_quote = quote(start);
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

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

    fn escaped(text: &str, escapes: &Escapes) -> String {
        let mut out = Vec::new();
        push_escaped(&mut out, text, escapes);
        String::from_utf8(out).unwrap()
    }

    fn cdata(text: &str) -> String {
        let mut out = Vec::new();
        push_cdata(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escaping() {
        let text = "<a href=\"x?a=1&b='2'\">🎉 &amp;</a>\t\n";
        assert_eq!(
            escaped(text, &XML),
            "&lt;a href=&quot;x?a=1&amp;b=&apos;2&apos;&quot;&gt;🎉 &amp;amp;&lt;/a&gt;\t\n"
        );
        assert_eq!(escaped(text, &HTML), crate::text::escape_html(text));
        assert_eq!(
            escaped("A & <B> \"'", &RSS_TEXT),
            "A &#x26; &#x3C;B&gt; &quot;&apos;"
        );
        assert_eq!(escaped("", &XML), "");
        assert_eq!(escaped("회담", &XML), "회담");
    }

    /// Every string of up to six bytes over `a & < > " '`, against a
    /// byte-by-byte escape.
    #[test]
    fn escaping_every_short_mix_of_markup_and_quotes() {
        let alphabet = ["a", "&", "<", ">", "\"", "'"];
        let mut texts = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            for text in &longer {
                let naive: String = text
                    .chars()
                    .map(|c| match c {
                        '&' => "&#x26;".to_owned(),
                        '<' => "&#x3C;".to_owned(),
                        '>' => "&gt;".to_owned(),
                        '"' => "&quot;".to_owned(),
                        '\'' => "&apos;".to_owned(),
                        c => c.to_string(),
                    })
                    .collect();
                assert_eq!(escaped(text, &RSS_TEXT), naive, "{text:?}");
            }
            texts = longer;
        }
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
