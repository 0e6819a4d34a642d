//! A long-running process's builds (`run`, `serve --watch`) start from
//! what the last one learned and read only the paths a watcher reported:
//! after every kind of change, told or not, their output is byte-identical
//! to a fresh build without the cache, and the problems reported are the
//! same.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::files;
use wirefeed::config::Config;
use wirefeed::pipeline::Session;
use wirefeed::{build, BuildOptions, BuildReport};

const CONFIG: &str = r#"
[site]
title = "Session Desk"
base_url = "https://news.example.com/"
item_link = "https://news.example.com/news/{id}"

[[source]]
path = "articles"

[[feed]]
name = "all"
limit = 40

[[feed]]
name = "busan"
categories = ["Busan"]
limit = 5

[category_feeds]
limit = 3
"#;

const CATEGORIES: [&str; 4] = ["Seoul", "Busan", "economy", "culture"];

fn story(i: usize, body: &str) -> String {
    format!(
        "김기자\n| 2026-{:02}-{:02} {:02}:00:00\n{}\nHeadline {i}\nBy Kim Gi-ja\n\
         SEOUL, Oct. 1 (Yonhap) -- {body}\nSecond paragraph of story {i}.\n(END)",
        1 + i % 10,
        1 + i % 28,
        i % 24,
        CATEGORIES[i % 4],
    )
}

fn path_of(i: usize) -> String {
    format!("articles/{:02}/AEN20260101{:09}.txt", i % 5, i)
}

fn options(now: chrono::DateTime<chrono::Utc>, out: Option<PathBuf>) -> BuildOptions {
    BuildOptions {
        out,
        cache: false,
        ..BuildOptions::service(now)
    }
}

/// What a report says, as a reader of the log would compare it.
fn summary(r: &BuildReport) -> String {
    let errors: Vec<String> = r.errors.iter().map(|e| e.to_string()).collect();
    format!(
        "files {} articles {} published {} feeds {} archive pages {} embargoed {} \
         (next {:?}) drafts {} withdrawn {} legacy {:?}\nerrors {errors:#?}",
        r.files,
        r.articles,
        r.published,
        r.feeds,
        r.archive_pages,
        r.embargoed,
        r.next_release,
        r.drafts,
        r.withdrawn,
        r.legacy_encoded,
    )
}

/// Builds with the session told `changed`, then a fresh build elsewhere,
/// and compares the two: every file's bytes and the report. `quick`: the
/// session's build should start from what it knew (else: a whole scan).
fn check(root: &Path, session: &Session, changed: &[&str], quick: bool, step: &str) {
    check_at(root, session, changed, quick, step, chrono::Utc::now());
}

/// What the random steps went through, so that a change to the drawing
/// that stops covering a case fails.
#[derive(Default, Debug)]
struct Seen {
    duplicates: usize,
    embargoed: usize,
    released: usize,
    drafts: usize,
    withdrawn: usize,
    archive_pages: usize,
    errors: usize,
    clock_back: usize,
}

/// [`check`] as of `now`.
fn check_at(
    root: &Path,
    session: &Session,
    changed: &[&str],
    quick: bool,
    step: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> BuildReport {
    let config = Config::load(&root.join("config.toml")).unwrap();
    let changed: Vec<PathBuf> = changed.iter().map(|p| root.join(p)).collect();
    let ours = session
        .build(&config, &BuildOptions::service(now), Some(&changed))
        .unwrap();
    let fresh = tempfile::tempdir().unwrap();
    let theirs = build(&config, &options(now, Some(fresh.path().to_owned()))).unwrap();
    assert_eq!(summary(&ours), summary(&theirs), "{step}: reports differ");
    assert_eq!(
        (ours.files, ours.articles, ours.published),
        (theirs.files, theirs.articles, theirs.published),
        "{step}: counts differ"
    );
    assert_eq!(ours.from_memory, quick, "{step}: from memory");
    let a = files(&config.output);
    let b = files(fresh.path());
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "{step}: different files"
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{step}: {name} differs from a fresh build");
    }
    ours
}

