//! The command line says only true things: what a dry run or a check
//! would do (not what they did), one line per error, no colour codes in
//! files and pipes, one log line per `run` tick, the config's real rules
//! (five cron fields, http(s) URLs), embargo times in the site's zone,
//! `push` under the output folder's lock, `init -c`, HTTP answers with a
//! body and the same `Vary`, RSS `<author>` as the README says, and the
//! license files Cargo.toml names.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;

use common::repo;

#[test]
fn the_licenses_cargo_toml_names_are_there() {
    let cargo = fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    assert!(cargo.contains("license = \"MIT OR Apache-2.0\""));
    let mit = fs::read_to_string(repo().join("LICENSE-MIT")).unwrap();
    assert!(mit.starts_with("MIT License\n\nCopyright (c) the wirefeed developers\n"));
    assert!(mit.contains("THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND"));
    let apache = fs::read_to_string(repo().join("LICENSE-APACHE")).unwrap();
    assert!(apache.contains("Apache License\n                           Version 2.0, January 2004"));
    assert!(apache.contains("END OF TERMS AND CONDITIONS"));
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(readme.contains("LICENSE-MIT") && readme.contains("LICENSE-APACHE"));
}
