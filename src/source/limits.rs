//! The limits that keep every article's cost linear in its size, and the
//! cheap checks that enforce them before the expensive parsers run.
//!
//! The parsers an article goes through are not linear in every input:
//! serde_yaml_ng's scanner (libyaml) walks every open flow collection for
//! every token, pulldown-cmark walks every open block quote and list, and
//! html5ever (under ammonia) walks its stack of open elements for many
//! tags and compares every attribute with the ones before it. Each check
//! here is one linear pass that bounds what the parser will have to walk,
//! and turns an article past a limit into an error instead of a hang.
//! Each check is built to overestimate what it bounds rather than
//! underestimate it; where that matters, a closer look decides.

use std::collections::HashSet;

use crate::text::one_line;

/// Largest article file read, in bytes (4 MiB): a bigger file is an error,
/// and is not read.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// Categories kept per article (the first distinct ones).
pub const MAX_CATEGORIES: usize = 32;

/// Flow collections (`[…]`, `{…}`) nested in YAML front matter.
pub const MAX_YAML_DEPTH: usize = 64;

/// Block quotes and lists opened on one Markdown line.
pub const MAX_MARKDOWN_DEPTH: usize = 32;

/// Columns of a Markdown table (every row is filled up to the header's
/// width).
pub const MAX_TABLE_COLUMNS: usize = 64;

/// Elements open at once in an article's HTML.
pub const MAX_HTML_DEPTH: usize = 128;

/// Attributes on one HTML element.
pub const MAX_HTML_ATTRIBUTES: usize = 64;

/// Bytes html5ever's serializer (writing out sanitized HTML) may scan for
/// an article's text (2^30): it looks through the rest of a text again for
/// every `&` and every character U+0080–U+00BF (such as `·`, `©` or a
/// no-break space) in it. A text of 4 MiB can hold 256 of those, one of
/// 64 KiB 16,384.
pub const MAX_HTML_TEXT_SCAN: u64 = 1 << 30;

/// Elements open at once in a NewsML-G2 or NITF file: the parsers walk
/// the tree recursively.
pub const MAX_XML_DEPTH: usize = 64;

/// Attributes on one XML element (each is compared with those before it).
pub const MAX_XML_ATTRIBUTES: usize = 64;

/// A problem that does not stop an article, to be reported once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line in the file.
    pub line: usize,
    /// What was done about it.
    pub reason: String,
}

// Categories ----------------------------------------------------------------

/// Keeps the first [`MAX_CATEGORIES`] distinct categories, distinct as
/// normalize tells them apart (white space folded, ASCII case ignored;
/// empty ones dropped). When more were given, returns how many distinct
/// ones there were and the index, in `categories` as given, of the first
/// one dropped.
pub fn cap_categories(categories: &mut Vec<String>) -> Option<(usize, usize)> {
    // Few categories: nothing to cut (normalize drops the repeats).
    if categories.len() <= MAX_CATEGORIES {
        return None;
    }
    let mut seen = HashSet::new();
    let mut first_dropped = None;
    let mut kept = Vec::with_capacity(MAX_CATEGORIES);
    for (i, category) in std::mem::take(categories).into_iter().enumerate() {
        let key = one_line(&category).to_ascii_lowercase();
        if key.is_empty() || !seen.insert(key) {
            continue;
        }
        if kept.len() < MAX_CATEGORIES {
            kept.push(category);
        } else if first_dropped.is_none() {
            first_dropped = Some(i);
        }
    }
    *categories = kept;
    first_dropped.map(|i| (seen.len(), i))
}

/// The warning for an article whose categories were cut.
pub fn categories_warning(line: usize, distinct: usize) -> Warning {
    Warning {
        line,
        reason: format!("{distinct} categories, only the first {MAX_CATEGORIES} are kept"),
    }
}

// YAML ------------------------------------------------------------------------

/// Checks YAML front matter before serde_yaml_ng reads it: at most
/// [`MAX_YAML_DEPTH`] flow collections (`[…]`, `{…}`) nested. Errors carry
/// the 1-based line in `front`.
///
/// The YAML scanner (libyaml) costs, for every token, the number of flow
/// collections open; brackets are counted here where that scanner would
/// find them, as tokens: not in quoted or plain scalars, comments, tags or
/// block scalars (a quoted `]` closes nothing). Block collections
/// (indentation, `- - -`) cost the parser linear time, and its recursion
/// limit reports them.
pub fn check_yaml(front: &str) -> Result<(), (usize, String)> {
    let b = front.as_bytes();
    let mut scan = YamlScan {
        b,
        i: 0,
        line_start: 0,
        flow: 0,
        indent: -1,
        indents: Vec::new(),
        simple_key_allowed: true,
        key: None,
    };
    match scan.too_deep() {
        Some(at) => Err((
            line_of(b, at),
            format!("front matter nested deeper than {MAX_YAML_DEPTH} levels"),
        )),
        None => Ok(()),
    }
}

/// 1-based line of byte `at`.
fn line_of(b: &[u8], at: usize) -> usize {
    memchr::memchr_iter(b'\n', &b[..at.min(b.len())]).count() + 1
}

/// libyaml's scanner, as far as it decides where tokens are: its flow
/// level, its block indentation (which ends plain and block scalars), and
/// where a simple key may start. Where libyaml would stop with an error,
/// this goes on (what follows costs libyaml nothing).
struct YamlScan<'a> {
    b: &'a [u8],
    i: usize,
    line_start: usize,
    flow: usize,
    indent: isize,
    indents: Vec<isize>,
    simple_key_allowed: bool,
    /// Column and line (its start) of the token a simple key would begin
    /// with.
    key: Option<(usize, usize)>,
}

