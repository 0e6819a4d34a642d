//! The README's configuration reference against the parser: every table's
//! keys as documented are exactly the keys the parser takes (it names
//! them when it meets an unknown one), and the README's example config
//! parses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use wirefeed::config::Config;

/// The reference's tables: table name (`""` for the top level) → keys.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let start = readme
        .find("### Configuration reference")
        .expect("README has a configuration reference");
    let end = readme[start..]
        .find("\n## ")
        .map_or(readme.len(), |e| start + e);
    let mut tables = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in readme[start..end].lines() {
        if let Some(heading) = line.strip_prefix("#### ") {
            let name = match heading {
                "Top level" => String::new(),
                h => h.trim_matches(['`', '[', ']']).to_owned(),
            };
            tables.insert(name.clone(), BTreeSet::new());
            current = Some(name);
        } else if let (Some(table), Some(row)) = (&current, line.strip_prefix("| `")) {
            let key = row.split('`').next().unwrap().to_owned();
            tables.get_mut(table).unwrap().insert(key);
        }
    }
    tables
}

/// The keys the parser takes in `table`: what it lists on meeting an
/// unknown key there.
fn accepted(table: &str) -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let header = match table {
        "" => String::new(),
        "source" | "feed" | "push" => format!("[[{table}]]\n"),
        t => format!("[{t}]\n"),
    };
    let text = format!("{header}zz_not_a_key = 1\n");
    let error = match Config::parse(&text, &dir.path().join("config.toml")) {
        Ok(_) => panic!("an unknown key in [{table}] was taken"),
        Err(e) => e.to_string(),
    };
    let list = error
        .split("(expected one of ")
        .nth(1)
        .unwrap_or_else(|| panic!("[{table}]: no list of keys in: {error}"));
    let list = list.trim_end_matches(')');
    list.split(", ")
        .map(|k| k.trim_matches('`').to_owned())
        .collect()
}

#[test]
fn every_key_is_documented_and_every_documented_key_is_taken() {
    let documented = documented();
    let tables = [
        "",
        "site",
        "source",
        "feed",
        "category_feeds",
        "serve",
        "push",
        "websub",
        "schedule",
        "metrics",
    ];
    assert_eq!(
        documented.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut t = tables.to_vec();
            t.sort();
            t
        },
        "the reference's tables"
    );
    for table in tables {
        let taken = accepted(table);
        let written = &documented[table];
        let undocumented: Vec<_> = taken.difference(written).collect();
        let refused: Vec<_> = written.difference(&taken).collect();
        assert!(
            undocumented.is_empty() && refused.is_empty(),
            "[{table}]: taken but not in the README's reference: {undocumented:?}; \
             in the reference but refused: {refused:?}"
        );
    }
}

#[test]
fn the_readme_example_config_parses() {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .expect("a Configuration section");
    let example = section
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .expect("an example config");
    let dir = tempfile::tempdir().unwrap();
    for line in example.lines() {
        if let Some(path) = line.strip_prefix("path = \"") {
            let path = path.split('"').next().unwrap();
            std::fs::create_dir_all(dir.path().join(path)).unwrap();
        }
    }
    // Its "..." placeholders are fine strings; the example must be whole.
    let config = Config::parse(example, &dir.path().join("config.toml"))
        .unwrap_or_else(|e| panic!("the README's example config: {e}"));
    assert!(!config.feeds.is_empty() && !config.push.is_empty());
}
