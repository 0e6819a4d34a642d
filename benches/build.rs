//! Cold and incremental builds of the real `wirefeed` binary, side by side
//! with the gorilla/feeds peer.
//!
//! ```sh
//! cargo bench --bench build                         # 10,000 and 100,000 stories, 5 runs each
//! cargo bench --bench build -- --sizes 20000 --runs 3
//! cargo bench --bench build -- --sizes 100000 --workloads archive,newsroom
//! cargo bench --bench build -- --sizes 1000000 --workloads newsroom,incremental --runs 3
//! ```
//!
//! Generates a deterministic corpus of wire stories shaped like the sample
//! story (10–16 paragraphs, 13 on average, about 3.2 KB; bylines, slugs and
//! datelines like it; year/month folders) under `target/bench/`, then times
//! whole processes and prints the median wall time, CPU time (user and
//! system, all threads) and peak resident memory (from `wait4`) of each
//! workload:
//!
//! - *archive*: one feed with every item, RSS + Atom + JSON Feed and its
//!   page;
//! - *archive, RSS + Atom*: the same with only the two formats the peer
//!   writes (and the page, which every feed has: titles and summaries);
//! - *newsroom*: the newest 50 plus one feed per category (20 each);
//! - *newsroom, cached*: the same with the cache of the previous build and
//!   nothing changed;
//! - *incremental*: the newsroom workload after one story was added or
//!   edited, with the cache of the previous build;
//! - *read floor*: `cat` of every story on one core (`find | xargs cat`),
//!   what reading the corpus costs at best.
//!
//! Every cold run (archive, newsroom) starts with no output folder and no
//! cache and pays for what a real build does to make its files durable
//! (each file synced before it is renamed into place). Before each run
//! earlier writes are flushed (`sync`) and the machine is left alone for
//! half a second, so that neither the disk catching up with them nor the
//! kernel reclaiming the last process's memory is timed.
//!
//! The peer is `../shared/peers/gorilla` beside the project, or the folder
//! `WIREFEED_GORILLA_PEER` names (Go, github.com/gorilla/feeds, vendored),
//! built here with `go` (Debian: `golang-go`) when both are found.
//! For the archive and newsroom workloads it runs alternately with
//! wirefeed (wirefeed first in even runs, the peer first in odd ones), on
//! the same corpus; the ratio is the peer's median wall time over
//! wirefeed's. The peer writes only RSS and Atom, no JSON Feed, no pages,
//! no category feeds, and syncs nothing: the *archive, RSS + Atom* row is
//! the peer's output (and a page), and the *peer + fsync* column adds what
//! syncing its two files costs after it exits. Without `go` the peer
//! columns say `skipped` and why. The peer holds every story in memory (a
//! gigabyte at 100,000), so it runs only up to 100,000 stories unless
//! `--peer-all` is given.
//!
//! Figures, not a pass/fail test: machines are shared and noisy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{corpus, median, newest_story, story, Rng};

const WORKLOADS: [&str; 6] = [
    "archive",
    "archive, RSS + Atom",
    "newsroom",
    "newsroom, cached",
    "incremental",
    "read floor",
];

/// The peer runs only up to this many stories unless `--peer-all`.
const PEER_UP_TO: usize = 100_000;

fn config(dir: &Path, kind: &str) -> PathBuf {
    let (feed, categories) = match kind {
        "archive" => ("limit = 1000000000", ""),
        "archive-2" => ("limit = 1000000000\nformats = [\"rss\", \"atom\"]", ""),
        _ => ("limit = 50", "[category_feeds]\nlimit = 20\n"),
    };
    let text = format!(
        "output = \"out-{kind}\"\n\n[site]\ntitle = \"Bench Wire\"\n\
         base_url = \"https://news.example.com/\"\nitem_link = \"https://news.example.com/news/{{id}}\"\n\n\
         [[source]]\npath = \"articles\"\nformat = \"wire\"\n\n\
         [[feed]]\nname = \"all\"\n{feed}\n\n{categories}"
    );
    let path = dir.join(format!("{kind}.toml"));
    fs::write(&path, text).unwrap();
    path
}

/// One whole process: its wall time, CPU time (user and system, all
/// threads) and peak resident memory.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
    peak: u64,
}

/// Runs `program` in `dir` and measures it.
fn run(program: &Path, dir: &Path, args: &[&str]) -> Sample {
    // Earlier runs' writes are flushed first, so that the disk's catching
    // up with them is not timed here.
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    // And the kernel's work after the last process (freeing and
    // compacting a gigabyte the peer held) is let finish.
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    // Reaped by wait4 below, which also gives its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; `usage` is a valid rusage to fill.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(pid, child.id() as i32, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{} {args:?} failed with status {status}",
        program.display()
    );
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Sample {
        wall,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        // ru_maxrss is in KiB on Linux.
        peak: usage.ru_maxrss as u64 * 1024,
    }
}