impl YamlScan<'_> {
    fn at(&self, k: usize) -> Option<u8> {
        self.b.get(k).copied()
    }

    fn blank(&self, k: usize) -> bool {
        matches!(self.at(k), Some(b' ' | b'\t'))
    }

    fn line_break(&self, k: usize) -> bool {
        matches!(self.at(k), Some(b'\r' | b'\n'))
    }

    fn blank_or_end(&self, k: usize) -> bool {
        matches!(
            self.at(k),
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b'\0')
        )
    }

    fn column(&self) -> usize {
        self.i - self.line_start
    }

    /// Steps over the line break at `i`.
    fn newline(&mut self) {
        self.i += match (self.at(self.i), self.at(self.i + 1)) {
            (Some(b'\r'), Some(b'\n')) => 2,
            _ => 1,
        };
        self.line_start = self.i;
    }

    fn document_marker(&self) -> bool {
        let rest = &self.b[self.i..];
        self.column() == 0
            && (rest.starts_with(b"---") || rest.starts_with(b"..."))
            && self.blank_or_end(self.i + 3)
    }

    fn roll(&mut self, column: usize) {
        let column = column as isize;
        if self.flow == 0 && self.indent < column {
            self.indents.push(self.indent);
            self.indent = column;
        }
    }

    fn unroll(&mut self, column: isize) {
        while self.flow == 0 && self.indent > column {
            self.indent = self.indents.pop().unwrap_or(-1);
        }
    }

    fn save_key(&mut self) {
        if self.simple_key_allowed {
            self.key = Some((self.column(), self.line_start));
        }
    }

    /// Where the first flow collection past the limit opens.
    fn too_deep(&mut self) -> Option<usize> {
        loop {
            // Between tokens: white space, comments, line breaks.
            loop {
                while self.blank(self.i) {
                    self.i += 1;
                }
                if self.at(self.i) == Some(b'#') {
                    while !(self.line_break(self.i) || self.i >= self.b.len()) {
                        self.i += 1;
                    }
                }
                if !self.line_break(self.i) {
                    break;
                }
                self.newline();
                if self.flow == 0 {
                    self.simple_key_allowed = true;
                }
            }
            let c = self.at(self.i)?;
            let column = self.column();
            self.unroll(column as isize);
            if self.document_marker() {
                self.unroll(-1);
                self.i += 3;
                self.key = None;
                self.simple_key_allowed = false;
                continue;
            }
            if column == 0 && c == b'%' {
                while !(self.line_break(self.i) || self.i >= self.b.len()) {
                    self.i += 1;
                }
                continue;
            }
            let next_blank = self.blank_or_end(self.i + 1);
            match c {
                b'[' | b'{' => {
                    self.save_key();
                    self.flow += 1;
                    if self.flow > MAX_YAML_DEPTH {
                        return Some(self.i);
                    }
                    self.simple_key_allowed = true;
                    self.i += 1;
                }
                b']' | b'}' => {
                    self.flow = self.flow.saturating_sub(1);
                    self.key = None;
                    self.simple_key_allowed = false;
                    self.i += 1;
                }
                b',' => {
                    self.key = None;
                    self.simple_key_allowed = true;
                    self.i += 1;
                }
                b'-' if next_blank => {
                    self.roll(column);
                    self.key = None;
                    self.simple_key_allowed = true;
                    self.i += 1;
                }
                b'?' if self.flow > 0 || next_blank => {
                    self.roll(column);
                    self.key = None;
                    self.simple_key_allowed = self.flow == 0;
                    self.i += 1;
                }
                b':' if self.flow > 0 || next_blank => {
                    match self.key.take() {
                        Some((key_column, line)) if line == self.line_start => {
                            self.roll(key_column)
                        }
                        _ => self.roll(column),
                    }
                    self.simple_key_allowed = self.flow == 0;
                    self.i += 1;
                }
                b'*' | b'&' => {
                    self.save_key();
                    self.i += 1;
                    while self
                        .at(self.i)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
                    {
                        self.i += 1;
                    }
                    self.simple_key_allowed = false;
                }
                b'!' => {
                    self.save_key();
                    self.tag();
                    self.simple_key_allowed = false;
                }
                b'|' | b'>' if self.flow == 0 => {
                    self.key = None;
                    self.block_scalar();
                    self.simple_key_allowed = true;
                }
                b'\'' | b'"' => {
                    self.save_key();
                    self.quoted(c);
                    self.simple_key_allowed = false;
                }
                _ => {
                    self.save_key();
                    let from = self.i;
                    let broke_line = self.plain();
                    if self.i == from {
                        // A byte no token starts with and a plain scalar
                        // ends at (NUL): libyaml stops there; step over it.
                        self.i += 1;
                    }
                    self.simple_key_allowed = broke_line;
                }
            }
        }
    }

    /// A plain scalar; true when it ended after a line break.
    fn plain(&mut self) -> bool {
        let indent = self.indent + 1;
        let mut leading_blanks = false;
        loop {
            if self.document_marker() || self.at(self.i) == Some(b'#') {
                break;
            }
            while !self.blank_or_end(self.i) {
                let c = self.b[self.i];
                let ends = (c == b':' && self.blank_or_end(self.i + 1))
                    || (self.flow > 0
                        && (matches!(c, b',' | b'[' | b']' | b'{' | b'}')
                            || (c == b':'
                                && matches!(
                                    self.at(self.i + 1),
                                    Some(b',' | b'?' | b'[' | b']' | b'{' | b'}')
                                ))));
                if ends {
                    return leading_blanks;
                }
                self.i += 1;
            }
            if !(self.blank(self.i) || self.line_break(self.i)) {
                break;
            }
            while self.blank(self.i) || self.line_break(self.i) {
                if self.line_break(self.i) {
                    self.newline();
                    leading_blanks = true;
                } else {
                    self.i += 1;
                }
            }
            if self.flow == 0 && (self.column() as isize) < indent {
                break;
            }
        }
        leading_blanks
    }

    fn quoted(&mut self, quote: u8) {
        self.i += 1;
        while let Some(c) = self.at(self.i) {
            match c {
                b'\'' if quote == b'\'' && self.at(self.i + 1) == Some(b'\'') => self.i += 2,
                b'\\' if quote == b'"' => {
                    self.i += 1;
                    match self.line_break(self.i) {
                        true => self.newline(),
                        false => self.i += 1,
                    }
                }
                b'\r' | b'\n' => self.newline(),
                _ if c == quote => {
                    self.i += 1;
                    return;
                }
                _ => self.i += 1,
            }
        }
    }

    fn tag(&mut self) {
        if self.at(self.i + 1) == Some(b'<') {
            self.i =
                memchr::memchr(b'>', &self.b[self.i..]).map_or(self.b.len(), |p| self.i + p + 1);
            return;
        }
        self.i += 1;
        while !(self.blank_or_end(self.i)
            || (self.flow > 0 && matches!(self.b[self.i], b',' | b'[' | b']' | b'{' | b'}')))
        {
            self.i += 1;
        }
    }

    /// A literal or folded block scalar: its header, then every line
    /// indented as far as its content is.
    fn block_scalar(&mut self) {
        self.i += 1;
        let mut increment = 0;
        for _ in 0..2 {
            match self.at(self.i) {
                Some(b'+' | b'-') => self.i += 1,
                Some(d @ b'1'..=b'9') => {
                    increment = isize::from(d - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        while !(self.line_break(self.i) || self.i >= self.b.len()) {
            self.i += 1;
        }
        if self.i >= self.b.len() {
            return;
        }
        self.newline();
        let spaces = |scan: &Self| scan.b[scan.i..].iter().take_while(|&&c| c == b' ').count();
        let mut indent = match increment {
            0 => 0,
            n if self.indent >= 0 => self.indent + n,
            n => n,
        };
        if indent == 0 {
            let mut widest = 0;
            loop {
                let s = spaces(self);
                widest = widest.max(s);
                if !self.line_break(self.i + s) {
                    break;
                }
                self.i += s;
                self.newline();
            }
            indent = (widest as isize).max(self.indent + 1).max(1);
        }
        loop {
            let s = spaces(self);
            if self.i + s >= self.b.len() {
                self.i = self.b.len();
                return;
            }
            if self.line_break(self.i + s) {
                self.i += s;
                self.newline();
                continue;
            }
            if (s as isize) < indent {
                self.i += s;
                return;
            }
            while !(self.line_break(self.i) || self.i >= self.b.len()) {
                self.i += 1;
            }
            if self.i >= self.b.len() {
                return;
            }
            self.newline();
        }
    }
}

// Markdown --------------------------------------------------------------------

/// Checks a Markdown body before pulldown-cmark reads it. Errors carry the
/// 1-based line in `body`.
///
/// - At most [`MAX_MARKDOWN_DEPTH`] block quote and list markers open on
///   one line: pulldown-cmark walks every open container for every marker.
///   (Nesting built up over many lines costs a line as much as it is long,
///   indented as it must be: linear.)
/// - At most [`MAX_TABLE_COLUMNS`] columns in a table: every row is filled
///   up to the header's width, so a wide header times many short rows
///   would cost their product.
///
/// Returns whether the HTML the body renders to must be checked too
/// ([`check_html`]): when it holds raw HTML (any `<`), when the bound
/// below on its element depth is over [`MAX_HTML_DEPTH`], or when its
/// `&` and `0xC2` bytes times its length (what its text can cost to write
/// out) are over [`MAX_HTML_TEXT_SCAN`]. Without raw HTML, elements nest
/// only in containers (each at least one column of a line's prefix, two
/// elements each: `<ul><li>`), in emphasis (each level at least two of
/// `*`, `_`, `~` in one paragraph), and a few more (a table, a code block,
/// a link, a footnote): 16 at most.
pub fn check_markdown(body: &str) -> Result<bool, (usize, String)> {
    let (mut widest, mut delimiters, mut most_delimiters, mut raw) = (0, 0, 0, false);
    let mut specials = 0u64;
    for (i, line) in crate::text::split_lines(body).enumerate() {
        let b = line.as_bytes();
        if b.iter().all(u8::is_ascii_whitespace) {
            most_delimiters = most_delimiters.max(delimiters);
            delimiters = 0;
            continue;
        }
        let prefix = container_prefix(b);
        if prefix.markers > MAX_MARKDOWN_DEPTH {
            return Err((
                i + 1,
                format!(
                    "{} block quotes and lists open on one line, over the limit of \
                     {MAX_MARKDOWN_DEPTH}",
                    prefix.markers
                ),
            ));
        }
        widest = widest.max(prefix.width);
        if let Some(columns) = delimiter_row(&b[prefix.end..]) {
            if columns > MAX_TABLE_COLUMNS {
                return Err((
                    i + 1,
                    format!("a table of {columns} columns, over the limit of {MAX_TABLE_COLUMNS}"),
                ));
            }
        }
        for &c in b {
            match c {
                b'*' | b'_' | b'~' => delimiters += 1,
                b'<' => raw = true,
                b'&' | 0xC2 => specials += 1,
                _ => {}
            }
        }
    }
    most_delimiters = most_delimiters.max(delimiters);
    let depth_bound = 16 + 2 * widest + most_delimiters / 2;
    let text_scan = specials.saturating_mul(body.len() as u64);
    Ok(raw || depth_bound > MAX_HTML_DEPTH || text_scan > MAX_HTML_TEXT_SCAN)
}

/// What starts a Markdown line: block quote and list markers, and the
/// white space between them.
struct Prefix {
    /// Markers (`>`, `-`, `+`, `*`, `1.`, `1)`, `[^note]:`).
    markers: usize,
    /// Markers plus columns of white space (a tab as 4): at least one per
    /// container the line is in.
    width: usize,
    /// Where the rest of the line starts.
    end: usize,
}

fn container_prefix(b: &[u8]) -> Prefix {
    let is_space = |c: Option<&u8>| matches!(c, None | Some(b' ' | b'\t'));
    // Looked up once per line, not once per marker: a line can hold
    // thousands.
    let mut rest = ThematicBreaks {
        line: b,
        uniform_after: None,
    };
    let mut label_end: Option<Option<usize>> = None;
    let (mut i, mut markers, mut width) = (0, 0, 0);
    loop {
        while let Some(&c @ (b' ' | b'\t')) = b.get(i) {
            width += if c == b'\t' { 4 } else { 1 };
            i += 1;
        }
        let marker_end = match b.get(i) {
            Some(b'>') => Some(i + 1),
            Some(&c @ (b'-' | b'+' | b'*')) if is_space(b.get(i + 1)) => {
                // `- - -` is a thematic break, not three lists.
                (!rest.from(i, c)).then_some(i + 1)
            }
            Some(b'0'..=b'9') => {
                let digits = b[i..]
                    .iter()
                    .take(10)
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                let after = i + digits;
                (digits <= 9
                    && matches!(b.get(after), Some(b'.' | b')'))
                    && is_space(b.get(after + 1)))
                .then_some(after + 1)
            }
            Some(b'[') if b.get(i + 1) == Some(&b'^') => match label_end {
                Some(Some(end)) if end > i => Some(end),
                Some(None) => None,
                _ => {
                    let found = memchr::memmem::find(&b[i..], b"]:").map(|p| i + p + 2);
                    label_end = Some(found);
                    found
                }
            },
            _ => None,
        };
        match marker_end {
            Some(end) => {
                markers += 1;
                width += 1;
                i = end;
            }
            None => break,
        }
    }
    Prefix {
        markers,
        width,
        end: i,
    }
}

/// Whether the rest of a line, from some point on, is a thematic break:
/// three or more of one of `-`, `*`, `_`, and white space only.
struct ThematicBreaks<'a> {
    line: &'a [u8],
    /// Per mark (`-`, `*`): after which index only it and white space
    /// follow; found when first asked.
    uniform_after: Option<[usize; 2]>,
}

impl ThematicBreaks<'_> {
    /// Whether the line from `i` (where `mark` is) is a thematic break.
    fn from(&mut self, i: usize, mark: u8) -> bool {
        let line = self.line;
        let uniform_after = *self.uniform_after.get_or_insert_with(|| {
            [b'-', b'*'].map(|m| {
                line.iter()
                    .rposition(|&c| c != m && c != b' ' && c != b'\t')
                    .map_or(0, |p| p + 1)
            })
        });
        let after = match mark {
            b'-' => uniform_after[0],
            b'*' => uniform_after[1],
            _ => return false,
        };
        // Counted only where the rest is uniform: then either three marks
        // follow and the line's markers end here, or fewer do, and fewer
        // markers are left to ask about.
        i >= after && line[i..].iter().filter(|&&c| c == mark).count() >= 3
    }
}

/// The number of columns, when `b` can be a table's delimiter row
/// (`|---|:--:|`): only `|`, `-`, `:` and white space, with a `|` and a `-`.
fn delimiter_row(b: &[u8]) -> Option<usize> {
    let allowed = |c: &u8| matches!(c, b'|' | b'-' | b':' | b' ' | b'\t' | b'\r');
    if !b.contains(&b'|') || !b.contains(&b'-') || !b.iter().all(allowed) {
        return None;
    }
    Some(
        b.split(|&c| c == b'|')
            .filter(|cell| cell.contains(&b'-'))
            .count(),
    )
}

// HTML ------------------------------------------------------------------------

/// Checks HTML before ammonia (html5ever) reads it: at most
/// [`MAX_HTML_DEPTH`] elements open at once, at most
/// [`MAX_HTML_ATTRIBUTES`] attributes on one element, and text that costs
/// html5ever's serializer at most [`MAX_HTML_TEXT_SCAN`]. Errors carry the
/// byte offset of the tag or text in `html`.
///
/// The depth is that of html5ever's stack of open elements plus its list
/// of formatting elements to reopen, followed closely enough to never be
/// under it: end tags and the implied ends of `<p>`, `<li>`, table cells
/// and the like close elements only where the HTML parsing rules surely
/// do; markup in comments and in `<script>`, `<style>`, `<textarea>` and
/// the like is skipped only as far as the rules surely skip it.
pub fn check_html(html: &str) -> Result<(), (usize, String)> {
    let mut tree = Tree::default();
    let mut text = TextScan::default();
    let b = html.as_bytes();
    let mut i = 0;
    while let Some(found) = memchr::memchr(b'<', &b[i..]) {
        let at = i + found;
        text.add(&b[i..at], i);
        i = at + 1;
        let mut split = false;
        match b.get(i) {
            Some(b'!') if b[i + 1..].starts_with(b"--") => {
                i = comment_end(b, i + 3);
                split = true;
            }
            Some(b'!' | b'?') => i = after(b, i, b'>'),
            Some(b'/') => match b.get(i + 1) {
                Some(c) if c.is_ascii_alphabetic() => {
                    let Some(tag) = read_tag(b, i + 1) else {
                        break; // cut off: html5ever drops it
                    };
                    let depth = tree.depth();
                    tree.end(&tag.name);
                    // An end tag that closes nothing leaves the text on
                    // both sides in one node.
                    split = tree.depth() != depth;
                    text.separate(tag.value_scan, at);
                    i = tag.end;
                }
                Some(b'>') => i += 2,
                _ => i = after(b, i, b'>'),
            },
            Some(c) if c.is_ascii_alphabetic() => {
                let Some(tag) = read_tag(b, i) else {
                    break;
                };
                if tag.attributes > MAX_HTML_ATTRIBUTES {
                    return Err((
                        at,
                        format!(
                            "an HTML element with {} attributes, more than \
                             {MAX_HTML_ATTRIBUTES} attributes",
                            tag.attributes
                        ),
                    ));
                }
                text.separate(tag.value_scan, at);
                let content = tree.start(&tag.name, tag.self_closing).map_err(|()| {
                    (
                        at,
                        format!("HTML nested deeper than {MAX_HTML_DEPTH} elements"),
                    )
                })?;
                // These start tags can be ignored, and then add no node.
                split = !matches!(
                    tag.name.as_str(),
                    "html" | "head" | "body" | "frameset" | "form"
                );
                i = tag.end;
                match content {
                    Text::Markup => {}
                    Text::UntilEndTag => {
                        let end = raw_text_end(b, i, &tag.name);
                        // The text of these is written out escaped.
                        if matches!(tag.name.as_str(), "textarea" | "title") {
                            text.separate(scan_cost(&b[i..end]), i);
                        }
                        i = end;
                    }
                    Text::ToTheEnd => {
                        i = b.len();
                        break;
                    }
                }
            }
            _ => text.add(b"<", at),
        }
        // Text in a table can be moved out of it, before it, and join
        // the text there.
        if split && !tree.merges_text() {
            text.split();
        }
        text.checked()?;
    }
    text.add(&b[i.min(b.len())..], i);
    text.split();
    text.checked()
}

/// What html5ever's serializer will scan for an article's text: for every
/// `&` and every character U+0080–U+00BF (a `0xC2` byte), it looks through
/// the rest of the text node for a `<` or `>` (`"` in an attribute).
#[derive(Default)]
struct TextScan {
    /// Scanned in the text nodes ended so far (and attribute values).
    total: u64,
    /// The text node being read: its `&` and `0xC2` bytes, its length,
    /// where it starts.
    specials: u64,
    len: u64,
    start: usize,
    /// Where the text that went over the limit starts.
    over_at: Option<usize>,
}

/// What the serializer scans for one text: every `&` and `0xC2` byte
/// (counted as if no `<` or `>` followed) times its length.
fn scan_cost(text: &[u8]) -> u64 {
    let specials = memchr::memchr2_iter(b'&', 0xC2, text).count() as u64;
    specials.saturating_mul(text.len() as u64)
}

impl TextScan {
    /// More of the text node being read, from `start`.
    fn add(&mut self, text: &[u8], start: usize) {
        if self.len == 0 {
            self.start = start;
        }
        self.specials += memchr::memchr2_iter(b'&', 0xC2, text).count() as u64;
        self.len += text.len() as u64;
    }

    /// A text of its own (an attribute value, a `<textarea>`), at `at`.
    fn separate(&mut self, cost: u64, at: usize) {
        self.total = self.total.saturating_add(cost);
        if self.total > MAX_HTML_TEXT_SCAN {
            self.over_at.get_or_insert(at);
        }
    }

    /// The text node being read ends.
    fn split(&mut self) {
        let cost = self.specials.saturating_mul(self.len);
        self.separate(cost, self.start);
        self.specials = 0;
        self.len = 0;
    }

    fn checked(&self) -> Result<(), (usize, String)> {
        let pending = self.specials.saturating_mul(self.len);
        if self.total.saturating_add(pending) <= MAX_HTML_TEXT_SCAN {
            return Ok(());
        }
        Err((
            self.over_at.unwrap_or(self.start),
            "HTML text with too many `&` and characters U+0080–U+00BF for its length \
             (the sanitizer would scan more than 2^30 bytes to write it out)"
                .to_owned(),
        ))
    }
}

/// One start or end tag.
struct Tag {
    /// ASCII-lowercased, as html5ever's tokenizer gives it.
    name: String,
    attributes: usize,
    /// What its attribute values cost the serializer ([`scan_cost`]).
    value_scan: u64,
    self_closing: bool,
    /// Just after its `>`.
    end: usize,
}

/// Reads the tag whose name starts at `b[i]`, following the HTML
/// tokenizer's states; `None` when the input ends inside it.
fn read_tag(b: &[u8], mut i: usize) -> Option<Tag> {
    let space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0C');
    let start = i;
    while i < b.len() && !space(b[i]) && b[i] != b'/' && b[i] != b'>' {
        i += 1;
    }
    let name = String::from_utf8_lossy(&b[start..i]).to_ascii_lowercase();
    let mut attributes = 0;
    let mut value_scan = 0u64;
    loop {
        while i < b.len() && space(b[i]) {
            i += 1;
        }
        match *b.get(i)? {
            b'>' => {
                return Some(Tag {
                    name,
                    attributes,
                    value_scan,
                    self_closing: false,
                    end: i + 1,
                })
            }
            b'/' if b.get(i + 1) == Some(&b'>') => {
                return Some(Tag {
                    name,
                    attributes,
                    value_scan,
                    self_closing: true,
                    end: i + 2,
                })
            }
            b'/' => i += 1,
            _ => {
                // A name: its first character may be `=`.
                attributes += 1;
                i += 1;
                while i < b.len() && !space(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
                    i += 1;
                }
                while i < b.len() && space(b[i]) {
                    i += 1;
                }
                if b.get(i) != Some(&b'=') {
                    continue;
                }
                i += 1;
                while i < b.len() && space(b[i]) {
                    i += 1;
                }
                let value_start = i;
                match *b.get(i)? {
                    quote @ (b'"' | b'\'') => {
                        let close = memchr::memchr(quote, &b[i + 1..])?;
                        i += close + 2;
                    }
                    b'>' => {}
                    _ => {
                        while i < b.len() && !space(b[i]) && b[i] != b'>' {
                            i += 1;
                        }
                    }
                }
                value_scan = value_scan.saturating_add(scan_cost(&b[value_start..i]));
            }
        }
    }
}

/// Just after the first `c` at or after `i` (the end when there is none).
fn after(b: &[u8], i: usize, c: u8) -> usize {
    memchr::memchr(c, &b[i.min(b.len())..]).map_or(b.len(), |p| i + p + 1)
}

/// Just after the comment whose text starts at `i` (after `<!--`): `<!-->`
/// and `<!--->` end at once; otherwise `-->`, `--!>` or a longer run of
/// dashes before `>` ends it.
fn comment_end(b: &[u8], i: usize) -> usize {
    if b.get(i) == Some(&b'>') {
        return i + 1;
    }
    if b[i.min(b.len())..].starts_with(b"->") {
        return i + 2;
    }
    let mut from = i;
    while let Some(p) = memchr::memmem::find(&b[from.min(b.len())..], b"--") {
        let mut k = from + p + 2;
        while b.get(k) == Some(&b'-') {
            k += 1;
        }
        match (b.get(k), b.get(k + 1)) {
            (Some(b'>'), _) => return k + 1,
            (Some(b'!'), Some(b'>')) => return k + 2,
            _ => from = k,
        }
    }
    b.len()
}

/// Where the text of a raw text element (`<script>`, `<textarea>`…) that
/// starts at `i` ends: at the first `</name` followed by white space, `/`
/// or `>`. (Script text can run past that in html5ever, never stop
/// before: markup after it is looked at, not skipped.)
fn raw_text_end(b: &[u8], i: usize, name: &str) -> usize {
    let mut from = i;
    while let Some(p) = memchr::memmem::find(&b[from..], b"</") {
        let at = from + p;
        let name_end = at + 2 + name.len();
        let matches = b
            .get(at + 2..name_end)
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
        if matches
            && matches!(
                b.get(name_end),
                None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0C' | b'/' | b'>')
            )
        {
            return at;
        }
        from = at + 2;
    }
    b.len()
}

/// What follows a start tag.
enum Text {
    Markup,
    /// Raw text up to the element's end tag.
    UntilEndTag,
    /// Text to the end (`<plaintext>`).
    ToTheEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Html,
    Svg,
    Math,
}

#[derive(Debug)]
struct Open {
    name: String,
    ns: Ns,
}

/// The stack of open elements, and the formatting elements html5ever
/// would reopen (`<b>`, `<em>`…): those are kept apart, in `formatting`,
/// from their start tag to their end tag, with the stack's length when
/// they were opened (clamped as the stack shrinks).
#[derive(Debug, Default)]
struct Tree {
    stack: Vec<Open>,
    formatting: Vec<(String, usize)>,
}

const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img",
    "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
];
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];
/// Start tags that close an open `<p>` first.
const CLOSE_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "header",
    "hgroup",
    "listing",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "search",
    "section",
    "summary",
    "ul",
];
/// End tags that close up to their element when it is in scope.
const BLOCK_END: &[&str] = &[
    "address",
    "applet",
    "article",
    "aside",
    "blockquote",
    "button",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "listing",
    "main",
    "marquee",
    "menu",
    "nav",
    "object",
    "ol",
    "pre",
    "search",
    "section",
    "summary",
    "ul",
];
const HEADINGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];
/// The HTML parsing rules' "special" elements.
const SPECIAL: &[&str] = &[
    "address",
    "applet",
    "area",
    "article",
    "aside",
    "base",
    "basefont",
    "bgsound",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "col",
    "colgroup",
    "dd",
    "details",
    "dir",
    "div",
    "dl",
    "dt",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
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
    "iframe",
    "img",
    "input",
    "keygen",
    "li",
    "link",
    "listing",
    "main",
    "marquee",
    "menu",
    "meta",
    "nav",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "ol",
    "p",
    "param",
    "plaintext",
    "pre",
    "script",
    "search",
    "section",
    "select",
    "source",
    "style",
    "summary",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "track",
    "ul",
    "wbr",
    "xmp",
];
/// Elements that put a marker in the list of formatting elements.
const MARKERS: &[&str] = &[
    "applet", "caption", "marquee", "object", "td", "template", "th",
];
/// Elements whose text is not markup (`noscript` is left out: html5ever
/// parses its markup when scripting is off).
const RAW_TEXT: &[&str] = &[
    "iframe", "noembed", "noframes", "script", "style", "textarea", "title", "xmp",
];
/// Start tags that leave SVG and MathML.
const BREAKOUT: &[&str] = &[
    "b",
    "big",
    "blockquote",
    "body",
    "br",
    "center",
    "code",
    "dd",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "i",
    "img",
    "li",
    "listing",
    "menu",
    "meta",
    "nobr",
    "ol",
    "p",
    "pre",
    "ruby",
    "s",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tt",
    "u",
    "ul",
    "var",
];

