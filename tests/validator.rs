//! The W3C Feed Validation Service's rules that article text can break,
//! as its source states them (feedvalidator: `nonhtml` in validators.py,
//! `textConstruct` in content.py, item.py, author.py, feed.py), applied to
//! every RSS and Atom file of the samples and of a project of awkward
//! headlines, ledes, authors and archive pages; and what a reader gets
//! back is the text as written.
//!
//! The validator is not reachable from here (no network), so its rules
//! are restated: a warning here is a warning there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::Path;
use std::sync::LazyLock;

use common::{files, project, repo, story, wirefeed};
use regex::Regex;

/// The validator's `HTMLValidator.htmltags`: an end tag of one of these in
/// plain text is `ContainsHTML`.
const HTML_TAGS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "applet",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "base",
    "basefont",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "body",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "command",
    "data",
    "datagrid",
    "datalist",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "eventsource",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "isindex",
    "kbd",
    "label",
    "legend",
    "li",
    "link",
    "m",
    "main",
    "mark",
    "map",
    "menu",
    "meta",
    "meter",
    "nav",
    "noframes",
    "noscript",
    "object",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "param",
    "picture",
    "pre",
    "progress",
    "q",
    "rp",
    "rt",
    "ruby",
    "s",
    "samp",
    "script",
    "section",
    "select",
    "slot",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "title",
    "tr",
    "track",
    "tt",
    "u",
    "ul",
    "var",
    "xmp",
    "plaintext",
    "embed",
    "comment",
    "listing",
    "video",
    "wbr",
];

/// Python's `html.entities.name2codepoint` (HTML 4), which both the
/// validator and feedparser consult.
const ENTITIES: &[&str] = &[
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

/// Python's `\w` in a `str` pattern, near enough for these rules.
fn word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every `&` followed by `#?\w+`: the captured name (with its `#`).
fn references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices('&') {
        let rest = &text[i + 1..];
        let (hash, rest) = match rest.strip_prefix('#') {
            Some(after) => ("#", after),
            None => ("", rest),
        };
        let name: String = rest.chars().take_while(|&c| word(c)).collect();
        if !name.is_empty() {
            out.push(format!("{hash}{name}"));
        }
    }
    out
}

/// The validator's `nonhtml.validate` on a decoded value: `message` (the
/// element's warning: `ContainsHTML`, `ContainsUndeclaredHTML`) or
/// `CharacterData`, or nothing. `hex_on_line` is its "RSS Profile" escape
/// hatch: the element's first line holds a `&#x` reference.
fn nonhtml(value: &str, hex_on_line: bool, rss: bool, message: &str) -> Option<String> {
    static END_TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"</([\w]+)>").unwrap());
    static CHARACTER_DATA: LazyLock<Regex> =
        LazyLock::new(|| Regex::new("&#[x0-9]|<[/a-zA-Z]").unwrap());
    if let Some(tag) = END_TAG
        .captures_iter(value)
        .map(|c| c[1].to_lowercase())
        .find(|t| HTML_TAGS.contains(&t.as_str()))
    {
        return Some(format!("{message} (</{tag}>)"));
    }
    let refs = references(value);
    if !refs.is_empty() {
        let flagged = refs.iter().find(|g| {
            ENTITIES.contains(&g.as_str())
                || g.as_str() == "apos"
                || !g.chars().all(char::is_alphabetic)
        });
        return match (flagged, hex_on_line) {
            (Some(g), false) => Some(format!("{message} (&{g};)")),
            _ => None,
        };
    }
    (rss && !hex_on_line && CHARACTER_DATA.is_match(value)).then(|| "CharacterData".to_owned())
}

/// XML character data as a parser hands it over: CDATA sections as they
/// are, references decoded.
fn decode_xml(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").unwrap();
            out.push_str(&after[..end]);
            rest = &after[end + 3..];
            continue;
        }
        let next = rest.find(['&', '<']).unwrap_or(rest.len());
        out.push_str(&rest[..next]);
        rest = &rest[next..];
        if rest.starts_with('&') {
            let end = rest.find(';').unwrap();
            let name = &rest[1..end];
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = match name.strip_prefix("#x") {
                        Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
                        None => name[1..].parse().unwrap(),
                    };
                    char::from_u32(code).unwrap()
                }
            };
            out.push(c);
            rest = &rest[end + 1..];
        } else if !rest.is_empty() && !rest.starts_with("<![CDATA[") {
            panic!("markup inside character data: {raw}");
        }
    }
    out
}