/// What syncing the peer's files costs once it has exited (it syncs
/// nothing itself; a wirefeed build syncs every file it writes).
fn sync_files(dir: &Path) -> Duration {
    let start = Instant::now();
    for name in ["feed.rss", "feed.atom"] {
        fs::File::open(dir.join(name)).unwrap().sync_all().unwrap();
    }
    fs::File::open(dir).unwrap().sync_all().unwrap();
    start.elapsed()
}

/// Builds the peer with its own script, or says why not.
fn build_peer(root: &Path) -> Result<PathBuf, String> {
    // Beside the project, unless told where.
    let source = match std::env::var_os("WIREFEED_GORILLA_PEER") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/peers/gorilla"),
    };
    if !source.join("build.sh").exists() {
        return Err(format!("no peer at {}", source.display()));
    }
    if Command::new("go").arg("version").output().is_err() {
        return Err("`go` not found (Debian: apt-get install golang-go)".into());
    }
    let binary = root.join("gorilla_peer");
    let out = Command::new("sh")
        .arg(source.join("build.sh"))
        .arg(&binary)
        .output()
        .map_err(|e| format!("cannot run build.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "build.sh failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(binary)
}

/// Adds a new story, or edits the newest one, so every incremental run has
/// real work to notice.
fn touch_one(dir: &Path, n: usize, round: usize, newest: &(String, String)) {
    let articles = dir.join("articles");
    if round.is_multiple_of(2) {
        let mut rng = Rng(7 + round as u64);
        let (_, text) = story(n - 1, n, &mut rng);
        let path = articles.join(format!("added/AEN29991231{:09}.txt", round));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text.replace("Headline", "Added headline")).unwrap();
    } else {
        let path = articles.join(&newest.0);
        let edited = newest
            .1
            .replace("(END)", &format!("Edit number {round}.\n(END)"));
        fs::write(path, edited).unwrap();
    }
}

/// The medians of a workload's runs.
struct Row {
    n: usize,
    workload: &'static str,
    ours: Sample,
    /// The peer's medians and its files' sync time, or why it did not run.
    peer: Option<Result<(Sample, Duration), String>>,
}

fn medians(samples: &[Sample]) -> Sample {
    Sample {
        wall: median(samples.iter().map(|s| s.wall).collect()),
        cpu: median(samples.iter().map(|s| s.cpu).collect()),
        peak: median(samples.iter().map(|s| s.peak).collect()),
    }
}

fn mib(bytes: u64) -> u64 {
    bytes / (1024 * 1024)
}

fn print_row(row: &Row) {
    let s = |d: Duration| format!("{:.3} s", d.as_secs_f64());
    let ours = &row.ours;
    let peer = match &row.peer {
        None => "| | | | |".to_owned(),
        Some(Err(why)) => format!("| skipped: {why} | | | |"),
        Some(Ok((p, synced))) => format!(
            "| {}, {} MiB | {} | **{:.2}x** | {:.2}x |",
            s(p.wall),
            mib(p.peak),
            s(p.wall + *synced),
            p.wall.as_secs_f64() / ours.wall.as_secs_f64(),
            (p.wall + *synced).as_secs_f64() / ours.wall.as_secs_f64(),
        ),
    };
    println!(
        "| {} | {} | {} | {} | {} MiB {peer}",
        row.n,
        row.workload,
        s(ours.wall),
        s(ours.cpu),
        mib(ours.peak),
    );
}

fn main() {
    let mut sizes = vec![10_000, 100_000];
    let mut runs = 5;
    let mut only: Option<Vec<String>> = None;
    let mut peer_all = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sizes" => {
                sizes = args
                    .next()
                    .expect("--sizes N,N")
                    .split(',')
                    .map(|s| s.parse().expect("a number"))
                    .collect()
            }
            "--runs" => runs = args.next().expect("--runs N").parse().expect("a number"),
            "--workloads" => {
                only = Some(
                    args.next()
                        .expect("--workloads NAME,NAME")
                        .split(',')
                        .map(str::to_owned)
                        .collect(),
                )
            }
            "--peer-all" => peer_all = true,
            _ => {} // cargo bench passes --bench
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    fs::create_dir_all(&root).unwrap();
    let wirefeed = PathBuf::from(env!("CARGO_BIN_EXE_wirefeed"));
    let peer = build_peer(&root);
    match &peer {
        Ok(p) => eprintln!("peer: {}", p.display()),
        // CI provides the peer's compiler: there, a skip is a failure.
        Err(why) if std::env::var_os("WIREFEED_NO_SKIPS").is_some() => {
            panic!("peer: {why} (WIREFEED_NO_SKIPS is set)")
        }
        Err(why) => eprintln!("peer: SKIPPED, {why}"),
    }
    let slug = |w: &str| {
        w.replace(", ", "-")
            .replace(" + ", "-")
            .replace(' ', "-")
            .to_lowercase()
    };
    let mut rows = Vec::new();
    for &n in &sizes {
        let dir = corpus(&root, n);
        for workload in WORKLOADS {
            let wanted = only
                .as_ref()
                .is_none_or(|w| w.iter().any(|name| slug(workload) == *name));
            if !wanted {
                continue;
            }
            let row = measure(&wirefeed, &peer, &dir, n, workload, runs, peer_all);
            print_row(&row);
            rows.push(row);
        }
        let _ = fs::remove_dir_all(dir.join("articles/added"));
        let _ = fs::remove_dir_all(dir.join("out-peer"));
    }
    println!();
    println!(
        "wirefeed {} on {} cores; medians of {runs} runs; ratio: peer wall / wirefeed wall",
        env!("CARGO_PKG_VERSION"),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "| stories | workload | wall | CPU | peak memory | gorilla/feeds | peer + fsync | ratio | ratio with fsync |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        print_row(row);
    }
    growth(&rows);
}