/// The kinds of scope an element is looked for in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Default,
    ListItem,
    Button,
    Table,
}

impl Open {
    fn is(&self, names: &[&str]) -> bool {
        self.ns == Ns::Html && names.contains(&self.name.as_str())
    }

    /// SVG and MathML elements whose content is HTML again.
    fn integration_point(&self) -> bool {
        match self.ns {
            Ns::Html => false,
            Ns::Svg => matches!(self.name.as_str(), "foreignobject" | "desc" | "title"),
            Ns::Math => matches!(
                self.name.as_str(),
                "mi" | "mo" | "mn" | "ms" | "mtext" | "annotation-xml"
            ),
        }
    }

    fn special(&self) -> bool {
        self.is(SPECIAL) || self.integration_point()
    }

    fn bounds(&self, scope: Scope) -> bool {
        match scope {
            Scope::Table => self.is(&["html", "table", "template"]),
            _ => {
                self.is(&[
                    "applet", "caption", "html", "table", "td", "th", "marquee", "object",
                    "template",
                ]) || self.integration_point()
                    || (scope == Scope::ListItem && self.is(&["ol", "ul"]))
                    || (scope == Scope::Button && self.is(&["button"]))
            }
        }
    }
}

impl Tree {
    fn depth(&self) -> usize {
        self.stack.len() + self.formatting.len()
    }