#[test]
fn builds_told_what_changed_equal_fresh_builds() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("config.toml"), CONFIG).unwrap();
    for i in 0..60 {
        let path = root.join(path_of(i));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, story(i, &format!("Body of story {i}."))).unwrap();
    }
    fs::write(root.join("articles/broken.txt"), "no time line").unwrap();
    let session = Session::new();
    let config = Config::load(&root.join("config.toml")).unwrap();
    session
        .build(&config, &BuildOptions::service(chrono::Utc::now()), None)
        .unwrap();
    check(root, &session, &[], true, "nothing changed");

    // A new story, the newest: into every feed it belongs to.
    fs::write(root.join(path_of(60)), story(60, "Breaking.")).unwrap();
    check(root, &session, &[&path_of(60)], true, "a new story");

    // An edit that moves a story to another category.
    fs::write(
        root.join(path_of(1)),
        story(1, "Edited.").replace("\nBusan\n", "\nSeoul\n"),
    )
    .unwrap();
    check(root, &session, &[&path_of(1)], true, "an edit");

    // A story removed: the next one down takes its place in its feeds.
    fs::remove_file(root.join(path_of(59))).unwrap();
    check(root, &session, &[&path_of(59)], true, "a removal");

    // A rename within a folder: both names reported.
    fs::rename(root.join(path_of(58)), root.join("articles/03/renamed.txt")).unwrap();
    check(
        root,
        &session,
        &[&path_of(58), "articles/03/renamed.txt"],
        true,
        "a rename",
    );

    // A story that breaks, and a duplicate id.
    fs::write(root.join(path_of(57)), "no time line either").unwrap();
    fs::write(
        root.join("articles/00/copy-of-56.txt"),
        fs::read(root.join(path_of(56))).unwrap(),
    )
    .unwrap();
    check(
        root,
        &session,
        &[&path_of(57), "articles/00/copy-of-56.txt"],
        true,
        "a broken story and a duplicate",
    );

    // Names no walk lists: hidden, being written, another extension.
    fs::write(root.join("articles/00/.hidden.txt"), story(70, "Hidden.")).unwrap();
    fs::write(root.join("articles/00/next.txt.tmp"), story(71, "Half.")).unwrap();
    fs::write(root.join("articles/00/notes.doc"), "not an article").unwrap();
    check(
        root,
        &session,
        &[
            "articles/00/.hidden.txt",
            "articles/00/next.txt.tmp",
            "articles/00/notes.doc",
        ],
        true,
        "names that are no articles",
    );

    // A new folder, renamed in whole: only a walk can list it.
    let staging = root.join("staging");
    fs::create_dir_all(&staging).unwrap();
    fs::write(
        staging.join("AEN20260101000000080.txt"),
        story(80, "Batch."),
    )
    .unwrap();
    fs::write(
        staging.join("AEN20260101000000081.txt"),
        story(81, "Batch."),
    )
    .unwrap();
    fs::rename(&staging, root.join("articles/09")).unwrap();
    check(
        root,
        &session,
        &["articles/09"],
        false,
        "a folder renamed in",
    );

    // That folder removed again.
    fs::remove_dir_all(root.join("articles/09")).unwrap();
    check(root, &session, &["articles/09"], false, "a folder removed");

    // The config changed (a limit): what the session knows is not used.
    fs::write(
        root.join("config.toml"),
        CONFIG.replace("limit = 40", "limit = 7"),
    )
    .unwrap();
    check(
        root,
        &session,
        &["config.toml"],
        false,
        "the config changed",
    );

    // A change the session was not told of is not seen by a told build
    // (that is what told means), but the next whole one sees it.
    fs::write(root.join(path_of(2)), story(2, "Quietly edited.")).unwrap();
    let config = Config::load(&root.join("config.toml")).unwrap();
    session
        .build(&config, &BuildOptions::service(chrono::Utc::now()), None)
        .unwrap();
    check(
        root,
        &session,
        &[],
        true,
        "a told build after a whole one that saw an untold edit",
    );

    // A config named by a relative path (`wirefeed -c config.toml` in its
    // folder) has relative source folders; a watcher names absolute paths.
    // (The only test in this file: changing the folder touches no other.)
    std::env::set_current_dir(root).unwrap();
    let relative = Config::load(Path::new("config.toml")).unwrap();
    assert!(relative.sources[0].path.is_relative());
    let session = Session::new();
    let now = chrono::Utc::now();
    session
        .build(&relative, &BuildOptions::service(now), None)
        .unwrap();
    fs::write(root.join(path_of(61)), story(61, "Told by absolute path.")).unwrap();
    let told = session
        .build(
            &relative,
            &BuildOptions::service(now),
            Some(&[root.join(path_of(61))]),
        )
        .unwrap();
    assert!(
        told.from_memory,
        "a relative source folder: not from memory"
    );
    let fresh = tempfile::tempdir().unwrap();
    let theirs = build(&relative, &options(now, Some(fresh.path().to_owned()))).unwrap();
    assert_eq!(summary(&told), summary(&theirs), "relative: reports differ");
    assert_eq!(
        files(&root.join("feeds")),
        files(fresh.path()),
        "relative: output differs"
    );
}

/// A seeded xorshift: the same steps on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
        of[self.below(of.len())]
    }
}

