//! `wirefeed run`: a new story is built and pushed by the next tick, an
//! embargoed one goes out at its time (not at the next tick), a second
//! writer is refused, SIGTERM stops cleanly, `--once` runs one tick.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::{FixedOffset, Utc};
use common::fake::{start, Shared};
use common::{project, story, terminate, wait_until, wirefeed};

fn site(base: &str, every: &str) -> tempfile::TempDir {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let more = format!(
        "\n[[push]]\nname = \"dav\"\nkind = \"http-put\"\nurl = \"{base}/site/\"\n\
         \n[schedule]\nevery = \"{every}\"\n"
    );
    std::fs::write(&config, format!("{text}{more}")).unwrap();
    dir
}

fn spawn_run(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn stored(shared: &Shared, path: &str) -> String {
    let s = shared.lock().unwrap();
    s.stored
        .get(path)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

#[test]
fn each_tick_builds_and_pushes_what_is_new() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let dir = site(&base, "1s");
    let child = spawn_run(dir.path(), &[]);
    wait_until("the first push", Duration::from_secs(15), || {
        stored(&shared, "/site/all.rss").contains("First story")
    });

    // A second writer is told the folder is busy.
    let busy = wirefeed(dir.path(), &["build"]);
    busy.expect_code(3);
    assert!(
        busy.stderr().contains("another wirefeed (process"),
        "{}",
        busy.stderr()
    );

    std::fs::write(
        dir.path().join("articles/b.txt"),
        story("2026-10-02 09:00:00", "Second story"),
    )
    .unwrap();
    wait_until("the next tick", Duration::from_secs(15), || {
        stored(&shared, "/site/all.rss").contains("Second story")
    });
    let log = terminate(child);
    assert!(log.contains("tick: built:"), "{log}");
    assert!(log.contains("dav sent"), "{log}");
}

#[test]
fn an_embargoed_story_goes_out_at_its_time_not_at_the_next_tick() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let dir = site(&base, "1h");
    // Filed to be published 3 seconds from now (wire times are Seoul time).
    let seoul = FixedOffset::east_opt(9 * 3600).unwrap();
    let due = Utc::now().with_timezone(&seoul) + chrono::Duration::seconds(3);
    std::fs::write(
        dir.path().join("articles/later.txt"),
        story(
            &due.format("%Y-%m-%d %H:%M:%S").to_string(),
            "Embargoed story",
        ),
    )
    .unwrap();
    let child = spawn_run(dir.path(), &[]);
    wait_until("the first push", Duration::from_secs(15), || {
        stored(&shared, "/site/all.rss").contains("First story")
    });
    assert!(!stored(&shared, "/site/all.rss").contains("Embargoed story"));
    wait_until("the embargo to lift", Duration::from_secs(15), || {
        stored(&shared, "/site/all.rss").contains("Embargoed story")
    });
    let log = terminate(child);
    assert!(log.contains("1 embargoed (next due"), "{log}");
}

#[test]
fn once_runs_one_tick_and_json_logs_are_json() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let dir = site(&base, "1h");
    let run = wirefeed(dir.path(), &["--log-format", "json", "run", "--once"]);
    run.expect_code(0);
    assert!(stored(&shared, "/site/all.rss").contains("First story"));
    let tick = run
        .stderr()
        .lines()
        .find(|l| l.contains("tick: built"))
        .map(str::to_owned)
        .unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&tick).unwrap();
    assert_eq!(v["level"], "INFO");
    assert!(v["fields"]["message"]
        .as_str()
        .unwrap()
        .contains("dav sent"));
}
