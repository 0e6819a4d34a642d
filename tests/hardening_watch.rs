//! `serve --watch` rebuilds when a source changes, and only then: the
//! rebuild's own reads of the articles and the config (open, read, close)
//! are not changes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{project, story, terminate, wait_until};

const LIMIT: Duration = Duration::from_secs(15);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the server if the test fails before stopping it (it would hold
/// the test's output open).
struct Stop(Option<std::process::Child>);

impl Drop for Stop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Lines containing `what`.
fn count(lines: &Mutex<Vec<String>>, what: &str) -> usize {
    lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(what))
        .count()
}

#[test]
fn watch_builds_once_when_nothing_changes_and_once_per_change() {
    let dir = project(&[
        ("a.txt", &story("2026-10-01 09:00:00", "First story")),
        // No time line: a warning on every build.
        ("broken.txt", b"Test-desk\nNo time line here\n"),
    ]);
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["-v", "serve", "--watch", "--bind", &bind])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut child = Stop(Some(child));
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = lines.clone();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    wait_until("the server", LIMIT, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let log = || lines.lock().unwrap().join("\n");

    // Nothing changes: one build, one warning, no rebuild.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(count(&lines, "built:"), 1, "{}", log());
    assert_eq!(count(&lines, "rebuilt:"), 0, "{}", log());
    assert_eq!(count(&lines, "broken.txt"), 1, "{}", log());

    // One write: one rebuild, then quiet again.
    std::fs::write(
        dir.path().join("articles/a.txt"),
        story("2026-10-01 09:00:00", "First story, updated"),
    )
    .unwrap();
    wait_until("the rebuild", LIMIT, || count(&lines, "rebuilt:") >= 1);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(count(&lines, "rebuilt:"), 1, "{}", log());
    assert_eq!(count(&lines, "built:"), 2, "{}", log());
    assert_eq!(count(&lines, "broken.txt"), 2, "{}", log());

    terminate(child.0.take().unwrap());
    reader.join().unwrap();
}