    /// Whether text nodes can join across tags here: text in a table
    /// outside its cells is moved before the table.
    fn merges_text(&self) -> bool {
        self.stack
            .iter()
            .any(|o| o.is(&["table", "select", "template"]))
    }

    fn push(&mut self, name: &str, ns: Ns) -> Result<(), ()> {
        self.stack.push(Open {
            name: name.to_owned(),
            ns,
        });
        self.checked()
    }

    fn checked(&self) -> Result<(), ()> {
        match self.depth() > MAX_HTML_DEPTH {
            true => Err(()),
            false => Ok(()),
        }
    }

    fn top(&self) -> Option<&Open> {
        self.stack.last()
    }

    fn top_is(&self, names: &[&str]) -> bool {
        self.top().is_some_and(|o| o.is(names))
    }

    /// Pops the element at `i` and everything above it.
    fn truncate(&mut self, i: usize) {
        // Formatting elements opened after a marker element go with it.
        if let Some(marker) = (i..self.stack.len()).find(|&k| self.stack[k].is(MARKERS)) {
            self.formatting.retain(|&(_, base)| base <= marker);
        }
        self.stack.truncate(i);
        for (_, base) in self.formatting.iter_mut().rev() {
            if *base <= i {
                break;
            }
            *base = i;
        }
    }

