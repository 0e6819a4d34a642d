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

use chrono::Timelike;

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

#[test]
fn check_says_what_it_would_write() {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    let run = wirefeed(dir.path(), &["check"]);
    run.expect_code(0);
    assert_eq!(
        run.stdout().trim(),
        "checked (nothing written): 1 file read, 1 article, 1 item published in 1 feed, \
         would write 8 files, 0 unchanged, 0 errors"
    );
    assert!(!dir.path().join("feeds").exists());
    // A real build says what it wrote.
    let built = wirefeed(dir.path(), &["build"]);
    assert!(
        built
            .stdout()
            .contains("1 feed, 8 files written, 0 unchanged"),
        "{}",
        built.stdout()
    );
}

/// `config.toml` of `dir` with `timezone = "ZONE"` in `[site]`.
fn set_timezone(dir: &std::path::Path, zone: &str) {
    let config = dir.join("config.toml");
    let text = fs::read_to_string(&config).unwrap();
    let text = text.replace("[site]\n", &format!("[site]\ntimezone = \"{zone}\"\n"));
    fs::write(&config, text).unwrap();
}

#[test]
fn embargo_times_are_shown_in_the_sites_zone() {
    let dir = project(&[
        ("now.txt", &story("2026-10-01 09:00:00", "Released story")),
        (
            "later.txt",
            &story("2026-10-05 09:00:00", "Embargoed story"),
        ),
    ]);
    // Wire times are read in the site's zone (Seoul by default), and said in it.
    let run = wirefeed(dir.path(), &["build", "--now", "2026-10-03T00:00:00Z"]);
    run.expect_code(0);
    assert!(
        run.stdout()
            .contains("1 embargoed (next due 2026-10-05T09:00:00+09:00)"),
        "{}",
        run.stdout()
    );
    let check = wirefeed(dir.path(), &["check", "--now", "2026-10-03T00:00:00Z"]);
    assert!(
        check
            .stdout()
            .contains("(next due 2026-10-05T09:00:00+09:00)"),
        "{}",
        check.stdout()
    );
    // Another zone: the same wire time is another instant, shown with its offset.
    set_timezone(dir.path(), "America/New_York");
    let run = wirefeed(dir.path(), &["build", "--now", "2026-10-03T00:00:00Z"]);
    assert!(
        run.stdout()
            .contains("1 embargoed (next due 2026-10-05T09:00:00-04:00)"),
        "{}",
        run.stdout()
    );
    // And so does each `run` tick.
    let config = dir.path().join("config.toml");
    let text = fs::read_to_string(&config).unwrap();
    let later = (chrono::Utc::now() + chrono::Duration::days(30))
        .with_timezone(&chrono_tz::America::New_York)
        .with_nanosecond(0)
        .unwrap();
    let wire_time = later.format("%Y-%m-%d %H:%M:%S").to_string();
    fs::write(
        dir.path().join("articles/later.txt"),
        story(&wire_time, "Embargoed story"),
    )
    .unwrap();
    fs::write(&config, text).unwrap();
    let tick = wirefeed(dir.path(), &["run", "--once"]);
    tick.expect_code(0);
    let expected = format!("(next due {})", later.format("%Y-%m-%dT%H:%M:%S%:z"));
    assert!(
        tick.stderr().contains(&expected),
        "{expected}\n{}",
        tick.stderr()
    );
}

/// Runs `wirefeed ARGS` in `dir` with stderr on a terminal (util-linux
/// `script`), returning what the terminal showed; `None` where `script`
/// is missing.
fn on_a_terminal(dir: &std::path::Path, args: &str, env: &[(&str, &str)]) -> Option<String> {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_wirefeed"));
    let mut script = std::process::Command::new("script");
    script
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG");
    for (k, v) in env {
        script.env(k, v);
    }
    let output = script.output().ok()?;
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// True when `text` holds an SGR (colour or style) escape sequence.
fn colour(text: &str) -> bool {
    regex::Regex::new("\x1b\\[[0-9;]*m").unwrap().is_match(text)
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    // Logs to a pipe (or a file) carry no escape codes.
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["-v", "build"])
        .current_dir(dir.path())
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(log.contains("INFO"), "{log}");
    assert!(!colour(&log), "colour codes in a pipe: {log:?}");

    let Some(tty) = on_a_terminal(dir.path(), "-v build", &[]) else {
        common::skip(
            "colour_only_on_a_terminal_and_never_with_no_color (the terminal half)",
            "no `script` (util-linux) here",
        );
        return;
    };
    assert!(colour(&tty), "a terminal gets colour: {tty:?}");
    let plain = on_a_terminal(dir.path(), "-v build", &[("NO_COLOR", "1")]).unwrap();
    assert!(plain.contains("INFO"), "{plain:?}");
    assert!(!colour(&plain), "NO_COLOR is honoured: {plain:?}");
}