/// HTML's five escapes undone: what a reader shows for escaped text.
fn unescape_html(html: &str) -> String {
    assert!(
        !html.contains('<'),
        "markup where text was expected: {html}"
    );
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// One element found in a document.
struct Element {
    name: String,
    attributes: String,
    /// The raw content.
    raw: String,
    /// The decoded content.
    text: String,
    /// The document line it starts on.
    line: String,
    number: usize,
}

/// Every `<name ...>...</name>` of `names` in `doc`, outside the content
/// of items (`content:encoded`, Atom `content`), which is HTML and checked
/// by other rules.
fn elements(doc: &str, names: &[&str]) -> Vec<Element> {
    let body =
        Regex::new(r"(?s)<content:encoded>.*?</content:encoded>|<content [^>]*>.*?</content>")
            .unwrap();
    let blanked = body.replace_all(doc, |c: &regex::Captures| {
        c[0].chars()
            .map(|ch| if ch == '\n' { '\n' } else { ' ' })
            .collect::<String>()
    });
    let mut out = Vec::new();
    for name in names {
        let re = Regex::new(&format!(r"(?s)<{name}((?: [^>]*)?)>(.*?)</{name}>")).unwrap();
        for c in re.captures_iter(&blanked) {
            let start = c.get(0).unwrap().start();
            let number = blanked[..start].matches('\n').count();
            out.push(Element {
                name: (*name).to_owned(),
                attributes: c[1].to_owned(),
                raw: c[2].to_owned(),
                text: decode_xml(&c[2]),
                line: doc.lines().nth(number).unwrap_or_default().to_owned(),
                number: number + 1,
            });
        }
    }
    out
}

/// The validator's `addr_spec.email_re`, which `<author>` and Atom
/// `<email>` must match (`InvalidContact` otherwise, an error).
fn valid_email(address: &str) -> bool {
    static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^[A-Z0-9_\-+.']+@(([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([A-Z0-9\-]+\.)+))[A-Z0-9][-A-Z0-9]*$")
        .unwrap()
    });
    EMAIL.is_match(address)
}

/// Every warning the validator's rules give `path` (an `.rss` or `.atom`).
fn warnings(path: &Path) -> Vec<String> {
    let doc = fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut warn = |e: &Element, what: String| {
        out.push(format!(
            "{}:{}: <{}>: {what}: {}",
            path.display(),
            e.number,
            e.name,
            e.raw
        ))
    };
    if path.extension().is_some_and(|e| e == "rss") {
        let (channel, items) = doc.split_once("<item>").unwrap_or((&doc, ""));
        for e in elements(channel, &["title", "description", "copyright"]) {
            if let Some(w) = nonhtml(&e.text, e.line.contains("&#x"), true, "ContainsHTML") {
                warn(&e, w);
            }
        }
        let mut offset = channel.matches('\n').count();
        for item in items.split("<item>") {
            let before = offset;
            offset += item.matches('\n').count();
            for mut e in elements(item, &["title", "category", "author"]) {
                e.number += before;
                if let Some(w) = nonhtml(&e.text, e.line.contains("&#x"), true, "ContainsHTML") {
                    warn(&e, w);
                }
                if e.name == "author" {
                    // `email_with_name`: `address (Name)`.
                    let address = e.text.split(" (").next().unwrap_or_default();
                    if !e.text.ends_with(')') || !valid_email(address) {
                        warn(&e, "InvalidContact".into());
                    }
                    if item.contains("<dc:creator>") {
                        warn(&e, "DuplicateItemSemantics (author and dc:creator)".into());
                    }
                }
            }
        }
    } else {
        for e in elements(
            &doc,
            &["title", "subtitle", "rights", "summary", "name", "email"],
        ) {
            let html = e.attributes.contains("type=\"html\"");
            if e.name == "email" {
                if !valid_email(&e.text) {
                    warn(&e, "InvalidContact".into());
                }
            } else if !html {
                let message = match e.name.as_str() {
                    "name" => "ContainsHTML",
                    _ => "ContainsUndeclaredHTML",
                };
                if let Some(w) = nonhtml(&e.text, e.line.contains("&#x"), false, message) {
                    warn(&e, w);
                }
            }
        }
        if doc.contains("<fh:archive") {
            let (head, _) = doc.split_once("<entry>").unwrap_or((&doc, ""));
            if !head.contains("rel=\"prev-archive\"") && !head.contains("rel=\"next-archive\"") {
                out.push(format!("{}: ArchiveIncomplete", path.display()));
            }
            if !head.contains("rel=\"current\"") {
                out.push(format!("{}: MissingCurrentInArchive", path.display()));
            }
        }
    }
    out
}

