//! The limits that keep every article's cost linear in its size: each
//! pathological input is reported as an error (or, for categories, cut
//! down with a warning) in bounded time and memory, and the good article
//! beside it is still published.
//!
//! Every build here runs the real (debug) binary under a wall-clock bound;
//! a build still running at the bound is killed and the test fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{project, story, Run};

/// What a bounded build did.
struct Timed {
    run: Run,
    elapsed: Duration,
    /// Peak resident memory of the build process, in KiB.
    peak_kib: u64,
}

/// The bound every build here must finish within (a debug build on a
/// shared 2-core machine; these builds take well under a second).
const BOUND: Duration = Duration::from_secs(5);

/// Runs `wirefeed build` in `dir`, killing it when it is still running
/// after `bound`.
fn build_within(dir: &Path, bound: Duration) -> Timed {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("build")
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the wirefeed binary runs");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let pid = child.id();
    let start = Instant::now();
    // Peak memory is read while the build runs (its rusage would count
    // the test process, which the child was forked from).
    let mut peak_kib = 0;
    let (status, killed) = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break (status, false);
        }
        peak_kib = peak_kib.max(high_water_kib(pid).unwrap_or(0));
        if start.elapsed() > bound {
            child.kill().unwrap();
            break (child.wait().unwrap(), true);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(
        !killed,
        "the build was still running after {elapsed:.1?} ({peak_kib} KiB resident): killed\n\
         --- stderr\n{}",
        String::from_utf8_lossy(&stderr)
    );
    let output = Output {
        status,
        stdout,
        stderr,
    };
    eprintln!("build took {elapsed:.2?}, peak {peak_kib} KiB");
    Timed {
        run: Run { output },
        elapsed,
        peak_kib,
    }
}

/// The peak resident memory of a running process (`VmHWM`), in KiB.
fn high_water_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The good article every project here has beside its bad one.
const GOOD: (&str, &str) = ("good.txt", "Good story still goes out");

fn with_good(bad: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let good = story("2026-10-01 09:00:00", GOOD.1);
    let mut articles: Vec<(&str, &[u8])> = vec![(GOOD.0, &good)];
    articles.extend(bad.iter().map(|(n, b)| (*n, b.as_slice())));
    project(&articles)
}

/// Adds `[category_feeds]` to a project's config.
fn with_category_feeds(dir: &Path) {
    let config = dir.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let more = "\n[category_feeds]\ntitle = \"Test Desk: {category}\"\n";
    std::fs::write(&config, format!("{text}{more}")).unwrap();
}

/// The items of `feeds/all.json`.
fn items(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("feeds/all.json")).unwrap();
    let feed: serde_json::Value = serde_json::from_str(&text).unwrap();
    feed["items"].as_array().unwrap().clone()
}

