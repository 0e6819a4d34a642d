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
use std::sync::Arc;

use common::fake::{start, Shared};
use common::{project, repo, story, wirefeed};

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

/// A built project with one `http-put` target at `base`.
fn pushing_site(base: &str) -> tempfile::TempDir {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    let config = dir.path().join("config.toml");
    let text = fs::read_to_string(&config).unwrap();
    let more = format!("\n[[push]]\nname = \"dav\"\nkind = \"http-put\"\nurl = \"{base}/site/\"\n");
    fs::write(&config, format!("{text}{more}")).unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    dir
}

#[test]
fn a_dry_run_says_what_it_would_send_and_sends_nothing() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let dir = pushing_site(&base);
    let files = common::files(&dir.path().join("feeds")).len();
    let run = wirefeed(dir.path(), &["push", "--dry-run"]);
    run.expect_code(0);
    let out = run.stdout();
    let summary = out.lines().last().unwrap_or_default();
    assert_eq!(
        summary,
        format!("dav: would send {files}, unchanged 0, pending 0, refused 0"),
        "{out}"
    );
    assert!(!out.contains(" sent "), "{out}");
    assert_eq!(shared.lock().unwrap().puts.values().sum::<usize>(), 0);
    assert!(!dir.path().join("feeds/.wirefeed-outbox.json").exists());

    // A real push says what it sent.
    let real = wirefeed(dir.path(), &["push"]);
    real.expect_code(0);
    assert!(
        real.stdout()
            .contains(&format!("dav: sent {files}, unchanged 0")),
        "{}",
        real.stdout()
    );
}
