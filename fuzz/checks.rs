//! The checks of every fuzz target, in one place: included by the
//! cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`) and by the seed-corpus
//! run on stable Rust (`tests/fuzz_seeds.rs`) with
//! `#[path = "../fuzz/checks.rs"] mod checks;`.
//!
//! Each target takes arbitrary bytes and asserts: no panic, time and peak
//! heap memory within a bound per input byte (see [`Budget`]), and for
//! `render` well-formed XML (RSS, Atom) and valid JSON (JSON Feed) whose
//! size is bounded by the input's.
//!
//! Every `wirefeed::` item used is named in [`api`] and nowhere else, so a
//! re-layout of the crate's modules is fixed here alone.

#![allow(dead_code)] // each includer uses its own part

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The whole public surface of wirefeed the targets use.
mod api {
    pub use wirefeed::config::{Config, Format, Site};
    pub use wirefeed::model::{Archive, ArticleFormat, Feed, FeedInfo, Item};
    pub use wirefeed::normalize::Normalizer;
    pub use wirefeed::render::render;
    pub use wirefeed::source::{parse_bytes, ParseContext};
}

use api::{ArticleFormat, Format};

/// The fuzz targets, one per parser plus the whole way to every format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Wire text (`.txt`).
    Wire,
    /// Markdown with YAML or TOML front matter (`.md`).
    Markdown,
    /// JSON (`.json`, and the same bytes as `.jsonl`).
    Json,
    /// `config.toml`.
    Config,
    /// Article bytes → items → RSS, Atom and JSON Feed. The first byte
    /// picks the parser: `w` wire, `m` Markdown, `j` JSON, `l` JSON lines
    /// (any other byte: its value mod 4 in that order); the rest is the
    /// file.
    Render,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 5] = [
        Target::Wire,
        Target::Markdown,
        Target::Json,
        Target::Config,
        Target::Render,
    ];

    /// Its name: the fuzz target's and its corpus folder's.
    pub fn name(self) -> &'static str {
        match self {
            Target::Wire => "wire",
            Target::Markdown => "markdown",
            Target::Json => "json",
            Target::Config => "config",
            Target::Render => "render",
        }
    }

    /// Runs the target on `data` and checks everything, within `budget`.
    /// Panics (the finding) when a check fails.
    pub fn check(self, data: &[u8], budget: &Budget) {
        // Lazily built state (regexes, the site) is paid for once, not by
        // the first input.
        static WARM: OnceLock<()> = OnceLock::new();
        WARM.get_or_init(|| {
            for t in Target::ALL {
                t.run(b"w\xE2\x80\x94 x");
            }
        });
        Peak::reset();
        let started = Instant::now();
        let out = self.run(data);
        let mut elapsed = started.elapsed();
        let peak = Peak::get();
        let len = data.len();
        let name = self.name();
        let time = budget.time(len);
        // A busy machine can stall any case: a slow one is timed twice
        // more, and the fastest counts. Super-linear work is slow every
        // time.
        for _ in 0..2 {
            if elapsed <= time {
                break;
            }
            let again = Instant::now();
            self.run(data);
            elapsed = elapsed.min(again.elapsed());
        }
        assert!(
            elapsed <= time,
            "{name}: {elapsed:?} for {len} bytes, over the bound of {time:?}"
        );
        let memory = budget.memory(len);
        assert!(
            peak <= memory,
            "{name}: peak heap {peak} bytes for {len} input bytes, over the bound of {memory}"
        );
        let output = budget.output(len);
        assert!(
            out <= output,
            "{name}: {out} output bytes for {len} input bytes, over the bound of {output}"
        );
    }

    /// Runs the target on `data`; the size of what it produced (texts of
    /// articles, or rendered bytes). Panics when a well-formedness check
    /// fails.
    fn run(self, data: &[u8]) -> usize {
        match self {
            Target::Wire => parse(data, "fuzz/AEN20260908001100315.txt", ArticleFormat::Wire),
            Target::Markdown => parse(data, "fuzz/post.md", ArticleFormat::Markdown),
            Target::Json => {
                parse(data, "fuzz/data.json", ArticleFormat::Json)
                    + parse(data, "fuzz/data.jsonl", ArticleFormat::Json)
            }
            Target::Config => config(data),
            Target::Render => render_all(data),
        }
    }
}