    /// The nearest open HTML element named one of `names`, unless a
    /// boundary of `scope` comes first.
    fn in_scope(&self, names: &[&str], scope: Scope) -> Option<usize> {
        for (i, open) in self.stack.iter().enumerate().rev() {
            if open.is(names) {
                return Some(i);
            }
            if open.bounds(scope) {
                return None;
            }
        }
        None
    }

    fn close_p(&mut self) {
        if let Some(i) = self.in_scope(&["p"], Scope::Button) {
            self.truncate(i);
        }
    }

    /// Whether start tags are read as SVG or MathML.
    fn in_foreign(&self) -> bool {
        self.top()
            .is_some_and(|o| o.ns != Ns::Html && !o.integration_point())
    }

    /// A start tag; what follows it; `Err` past the depth limit.
    fn start(&mut self, name: &str, self_closing: bool) -> Result<Text, ()> {
        if self.in_foreign() {
            if !BREAKOUT.contains(&name) {
                let ns = self.top().map_or(Ns::Html, |o| o.ns);
                if !self_closing {
                    self.push(name, ns)?;
                }
                return Ok(Text::Markup);
            }
            let keep = self
                .stack
                .iter()
                .rposition(|o| o.ns == Ns::Html || o.integration_point())
                .map_or(0, |i| i + 1);
            self.truncate(keep);
        }
        match name {
            _ if VOID.contains(&name) => {
                if name == "hr" {
                    self.close_p();
                }
            }
            "html" | "head" | "body" | "frameset" => {}
            "svg" | "math" => {
                if !self_closing {
                    let ns = if name == "svg" { Ns::Svg } else { Ns::Math };
                    self.push(name, ns)?;
                }
            }
            "plaintext" => {
                self.close_p();
                return Ok(Text::ToTheEnd);
            }
            _ if RAW_TEXT.contains(&name) => {
                if name == "xmp" {
                    self.close_p();
                }
                return Ok(Text::UntilEndTag);
            }
            _ if FORMATTING.contains(&name) => {
                if name == "a" && self.formatting.iter().any(|(n, _)| n == "a") {
                    self.end_formatting("a");
                }
                self.formatting.push((name.to_owned(), self.stack.len()));
                self.checked()?;
            }
            "li" | "dd" | "dt" => {
                let same: &[&str] = if name == "li" { &["li"] } else { &["dd", "dt"] };
                for i in (0..self.stack.len()).rev() {
                    let open = &self.stack[i];
                    if open.is(same) {
                        self.truncate(i);
                        break;
                    }
                    if open.special() && !open.is(&["address", "div", "p"]) {
                        break;
                    }
                }
                self.close_p();
                self.push(name, Ns::Html)?;
            }
            _ if CLOSE_P.contains(&name) => {
                self.close_p();
                self.push(name, Ns::Html)?;
            }
            _ if HEADINGS.contains(&name) => {
                self.close_p();
                if self.top_is(HEADINGS) {
                    self.stack.pop();
                    self.truncate(self.stack.len());
                }
                self.push(name, Ns::Html)?;
            }
            "button" => {
                if let Some(i) = self.in_scope(&["button"], Scope::Default) {
                    self.truncate(i);
                }
                self.push(name, Ns::Html)?;
            }
            "td" | "th" | "tr" | "tbody" | "thead" | "tfoot" => {
                let closes: &[&str] = match name {
                    "td" | "th" => &["td", "th"],
                    "tr" => &["tr"],
                    _ => &["tbody", "thead", "tfoot"],
                };
                if let Some(i) = self.in_scope(closes, Scope::Table) {
                    self.truncate(i);
                }
                // The parser fills in the row and the body it implies.
                if matches!(name, "td" | "th" | "tr") && self.top_is(&["table"]) {
                    self.push("tbody", Ns::Html)?;
                }
                if matches!(name, "td" | "th") && self.top_is(&["tbody", "thead", "tfoot"]) {
                    self.push("tr", Ns::Html)?;
                }
                self.push(name, Ns::Html)?;
            }
            "option" | "optgroup" => {
                if self.top_is(&["option"]) {
                    self.stack.pop();
                }
                if name == "optgroup" && self.top_is(&["optgroup"]) {
                    self.stack.pop();
                }
                self.truncate(self.stack.len());
                self.push(name, Ns::Html)?;
            }
            _ => self.push(name, Ns::Html)?,
        }
        Ok(Text::Markup)
    }

