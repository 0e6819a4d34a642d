//! Small text helpers shared by the stages: XML-safe text and HTML
//! escaping. Pure functions over `&str`; no stage state.

/// True for characters XML 1.0 allows in a document.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `text` without the characters XML 1.0 forbids (C0 controls other than
/// tab/newline/CR, U+FFFE, U+FFFF); quick-xml would write them as they are.
pub fn xml_safe(text: &str) -> String {
    // Every forbidden character is a byte below 0x20 or starts with 0xEF
    // in UTF-8: a byte scan finds the (usual) clean case fast.
    let suspect = text
        .bytes()
        .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF);
    if suspect {
        text.chars().filter(|&c| is_xml_char(c)).collect()
    } else {
        text.to_owned()
    }
}

/// `text` made XML-safe, with runs of white space folded to one space and
/// the ends trimmed: for titles, names and summaries.
pub fn one_line(text: &str) -> String {
    xml_safe(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Escapes `& < > " '` for HTML text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    push_escaped_html(&mut out, text);
    out
}

/// Appends `text` to `out` with `& < > " '` escaped.
pub fn push_escaped_html(out: &mut String, text: &str) {
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // The bytes escaped are ASCII, so `i` is a character boundary.
        out.push_str(&text[start..i]);
        out.push_str(entity);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn illegal_xml_characters_are_dropped() {
        assert_eq!(
            xml_safe("a\u{0}b\u{8}c\td\u{B}e\u{FFFE}f\u{FFFF}g🎉"),
            "abc\tdefg🎉"
        );
        assert_eq!(one_line("  Kim\u{1F}  and\n Lee "), "Kim and Lee");
    }

    #[test]
    fn html_escaping() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }
}