const RANDOM_CONFIG: &str = r#"
[site]
title = "Random Desk"
base_url = "https://news.example.com/"
item_link = "https://news.example.com/news/{id}"

[[source]]
path = "articles"

[[feed]]
name = "all"
limit = 5

[[feed]]
name = "every"
limit = 4
archive = true

[[feed]]
name = "seoul"
categories = ["Seoul"]
limit = 3

[[feed]]
name = "kim"
authors = ["Kim Gi-ja"]
limit = 2

[category_feeds]
limit = 2
"#;

/// Spellings that share slugs, and some that do not.
const SPELLINGS: [&str; 8] = [
    "Seoul", "seoul", "SEOUL", "Busan", "busan", "N. Korea", "n-korea", "Economy",
];

/// Ids several files may claim.
const IDS: [&str; 6] = [
    "tag:news.example.com,2026:a",
    "tag:news.example.com,2026:b",
    "tag:news.example.com,2026:c",
    "tag:news.example.com,2026:d",
    "urn:example:x",
    "urn:example:y",
];

/// The base of every time in the random test: 2026-06-01T00:00:00Z.
fn base() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

/// A time `half_hours` from the base, in UTC or in Korea's offset.
fn time(half_hours: i64, korea: bool) -> String {
    let t = base() + chrono::Duration::minutes(30 * half_hours);
    match korea {
        true => t
            .with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap())
            .to_rfc3339(),
        false => t.to_rfc3339(),
    }
}

/// A JSON article's fields, drawn at random.
fn json_object(rng: &mut Rng, n: usize) -> String {
    let mut fields = vec![
        format!("\"title\": \"Story {n}\""),
        format!(
            "\"date\": \"{}\"",
            time(rng.below(40) as i64 - 30, rng.below(2) == 0)
        ),
        format!(
            "\"categories\": [\"{}\", \"{}\"]",
            rng.pick(&SPELLINGS),
            rng.pick(&SPELLINGS)
        ),
        format!("\"content_text\": \"Body {n}.\""),
    ];
    if rng.below(2) == 0 {
        fields.push(format!("\"id\": \"{}\"", rng.pick(&IDS[..4])));
    }
    if rng.below(3) == 0 {
        // Equal instants in two offsets, now and then.
        let at = rng.below(4) as i64;
        fields.push(format!("\"updated\": \"{}\"", time(at, rng.below(2) == 0)));
    }
    if rng.below(2) == 0 {
        fields.push(format!(
            "\"author\": \"{}\"",
            rng.pick(&["Kim Gi-ja", "Lee Na-ra"])
        ));
    }
    match rng.below(10) {
        0 => fields.push("\"draft\": true".into()),
        1 => fields.push("\"status\": \"withheld\"".into()),
        _ => {}
    }
    format!("{{{}}}", fields.join(", "))
}

/// A ninjs item: a version of one of a few stories, sometimes embargoed
/// or canceled.
fn ninjs(rng: &mut Rng, n: usize) -> String {
    let mut fields = vec![
        format!("\"uri\": \"{}\"", rng.pick(&IDS[4..])),
        format!("\"version\": \"{}\"", 1 + rng.below(3)),
        "\"type\": \"text\"".to_owned(),
        format!(
            "\"firstcreated\": \"{}\"",
            time(rng.below(20) as i64 - 10, true)
        ),
        format!(
            "\"versioncreated\": \"{}\"",
            time(rng.below(3) as i64 + 10, true)
        ),
        format!("\"headline\": \"Version story {n}\""),
        format!("\"subject\": [{{\"name\": \"{}\"}}]", rng.pick(&SPELLINGS)),
        "\"body_text\": \"Body.\"".to_owned(),
    ];
    if rng.below(3) == 0 {
        let at = time(rng.below(12) as i64, false);
        fields.push(format!("\"embargoed\": \"{at}\""));
    }
    if rng.below(6) == 0 {
        fields.push("\"pubstatus\": \"canceled\"".into());
    }
    format!("{{{}}}", fields.join(", "))
}

/// A wire story, dated around the base in Korea's time.
fn wire(rng: &mut Rng, n: usize) -> String {
    let t = base() + chrono::Duration::minutes(30 * (rng.below(40) as i64 - 30));
    let local = t.with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap());
    format!(
        "김기자\n| {}\n{}-{}\nHeadline {n}\nBy Kim Gi-ja\n\
         SEOUL, June 1 (Yonhap) -- Story {n}.\n(END)",
        local.format("%Y-%m-%d %H:%M:%S"),
        rng.pick(&SPELLINGS).replace(['.', ' '], ""),
        rng.pick(&SPELLINGS).replace(['.', ' '], ""),
    )
}

