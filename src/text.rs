//! The text rules shared by the stages: XML-safe text, HTML escaping, and
//! the shape of a wire story id. Pure functions over `&str`; no stage
//! state. Each rule has its one implementation here.

use std::borrow::Cow;

/// True for characters XML 1.0 allows in a document.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `text` without the characters XML 1.0 forbids (C0 controls other than
/// tab/newline/CR, U+FFFE, U+FFFF); quick-xml would write them as they are.
/// Borrowed when there is nothing to remove, the usual case.
pub fn xml_safe(text: &str) -> Cow<'_, str> {
    // Every forbidden character is a byte below 0x20 or starts with 0xEF
    // in UTF-8: a byte scan finds the (usual) clean case fast.
    let suspect = text
        .bytes()
        .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF);
    if suspect {
        Cow::Owned(text.chars().filter(|&c| is_xml_char(c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// `text` made XML-safe, with runs of white space folded to one space and
/// the ends trimmed: for titles, names and summaries.
pub fn one_line(text: &str) -> String {
    let safe = xml_safe(text);
    // Usually there is nothing to fold: no white space but single spaces
    // between words.
    let b = safe.as_bytes();
    let folded = b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
        && !b.windows(2).any(|w| w == b"  ")
        && safe.is_ascii()
        && !b.iter().any(|c| c.is_ascii_whitespace() && *c != b' ');
    if folded {
        return safe.into_owned();
    }
    let mut out = String::with_capacity(safe.len());
    for word in safe.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Escapes `& < > " '` for HTML text and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    push_escaped_html(&mut out, text);
    out
}

/// Appends `text` to `out` with `& < > " '` escaped.
pub fn push_escaped_html(out: &mut String, text: &str) {
    push_escaped(out, text, &HTML)
}

/// Appends `text` made XML-safe (as [`xml_safe`]) with `& < > " '`
/// escaped (as [`push_escaped_html`]), in one pass: for article bodies,
/// the bulk of what a build writes.
pub fn push_safe_escaped_html(out: &mut String, text: &str) {
    push_escaped(out, text, &SAFE_HTML)
}

/// How the one escaper ([`push_escaped`]) replaces the five bytes markup
/// may need escaped, and whether it drops the characters XML forbids.
pub struct Escapes {
    /// The bytes the escaper stops at.
    special: [bool; 256],
    /// Whether control characters and the lead byte of U+FFFE, U+FFFF are
    /// among them.
    drop_unsafe: bool,
    amp: &'static str,
    lt: &'static str,
    gt: &'static str,
    quot: &'static str,
    apos: &'static str,
}

impl Escapes {
    /// Replacements for `& < > " '`; with `drop_unsafe`, the control
    /// characters XML forbids and U+FFFE, U+FFFF are dropped as well.
    const fn new([amp, lt, gt, quot, apos]: [&'static str; 5], drop_unsafe: bool) -> Escapes {
        let mut special = [false; 256];
        let mut b = 0;
        while drop_unsafe && b < 0x20 {
            special[b] = !matches!(b as u8, b'\t' | b'\n' | b'\r');
            b += 1;
        }
        // The lead byte of U+FFFE and U+FFFF (EF BF BE, EF BF BF).
        special[0xEF] = drop_unsafe;
        special[b'&' as usize] = true;
        special[b'<' as usize] = true;
        special[b'>' as usize] = true;
        special[b'"' as usize] = true;
        special[b'\'' as usize] = true;
        Escapes {
            special,
            drop_unsafe,
            amp,
            lt,
            gt,
            quot,
            apos,
        }
    }
}

/// HTML text and attribute values.
pub const HTML: Escapes = Escapes::new(["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"], false);

/// [`HTML`], dropping what XML forbids.
pub const SAFE_HTML: Escapes = Escapes::new(["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"], true);

/// quick-xml's `escape`, which the feed crates use for text and attribute
/// values.
pub const XML: Escapes = Escapes::new(["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"], false);

/// [`XML`] followed by the RSS crate's pass that writes `&amp;` and `&lt;`
/// outside CDATA as the character references `&#x26;` and `&#x3C;`.
pub const RSS_TEXT: Escapes = Escapes::new(["&#x26;", "&#x3C;", "&gt;", "&quot;", "&apos;"], false);

/// What the escaper appends to: text being built, or bytes being written.
pub trait Sink {
    /// Appends `text`.
    fn push_text(&mut self, text: &str);
}

impl Sink for String {
    #[inline]
    fn push_text(&mut self, text: &str) {
        self.push_str(text);
    }
}

impl Sink for Vec<u8> {
    #[inline]
    fn push_text(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }
}

/// `text.split('\n')`, each line break found with the `memchr` crate's
/// vector search (the standard library's is a word at a time).
pub fn split_lines(text: &str) -> impl Iterator<Item = &str> + '_ {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match ends.next() {
            // A line break is ASCII: both slices end on character
            // boundaries.
            Some(end) => {
                let line = &text[start..end];
                start = end + 1;
                Some(line)
            }
            None => {
                done = true;
                Some(&text[start..])
            }
        }
    })
}

/// The place of the first byte at or after `i` that `escapes` stops at,
/// or the length of `bytes`. On x86_64, 16 bytes are compared at once
/// (SSE2, which every x86_64 target with the standard library enables).
#[inline]
fn next_special(bytes: &[u8], mut i: usize, escapes: &Escapes) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    while i + 16 <= bytes.len() {
        let block: &[u8; 16] = match bytes[i..i + 16].try_into() {
            Ok(block) => block,
            Err(_) => break,
        };
        let mut mask = sse2::candidates(block, escapes.drop_unsafe);
        // Candidates are a superset (line breaks and tabs among the
        // controls): the table decides.
        while mask != 0 {
            let at = i + mask.trailing_zeros() as usize;
            if escapes.special[usize::from(bytes[at])] {
                return at;
            }
            mask &= mask - 1;
        }
        i += 16;
    }
    while i < bytes.len() && !escapes.special[usize::from(bytes[i])] {
        i += 1;
    }
    i
}