/// Every warning of every RSS and Atom file under `dir`.
fn all_warnings(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut checked = 0;
    for (name, _) in files(dir) {
        if name.ends_with(".rss") || name.ends_with(".atom") {
            out.extend(warnings(&dir.join(&name)));
            checked += 1;
        }
    }
    assert!(checked > 0, "no feeds in {}", dir.display());
    out
}

#[test]
fn the_rules_are_the_validators() {
    // What the validator's source says, on values it would see.
    let w = |v: &str, hex: bool, rss: bool| nonhtml(v, hex, rss, "ContainsHTML");
    assert!(
        w("Kim <b>bold</b>", true, true).is_some(),
        "an end tag warns, escaped or not"
    );
    assert!(w("<script>alert(1)</script>", true, false).is_some());
    assert!(w("a </foo> b", false, false).is_none(), "not an HTML tag");
    assert!(
        w("Why the <b> tag", true, true).is_none(),
        "a start tag alone, hex-escaped"
    );
    assert!(w("Why the <b> tag", false, true).is_some(), "CharacterData");
    assert!(
        w("Why the <b> tag", false, false).is_none(),
        "Atom has no CharacterData rule"
    );
    assert!(
        w("Tom &amp; Jerry", false, false).is_some(),
        "an entity name"
    );
    assert!(
        w("Tom &amp; Jerry", true, true).is_none(),
        "hex references on the line"
    );
    assert!(
        w("R&D2 and &#169;", false, false).is_some(),
        "not alphabetic"
    );
    assert!(w("AT&T, Q&A, &nbspx", false, false).is_none());
    assert!(w("&nbsp, &apos", false, false).is_some());
    assert!(valid_email("han@example.com") && valid_email("o'neil+x@mail.example.co.kr"));
    assert!(!valid_email("kim@@example") && !valid_email("kim@example") && !valid_email("x"));
    assert_eq!(
        decode_xml("A &#x26;lt;b&#x26;gt; <![CDATA[&lt;i>]]>&apos;"),
        "A &lt;b&gt; &lt;i>'"
    );
}

#[test]
fn the_samples_keep_every_rule() {
    let out = tempfile::tempdir().unwrap();
    wirefeed(
        &repo(),
        &["-q", "build", "--out", out.path().to_str().unwrap()],
    )
    .expect_code(0);
    let warnings = all_warnings(out.path());
    assert!(warnings.is_empty(), "{}", warnings.join("\n"));
    // The samples hold a story whose headline and lede are HTML-looking text.
    let rss = fs::read_to_string(out.path().join("all.rss")).unwrap();
    assert!(
        rss.contains("&#x26;lt;/b&#x26;gt;"),
        "the markup sample is published"
    );
}

/// Headlines (and so ledes: the test story repeats its headline there)
/// that look like HTML, or nearly.
const HEADLINES: &[&str] = &[
    "Markup as text: <b>bold</b> and <script>alert(\"x\")</script> stay words",
    "Why the <b> tag and 1 < 2 stay as they are",
    "Q&A: AT&T, R&D2 and Tom &amp; Jerry",
    "Prices up &#8364;5, &nbsp and &copy; seen",
    "A </foo> that is no tag, and </EM> that is",
    "Plain headline: nothing to see",
];

