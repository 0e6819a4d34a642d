//! Byte-level XML writing for the item fragments of RSS and Atom: the same
//! bytes the feed crates' writer (quick-xml, pretty-printed) produces for
//! the elements our items use, appended straight into a `Vec<u8>`.
//!
//! Text is escaped by the one escaper, `text::push_escaped`.

use std::borrow::Cow;

pub(super) use crate::text::{push_escaped, Escapes, HTML, RSS_TEXT, XML};

/// The HTML 4 entity names: Python's `html.entities.name2codepoint`, which
/// both the W3C validator and feedparser consult.
const ENTITIES: [&str; 252] = [
    "AElig", "Aacute", "Acirc", "Agrave", "Alpha", "Aring", "Atilde", "Auml", "Beta", "Ccedil",
    "Chi", "Dagger", "Delta", "ETH", "Eacute", "Ecirc", "Egrave", "Epsilon", "Eta", "Euml",
    "Gamma", "Iacute", "Icirc", "Igrave", "Iota", "Iuml", "Kappa", "Lambda", "Mu", "Ntilde", "Nu",
    "OElig", "Oacute", "Ocirc", "Ograve", "Omega", "Omicron", "Oslash", "Otilde", "Ouml", "Phi",
    "Pi", "Prime", "Psi", "Rho", "Scaron", "Sigma", "THORN", "Tau", "Theta", "Uacute", "Ucirc",
    "Ugrave", "Upsilon", "Uuml", "Xi", "Yacute", "Yuml", "Zeta", "aacute", "acirc", "acute",
    "aelig", "agrave", "alefsym", "alpha", "amp", "and", "ang", "aring", "asymp", "atilde", "auml",
    "bdquo", "beta", "brvbar", "bull", "cap", "ccedil", "cedil", "cent", "chi", "circ", "clubs",
    "cong", "copy", "crarr", "cup", "curren", "dArr", "dagger", "darr", "deg", "delta", "diams",
    "divide", "eacute", "ecirc", "egrave", "empty", "emsp", "ensp", "epsilon", "equiv", "eta",
    "eth", "euml", "euro", "exist", "fnof", "forall", "frac12", "frac14", "frac34", "frasl",
    "gamma", "ge", "gt", "hArr", "harr", "hearts", "hellip", "iacute", "icirc", "iexcl", "igrave",
    "image", "infin", "int", "iota", "iquest", "isin", "iuml", "kappa", "lArr", "lambda", "lang",
    "laquo", "larr", "lceil", "ldquo", "le", "lfloor", "lowast", "loz", "lrm", "lsaquo", "lsquo",
    "lt", "macr", "mdash", "micro", "middot", "minus", "mu", "nabla", "nbsp", "ndash", "ne", "ni",
    "not", "notin", "nsub", "ntilde", "nu", "oacute", "ocirc", "oelig", "ograve", "oline", "omega",
    "omicron", "oplus", "or", "ordf", "ordm", "oslash", "otilde", "otimes", "ouml", "para", "part",
    "permil", "perp", "phi", "pi", "piv", "plusmn", "pound", "prime", "prod", "prop", "psi",
    "quot", "rArr", "radic", "rang", "raquo", "rarr", "rceil", "rdquo", "real", "reg", "rfloor",
    "rho", "rlm", "rsaquo", "rsquo", "sbquo", "scaron", "sdot", "sect", "shy", "sigma", "sigmaf",
    "sim", "spades", "sub", "sube", "sum", "sup", "sup1", "sup2", "sup3", "supe", "szlig", "tau",
    "there4", "theta", "thetasym", "thinsp", "thorn", "tilde", "times", "trade", "uArr", "uacute",
    "uarr", "ucirc", "ugrave", "uml", "upsih", "upsilon", "uuml", "weierp", "xi", "yacute", "yen",
    "yuml", "zeta", "zwj", "zwnj",
];

/// A character of a tag or reference name, as Python's `\w` has it.
fn name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The name after `&` or `</` at the start of `text`.
fn name_at(text: &str) -> &str {
    &text[..text.find(|c: char| !name_char(c)).unwrap_or(text.len())]
}