/// What a case may cost, as `base + per_byte × input length`.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Time for any input.
    pub time_base: Duration,
    /// More time per input byte.
    pub time_per_byte: Duration,
    /// Peak heap bytes (above what was live before) for any input.
    pub memory_base: usize,
    /// More heap per input byte.
    pub memory_per_byte: usize,
    /// Output bytes (parsed texts, or rendered bytes of the three formats
    /// together) for any input.
    pub output_base: usize,
    /// More output per input byte.
    pub output_per_byte: usize,
}

impl Budget {
    /// Under libFuzzer: an optimized, instrumented build with nothing else
    /// running, so a tight bound that catches super-linear behaviour
    /// (libFuzzer's `-timeout` and `-rss_limit_mb` catch the rest).
    pub const FUZZ: Budget = Budget {
        time_base: Duration::from_millis(50),
        time_per_byte: Duration::from_micros(20),
        memory_base: 8 << 20,
        memory_per_byte: 2048,
        output_base: 64 << 10,
        output_per_byte: 128,
    };

    /// The seed run in `cargo test`: a debug build on a shared CI machine,
    /// so time is generous (it must never flake); memory and output do not
    /// depend on the machine and stay as tight.
    pub const SEEDS: Budget = Budget {
        time_base: Duration::from_secs(2),
        time_per_byte: Duration::from_millis(1),
        ..Budget::FUZZ
    };

    fn time(&self, len: usize) -> Duration {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        self.time_base
            .saturating_add(self.time_per_byte.saturating_mul(len))
    }

    fn memory(&self, len: usize) -> usize {
        self.memory_base
            .saturating_add(self.memory_per_byte.saturating_mul(len))
    }

    fn output(&self, len: usize) -> usize {
        self.output_base
            .saturating_add(self.output_per_byte.saturating_mul(len))
    }
}

/// A global allocator that keeps the peak of live heap bytes: install it
/// with `#[global_allocator] static ALLOC: checks::Counting = checks::Counting;`.
/// Counts are process-wide: run one case at a time.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static BASE: AtomicUsize = AtomicUsize::new(0);

struct Peak;

impl Peak {
    fn reset() {
        let live = LIVE.load(Ordering::Relaxed);
        BASE.store(live, Ordering::Relaxed);
        PEAK.store(live, Ordering::Relaxed);
    }

    /// Peak live bytes since [`Peak::reset`], above what was live then.
    fn get() -> usize {
        PEAK.load(Ordering::Relaxed)
            .saturating_sub(BASE.load(Ordering::Relaxed))
    }
}

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn shrank(by: usize) {
    LIVE.fetch_sub(by, Ordering::Relaxed);
}

// SAFETY: every call is passed on to `System` unchanged; only counters are
// kept besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        p
    }
}

/// The site every case is built for.
const CONFIG: &str = r#"
[site]
title = "Fuzz & <Desk>"
description = "Fuzzed stories"
base_url = "https://news.example.com/"
feeds_url = "https://news.example.com/feeds/"
language = "en"
timezone = "Asia/Seoul"
rights = "ⓒ Desk"
author = "Desk"
item_link = "https://news.example.com/news/{id}"

[[source]]
path = "/"

[[feed]]
name = "all"
title = "All"
"#;

fn site() -> &'static api::Site {
    static SITE: OnceLock<api::Site> = OnceLock::new();
    SITE.get_or_init(|| {
        match api::Config::parse(CONFIG, std::path::Path::new("/fuzz/config.toml")) {
            Ok(config) => config.site,
            Err(e) => panic!("the fuzz site's config does not parse: {e}"),
        }
    })
}

fn context(bodies: bool) -> api::ParseContext {
    api::ParseContext {
        timezone: site().timezone,
        bodies,
    }
}

/// Parses `data` as a file at `path`, with and without bodies; the same
/// problems must be found either way. The size of the articles' texts.
fn parse(data: &[u8], path: &str, format: ArticleFormat) -> usize {
    let path = std::path::Path::new(path);
    let full = api::parse_bytes(path, data.to_vec(), format, context(true));
    let headers = api::parse_bytes(path, data.to_vec(), format, context(false));
    assert_eq!(
        full.errors,
        headers.errors,
        "{}: a header-only parse must find the same problems",
        path.display()
    );
    assert_eq!(
        full.articles.len(),
        headers.articles.len(),
        "{}: a header-only parse must find the same articles",
        path.display()
    );
    for e in &full.errors {
        assert!(e.line >= 1, "{e}: lines are 1-based");
    }
    format!("{:?}", full.articles).len()
}

