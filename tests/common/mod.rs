//! Helpers for the end-to-end tests: run the real binary in a folder and
//! show what it printed when an assertion fails.

#![allow(dead_code)]
// Test helpers: a panic is the right way to fail here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod fake;
pub mod s3;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// Says that `test` skipped and why, where the person running `cargo
/// test` sees it: straight to the terminal's stderr, which the test
/// harness does not capture (it takes `println!` and `eprintln!` only, and
/// shows them for failed tests). Under `.ci/run`, which installs
/// everything the tests need and sets `WIREFEED_NO_SKIPS`, a skip is a
/// failure instead: a test CI expects to run never passes by skipping.
pub fn skip(test: &str, reason: &str) {
    use std::io::Write;
    if std::env::var_os("WIREFEED_NO_SKIPS").is_some() {
        panic!("{test}: would skip, but WIREFEED_NO_SKIPS is set: {reason}");
    }
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {reason}");
}

/// The repository root (where config.toml and articles/ live).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `wirefeed ARGS` in `dir`.
pub fn wirefeed(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("the wirefeed binary runs");
    Run { output }
}

/// One finished run.
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    /// Asserts the exit code, printing both streams when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// Every file under `dir`, as (relative path, bytes), sorted; hidden files
/// (the build cache) left out.
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    collect(dir, dir, &mut out);
    out.sort();
    out
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("readable folder") {
        let path = entry.expect("entry").path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .expect("inside root")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read(&path).expect("readable file")));
        }
    }
}

/// A minimal project in a temp folder: config.toml with one `all` feed over
/// `articles/`, plus the given articles (relative path, content).
pub fn project(articles: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = r#"
[site]
title = "Test Desk"
base_url = "https://news.example.com/"
item_link = "https://news.example.com/news/{id}"

[[source]]
path = "articles"

[[feed]]
name = "all"
"#;
    std::fs::write(dir.path().join("config.toml"), config).expect("write config");
    std::fs::create_dir_all(dir.path().join("articles")).expect("mkdir");
    for (name, bytes) in articles {
        let path = dir.path().join("articles").join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write article");
    }
    dir
}

/// A wire story filed at `time` (`YYYY-MM-DD HH:MM:SS`, Seoul).
pub fn story(time: &str, headline: &str) -> Vec<u8> {
    format!(
        "| {time}\nTest-desk\n{headline}\nBy Kim Test\n\
         SEOUL, Oct. 1 (Yonhap) -- {headline}, officials said.\nA second paragraph.\n(END)"
    )
    .into_bytes()
}

/// Builds the samples into a temp folder and serves it in this process on
/// 127.0.0.1:0; returns the folder, the base URL and the server's stop
/// token.
pub async fn serve_built_samples(
    cache_control: &str,
) -> (tempfile::TempDir, String, CancellationToken) {
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().to_str().unwrap().to_owned();
    wirefeed(&repo(), &["-q", "build", "--out", &out_arg]).expect_code(0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let token = CancellationToken::new();
    let (root, t, cc) = (
        out.path().to_owned(),
        token.clone(),
        cache_control.to_owned(),
    );
    tokio::spawn(async move {
        let settings = wirefeed::config::Serve {
            cache_control: cc,
            ..Default::default()
        };
        wirefeed::serve::run(listener, &root, &settings, t)
            .await
            .unwrap();
    });
    (out, base, token)
}

/// Polls `ready` until it holds, failing after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends SIGTERM; the child must exit 0 by itself within 10 seconds.
/// Returns what it wrote to stderr (when piped).
pub fn terminate(mut child: Child) -> String {
    // SAFETY: signals our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut log = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut log);
    }
    assert!(status.success(), "exit {status}:\n{log}");
    log
}