    fn end(&mut self, name: &str) {
        if self.top().is_some_and(|o| o.ns != Ns::Html) {
            for i in (0..self.stack.len()).rev() {
                if self.stack[i].ns == Ns::Html {
                    break;
                }
                if self.stack[i].name == name {
                    self.truncate(i);
                    return;
                }
            }
        }
        let scoped = |tree: &Tree, names: &[&str], scope| tree.in_scope(names, scope);
        let found = match name {
            "p" => scoped(self, &["p"], Scope::Button),
            "li" => scoped(self, &["li"], Scope::ListItem),
            "dd" | "dt" => scoped(self, &[name], Scope::Default),
            _ if HEADINGS.contains(&name) => scoped(self, HEADINGS, Scope::Default),
            _ if BLOCK_END.contains(&name) => scoped(self, &[name], Scope::Default),
            "table" | "tbody" | "tfoot" | "thead" | "tr" | "td" | "th" | "caption" => {
                scoped(self, &[name], Scope::Table)
            }
            "template" => self.stack.iter().rposition(|o| o.is(&["template"])),
            "select" => {
                let mut found = None;
                for (i, open) in self.stack.iter().enumerate().rev() {
                    if open.is(&["select"]) {
                        found = Some(i);
                        break;
                    }
                    if !open.is(&["option", "optgroup"]) {
                        break;
                    }
                }
                found
            }
            "option" | "colgroup" => self.top_is(&[name]).then(|| self.stack.len() - 1),
            "optgroup" => {
                let n = self.stack.len();
                if self.top_is(&["option"]) && n >= 2 && self.stack[n - 2].is(&["optgroup"]) {
                    Some(n - 2)
                } else {
                    self.top_is(&["optgroup"]).then(|| n - 1)
                }
            }
            "form" => {
                // Only the form itself leaves the stack.
                if let Some(i) = scoped(self, &["form"], Scope::Default) {
                    self.stack.remove(i);
                    for (_, base) in &mut self.formatting {
                        if *base > i {
                            *base -= 1;
                        }
                    }
                }
                None
            }
            "body" | "html" | "br" => None,
            _ if FORMATTING.contains(&name) => {
                self.end_formatting(name);
                None
            }
            _ => self.any_other_end(name),
        };
        if let Some(i) = found {
            self.truncate(i);
        }
    }

