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

#[test]
fn a_story_that_lands_is_pushed_at_once_not_at_the_next_tick() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let dir = site(&base, "1h");
    let child = spawn_run(dir.path(), &["-v"]);
    wait_until("the first push", Duration::from_secs(15), || {
        stored(&shared, "/site/all.rss").contains("First story")
    });
    let articles = dir.path().join("articles");

    // Delivered the way wire systems do: a temporary name, then a rename.
    // The temporary file is never read, even half written.
    let temporary = articles.join("b.txt.tmp");
    std::fs::write(
        &temporary,
        &story("2026-10-02 09:00:00", "Second story")[..40],
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(&temporary, story("2026-10-02 09:00:00", "Second story")).unwrap();
    let landed = std::time::Instant::now();
    std::fs::rename(&temporary, articles.join("b.txt")).unwrap();
    wait_until("the pushed story", Duration::from_secs(10), || {
        stored(&shared, "/site/all.rss").contains("Second story")
    });
    let delay = landed.elapsed();

    // Written in place in two parts, a pause between them: read once,
    // whole, after it stopped changing.
    {
        use std::io::Write;
        let whole = story("2026-10-03 09:00:00", "Third story");
        let mut file = std::fs::File::create(articles.join("c.txt")).unwrap();
        file.write_all(&whole[..30]).unwrap();
        file.flush().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        file.write_all(&whole[30..]).unwrap();
    }
    wait_until(
        "the story written in place",
        Duration::from_secs(10),
        || stored(&shared, "/site/all.rss").contains("Third story"),
    );
    let log = terminate(child);
    assert!(
        delay < Duration::from_secs(5),
        "pushed {delay:?} after landing"
    );
    assert!(!log.contains("b.txt.tmp"), "{log}");
    assert!(
        !log.contains("c.txt:"),
        "a story written in place was read half written:\n{log}"
    );
    assert_eq!(log.matches("tick: built:").count(), 3, "{log}");
}

#[test]
fn run_tells_systemd_it_is_ready_and_alive() {
    use std::os::unix::net::UnixDatagram;
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let dir = site(&base, "1h");
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("run")
        .current_dir(dir.path())
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "200000") // pings every 100 ms
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = Vec::new();
    let mut buf = [0u8; 4096];
    while !(said.iter().any(|m: &String| m.contains("READY=1"))
        && said.iter().filter(|m| m.contains("WATCHDOG=1")).count() >= 3)
    {
        let n = socket.recv(&mut buf).expect("a notification within 15 s");
        said.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let ready = said.iter().find(|m| m.contains("READY=1")).unwrap();
    assert!(ready.contains("STATUS=tick: built:"), "{ready}");
    assert!(stored(&shared, "/site/all.rss").contains("First story"));
    terminate(child);
    let n = socket.recv(&mut buf).expect("STOPPING=1 on SIGTERM");
    let mut last = String::from_utf8_lossy(&buf[..n]).into_owned();
    while !last.contains("STOPPING=1") {
        let n = socket.recv(&mut buf).expect("STOPPING=1 on SIGTERM");
        last = String::from_utf8_lossy(&buf[..n]).into_owned();
    }
}