/// What a file at `path` holds, drawn at random for its extension.
fn random_file(rng: &mut Rng, path: &str, n: usize) -> String {
    if rng.below(12) == 0 {
        return "broken: no time, no headline".to_owned();
    }
    match path.ends_with(".txt") {
        true => wire(rng, n),
        false => match rng.below(4) {
            0 => ninjs(rng, n),
            1 => format!("[{}, {}]", json_object(rng, n), json_object(rng, n + 1000)),
            _ => json_object(rng, n),
        },
    }
}

#[test]
fn random_told_changes_equal_fresh_builds() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("config.toml"), RANDOM_CONFIG).unwrap();
    let folders = ["articles/a", "articles/b", "articles/c", "articles/c/d"];
    for f in folders {
        fs::create_dir_all(root.join(f)).unwrap();
    }
    // 40 places a file may be at, in four folders; even ones wire
    // stories, odd ones JSON (plain, arrays of two, or ninjs versions).
    // A story's id comes from its file's name: the last four wire places
    // share names with others, in other folders.
    let slots: Vec<String> = (0..40)
        .map(|i| {
            let ext = if i % 2 == 0 { "txt" } else { "json" };
            let name = if i >= 32 && i % 2 == 0 { i - 30 } else { i };
            format!("{}/s{name:02}.{ext}", folders[i % 4])
        })
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut now = base();
    let mut present = vec![false; slots.len()];
    for (i, slot) in slots.iter().enumerate().step_by(2) {
        fs::write(root.join(slot), random_file(&mut rng, slot, i)).unwrap();
        present[i] = true;
    }
    let session = Session::new();
    let config = Config::load(&root.join("config.toml")).unwrap();
    session
        .build(&config, &BuildOptions::service(now), None)
        .unwrap();
    let mut seen = Seen::default();
    let mut embargoed_before = 0;
    for step in 0..200 {
        let k = rng.below(slots.len());
        let mut told: Vec<String> = Vec::new();
        let what;
        // Every 50 steps the clock goes back: the index is made again.
        let op = if step % 50 == 49 { 10 } else { rng.below(10) };
        match op {
            // The clock moves past embargoes and dates with no file changed.
            0 => {
                now += chrono::Duration::minutes(30 * (1 + rng.below(6) as i64));
                what = "time passes";
            }
            10 => {
                now -= chrono::Duration::hours(3);
                what = "the clock goes back";
            }
            1 | 2 if present[k] => {
                fs::remove_file(root.join(&slots[k])).unwrap();
                present[k] = false;
                told.push(slots[k].clone());
                what = "remove";
            }
            3 if present[k] => {
                // To a free place with the same extension.
                let free: Vec<usize> = (0..slots.len())
                    .filter(|&j| !present[j] && j % 2 == k % 2)
                    .collect();
                if free.is_empty() {
                    continue;
                }
                let j = free[rng.below(free.len())];
                fs::rename(root.join(&slots[k]), root.join(&slots[j])).unwrap();
                present[k] = false;
                present[j] = true;
                told.extend([slots[k].clone(), slots[j].clone()]);
                what = "rename";
            }
            _ => {
                fs::write(root.join(&slots[k]), random_file(&mut rng, &slots[k], step)).unwrap();
                what = if present[k] { "edit" } else { "add" };
                present[k] = true;
                told.push(slots[k].clone());
            }
        }
        // Now and then a second file changes in the same batch.
        if rng.below(5) == 0 {
            let j = rng.below(slots.len());
            fs::write(
                root.join(&slots[j]),
                random_file(&mut rng, &slots[j], step + 500),
            )
            .unwrap();
            present[j] = true;
            told.push(slots[j].clone());
        }
        let told: Vec<&str> = told.iter().map(String::as_str).collect();
        let step = format!("step {step} ({what} {told:?}, now {now})");
        let report = check_at(root, &session, &told, true, &step, now);
        let duplicates = report
            .errors
            .iter()
            .filter(|e| e.reason.contains("duplicate id"));
        seen.duplicates += duplicates.count();
        seen.embargoed += report.embargoed;
        seen.released += usize::from(report.embargoed < embargoed_before);
        embargoed_before = report.embargoed;
        seen.drafts += report.drafts;
        seen.withdrawn += report.withdrawn;
        seen.archive_pages += report.archive_pages;
        seen.errors += report.errors.len();
        seen.clock_back += usize::from(what == "the clock goes back");
    }
    eprintln!("random steps saw {seen:?}");
    let counts = [
        seen.duplicates,
        seen.embargoed,
        seen.released,
        seen.drafts,
        seen.withdrawn,
        seen.archive_pages,
        seen.errors,
        seen.clock_back,
    ];
    assert!(
        counts.iter().all(|&n| n > 0),
        "a case never came up: {seen:?}"
    );
}