    /// The nearest open HTML element of that name, unless a special
    /// element comes first.
    fn any_other_end(&self, name: &str) -> Option<usize> {
        for (i, open) in self.stack.iter().enumerate().rev() {
            if open.ns == Ns::Html && open.name == name {
                return Some(i);
            }
            if open.special() {
                return None;
            }
        }
        None
    }

    /// The end of a formatting element. With a special element opened
    /// after it, html5ever's adoption agency moves elements around without
    /// making the stack deeper: nothing changes here. Without one, the
    /// element and what was opened after it are closed.
    fn end_formatting(&mut self, name: &str) {
        let Some(j) = self.formatting.iter().rposition(|(n, _)| n == name) else {
            if let Some(i) = self.any_other_end(name) {
                self.truncate(i);
            }
            return;
        };
        let base = self.formatting[j].1.min(self.stack.len());
        if self.stack[base..].iter().any(Open::special) {
            return;
        }
        self.truncate(base);
        self.formatting.remove(j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html_error(html: &str) -> Option<String> {
        check_html(html).err().map(|(_, reason)| reason)
    }

    fn deep(html: &str) -> bool {
        html_error(html).is_some_and(|r| r.contains("nested deeper"))
    }

    #[test]
    fn categories_keep_the_first_distinct_ones() {
        let mut few: Vec<String> = ["a", "A", "b"].map(String::from).to_vec();
        assert_eq!(cap_categories(&mut few), None);
        assert_eq!(few, ["a", "A", "b"]);
        let mut many: Vec<String> = vec!["Seoul".into(), " seoul ".into(), String::new()];
        many.extend((0..40).map(|i| format!("k{i}")));
        many.push("K39".into());
        assert_eq!(cap_categories(&mut many), Some((41, 34)));
        assert_eq!(many.len(), MAX_CATEGORIES);
        assert_eq!(many[0], "Seoul");
        assert_eq!(many[1], "k0");
        assert_eq!(many[31], "k30");
    }

    #[test]
    fn a_nul_in_yaml_ends_the_check_and_does_not_hang_it() {
        // Found by the markdown fuzz target: the check stood still at a NUL.
        assert_eq!(check_yaml("\0\0\u{1}\0\u{0}0(\0\0\0\0ue\n"), Ok(()));
        assert_eq!(check_yaml("a: \0\ntags: [b]\n"), Ok(()));
        let deep = format!("\0\ntags: {}x{}\n", "[".repeat(65), "]".repeat(65));
        assert!(check_yaml(&deep).is_err());
    }

    #[test]
    fn yaml_depth_counts_flow_collections() {
        let ok = "title: \"[x] and {y}\"\ntags: [a, [b, {c: d}]]\nsummary: 'a ] b'\n";
        assert_eq!(check_yaml(ok), Ok(()));
        let deep = format!("title: T\ntags: {}x{}\n", "[".repeat(65), "]".repeat(65));
        let (line, reason) = check_yaml(&deep).unwrap_err();
        assert_eq!(line, 2);
        assert!(reason.contains("nested deeper than 64"), "{reason}");
        assert_eq!(
            check_yaml(
                &deep
                    .replace(&"[".repeat(65), &"[".repeat(64))
                    .replace(&"]".repeat(65), &"]".repeat(64))
            ),
            Ok(())
        );
        // Quoted closings close nothing.
        let hidden = format!("tags: [{}]\n", "[ \"]\", ".repeat(100));
        let (_, reason) = check_yaml(&hidden).unwrap_err();
        assert!(reason.contains("nested deeper than 64"), "{reason}");
        // Many brackets, balanced, are fine.
        let flat = "tags: [a, b]\n".repeat(500);
        assert_eq!(check_yaml(&flat), Ok(()));
        // Quotes inside plain scalars, brackets in block scalars and in
        // continued plain scalars are no tokens.
        let tricky = "title: rock 'n roll [\nsummary: |\n  [[[[[ not flow\n  ]]]\n\
                      tags: [a 'b, c]\nlink: x\n  'continued [\nimage: >-\n  {{{\n";
        assert_eq!(check_yaml(tricky), Ok(()));
        let in_block_scalar = format!("summary: >\n  {}\n  x\n", "[".repeat(100));
        assert_eq!(check_yaml(&in_block_scalar), Ok(()));
        // What a quote taken for a quoted scalar's start would hide.
        let after_quote = format!("a: foo\n  'bar\ntags: {}\n", "[ 'x]', ".repeat(70));
        assert!(check_yaml(&after_quote).is_err());
        let after_plain = format!("tags: [a 'b, {}]\n", "[ 'x]', ".repeat(70));
        assert!(check_yaml(&after_plain).is_err());
    }

    #[test]
    fn markdown_markers_per_line() {
        assert_eq!(
            check_markdown("> > - 1. quote\n\n* * *\n- - -\n"),
            Ok(false)
        );
        let (line, reason) = check_markdown(&format!("ok\n{}x\n", "> ".repeat(33))).unwrap_err();
        assert_eq!(line, 2);
        assert!(reason.starts_with("33 block quotes and lists"), "{reason}");
        assert!(check_markdown(&format!("{}x", "1. ".repeat(33))).is_err());
        assert!(check_markdown(&format!("{}x", "- ".repeat(32))).is_ok());
        // A thematic break of many dashes is no list.
        assert_eq!(check_markdown(&"- ".repeat(100)), Ok(false));
        // Code indented deep is no error, only a reason to look closer.
        assert_eq!(
            check_markdown(&format!("{}code\n", " ".repeat(80))),
            Ok(true)
        );
    }

    #[test]
    fn markdown_tables_and_what_needs_a_closer_look() {
        assert_eq!(
            check_markdown("| a | b |\n|---|:-:|\n| 1 | 2 |\n"),
            Ok(false)
        );
        let wide = format!("{}|\n{}|\n", "|a".repeat(65), "|-".repeat(65));
        let (line, reason) = check_markdown(&wide).unwrap_err();
        assert_eq!(
            (line, reason.as_str()),
            (2, "a table of 65 columns, over the limit of 64")
        );
        assert_eq!(check_markdown("a <b>raw</b>\n"), Ok(true));
        assert_eq!(check_markdown(&"*a* _b_ ".repeat(20)), Ok(false));
        assert_eq!(check_markdown(&"*a* _b_ ".repeat(60)), Ok(true));
        // Delimiters are counted per paragraph.
        assert_eq!(check_markdown(&"*a* _b_\n\n".repeat(100)), Ok(false));
    }

    #[test]
    fn html_depth_follows_the_parsing_rules() {
        assert_eq!(check_html(&"<div>".repeat(128)), Ok(()));
        assert!(deep(&"<div>".repeat(129)));
        assert!(
            deep(&"<div/>".repeat(129)),
            "self-closing is ignored in HTML"
        );
        assert!(deep(&"<span>".repeat(129)));
        assert!(deep(&"<b id=1>".repeat(129)));
        // Void elements, closed elements and implied ends do not nest.
        let flat = [
            "<br><img src=x><hr><input>",
            "<div>x</div>",
            "<p>one<p>two",
            "<ul><li>one<li>two</ul>",
            "<dl><dt>a<dd>b<dt>c</dl>",
            "<table><tr><td>a<td>b<tr><td>c</table>",
            "<div><p>sloppy</div>",
            "<h1>a<h2>b",
            "<select><option>a<option>b</select>",
            "<b>bold</b><i>it</i>",
            "<a href=1>one<a href=2>two",
            "<svg><path/><circle/></svg>",
            "<math><mi>x</mi></math>",
            "<!-- <div> --><?x <div>?><!x <div>>",
            "<script>document.write('<div>')</script>",
            "<textarea><div></textarea>",
        ];
        for html in flat {
            let repeated = html.repeat(200);
            assert_eq!(check_html(&repeated), Ok(()), "{html}");
        }
        // What only looks closed is counted.
        for html in [
            "<span><div></span>",
            "<form><div></form>",
            "<svg><p><div/>",
            "<p><b id=x>x</p>",
            "<!--><div>",
            "<!---><div>",
            "<div a='>'>",
            "<svg><style><g>",
            "<ul><li>",
            "<b><div></b>",
        ] {
            assert!(deep(&html.repeat(200)), "{html}");
        }
        // Formatting elements closed by a marker element go with it.
        assert_eq!(
            check_html(&"<table><tr><td><b>x</td></tr></table>".repeat(200)),
            Ok(())
        );
    }

    #[test]
    fn html_text_costs_what_writing_it_out_scans() {
        let scans = |html: &str| html_error(html).is_some_and(|r| r.contains("too many `&`"));
        assert!(scans(&format!("<p>{}</p>", "&amp;".repeat(40_000))));
        assert!(scans(&format!("<p>{}</p>", "김·".repeat(40_000))));
        // The same characters in paragraphs of their own are fine.
        assert_eq!(
            check_html(&format!("<p>{}</p>", "김·".repeat(100)).repeat(400)),
            Ok(())
        );
        let amps = "&".repeat(1000);
        assert_eq!(check_html(&format!("{amps}<b></b>").repeat(100)), Ok(()));
        // End tags that close nothing leave one text node.
        assert!(scans(&format!("{amps}</x>").repeat(100)));
        // Attribute values are written out the same way.
        let href = format!("<a href=\"{}\">x</a>", "a&".repeat(30_000));
        assert!(scans(&href));
        let (at, _) =
            check_html(&format!("<p>ok</p><p>{}</p>", "&amp;".repeat(40_000))).unwrap_err();
        assert_eq!(at, 12);
        // Markdown text holding as many is looked at closer.
        assert_eq!(check_markdown(&"&".repeat(40_000)), Ok(true));
        assert_eq!(check_markdown(&"R&D ".repeat(1000)), Ok(false));
    }

    #[test]
    fn html_attributes_and_tags_cut_off() {
        let attributes: Vec<String> = (0..65).map(|i| format!("a{i}=\"v\"")).collect();
        let wide = format!("<p {}>", attributes.join(" "));
        let reason = html_error(&wide).unwrap_or_default();
        assert!(reason.contains("65 attributes"), "{reason}");
        assert_eq!(
            check_html(&format!("<p {}>", attributes[..64].join(" "))),
            Ok(())
        );
        assert_eq!(check_html("<div a=\"never closed"), Ok(()));
        assert_eq!(check_html("text < 3 and <1 and </ >"), Ok(()));
        let (at, _) = check_html(&format!("ab{}", "<div>".repeat(200))).unwrap_err();
        assert_eq!(at, 2 + 128 * 5);
    }
}