/// Plain text that the W3C Feed Validation Service or a reader would take
/// for HTML: an end tag (`</b>`), or `&` before what reads as a reference
/// (an entity name such as `amp` or `nbsp`, with or without `;`, `apos`, a
/// number `#169` or `#x3C`, and, as the validator's rule has it, any name
/// holding a digit or `_`, such as `R&D2`). The validator warns on such
/// text in RSS titles (`ContainsHTML`) and in Atom text constructs of type
/// `text` (`ContainsUndeclaredHTML`), and feedparser reads RSS titles
/// holding an end tag or a reference as HTML. So such text is written as
/// HTML, escaped once more ([`as_html_if_it_looks_like_it`]): the
/// validator is quiet and readers show the text as written.
pub fn looks_like_html(text: &str) -> bool {
    if !text.contains(['<', '&']) {
        return false;
    }
    let end_tag = text.match_indices("</").any(|(i, _)| {
        let rest = &text[i + 2..];
        let name = name_at(rest);
        !name.is_empty() && rest[name.len()..].starts_with('>')
    });
    end_tag
        || text.match_indices('&').any(|(i, _)| {
            let rest = &text[i + 1..];
            let (number, rest) = match rest.strip_prefix('#') {
                Some(after) => (true, after),
                None => (false, rest),
            };
            let name = name_at(rest);
            !name.is_empty()
                && (number
                    || name == "apos"
                    || !name.chars().all(char::is_alphabetic)
                    || ENTITIES.contains(&name))
        })
}

/// `text` as it is, or, when it [looks like HTML](looks_like_html), as HTML
/// (escaped once more) and `true`.
pub(super) fn as_html_if_it_looks_like_it(text: &str) -> (Cow<'_, str>, bool) {
    match looks_like_html(text) {
        true => (Cow::Owned(crate::text::escape_html(text)), true),
        false => (Cow::Borrowed(text), false),
    }
}

/// An e-mail address the W3C validator's `addr_spec` takes (ASCII
/// `local@host.tld`); others are `InvalidContact`, an error, in RSS
/// `author` and Atom `email`, so they are left out of both.
pub(super) fn valid_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-+.'".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let Some((last, hosts)) = labels.split_last() else {
        return false;
    };
    let label =
        |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    local_ok
        && !hosts.is_empty()
        && hosts.iter().all(|l| label(l))
        && label(last)
        && last
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
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

    #[test]
    fn text_that_looks_like_html() {
        for html in [
            "Kim <b>bold</b>",
            "<script>alert(1)</script>",
            "a </foo> b",
            "Tom &amp; Jerry",
            "&nbsp no semicolon",
            "&apos",
            "R&D2",
            "&#169;",
            "&#x3C;",
            "snake &a_b",
        ] {
            assert!(looks_like_html(html), "{html}");
        }
        for plain in [
            "Why the <b> tag",
            "1 < 2 && 3 > 2",
            "AT&T, Q&A",
            "&nbspx",
            "& alone, &; &#;",
            "</ b> </>",
            "김정은 & 시진핑",
            "",
        ] {
            assert!(!looks_like_html(plain), "{plain}");
        }
        assert_eq!(
            as_html_if_it_looks_like_it("<i>x</i> & y").0,
            "&lt;i&gt;x&lt;/i&gt; &amp; y"
        );
        assert_eq!(as_html_if_it_looks_like_it("a < b").0, "a < b");
    }

    #[test]
    fn e_mail_addresses_the_validator_takes() {
        for good in [
            "han@example.com",
            "o'neil+x@mail.example.co.kr",
            "a_b-c.d@1.2.3.4",
        ] {
            assert!(valid_email(good), "{good}");
        }
        for bad in [
            "kim@@example",
            "kim@example",
            "x",
            "@example.com",
            "a b@example.com",
            "a@-x.com.",
            "한@example.com",
            "a@example.-com",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

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
