//! Each command lists the options it takes and no other, and with
//! `--log-format json` every line `build`, `check`, `push`, `run` and
//! `serve` write, on stdout and on stderr, is one JSON object.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{fake, project, story, terminate, wait_until, wirefeed};

/// The options `wirefeed ARGS -h` lists (one a line), by their long name.
fn listed(args: &[&str]) -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let mut all = args.to_vec();
    all.push("-h");
    let help = wirefeed(dir.path(), &all);
    help.expect_code(0);
    let text = help.stdout();
    let options = text
        .split("\nOptions:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{args:?}: no options in\n{text}"));
    options
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .map(|l| {
            let flags = l.split("  ").next().unwrap();
            let long = flags.split(", ").last().unwrap();
            let long = long.split([' ', '=', '<']).next().unwrap();
            long.trim_end_matches("...").to_owned()
        })
        .collect()
}

#[test]
fn each_command_lists_the_options_it_takes() {
    let logs = ["--quiet", "--verbose", "--log-format"];
    let expected: [(&str, &[&str]); 9] = [
        (
            "build",
            &["--out", "--now", "--no-cache", "--jobs", "--config"],
        ),
        ("check", &["--now", "--no-cache", "--jobs", "--config"]),
        ("serve", &["--bind", "--watch", "--jobs", "--config"]),
        ("push", &["--dry-run", "--force", "--config"]),
        ("run", &["--once", "--jobs", "--config"]),
        ("status", &["--config"]),
        ("init", &["--config"]),
        ("completions", &[]),
        ("man", &["--out"]),
    ];
    for (command, own) in expected {
        let mut want: BTreeSet<String> = own.iter().map(|s| s.to_string()).collect();
        want.insert("--help".into());
        if !["status", "init", "completions", "man"].contains(&command) {
            want.extend(logs.iter().map(|s| s.to_string()));
        }
        assert_eq!(listed(&[command]), want, "wirefeed {command} -h");
    }
    let top: BTreeSet<String> = ["--help", "--version"].map(String::from).into();
    assert_eq!(listed(&[]), top, "wirefeed -h");
}

#[test]
fn options_before_the_command_still_work_where_they_apply() {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    let before = wirefeed(dir.path(), &["-v", "-j", "1", "build"]);
    before.expect_code(0);
    assert!(
        before.stderr().contains("wrote the feeds in"),
        "{}",
        before.stderr()
    );
    let after = wirefeed(dir.path(), &["build", "-v", "-j", "1"]);
    after.expect_code(0);
    assert!(
        after.stderr().contains("wrote the feeds in"),
        "{}",
        after.stderr()
    );

    let refused = wirefeed(dir.path(), &["-j", "2", "init", "elsewhere"]);
    refused.expect_code(2);
    assert!(
        refused
            .stderr()
            .contains("`--jobs` does not apply to `wirefeed init` (it builds nothing)"),
        "{}",
        refused.stderr()
    );
    assert!(!dir.path().join("elsewhere").exists());
    let refused = wirefeed(dir.path(), &["--log-format", "json", "status"]);
    refused.expect_code(2);
    assert!(
        refused
            .stderr()
            .contains("`--log-format` does not apply to `wirefeed status`"),
        "{}",
        refused.stderr()
    );
    let both = wirefeed(dir.path(), &["-q", "build", "-v"]);
    both.expect_code(2);
    assert!(
        both.stderr().contains("cannot be used together"),
        "{}",
        both.stderr()
    );
    // Not an option of that command at all: clap's own error.
    wirefeed(dir.path(), &["init", "-j", "2", "x"]).expect_code(2);
}

/// Every line of `text` parses as a JSON object with a level and a
/// message; returns the messages.
fn json_lines(what: &str, text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {line:?}\n{text}"));
            assert!(v.is_object(), "{what}: {line}");
            assert!(v["level"].is_string(), "{what}: {line}");
            v["fields"]["message"]
                .as_str()
                .unwrap_or_else(|| panic!("{what}: no message: {line}"))
                .to_owned()
        })
        .collect()
}

#[test]
fn every_line_is_a_json_object_in_json_mode() {
    let shared: fake::Shared = Arc::new(Mutex::new(fake::Server::default()));
    let base = fake::start(shared.clone());
    let dir = project(&[
        ("a.txt", &story("2026-10-01 09:00:00", "First story")),
        // A broken article: an error line.
        ("broken.txt", b"no time line here\n"),
    ]);
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let push = format!(
        "\n[[push]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{base}/hook\"\n\
         [[push]]\nname = \"gate\"\nkind = \"webhook\"\nurl = \"{base}/echo/x\"\n"
    );
    std::fs::write(&config, format!("{text}{push}")).unwrap();

    let runs: [&[&str]; 6] = [
        &["--log-format", "json", "-v", "build"],
        &["check", "--log-format", "json"],
        &["push", "--log-format", "json", "--dry-run"],
        &["--log-format", "json", "push"],
        &["run", "--once", "--log-format", "json", "-v"],
        &["build", "--log-format", "json", "-c", "missing.toml"],
    ];
    let mut seen = Vec::new();
    for args in runs {
        let run = wirefeed(dir.path(), args);
        let out = json_lines(&format!("{args:?} stdout"), &run.stdout());
        let err = json_lines(&format!("{args:?} stderr"), &run.stderr());
        seen.push((args, out, err));
    }
    let has = |i: usize, stdout: bool, part: &str| {
        let (args, out, err) = &seen[i];
        let lines = if stdout { out } else { err };
        assert!(
            lines.iter().any(|m| m.contains(part)),
            "{args:?}: no {part:?} in {lines:#?}"
        );
    };
    has(0, true, "built: 2 files read, 1 article");
    has(0, false, "broken.txt:");
    has(0, false, "wrote the feeds in");
    has(1, true, "checked (nothing written)");
    has(2, true, "hook: would send");
    has(3, true, "hook: sent ");
    has(3, false, "gate: ");
    has(4, false, "tick: built: 2 files read");
    has(5, false, "missing.toml: no configuration file here");

    // serve: the `serving … on` line too.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args([
            "serve",
            "--watch",
            "-v",
            "--log-format",
            "json",
            "--bind",
            &bind,
        ])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("serve", Duration::from_secs(20), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let mut stdout = child.stdout.take().unwrap();
    let log = terminate(child);
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    json_lines("serve stdout", &out);
    let messages = json_lines("serve stderr", &log);
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("serving ") && m.contains(&format!("on http://{bind}/"))),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with("built: ")),
        "{messages:#?}"
    );
}