#[test]
fn run_logs_one_line_a_tick() {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    for args in [
        &["run", "--once"][..],
        &["--log-format", "json", "run", "--once"],
    ] {
        let run = wirefeed(dir.path(), args);
        run.expect_code(0);
        let log = run.stderr();
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: {log}");
        assert!(lines[0].contains("tick: built: 1 file read"), "{log}");
    }
    // -v still tells what each stage took.
    let verbose = wirefeed(dir.path(), &["-v", "run", "--once"]);
    assert!(
        verbose.stderr().contains("wrote the feeds in"),
        "{}",
        verbose.stderr()
    );
}

#[test]
fn each_error_is_one_line() {
    // A bad date in the config: TOML's two-line message becomes one line.
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    let config = dir.path().join("config.toml");
    let good = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        format!("{good}\n[[feed]]\nname = \"b\"\nwhen = 2026-13-01T00:00:00Z\n"),
    )
    .unwrap();
    let run = wirefeed(dir.path(), &["check"]);
    run.expect_code(2);
    let line = config_line(&fs::read_to_string(&config).unwrap(), "when =");
    assert_eq!(
        run.stderr(),
        format!("error: config.toml:{line}: when: invalid date-time; value is out of range\n")
    );

    // A bad date in TOML front matter: one problem, one line.
    fs::write(&config, &good).unwrap();
    fs::write(
        dir.path().join("articles/bad.md"),
        "+++\ntitle = \"x\"\ndate = 2026-13-01T10:00:00+09:00\n+++\n\nBody.\n",
    )
    .unwrap();
    let run = wirefeed(dir.path(), &["check"]);
    run.expect_code(1);
    assert_eq!(
        run.stderr(),
        "articles/bad.md:3: invalid date-time; value is out of range\n"
    );
    // And in `run`'s log.
    let run = wirefeed(dir.path(), &["run", "--once"]);
    let warning = run
        .stderr()
        .lines()
        .find(|l| l.contains("articles/bad.md"))
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(
        warning.ends_with("articles/bad.md:3: invalid date-time; value is out of range"),
        "{}",
        run.stderr()
    );
    assert_eq!(run.stderr().lines().count(), 2, "{}", run.stderr());
}

/// The 1-based line of `text` that starts with `prefix`.
fn config_line(text: &str, prefix: &str) -> usize {
    text.lines().position(|l| l.starts_with(prefix)).unwrap() + 1
}

/// YAML front matter errors carry our `path:line:` only, not the parser's
/// "at line L column C" as well (counted from the front matter, so off by
/// one from ours): `strip_location` drops every position the parser gives
/// (one after the problem, one after its context).
#[test]
fn yaml_errors_carry_one_line_number() {
    let dir = project(&[(
        "bad.md",
        b"---\ntitle: \"x\"\ndate: 2026-10-01T10:00:00+09:00\ntags: [a, b\n---\n\nBody.\n",
    )]);
    let run = wirefeed(dir.path(), &["check"]);
    run.expect_code(1);
    assert_eq!(
        run.stderr(),
        "articles/bad.md:5: did not find expected ',' or ']', while parsing a flow sequence\n"
    );
}

#[test]
fn init_writes_the_config_under_the_name_given() {
    let tmp = tempfile::tempdir().unwrap();
    let run = wirefeed(tmp.path(), &["init", "-c", "other.toml", "site"]);
    run.expect_code(0);
    let site = tmp.path().join("site");
    assert!(site.join("other.toml").is_file(), "{}", run.stdout());
    assert!(!site.join("config.toml").exists());
    assert!(
        run.stdout().contains("created site/other.toml"),
        "{}",
        run.stdout()
    );
    assert!(
        run.stdout()
            .contains("next: cd site && wirefeed -c other.toml build"),
        "{}",
        run.stdout()
    );
    wirefeed(&site, &["-c", "other.toml", "build"]).expect_code(0);
    // Never over an existing file of that name.
    let again = wirefeed(tmp.path(), &["init", "-c", "other.toml", "site"]);
    again.expect_code(2);
    assert!(
        again.stderr().contains("other.toml: already exists"),
        "{}",
        again.stderr()
    );
    // The config is written inside DIR: a path elsewhere is refused.
    let elsewhere = wirefeed(tmp.path(), &["init", "-c", "../x.toml", "site2"]);
    elsewhere.expect_code(2);
    assert!(!tmp.path().join("site2").exists());
    // The default name stays config.toml.
    wirefeed(tmp.path(), &["init", "plain"]).expect_code(0);
    assert!(tmp.path().join("plain/config.toml").is_file());
}

