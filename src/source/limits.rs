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
                    let broke_line = self.plain();
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