/// Runs one workload `runs` times (alternating with the peer where it has
/// one) and returns the medians.
fn measure(
    wirefeed: &Path,
    peer: &Result<PathBuf, String>,
    dir: &Path,
    n: usize,
    workload: &'static str,
    runs: usize,
    peer_all: bool,
) -> Row {
    if workload == "read floor" {
        let samples: Vec<Sample> = (0..runs)
            .map(|_| {
                run(
                    Path::new("sh"),
                    dir,
                    &[
                        "-c",
                        "find articles -name '*.txt' -print0 | xargs -0 cat > /dev/null",
                    ],
                )
            })
            .collect();
        return Row {
            n,
            workload,
            ours: medians(&samples),
            peer: None,
        };
    }
    let cached = workload == "incremental" || workload == "newsroom, cached";
    let kind = match workload {
        "archive" => "archive",
        "archive, RSS + Atom" => "archive-2",
        _ => "newsroom",
    };
    let peer_args: Option<Vec<&str>> = match workload {
        "archive" | "archive, RSS + Atom" => Some(vec!["articles", "out-peer"]),
        "newsroom" => Some(vec!["-latest", "50", "articles", "out-peer"]),
        _ => None,
    };
    let peer = match (&peer_args, peer) {
        (None, _) => None,
        (Some(_), Err(why)) => Some(Err(why.clone())),
        (Some(_), Ok(_)) if n > PEER_UP_TO && !peer_all => Some(Err(format!(
            "above {PEER_UP_TO} stories (--peer-all runs it)"
        ))),
        (Some(_), Ok(p)) => Some(Ok(p.clone())),
    };
    let cfg = config(dir, kind).to_str().unwrap().to_owned();
    // Found once, so that no round spends its setup generating the whole
    // corpus again right before it is timed.
    let newest = match workload == "incremental" {
        true => newest_story(n),
        false => Default::default(),
    };
    if cached {
        run(wirefeed, dir, &["-q", "-c", &cfg, "build"]); // fills the cache
                                                          // Files modified within two seconds of the cache are re-read.
        std::thread::sleep(Duration::from_millis(2100));
    }
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    let mut synced = Vec::new();
    for round in 0..runs {
        let mut run_ours = || {
            let args: Vec<&str> = if cached {
                if workload == "incremental" {
                    touch_one(dir, n, round, &newest);
                }
                vec!["-q", "-c", &cfg, "build"]
            } else {
                // A first build: no cache and no earlier output.
                let _ = fs::remove_dir_all(dir.join(format!("out-{kind}")));
                vec!["-q", "-c", &cfg, "build", "--no-cache"]
            };
            ours.push(run(wirefeed, dir, &args));
        };
        let mut run_peer = || {
            if let (Some(Ok(p)), Some(args)) = (&peer, &peer_args) {
                let out = dir.join("out-peer");
                let _ = fs::remove_dir_all(&out);
                theirs.push(run(p, dir, args));
                synced.push(sync_files(&out));
            }
        };
        if round % 2 == 0 {
            run_ours();
            run_peer();
        } else {
            run_peer();
            run_ours();
        }
    }
    // Cold outputs are large (the archive writes gigabytes): not kept.
    if !cached {
        let _ = fs::remove_dir_all(dir.join(format!("out-{kind}")));
    }
    Row {
        n,
        workload,
        ours: medians(&ours),
        peer: peer.map(|p| p.map(|_| (medians(&theirs), median(synced)))),
    }
}

/// How time and memory grow with the corpus, per workload: from its
/// smallest size to each larger one.
fn growth(rows: &[Row]) {
    let mut printed = false;
    for workload in WORKLOADS {
        let mine: Vec<&Row> = rows.iter().filter(|r| r.workload == workload).collect();
        let Some(first) = mine.iter().min_by_key(|r| r.n) else {
            continue;
        };
        for row in mine.iter().filter(|r| r.n > first.n) {
            if !printed {
                println!();
                println!("| workload | stories | × stories | × wall | × peak memory |");
                println!("|---|---|---:|---:|---:|");
                printed = true;
            }
            println!(
                "| {workload} | {} → {} | {:.1} | {:.1} | {:.1} |",
                first.n,
                row.n,
                row.n as f64 / first.n as f64,
                row.ours.wall.as_secs_f64() / first.ours.wall.as_secs_f64(),
                row.ours.peak as f64 / first.ours.peak as f64,
            );
        }
    }
}