#[test]
fn the_config_holds_to_what_the_readme_says() {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "First story"))]);
    let config = dir.path().join("config.toml");
    let good = fs::read_to_string(&config).unwrap();
    // Cron: five fields, and the error says five.
    fs::write(
        &config,
        format!("{good}\n[schedule]\ncron = \"0 */5 * * * *\"\n"),
    )
    .unwrap();
    let run = wirefeed(dir.path(), &["run", "--once"]);
    run.expect_code(2);
    let line = config_line(&fs::read_to_string(&config).unwrap(), "cron =");
    assert_eq!(
        run.stderr(),
        format!(
            "error: config.toml:{line}: schedule.cron: `0 */5 * * * *`: give five fields \
             (minute hour day-of-month month day-of-week), not 6\n"
        )
    );
    // The site's home page is a web page.
    fs::write(
        &config,
        good.replace("https://news.example.com/\"", "ftp://news.example.com/\""),
    )
    .unwrap();
    let run = wirefeed(dir.path(), &["build"]);
    run.expect_code(2);
    let line = config_line(&fs::read_to_string(&config).unwrap(), "base_url =");
    assert_eq!(
        run.stderr(),
        format!(
            "error: config.toml:{line}: site.base_url: `ftp://news.example.com/` must be an http or https URL\n"
        )
    );
    assert!(!dir.path().join("feeds").exists());
}

#[test]
fn push_takes_the_folders_lock_and_says_who_holds_it() {
    let shared: Shared = Arc::default();
    let base = start(shared.clone());
    let dir = pushing_site(&base);
    let held = wirefeed::output::lock(&dir.path().join("feeds")).unwrap();
    let run = wirefeed(dir.path(), &["push"]);
    run.expect_code(3);
    assert!(
        run.stderr().contains(&format!(
            "another wirefeed (process {}) is writing here",
            std::process::id()
        )),
        "{}",
        run.stderr()
    );
    assert_eq!(shared.lock().unwrap().puts.values().sum::<usize>(), 0);
    assert!(!dir.path().join("feeds/.wirefeed-outbox.json").exists());
    // A dry run writes nothing, so it needs no lock.
    wirefeed(dir.path(), &["push", "--dry-run"]).expect_code(0);
    drop(held);
    wirefeed(dir.path(), &["push"]).expect_code(0);
    assert!(shared.lock().unwrap().puts.values().sum::<usize>() > 0);
}

/// The `Vary` tokens of a response, lower-cased and sorted.
fn vary(r: &reqwest::Response) -> Vec<String> {
    let mut tokens: Vec<String> = r
        .headers()
        .get_all(reqwest::header::VARY)
        .iter()
        .flat_map(|v| {
            v.to_str()
                .unwrap()
                .split(',')
                .map(|t| t.trim().to_lowercase())
        })
        .collect();
    tokens.sort();
    tokens.dedup();
    tokens
}

#[tokio::test]
async fn a_404_says_so_and_a_304_varies_as_its_200() {
    use reqwest::header;
    let (_out, base, token) = common::serve_built_samples("public, max-age=60").await;
    let client = reqwest::Client::new();
    for path in ["/nope.rss", "/../Cargo.toml", "/.wirefeed-cache"] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(r.text().await.unwrap(), "404 Not Found\n", "{path}");
    }
    let r = client
        .delete(format!("{base}/all.rss"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(
        r.text().await.unwrap(),
        "405 Method Not Allowed: GET and HEAD only\n"
    );

    for path in ["/all.rss", "/all.atom", "/all.json", "/"] {
        for encoding in [None, Some("gzip")] {
            let get = |etag: Option<&str>| {
                let mut request = client.get(format!("{base}{path}"));
                if let Some(e) = encoding {
                    request = request.header(header::ACCEPT_ENCODING, e);
                }
                if let Some(tag) = etag {
                    request = request.header(header::IF_NONE_MATCH, tag);
                }
                request.send()
            };
            let full = get(None).await.unwrap();
            assert_eq!(full.status(), 200);
            let etag = full.headers()[header::ETAG].to_str().unwrap().to_owned();
            let again = get(Some(&etag)).await.unwrap();
            assert_eq!(again.status(), 304, "{path}");
            assert_eq!(vary(&again), vary(&full), "{path} {encoding:?}");
            assert!(
                vary(&full).contains(&"accept-encoding".to_owned()),
                "{path}"
            );
        }
    }
    token.cancel();
}
