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
}
