//! Newsroom-scale benchmark of the real `wirefeed` binary.
//!
//! ```sh
//! cargo bench --bench build                         # 10,000 and 100,000 stories, 5 runs each
//! cargo bench --bench build -- --sizes 20000 --runs 3
//! cargo bench --bench build -- --sizes 100000 --workloads newsroom-cached,incremental
//! ```
//!
//! Generates a deterministic corpus of wire stories (8–16 paragraphs, about
//! 3 KB each, in year/month folders) under `target/bench/`, then times
//! whole `wirefeed build` processes for four workloads and prints the
//! median wall time, CPU time (user and system, all threads) and peak
//! resident memory (from `wait4`):
//!
//! - archive: one feed with every item, RSS + Atom + JSON Feed, no cache
//!   and no earlier output;
//! - newsroom: the newest 50 plus one feed per category (20 each), no cache
//!   and no earlier output;
//! - newsroom, cached: the same with the cache of the previous build and
//!   nothing changed;
//! - incremental: the newsroom workload rebuilt after one story was added or
//!   edited, with the cache of the previous build.
//!
//! Figures, not a pass/fail test: machines are shared and noisy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{corpus, median, newest_story, story, Rng};

fn config(dir: &Path, workload: &str) -> PathBuf {
    let (feed, categories) = match workload {
        "archive" => ("limit = 1000000000", ""),
        _ => ("limit = 50", "[category_feeds]\nlimit = 20\n"),
    };
    let text = format!(
        "output = \"out-{workload}\"\n\n[site]\ntitle = \"Bench Wire\"\n\
         base_url = \"https://news.example.com/\"\nitem_link = \"https://news.example.com/news/{{id}}\"\n\n\
         [[source]]\npath = \"articles\"\nformat = \"wire\"\n\n\
         [[feed]]\nname = \"all\"\n{feed}\n\n{categories}"
    );
    let path = dir.join(format!("{workload}.toml"));
    fs::write(&path, text).unwrap();
    path
}

/// One whole process: wall time and peak resident memory.
/// Runs `wirefeed` in `dir`: its wall time, peak resident memory in bytes,
/// and CPU time (user and system, all threads).
fn run(dir: &Path, args: &[&str]) -> (Duration, u64, Duration) {
    // Earlier runs' writes are flushed first, so that the disk's catching
    // up with them is not timed here.
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    let start = Instant::now();
    // Reaped by wait4 below, which also gives its resource usage.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(args)
        .current_dir(dir)
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; `usage` is a valid rusage to fill.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(pid, child.id() as i32, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "wirefeed {args:?} failed with status {status}"
    );
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    let cpu = time(usage.ru_utime) + time(usage.ru_stime);
    // ru_maxrss is in KiB on Linux.
    (wall, usage.ru_maxrss as u64 * 1024, cpu)
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

fn main() {
    let mut sizes = vec![10_000, 100_000];
    let mut runs = 5;
    let mut only: Option<Vec<String>> = None;
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
            _ => {} // cargo bench passes --bench
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    println!(
        "wirefeed {} on {} cores; median of {runs} runs",
        env!("CARGO_PKG_VERSION"),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| stories | workload | wall (median) | CPU (median) | peak memory (median) |");
    println!("|---:|---|---:|---:|---:|");
    for &n in &sizes {
        let dir = corpus(&root, n);
        for workload in ["archive", "newsroom", "newsroom, cached", "incremental"] {
            let wanted = only.as_ref().is_none_or(|w| {
                w.iter()
                    .any(|name| workload.replace(", ", "-") == name.as_str())
            });
            if !wanted {
                continue;
            }
            let cached = workload == "incremental" || workload == "newsroom, cached";
            let kind = if workload == "archive" {
                "archive"
            } else {
                "newsroom"
            };
            let cfg = config(&dir, kind).to_str().unwrap().to_owned();
            let mut walls = Vec::new();
            let mut peaks = Vec::new();
            let mut cpus = Vec::new();
            // Found once, so that no round spends its setup generating the
            // whole corpus again right before it is timed.
            let newest = match workload == "incremental" {
                true => newest_story(n),
                false => Default::default(),
            };
            if cached {
                run(&dir, &["-q", "-c", &cfg, "build"]); // fills the cache
                                                         // Files modified within two seconds of the cache are re-read.
                std::thread::sleep(Duration::from_millis(2100));
            }
            for round in 0..runs {
                let args: Vec<&str> = if cached {
                    if workload == "incremental" {
                        touch_one(&dir, n, round, &newest);
                    }
                    vec!["-q", "-c", &cfg, "build"]
                } else {
                    // A first build: no cache and no earlier output to
                    // compare with.
                    let _ = fs::remove_dir_all(dir.join(format!("out-{kind}")));
                    vec!["-q", "-c", &cfg, "build", "--no-cache"]
                };
                let (wall, peak, cpu) = run(&dir, &args);
                walls.push(wall);
                peaks.push(peak);
                cpus.push(cpu);
            }
            println!(
                "| {n} | {workload} | {:.2} s | {:.2} s | {} MiB |",
                median(walls).as_secs_f64(),
                median(cpus).as_secs_f64(),
                median(peaks) / (1024 * 1024)
            );
        }
        let _ = fs::remove_dir_all(dir.join("articles/added"));
    }
}