/// The place of the first byte at or after `i` that a JSON string escapes
/// (`"`, `\\`, a control character), or the length of `bytes`: 16 bytes
/// at a time on x86_64, as [`push_escaped`] looks.
#[inline]
pub fn next_json_escape(bytes: &[u8], mut i: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    while i + 16 <= bytes.len() {
        let block: &[u8; 16] = match bytes[i..i + 16].try_into() {
            Ok(block) => block,
            Err(_) => break,
        };
        let mask = sse2::json_candidates(block);
        if mask != 0 {
            return i + mask.trailing_zeros() as usize;
        }
        i += 16;
    }
    while i < bytes.len() && !matches!(bytes[i], b'"' | b'\\' | 0..=0x1F) {
        i += 1;
    }
    i
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// A bit for each byte of `block` that JSON escapes: `"`, `\\` and
    /// the control characters.
    #[inline]
    pub(super) fn json_candidates(block: &[u8; 16]) -> u32 {
        // SAFETY: SSE2 is enabled (the module's `cfg`); the load is an
        // unaligned one of the 16 bytes `block` holds.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            let low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), low)) as u32
        }
    }

    /// A bit for each byte of `block` that is markup (`& < > " '`), and
    /// with `controls` also for each control character and 0xEF (the
    /// lead byte of U+FFFE and U+FFFF).
    #[inline]
    pub(super) fn candidates(block: &[u8; 16], controls: bool) -> u32 {
        // SAFETY: SSE2 is enabled (the module's `cfg`); the load is an
        // unaligned one of the 16 bytes `block` holds.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            let mut m = _mm_or_si128(
                _mm_or_si128(eq(b'&'), eq(b'<')),
                _mm_or_si128(_mm_or_si128(eq(b'>'), eq(b'"')), eq(b'\'')),
            );
            if controls {
                // v <= 0x1F exactly where min(v, 0x1F) == v (unsigned).
                let low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
                m = _mm_or_si128(m, _mm_or_si128(low, eq(0xEF)));
            }
            _mm_movemask_epi8(m) as u32
        }
    }
}

