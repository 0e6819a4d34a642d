//! `wirefeed push` against hostile targets: one that echoes our request
//! headers (in its body and in a redirect's `Location`) never gets our
//! secrets printed or kept, and one whose answer is several lines with
//! terminal escapes cannot forge log lines or break `--log-format json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use common::fake::{start, Shared};
use common::{project, story, wirefeed};

const TOKEN: &str = "tok/S3cr+t=Q9";
const USER: &str = "editor";
const PASSWORD: &str = "p@ss w/rd%Q9";

/// A project whose `[[push]]` tables are `targets`, built.
fn site(targets: &str) -> tempfile::TempDir {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n{targets}")).unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    dir
}

fn target(name: &str, kind: &str, url: &str, auth: &str) -> String {
    format!(
        "[[push]]\nname = \"{name}\"\nkind = \"{kind}\"\nurl = \"{url}\"\n{auth}\n\
         timeout_secs = 5\nmax_attempts = 1\n\n"
    )
}

const BEARER: &str = "token_env = \"WF_TEST_TOKEN\"";
const BASIC: &str = "user = \"editor\"\npassword_env = \"WF_TEST_PASSWORD\"";

/// Runs `wirefeed ARGS` with the secrets in the environment.
fn run(dir: &Path, args: &[&str]) -> common::Run {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env("WF_TEST_TOKEN", TOKEN)
        .env("WF_TEST_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    common::Run { output }
}

/// Every form of our secrets a server could hand back: as sent, base64
/// (padded or not, standard or URL-safe), percent-encoded (upper or lower
/// case hex), and the percent-encoded base64.
fn forms() -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let pct = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let lower = |s: &str| {
        let p = pct(s);
        let mut out = String::new();
        let mut rest = p.as_str();
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            out.push_str(&rest[i..i + 3].to_ascii_lowercase());
            rest = &rest[i + 3..];
        }
        out + rest
    };
    let mut out = Vec::new();
    for secret in [
        TOKEN.to_owned(),
        PASSWORD.to_owned(),
        format!("{USER}:{PASSWORD}"),
    ] {
        let encoded = [
            STANDARD.encode(&secret),
            STANDARD_NO_PAD.encode(&secret),
            URL_SAFE.encode(&secret),
            URL_SAFE_NO_PAD.encode(&secret),
        ];
        out.push(pct(&secret));
        out.push(lower(&secret));
        for e in &encoded {
            out.push(pct(e));
        }
        out.extend(encoded);
        out.push(secret);
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn a_target_that_echoes_our_headers_never_gets_a_secret_printed_or_kept() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let targets = [
        target("bearer-body", "http-put", &format!("{base}/echo/"), BEARER),
        target("basic-body", "webhook", &format!("{base}/echo/hook"), BASIC),
        target(
            "bearer-moved",
            "http-put",
            &format!("{base}/echo-redirect/"),
            BEARER,
        ),
        target(
            "basic-moved",
            "webhook",
            &format!("{base}/echo-redirect/hook"),
            BASIC,
        ),
    ]
    .concat();
    let dir = site(&targets);

    let push = run(dir.path(), &["push"]);
    push.expect_code(1);
    let status = run(dir.path(), &["status"]);
    status.expect_code(0);
    let outbox = std::fs::read_to_string(dir.path().join("feeds/.wirefeed-outbox.json")).unwrap();

    // The server did see and echo the credentials.
    assert!(
        shared
            .lock()
            .unwrap()
            .tokens
            .iter()
            .any(|t| t == &format!("Bearer {TOKEN}")),
        "the token was sent"
    );
    let shown = [
        ("push stderr", push.stderr()),
        ("push stdout", push.stdout()),
        ("status", status.stdout()),
        ("outbox", outbox.clone()),
    ];
    for (what, text) in &shown {
        for form in forms() {
            assert!(!text.contains(&form), "{what} shows `{form}`:\n{text}");
        }
    }
    // What the targets said is still reported, less the secrets.
    let stderr = push.stderr();
    for name in ["bearer-body", "basic-body"] {
        assert!(
            stderr.contains(&format!("{name}: ")) && stderr.contains("HTTP 403 Forbidden"),
            "{stderr}"
        );
    }
    for name in ["bearer-moved", "basic-moved"] {
        assert!(stderr.contains(&format!("{name}: ")), "{stderr}");
    }
    assert!(
        stderr.contains("HTTP 302 Found: redirected to /login?"),
        "{stderr}"
    );
    assert!(stderr.contains("[redacted]"), "{stderr}");
    assert!(outbox.contains("[redacted]"), "{outbox}");
    // One line per file and target, each bounded.
    for line in stderr.lines() {
        assert!(line.chars().count() < 600, "{line}");
    }
}

/// The hostile target of the log tests.
fn hostile_site() -> (tempfile::TempDir, Shared) {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let dir = site(&target(
        "hostile",
        "http-put",
        &format!("{base}/hostile/"),
        BEARER,
    ));
    (dir, shared)
}

#[test]
fn json_logs_are_one_object_a_line() {
    let (dir, _shared) = hostile_site();
    let push = run(dir.path(), &["--log-format", "json", "push"]);
    push.expect_code(1);
    let stderr = push.stderr();
    assert!(stderr.contains("hostile: all.rss"), "{stderr}");
    for line in stderr.lines() {
        let parsed: Result<serde_json::Map<String, serde_json::Value>, _> =
            serde_json::from_str(line);
        assert!(parsed.is_ok(), "not a JSON object: {line:?}\n{stderr}");
    }

    // An error that stops everything is a JSON object too.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["--log-format", "json", "push"])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env_remove("WF_TEST_TOKEN")
        .output()
        .unwrap();
    let setup = common::Run { output };
    setup.expect_code(2);
    let stderr = setup.stderr();
    assert!(stderr.contains("WF_TEST_TOKEN"), "{stderr}");
    for line in stderr.lines() {
        let parsed: Result<serde_json::Map<String, serde_json::Value>, _> =
            serde_json::from_str(line);
        assert!(parsed.is_ok(), "not a JSON object: {line:?}\n{stderr}");
    }
}

#[test]
fn a_multi_line_answer_cannot_forge_log_lines_or_drive_the_terminal() {
    let (dir, _shared) = hostile_site();
    let push = run(dir.path(), &["push"]);
    push.expect_code(1);
    let status = run(dir.path(), &["status"]);
    status.expect_code(0);
    let stderr = push.stderr();
    // The stylesheet goes first; what links to it waits for it.
    assert!(
        stderr.contains("hostile: feed.xsl: HTTP 400 Bad Request: nope"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "hostile: all.rss: held back: feed.xsl, which comes first, is not delivered yet"
        ),
        "{stderr}"
    );
    for (what, text) in [
        ("push stderr", stderr.clone()),
        ("push stdout", push.stdout()),
        ("status", status.stdout()),
    ] {
        assert!(
            !text.contains(['\x1b', '\x07', '\r', '\u{202e}']),
            "{what} holds a raw control character: {text:?}"
        );
        for line in text.lines() {
            let line = line.trim_start();
            assert!(
                !line.starts_with("ERROR forged") && !line.starts_with("WARN forged"),
                "{what} has a forged line: {line:?}\n{text}"
            );
        }
    }
    // One line per file refused or held back.
    let files = common::files(&dir.path().join("feeds")).len();
    assert_eq!(stderr.lines().count(), files, "{stderr}");
}
