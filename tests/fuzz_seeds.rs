//! The fuzz targets (fuzz/, run with cargo-fuzz on nightly) over their seed
//! corpora (fuzz/corpus/<target>/seed-*), on stable, with the same checks
//! (fuzz/checks.rs) and a time bound generous enough for a debug build on
//! a busy CI machine.
//!
//! The saved findings (fuzz/findings/<target>/) run too: each showed a bug
//! that is fixed, and must stay fixed.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use checks::{Budget, Target};

#[global_allocator]
static ALLOC: checks::Counting = checks::Counting;

/// Heap counts are process-wide: one case at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// All seeds of all targets together stay well under this.
const ALL_SEEDS_WITHIN: Duration = Duration::from_secs(30);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files in `dir` whose names pass `keep`, in name order.
fn files(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&keep))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

fn seeds(target: Target) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = fuzz_dir().join("corpus").join(target.name());
    let seeds = files(&dir, |name| name.starts_with("seed-"));
    assert!(!seeds.is_empty(), "{}: no seeds", dir.display());
    let started = Instant::now();
    for (path, bytes) in &seeds {
        eprintln!("{}", path.display());
        target.check(bytes, &Budget::SEEDS);
    }
    // A fifth of the whole allowance each.
    let took = started.elapsed();
    assert!(
        took < ALL_SEEDS_WITHIN / 5,
        "{}: {} seeds took {took:?}",
        target.name(),
        seeds.len()
    );
}

#[test]
fn wire_seeds() {
    seeds(Target::Wire);
}

#[test]
fn markdown_seeds() {
    seeds(Target::Markdown);
}

#[test]
fn json_seeds() {
    seeds(Target::Json);
}

#[test]
fn config_seeds() {
    seeds(Target::Config);
}

#[test]
fn render_seeds() {
    seeds(Target::Render);
}

/// Every saved finding passes its target's checks (with the fuzzing
/// budget): true once the bugs they show are fixed.
#[test]
fn findings_are_fixed() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut failing = Vec::new();
    for target in Target::ALL {
        let dir = fuzz_dir().join("findings").join(target.name());
        for (path, bytes) in files(&dir, |name| name != "README.md") {
            let passed = std::panic::catch_unwind(|| target.check(&bytes, &Budget::FUZZ)).is_ok();
            eprintln!(
                "{}: {}",
                path.display(),
                if passed { "fixed" } else { "fails" }
            );
            if !passed {
                failing.push(path);
            }
        }
    }
    assert!(failing.is_empty(), "findings that still fail: {failing:#?}");
}