/// The one escaper: appends `text` to `out`, replacing markup as `escapes`
/// says and dropping forbidden characters when it says so. Clean runs are
/// copied whole.
pub fn push_escaped<S: Sink + ?Sized>(out: &mut S, text: &str, escapes: &Escapes) {
    let bytes = text.as_bytes();
    // `text[start..]` is not appended yet; `text[start..i]` needs nothing.
    let mut start = 0;
    let mut i = next_special(bytes, 0, escapes);
    while i < bytes.len() {
        // Every special byte is ASCII or a lead byte: `i` is a character
        // boundary.
        let (replacement, len) = match bytes[i] {
            b'&' => (escapes.amp, 1),
            b'<' => (escapes.lt, 1),
            b'>' => (escapes.gt, 1),
            b'"' => (escapes.quot, 1),
            b'\'' => (escapes.apos, 1),
            0xEF if matches!(bytes.get(i + 1..i + 3), Some([0xBF, 0xBE | 0xBF])) => ("", 3),
            0xEF => {
                i = next_special(bytes, i + 1, escapes);
                continue;
            }
            _ => ("", 1), // a control character XML forbids
        };
        out.push_text(&text[start..i]);
        out.push_text(replacement);
        start = i + len;
        i = next_special(bytes, start, escapes);
    }
    out.push_text(&text[start..]);
}

/// The plain text of the first paragraph of sanitized HTML (or of all of
/// it when it has no `<p>`): tags dropped, entities decoded, white space
/// folded. For summaries of HTML bodies.
pub fn lede_text(html: &str) -> String {
    let part = match html.find("<p>").or_else(|| html.find("<p ")) {
        Some(start) => {
            let rest = &html[start..];
            &rest[..rest.find("</p>").unwrap_or(rest.len())]
        }
        None => html,
    };
    let mut text = String::with_capacity(part.len());
    let mut rest = part;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[open + 1..open + close];
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/'])
            .next()
            .unwrap_or("");
        // Block elements separate words; inline ones do not.
        const BLOCKS: [&str; 14] = [
            "p",
            "br",
            "div",
            "li",
            "ul",
            "ol",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "blockquote",
            "tr",
        ];
        if BLOCKS.contains(&name.to_ascii_lowercase().as_str()) {
            text.push(' ');
        }
        rest = &rest[open + close + 1..];
    }
    text.push_str(rest);
    one_line(&decode_entities(&text))
}

/// Decodes the character references a sanitizer writes: the five XML
/// ones, `&nbsp;` and numeric references. Others are left as they are.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &after[..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let number = name.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => number.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }
            }?;
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Length of a Yonhap-style story id: three capitals, then 17 digits.
const STORY_ID_LEN: usize = 20;

/// True when `b` is a Yonhap-style story id (`AEN20260901001234315`:
/// three ASCII capitals, then year, month, day and a nine-digit serial, all
/// ASCII digits).
fn is_story_id(b: &[u8]) -> bool {
    b.len() == STORY_ID_LEN
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && b[3..].iter().all(u8::is_ascii_digit)
}

/// The first story id inside `text` (a file name, say), if any.
pub fn find_story_id(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(STORY_ID_LEN - 1))
        .find(|&i| is_story_id(&b[i..i + STORY_ID_LEN]))
        .map(|i| &text[i..i + STORY_ID_LEN])
}