fn titles(dir: &Path) -> Vec<String> {
    items(dir)
        .iter()
        .map(|i| i["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn tags_of(dir: &Path, title: &str) -> Vec<String> {
    let items = items(dir);
    let item = items
        .iter()
        .find(|i| i["title"] == title)
        .unwrap_or_else(|| panic!("no item {title}"));
    item["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect()
}

/// Asserts the build reported `file:line: …reason…` and exit 1, and that
/// the good article was published.
fn assert_refused(dir: &Path, timed: &Timed, file: &str, line: usize, reason: &str) {
    let stderr = timed.run.stderr();
    timed.run.expect_code(1);
    let located = format!("articles/{file}:{line}: ");
    let found = stderr
        .lines()
        .find(|l| l.contains(&located))
        .unwrap_or_else(|| panic!("no error at {located}\n--- stderr\n{stderr}"));
    assert!(found.contains(reason), "{found}");
    assert!(
        titles(dir).iter().any(|t| t == GOOD.1),
        "the good article is missing"
    );
    assert!(timed.elapsed < BOUND, "{:.2?}", timed.elapsed);
}

// File size -------------------------------------------------------------------

fn markdown(body: &str) -> Vec<u8> {
    format!("---\ntitle: Deep\ndate: 2026-10-01\n---\n{body}\n").into_bytes()
}

#[test]
fn ten_megabytes_of_quote_markers_are_refused_unread() {
    let dir = with_good(&[("huge.md", markdown(&">".repeat(10 << 20)))]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(
        dir.path(),
        &timed,
        "huge.md",
        1,
        "over the limit of 4194304 bytes (4 MiB)",
    );
    // The file is not read: memory stays at what a small build takes.
    assert!(timed.peak_kib < 100 << 10, "{} KiB", timed.peak_kib);
}

#[test]
fn a_file_bigger_than_it_can_be_read_is_refused_unread() {
    let dir = with_good(&[]);
    let file = std::fs::File::create(dir.path().join("articles/sparse.txt")).unwrap();
    // 256 MiB of holes: reading it whole would take as much memory.
    file.set_len(256 << 20).unwrap();
    drop(file);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(
        dir.path(),
        &timed,
        "sparse.txt",
        1,
        "268435456 bytes, over the limit",
    );
    assert!(timed.peak_kib < 100 << 10, "{} KiB", timed.peak_kib);
}

// Categories ----------------------------------------------------------------

#[test]
fn a_slug_of_3000_keywords_keeps_the_first_32() {
    let slug: Vec<String> = (0..3000).map(|i| format!("kw{i:04}")).collect();
    let bad = format!(
        "| 2026-10-01 10:00:00\n{}\nMany keywords\nBy Kim Test\n\
         SEOUL, Oct. 1 (Yonhap) -- Many keywords.\n(END)\n",
        slug.join("-")
    );
    let dir = with_good(&[("bad.txt", bad.into_bytes())]);
    with_category_feeds(dir.path());
    let timed = build_within(dir.path(), BOUND);
    timed.run.expect_code(0);
    let stderr = timed.run.stderr();
    assert!(
        stderr.contains("articles/bad.txt:2: 3000 categories, only the first 32 are kept"),
        "{stderr}"
    );
    assert_eq!(tags_of(dir.path(), "Many keywords"), slug[..32]);
    // 32 categories and the good story's two ("Test", "desk"), three
    // formats and a page each.
    let feeds = std::fs::read_dir(dir.path().join("feeds/category"))
        .unwrap()
        .count();
    assert_eq!(feeds, (32 + 2) * 4);
    assert!(timed.elapsed < BOUND);
}

#[test]
fn front_matter_and_json_tags_are_capped_alike() {
    let list = |prefix: &str, n: usize| -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i:04}")).collect()
    };
    // Categories first, then tags; repeats (in any case) count once.
    let md = format!(
        "---\ntitle: Tagged post\ndate: 2026-10-02T10:00:00+09:00\n\
         categories: [{}, C0000]\ntags: [{}]\n---\nBody.\n",
        list("c", 10).join(", "),
        list("t", 3000).join(", ")
    );
    let json = serde_json::json!({
        "title": "Tagged object",
        "date": "2026-10-03T10:00:00+09:00",
        "content_text": "Body.",
        "tags": list("j", 3000),
    });
    let dir = with_good(&[
        ("post.md", md.into_bytes()),
        ("object.json", json.to_string().into_bytes()),
    ]);
    with_category_feeds(dir.path());
    let timed = build_within(dir.path(), BOUND);
    timed.run.expect_code(0);
    let stderr = timed.run.stderr();
    let mut expected = list("c", 10);
    expected.extend(list("t", 22));
    assert_eq!(tags_of(dir.path(), "Tagged post"), expected);
    assert_eq!(tags_of(dir.path(), "Tagged object"), list("j", 32));
    assert!(
        stderr.contains("articles/post.md:5: 3010 categories, only the first 32 are kept"),
        "{stderr}"
    );
    assert!(
        stderr.contains("articles/object.json:1: 3000 categories, only the first 32 are kept"),
        "{stderr}"
    );
}

// YAML front matter -----------------------------------------------------------

fn deep_yaml(open: &str, close: &str, depth: usize) -> Vec<u8> {
    format!(
        "---\ntitle: Deep\ndate: 2026-10-01\ntags: {}x{}\n---\nBody.\n",
        open.repeat(depth),
        close.repeat(depth)
    )
    .into_bytes()
}

#[test]
fn yaml_nested_20000_deep_is_an_error() {
    let dir = with_good(&[("deep.md", deep_yaml("[", "]", 20_000))]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(dir.path(), &timed, "deep.md", 4, "nested deeper than 64");
}

#[test]
fn yaml_nested_100000_deep_is_an_error() {
    let dir = with_good(&[
        ("seqs.md", deep_yaml("[", "]", 100_000)),
        ("maps.md", deep_yaml("{a: ", "}", 100_000)),
    ]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(dir.path(), &timed, "seqs.md", 4, "nested deeper than 64");
    assert_refused(dir.path(), &timed, "maps.md", 4, "nested deeper than 64");
}

// HTML ------------------------------------------------------------------------

#[test]
fn json_content_html_of_40000_nested_divs_is_an_error() {
    let html = format!("{}x{}", "<div>".repeat(40_000), "</div>".repeat(40_000));
    let json = format!(
        "{{\"title\": \"Deep\",\n\"date\": \"2026-10-01\",\n\"content_html\": \"{html}\"}}"
    );
    let dir = with_good(&[("deep.json", json.into_bytes())]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(
        dir.path(),
        &timed,
        "deep.json",
        3,
        "HTML nested deeper than 128 elements",
    );
}

#[test]
fn an_element_with_50000_attributes_is_an_error() {
    let attributes: Vec<String> = (0..50_000).map(|i| format!("a{i}")).collect();
    let html = format!("<p {}>x</p>", attributes.join(" "));
    let json = serde_json::json!({"title": "Wide", "date": "2026-10-01", "content_html": html});
    let dir = with_good(&[("wide.json", json.to_string().into_bytes())]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(
        dir.path(),
        &timed,
        "wide.json",
        1,
        "50000 attributes, more than 64 attributes",
    );
}

#[test]
fn json_content_html_of_40000_character_references_is_an_error() {
    // The sanitizer writes the text out again, and looks through the rest
    // of it at every `&`.
    let html = format!("<p>{}</p>", "&amp;".repeat(40_000));
    let json = serde_json::json!({"title": "Amps", "date": "2026-10-01", "content_html": html});
    let dir = with_good(&[("amps.json", json.to_string().into_bytes())]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(dir.path(), &timed, "amps.json", 1, "too many `&`");
}

// Markdown --------------------------------------------------------------------

#[test]
fn a_markdown_line_of_100000_quote_markers_is_an_error() {
    let dir = with_good(&[("quotes.md", markdown(&format!("{} x", ">".repeat(100_000))))]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(
        dir.path(),
        &timed,
        "quotes.md",
        5,
        "100000 block quotes and lists open on one line",
    );
}

#[test]
fn a_markdown_line_of_20000_list_markers_is_an_error() {
    let dir = with_good(&[
        ("lists.md", markdown(&format!("{}x", "- ".repeat(20_000)))),
        (
            "mixed.md",
            markdown(&format!("{}x", "> 1. ".repeat(10_000))),
        ),
    ]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(
        dir.path(),
        &timed,
        "lists.md",
        5,
        "20000 block quotes and lists open on one line",
    );
    assert_refused(
        dir.path(),
        &timed,
        "mixed.md",
        5,
        "20000 block quotes and lists open on one line",
    );
}

#[test]
fn markdown_raw_html_of_20000_nested_divs_is_an_error() {
    let dir = with_good(&[("divs.md", markdown(&"<div>\n".repeat(20_000)))]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(
        dir.path(),
        &timed,
        "divs.md",
        133,
        "HTML nested deeper than 128 elements",
    );
}

#[test]
fn deep_emphasis_around_raw_end_tags_is_an_error() {
    // Emphasis nests 100,000 deep; each raw end tag then makes the
    // sanitizer's HTML parser walk the whole depth.
    let body = format!(
        "{}x{}x{}",
        "*".repeat(100_000),
        "</span>".repeat(50_000),
        "*".repeat(100_000)
    );
    let dir = with_good(&[("emphasis.md", markdown(&body))]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(
        dir.path(),
        &timed,
        "emphasis.md",
        5,
        "HTML nested deeper than 128 elements",
    );
}

#[test]
fn a_table_of_5000_columns_is_an_error() {
    // Every row is filled up to the header's width: 5,000 columns by
    // 5,000 one-cell rows are 25 million cells from 35 KB.
    let body = format!(
        "{}|\n{}|\n{}",
        "|a".repeat(5000),
        "|-".repeat(5000),
        "x|\n".repeat(5000)
    );
    let dir = with_good(&[("table.md", markdown(&body))]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(
        dir.path(),
        &timed,
        "table.md",
        6,
        "a table of 5000 columns, over the limit of 64",
    );
}

#[test]
fn markdown_text_of_many_ampersands_or_middle_dots_is_an_error() {
    let paragraphs = format!("{}\n", "이름·".repeat(100)).repeat(200);
    let dir = with_good(&[
        ("amps.md", markdown(&"&".repeat(1_000_000))),
        ("dots.md", markdown(&"김·".repeat(40_000))),
        // As many middle dots, a paragraph of a hundred each: fine.
        ("names.md", markdown(&paragraphs.replace('\n', "\n\n"))),
    ]);
    let timed = build_within(dir.path(), BOUND);
    assert_refused(dir.path(), &timed, "amps.md", 5, "too many `&`");
    assert_refused(dir.path(), &timed, "dots.md", 5, "too many `&`");
    let stderr = timed.run.stderr();
    assert!(!stderr.contains("names.md"), "{stderr}");
}

// JSON ------------------------------------------------------------------------

#[test]
fn a_json_array_of_30000_objects_is_read_in_linear_time() {
    let objects: Vec<String> = (0..30_000)
        .map(|i| {
            format!(
                "{{\"id\": \"brief-{i}\", \"title\": \"Brief {i}\", \
                 \"date\": \"2026-09-01T10:00:00+09:00\", \"content_text\": \"Brief.\"}}"
            )
        })
        .collect();
    let json = format!("[\n{}\n]\n", objects.join(",\n"));
    assert!(json.len() < 4 << 20);
    let dir = with_good(&[("briefs.json", json.into_bytes())]);
    // The feed publishes the good story only: the briefs are read once,
    // not again to be written.
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("name = \"all\"", "name = \"all\"\nlimit = 1"),
    )
    .unwrap();
    let timed = build_within(dir.path(), BOUND);
    timed.run.expect_code(0);
    assert!(
        timed.run.stdout().contains("30001 articles"),
        "{}",
        timed.run.stdout()
    );
    assert_eq!(titles(dir.path()), [GOOD.1]);
}

// Consistency -----------------------------------------------------------------

/// The first pass of a build that publishes few items reads headers only;
/// one that publishes many keeps bodies. Both, and a cached rebuild, find
/// the same errors.
#[test]
fn the_same_errors_with_and_without_bodies_and_from_the_cache() {
    let emphasis = format!(
        "{}x{}x{}",
        "*".repeat(300),
        "</span>".repeat(300),
        "*".repeat(300)
    );
    let dir = with_good(&[
        ("quotes.md", markdown(&">".repeat(40))),
        ("divs.md", markdown(&"<div>\n".repeat(200))),
        ("emphasis.md", markdown(&emphasis)),
        ("yaml.md", deep_yaml("[", "]", 65)),
        ("fine.md", markdown(&"<div>\n".repeat(100))),
    ]);
    let errors = |timed: &Timed| -> Vec<String> {
        let mut lines: Vec<String> = timed
            .run
            .stderr()
            .lines()
            .filter(|l| l.contains("articles/"))
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    };
    let few = build_within(dir.path(), BOUND);
    few.run.expect_code(1);
    let few_errors = errors(&few);
    assert_eq!(few_errors.len(), 4, "{few_errors:?}");
    let cached = build_within(dir.path(), BOUND);
    cached.run.expect_code(1);
    assert_eq!(errors(&cached), few_errors);
    let config = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("name = \"all\"", "name = \"all\"\narchive = true"),
    )
    .unwrap();
    std::fs::remove_dir_all(dir.path().join("feeds")).unwrap();
    let many = build_within(dir.path(), BOUND);
    many.run.expect_code(1);
    assert_eq!(errors(&many), few_errors);
    assert!(titles(dir.path()).iter().any(|t| t == "Deep"));
}