/// A project of awkward headlines and authors, with a paged archive.
fn awkward_project() -> tempfile::TempDir {
    let mut articles: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, headline) in HEADLINES.iter().enumerate() {
        let time = format!("2026-10-{:02} 09:00:00", i + 1);
        articles.push((format!("s{i}.txt"), story(&time, headline)));
    }
    let post = |name: &str, authors: &str, title: &str, day: u32| {
        let text = format!(
            "---\ntitle: {title:?}\ndate: 2026-10-{day:02}T10:00:00+09:00\n{authors}\n---\n\n\
             Summary with <i>italic</i> & AT&amp;T text.\n"
        );
        (name.to_owned(), text.into_bytes())
    };
    articles.push(post(
        "one.md",
        "author: \"Han Seo-yeon <han@example.com>\"",
        "One author with an e-mail </em>",
        20,
    ));
    articles.push(post(
        "two.md",
        "authors: [\"Oh Jae-won <oh@example.com>\", \"Desk Staff\"]",
        "Two authors, one e-mail",
        21,
    ));
    articles.push(post(
        "bad.md",
        "author: \"Kim Mail <kim@@example>\"",
        "An e-mail the validator refuses",
        22,
    ));
    articles.push(post(
        "paren.md",
        "author: \"Lee (Desk) <lee@example.com>\"",
        "A name with parentheses",
        23,
    ));
    let refs: Vec<(&str, &[u8])> = articles
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let dir = project(&refs);
    let config = dir.path().join("config.toml");
    let text = fs::read_to_string(&config).unwrap();
    let more = "\n[[feed]]\nname = \"paged\"\nlimit = 2\narchive = true\n";
    fs::write(&config, format!("{text}{more}")).unwrap();
    dir
}

#[test]
fn awkward_text_keeps_every_rule_and_reads_back_as_written() {
    let dir = awkward_project();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    let feeds = dir.path().join("feeds");
    let warnings = all_warnings(&feeds);
    assert!(warnings.is_empty(), "{}", warnings.join("\n"));
    assert!(feeds.join("paged/archive/5.atom").exists());

    let rss = fs::read_to_string(feeds.join("all.rss")).unwrap();
    let atom = fs::read_to_string(feeds.join("all.atom")).unwrap();
    let items = rss.split_once("<item>").unwrap().1;
    let entries = atom.split_once("<entry>").unwrap().1;
    let rss_titles: Vec<String> = elements(items, &["title"])
        .into_iter()
        .map(|e| e.text)
        .collect();
    let atom_texts = |name: &str| -> Vec<String> {
        elements(entries, &[name])
            .into_iter()
            .map(|e| match e.attributes.contains("type=\"html\"") {
                true => unescape_html(&e.text),
                false => e.text,
            })
            .collect()
    };
    let atom_titles = atom_texts("title");
    let atom_summaries = atom_texts("summary");
    let end_tag = Regex::new(r"</\w+>").unwrap();
    let reference = Regex::new(r"&(#?\w+);").unwrap();
    for headline in HEADLINES {
        assert!(
            atom_titles.iter().any(|t| t == headline),
            "Atom title {headline}: {atom_titles:?}"
        );
        let lede = format!("SEOUL, Oct. 1 (Yonhap) -- {headline}, officials said.");
        assert!(
            atom_summaries.contains(&lede),
            "Atom summary {lede}: {atom_summaries:?}"
        );
        // feedparser: plain text unless it "looks like HTML" (an end tag or
        // a reference, and only known entities), then HTML.
        let escaped = wirefeed::text::escape_html(headline);
        let plain = rss_titles.iter().any(|t| t == headline);
        let as_html = rss_titles.contains(&escaped);
        assert!(plain || as_html, "RSS title {headline}: {rss_titles:?}");
        if plain && !as_html {
            let guessed_html = end_tag.is_match(headline)
                || reference
                    .captures_iter(headline)
                    .any(|c| c[1].starts_with('#') || ENTITIES.contains(&&c[1]));
            assert!(!guessed_html, "feedparser would read {headline:?} as HTML");
        } else {
            assert_eq!(unescape_html(&escaped), *headline);
        }
    }

    // RSS `<author>` when an item's one author has an e-mail the validator
    // takes; `dc:creator` otherwise, never both.
    let item = |title: &str| {
        rss.split("<item>")
            .find(|i| i.contains(title))
            .unwrap_or_else(|| panic!("no item {title}"))
            .to_owned()
    };
    let one = item("One author with an e-mail");
    assert!(
        one.contains("<author>han@example.com (Han Seo-yeon)</author>"),
        "{one}"
    );
    assert!(!one.contains("<dc:creator>"), "{one}");
    for title in [
        "Two authors",
        "An e-mail the validator refuses",
        "A name with parentheses",
    ] {
        let other = item(title);
        assert!(
            !other.contains("<author>") && other.contains("<dc:creator>"),
            "{other}"
        );
    }
    assert!(
        !atom.contains("<email>kim@@example</email>"),
        "an invalid e-mail stays out"
    );
    assert!(atom.contains("<email>han@example.com</email>"));
}