/// Parses `data` as a config file.
fn config(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    // Relative source folders are looked up from the working folder.
    match api::Config::parse(&text, std::path::Path::new("config.toml")) {
        Ok(config) => format!("{config:?}").len(),
        Err(e) => e.to_string().len(),
    }
}

/// Article bytes (first byte: the parser) → items → every format, each
/// checked; the rendered bytes of all formats together.
fn render_all(data: &[u8]) -> usize {
    let Some((&pick, file)) = data.split_first() else {
        return 0;
    };
    let (path, format) = match pick {
        b'w' => ("fuzz/AEN20260908001100315.txt", ArticleFormat::Wire),
        b'm' => ("fuzz/post.md", ArticleFormat::Markdown),
        b'j' => ("fuzz/data.json", ArticleFormat::Json),
        b'l' => ("fuzz/data.jsonl", ArticleFormat::Json),
        // NewsML-G2 or NITF, told by the root element.
        b'x' => ("fuzz/item.xml", ArticleFormat::Xml),
        other => match other % 4 {
            0 => ("fuzz/AEN20260908001100315.txt", ArticleFormat::Wire),
            1 => ("fuzz/post.md", ArticleFormat::Markdown),
            2 => ("fuzz/data.json", ArticleFormat::Json),
            _ => ("fuzz/data.jsonl", ArticleFormat::Json),
        },
    };
    let parsed = api::parse_bytes(
        std::path::Path::new(path),
        file.to_vec(),
        format,
        context(true),
    );
    let site = site();
    let normalizer = api::Normalizer::new(site);
    let items: Vec<api::Item> = parsed.articles.iter().map(|a| normalizer.item(a)).collect();
    let feed = api::Feed {
        info: api::FeedInfo {
            name: "all".to_owned(),
            title: "All & <everything>".to_owned(),
            description: "Every fuzzed story".to_owned(),
            formats: Format::ALL.to_vec(),
            updated: items.iter().map(|i| i.updated).max().unwrap_or_default(),
            len: items.len(),
            archive: api::Archive::default(),
        },
        items: items.iter().collect(),
    };
    let mut total = 0;
    for format in Format::ALL {
        let bytes = match api::render(&feed, format, site) {
            Ok(bytes) => bytes,
            Err(e) => panic!("{path}: render failed: {e}"),
        };
        match format {
            Format::Rss => check_xml(&bytes, "rss", &["channel", "item"], items.len()),
            Format::Atom => check_xml(&bytes, "feed", &["entry"], items.len()),
            Format::Json => check_json(&bytes, items.len()),
        }
        total += bytes.len();
    }
    total
}

/// `bytes` are a well-formed XML document (UTF-8, no DTD, only XML
/// characters) with root `root`, and `count` elements at `path` below it.
fn check_xml(bytes: &[u8], root: &str, path: &[&str], count: usize) {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => panic!("<{root}>: not UTF-8: {e}"),
    };
    let doc = match roxmltree::Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => panic!("<{root}>: not well-formed XML: {e}\n{}", excerpt(text, &e)),
    };
    let top = doc.root_element();
    assert_eq!(top.tag_name().name(), root, "the root element");
    let mut level = vec![top];
    for name in path {
        level = level
            .iter()
            .flat_map(|n| n.children())
            .filter(|n| n.is_element() && n.tag_name().name() == *name)
            .collect();
    }
    assert_eq!(level.len(), count, "<{root}>: elements at {path:?}");
}

fn excerpt(text: &str, e: &roxmltree::Error) -> String {
    let pos = e.pos();
    text.lines()
        .nth(pos.row.saturating_sub(1) as usize)
        .map(|l| l.chars().take(300).collect())
        .unwrap_or_default()
}

/// `bytes` are a JSON Feed 1.1 document with `count` items.
fn check_json(bytes: &[u8], count: usize) {
    let doc: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(doc) => doc,
        Err(e) => panic!("JSON Feed: not valid JSON: {e}"),
    };
    assert_eq!(
        doc["version"].as_str(),
        Some("https://jsonfeed.org/version/1.1"),
        "JSON Feed: version"
    );
    assert_eq!(
        doc["items"].as_array().map(Vec::len),
        Some(count),
        "JSON Feed: items"
    );
}