/// The (year, month, day) of `id` when it is a story id.
pub fn story_id_date(id: &str) -> Option<(&str, &str, &str)> {
    is_story_id(id.as_bytes()).then(|| (&id[3..7], &id[7..9], &id[9..11]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str, escapes: &Escapes) -> String {
        let mut out = Vec::<u8>::new();
        push_escaped(&mut out, text, escapes);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escaping() {
        let text = "<a href=\"x?a=1&b='2'\">🎉 &amp;</a>\t\n";
        assert_eq!(
            escaped(text, &XML),
            "&lt;a href=&quot;x?a=1&amp;b=&apos;2&apos;&quot;&gt;🎉 &amp;amp;&lt;/a&gt;\t\n"
        );
        assert_eq!(escaped(text, &HTML), escape_html(text));
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
    fn story_ids_are_ascii_capitals_then_seventeen_ascii_digits() {
        assert_eq!(
            find_story_id("x-AEN20250901001500315-y"),
            Some("AEN20250901001500315")
        );
        assert_eq!(
            find_story_id("XAEN20250901001500315"),
            Some("AEN20250901001500315")
        );
        assert_eq!(find_story_id("AEN2025090100150031"), None);
        // Other scripts' digits are not digits of an id.
        assert_eq!(find_story_id("AEN2025090100150031\u{0663}"), None);
        assert_eq!(
            find_story_id("한국AEN20250901001500315"),
            Some("AEN20250901001500315")
        );
        assert_eq!(
            story_id_date("AEN20250901001500315"),
            Some(("2025", "09", "01"))
        );
        assert_eq!(story_id_date("aen20250901001500315"), None);
    }

    #[test]
    fn illegal_xml_characters_are_dropped() {
        assert_eq!(
            xml_safe("a\u{0}b\u{8}c\td\u{B}e\u{FFFE}f\u{FFFF}g🎉"),
            "abc\tdefg🎉"
        );
        assert_eq!(one_line("  Kim\u{1F}  and\n Lee "), "Kim and Lee");
    }

    #[test]
    fn one_line_folds_white_space_like_split_whitespace() {
        for text in [
            "Plain headline",
            " leading",
            "trailing ",
            "two  spaces",
            "tab\there",
            "new\nline",
            "",
            " ",
            "박보람 기자",
            "ideographic\u{3000}space",
            "no\u{A0}break",
            "control\u{1}char  and space",
        ] {
            let reference = xml_safe(text)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert_eq!(one_line(text), reference, "{text:?}");
        }
    }

    #[test]
    fn one_pass_safe_escaping_is_xml_safe_then_escaped() {
        let parts = [
            "a", "&", "<", ">", "\"", "'", "\u{0}", "\u{1f}", "\t", "\n", "\r", "\u{7f}",
            "\u{FFFE}", "\u{FFFF}", "\u{FFFD}", "\u{FEFF}", "\u{F000}", "박", "🎉", " ",
        ];
        // Every string of up to four parts.
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| parts.iter().map(move |p| format!("{t}{p}")))
                .collect();
            texts.extend(longer);
            texts.dedup();
        }
        for text in &texts {
            let mut two_pass = String::new();
            push_escaped_html(&mut two_pass, &xml_safe(text));
            let mut one_pass = String::new();
            push_safe_escaped_html(&mut one_pass, text);
            assert_eq!(one_pass, two_pass, "{text:?}");
        }
    }

    #[test]
    fn escaping_is_the_same_at_every_place_across_blocks() {
        let parts = [
            "&", "<", ">", "\"", "'", "\u{0}", "\t", "\n", "\u{FFFE}", "\u{FFFF}", "\u{FFFD}",
            "박", "🎉",
        ];
        let naive = |text: &str| {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&apos;")
        };
        // Each part at every place in texts of one to three blocks, alone
        // and in a run of parts, so that sequences start, end and cross
        // a block's edge.
        for part in parts {
            for run in [1, 3] {
                for at in 0..48 {
                    let text = format!("{}{}{}", "x".repeat(at), part.repeat(run), "y".repeat(16));
                    assert_eq!(escaped(&text, &XML), naive(&text), "{text:?}");
                    let mut two_pass = String::new();
                    push_escaped_html(&mut two_pass, &xml_safe(&text));
                    let mut one_pass = String::new();
                    push_safe_escaped_html(&mut one_pass, &text);
                    assert_eq!(one_pass, two_pass, "{text:?}");
                }
            }
        }
    }

    #[test]
    fn split_lines_is_split_at_line_breaks() {
        for text in [
            "",
            "\n",
            "\n\n",
            "a",
            "a\n",
            "\na",
            "a\nb",
            "a\r\nb\n\n박\n",
            "🎉\n\n\nx",
        ] {
            let ours: Vec<&str> = split_lines(text).collect();
            let std: Vec<&str> = text.split('\n').collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    #[test]
    fn lede_of_html() {
        assert_eq!(
            lede_text("<h2>Head</h2><p>Tom &amp; <em>Jerry</em>&#39;s &lt;show&gt;&nbsp;now</p><p>Two</p>"),
            "Tom & Jerry's <show> now"
        );
        assert_eq!(
            lede_text("Just <b>text</b><br>&#x1F389; &bogus; & more"),
            "Just text 🎉 &bogus; & more"
        );
    }

    #[test]
    fn html_escaping() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & Jerry's</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;"
        );
    }
}
