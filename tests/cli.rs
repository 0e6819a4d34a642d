//! End-to-end runs of the real `wirefeed` binary: build, check, init, the
//! golden sample output, determinism, atomic unchanged files, exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;

use common::{files, project, repo, story, wirefeed};

/// Feeds are rendered whole when they are small and streamed a chunk at a
/// time when they are large: the bytes are the same.
#[test]
fn streamed_feeds_are_the_bytes_of_feeds_rendered_whole() {
    let config = wirefeed::config::Config::load(&repo().join("config.toml")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let options = wirefeed::BuildOptions {
        out: Some(out.path().to_owned()),
        whole_up_to: 0,
        ..wirefeed::BuildOptions::service(chrono::Utc::now())
    };
    let report = wirefeed::build(&config, &options).unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let streamed = files(out.path());
    let committed = files(&repo().join("feeds"));
    assert_eq!(streamed.len(), committed.len());
    for ((name, new), (old_name, old)) in streamed.iter().zip(&committed) {
        assert_eq!(name, old_name);
        assert!(new == old, "{name}: streamed differs from rendered whole");
    }
}

#[test]
fn fresh_build_of_the_samples_equals_the_committed_feeds() {
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().to_str().unwrap();
    let run = wirefeed(&repo(), &["build", "--out", out_arg]);
    run.expect_code(0);
    let fresh = files(out.path());
    let committed = files(&repo().join("feeds"));
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&fresh),
        names(&committed),
        "feeds/ lists other files than a fresh build: run `cargo run --release -- build`"
    );
    for ((name, new), (_, old)) in fresh.iter().zip(&committed) {
        assert!(
            new == old,
            "feeds/{name} differs from a fresh build: run `cargo run --release -- build`"
        );
    }
    // The samples hold one EUC-KR story, one draft, and no errors.
    assert!(run
        .stderr()
        .contains("AEN20261105001200315.txt: not UTF-8, decoded as EUC-KR"));
    assert!(run.stdout().contains("0 errors"), "{}", run.stdout());
}

#[test]
fn two_builds_give_identical_bytes_and_leave_unchanged_files_alone() {
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().to_str().unwrap();
    wirefeed(&repo(), &["build", "--out", out_arg]).expect_code(0);
    let first = files(out.path());
    let mtime = |name: &str| {
        fs::metadata(out.path().join(name))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = mtime("all.rss");
    std::thread::sleep(std::time::Duration::from_millis(50));
    let second = wirefeed(&repo(), &["build", "--out", out_arg]);
    second.expect_code(0);
    assert_eq!(files(out.path()), first);
    assert_eq!(mtime("all.rss"), before);
    let summary = second.stdout();
    assert!(
        summary.contains(&format!(" 0 files written, {} unchanged", first.len())),
        "{summary}"
    );
}

#[test]
fn summary_line_counts_what_happened() {
    let dir = project(&[
        ("a.txt", &story("2026-10-01 09:00:00", "First story")),
        ("b.txt", &story("2026-10-02 09:00:00", "Second story")),
    ]);
    let run = wirefeed(dir.path(), &["build"]);
    run.expect_code(0);
    assert_eq!(
        run.stdout().trim(),
        "built: 2 files read, 2 articles, 2 items published in 1 feed, 8 files written, 0 unchanged, 0 errors"
    );
    let rss = fs::read_to_string(dir.path().join("feeds/all.rss")).unwrap();
    assert!(rss.contains("<title>Second story</title>"));
}

#[test]
fn bad_articles_are_reported_and_the_good_ones_still_published() {
    let dir = project(&[
        ("good.txt", &story("2026-10-01 09:00:00", "Good story")),
        ("bad-time.txt", b"| yesterday\nslug\nHeadline\nBody."),
        ("no-body.txt", b"| 2026-10-01 09:00:00\nslug\nHeadline\nBy Someone\n(END)"),
        (
            "briefs.json",
            b"[\n{\"title\": \"Brief\", \"date\": \"2026-10-01\", \"content_text\": \"ok\"},\n{\"title\": \"No date\", \"content_text\": \"x\"}\n]",
        ),
        ("post.md", b"---\ntitle: Post\ndate: 2026-10-01\nlayout: wide\n---\nText"),
        ("latin1.txt", b"| 2026-10-01 09:00:00\nslug\nCaf\xe9 \xff\xfe\nBody."),
    ]);
    let run = wirefeed(dir.path(), &["build"]);
    run.expect_code(1);
    let err = run.stderr();
    for expected in [
        "articles/bad-time.txt:1: filing time `yesterday` is not `YYYY-MM-DD HH:MM:SS`",
        "articles/no-body.txt:5: no body paragraphs after the headline",
        "articles/briefs.json:3: missing `date`",
        "articles/post.md:4: unknown field `layout`",
        "articles/latin1.txt:1: not UTF-8 (invalid byte at offset 30) and not EUC-KR either",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
    }
    assert!(run.stdout().contains("5 errors"), "{}", run.stdout());
    let rss = fs::read_to_string(dir.path().join("feeds/all.rss")).unwrap();
    assert!(rss.contains("<title>Good story</title>"));
    assert!(rss.contains("<title>Brief</title>"));
}

#[test]
fn duplicate_ids_are_an_error_and_the_first_file_wins() {
    let dir = project(&[
        (
            "a/AEN20261001000100315.txt",
            &story("2026-10-01 09:00:00", "First copy"),
        ),
        (
            "b/AEN20261001000100315.txt",
            &story("2026-10-01 10:00:00", "Second copy"),
        ),
    ]);
    let run = wirefeed(dir.path(), &["build"]);
    run.expect_code(1);
    assert!(run.stderr().contains(
        "articles/b/AEN20261001000100315.txt:1: duplicate id `tag:news.example.com,2026-10-01:AEN20261001000100315`"
    ), "{}", run.stderr());
    let rss = fs::read_to_string(dir.path().join("feeds/all.rss")).unwrap();
    assert!(rss.contains("First copy") && !rss.contains("Second copy"));
}

#[test]
fn config_errors_name_the_key_and_line_and_exit_2() {
    let dir = project(&[("a.txt", &story("2026-10-01 09:00:00", "A"))]);
    let config = dir.path().join("config.toml");
    let good = fs::read_to_string(&config).unwrap();
    let cases = [
        (
            good.replace("[[feed]]", "[[feed]]\ncolor = \"red\""),
            ":11: unknown key `color`",
        ),
        (
            good.replace("https://news.example.com/\"", "news\""),
            ":4: base_url: relative URL without a base",
        ),
        (
            good.replace("path = \"articles\"", "path = \"missing\""),
            ":8: source.path: folder",
        ),
        (
            good.replace("name = \"all\"", "name = \"all\"\nformats = [\"rdf\"]"),
            ":12: formats: unknown value `rdf`",
        ),
        (
            good.replace(
                "title = \"Test Desk\"",
                "title = \"Test Desk\"\ntimezone = \"Asia/Nowhere\"",
            ),
            ":4: ",
        ),
    ];
    for (text, expected) in cases {
        fs::write(&config, &text).unwrap();
        let run = wirefeed(dir.path(), &["build"]);
        run.expect_code(2);
        let err = run.stderr();
        assert!(
            err.starts_with("error: ") && err.contains("config.toml"),
            "{err}"
        );
        assert!(err.contains(expected), "missing `{expected}` in: {err}");
        assert!(
            !dir.path().join("feeds").exists(),
            "no work is done on a bad config"
        );
    }
    let run = wirefeed(dir.path(), &["--config", "nope.toml", "build"]);
    run.expect_code(2);
    assert!(
        run.stderr()
            .contains("nope.toml: no configuration file here (looked in ")
            && run
                .stderr()
                .contains("`wirefeed init DIR`, or name the file with `-c FILE`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn check_reports_but_writes_nothing() {
    let dir = project(&[
        ("good.txt", &story("2026-10-01 09:00:00", "Good")),
        ("bad.txt", b"no time line here"),
    ]);
    let run = wirefeed(dir.path(), &["check"]);
    run.expect_code(1);
    assert!(
        run.stderr()
            .contains("articles/bad.txt:2: missing the filing time line"),
        "{}",
        run.stderr()
    );
    assert!(run
        .stdout()
        .starts_with("checked (nothing written): 2 files read"));
    assert!(!dir.path().join("feeds").exists());
}

#[test]
fn embargoed_stories_wait_for_their_time() {
    let dir = project(&[
        ("now.txt", &story("2026-10-01 09:00:00", "Released story")),
        (
            "later.txt",
            &story("2026-10-05 09:00:00", "Embargoed story"),
        ),
    ]);
    let before = wirefeed(dir.path(), &["build", "--now", "2026-10-03T00:00:00Z"]);
    before.expect_code(0);
    assert!(
        before
            .stdout()
            .contains("1 embargoed (next due 2026-10-05T09:00:00+09:00)"),
        "{}",
        before.stdout()
    );
    let rss = fs::read_to_string(dir.path().join("feeds/all.rss")).unwrap();
    assert!(rss.contains("Released story") && !rss.contains("Embargoed story"));
    wirefeed(dir.path(), &["build", "--now", "2026-10-05T00:00:00Z"]).expect_code(0);
    let rss = fs::read_to_string(dir.path().join("feeds/all.rss")).unwrap();
    assert!(rss.contains("Embargoed story"));
}

#[test]
fn init_makes_a_project_that_builds() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("newsroom");
    let target_arg = target.to_str().unwrap();
    let run = wirefeed(dir.path(), &["init", target_arg]);
    run.expect_code(0);
    assert!(run.stdout().contains("config.toml"));
    let built = wirefeed(&target, &["build"]);
    built.expect_code(0);
    assert!(
        built.stdout().contains("1 item published"),
        "{}",
        built.stdout()
    );
    let atom = fs::read_to_string(target.join("feeds/all.atom")).unwrap();
    assert!(atom.contains("Busan"), "{atom}");
    // Git sees the project and the feeds, not wirefeed's state files.
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(&target)
            .output()
    };
    match git(&["init", "-q"]) {
        Ok(o) if o.status.success() => {
            let listed = git(&["status", "--porcelain", "--untracked-files=all"]).unwrap();
            let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
            assert!(listed.contains("feeds/all.atom"), "{listed}");
            assert!(listed.contains(".gitignore"), "{listed}");
            assert!(!listed.contains(".wirefeed-"), "{listed}");
            assert!(fs::read_dir(target.join("feeds"))
                .unwrap()
                .any(|e| e.unwrap().file_name() == ".wirefeed-cache"));
        }
        _ => common::skip(
            "init_makes_a_project_that_builds (the .gitignore half)",
            "git is not installed",
        ),
    }
    // A second init refuses to overwrite.
    let again = wirefeed(dir.path(), &["init", target_arg]);
    again.expect_code(2);
    assert!(
        again.stderr().contains("config.toml: already exists"),
        "{}",
        again.stderr()
    );
}

#[test]
fn quiet_prints_only_errors() {
    let dir = project(&[("bad.txt", b"| 2026-10-01 09:00:00\n")]);
    let run = wirefeed(dir.path(), &["-q", "build"]);
    run.expect_code(1);
    assert_eq!(run.stdout(), "");
    assert_eq!(
        run.stderr().trim(),
        format!(
            "articles{}bad.txt:2: missing the slug line (keywords joined by `-`)",
            std::path::MAIN_SEPARATOR
        )
    );
}

#[test]
fn files_of_feeds_that_are_gone_are_removed_and_nothing_else() {
    let weather = String::from_utf8(story("2026-10-02 09:00:00", "B"))
        .unwrap()
        .replace("Test-desk", "Weather");
    let dir = project(&[
        ("a.txt", &story("2026-10-01 09:00:00", "A")),
        ("b.txt", weather.as_bytes()),
    ]);
    let config = dir.path().join("config.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(&config, format!("{text}\n[category_feeds]\nlimit = 5\n")).unwrap();
    wirefeed(dir.path(), &["build"]).expect_code(0);
    let feeds = dir.path().join("feeds");
    assert!(feeds.join("category/weather.rss").exists());
    assert!(feeds.join("category/weather.html").exists());
    fs::write(feeds.join("robots.txt"), "User-agent: *\n").unwrap();

    fs::remove_file(dir.path().join("articles/b.txt")).unwrap();
    let run = wirefeed(dir.path(), &["build"]);
    run.expect_code(0);
    assert!(
        run.stdout().contains(", 4 stale files removed"),
        "{}",
        run.stdout()
    );
    assert!(!feeds.join("category/weather.rss").exists());
    assert!(!feeds.join("category/weather.json").exists());
    // Its page goes with it, and so do the links to it.
    assert!(!feeds.join("category/weather.html").exists());
    assert!(feeds.join("category/test.html").exists());
    assert!(feeds.join("category/test.rss").exists());
    assert!(
        feeds.join("robots.txt").exists(),
        "a file wirefeed did not write stays"
    );
    let index = fs::read_to_string(feeds.join("index.html")).unwrap();
    assert!(!index.contains("weather"));
}

#[test]
fn completions_complete_subcommands_and_the_manual_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let bash = wirefeed(dir.path(), &["completions", "bash"]);
    bash.expect_code(0);
    let script = dir.path().join("wirefeed.bash");
    fs::write(&script, bash.stdout()).unwrap();
    // Bash itself loads the script and completes `wirefeed bu`.
    let completed = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(wirefeed bu); COMP_CWORD=1; COMP_LINE='wirefeed bu'; \
             COMP_POINT=11; _wirefeed wirefeed bu wirefeed; echo \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output();
    match completed {
        Ok(o) => assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "build"),
        Err(e) => common::skip(
            "completions_complete_subcommands_and_the_manual_names_them (bash)",
            &format!("no bash ({e})"),
        ),
    }
    for shell in ["zsh", "fish"] {
        let script = wirefeed(dir.path(), &["completions", shell]);
        script.expect_code(0);
        assert!(script.stdout().contains("serve"), "{shell}");
    }
    let pages = dir.path().join("man");
    wirefeed(dir.path(), &["man", "--out", pages.to_str().unwrap()]).expect_code(0);
    let main = fs::read_to_string(pages.join("wirefeed.1")).unwrap();
    assert!(main.contains(".TH wirefeed 1"), "{main}");
    let serve = fs::read_to_string(pages.join("wirefeed-serve.1")).unwrap();
    assert!(serve.contains("\\-\\-watch"), "{serve}");
    let stdout = wirefeed(dir.path(), &["man"]);
    stdout.expect_code(0);
    assert_eq!(stdout.stdout(), main);
}
