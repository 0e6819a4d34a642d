//! What the benchmarks share: a deterministic corpus of wire stories.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

const CATEGORIES: [&str; 24] = [
    "economy",
    "politics",
    "North Korea",
    "culture",
    "sports",
    "tech",
    "Seoul",
    "Busan",
    "Japan",
    "China",
    "US",
    "defense",
    "health",
    "weather",
    "markets",
    "science",
    "education",
    "energy",
    "trade",
    "diplomacy",
    "K-pop",
    "film",
    "autos",
    "shipbuilding",
];
const AUTHORS: [(&str, &str); 8] = [
    ("Kim Eun-jung", "김은중"),
    ("Park Boram", "박보람"),
    ("Lee Ji-hoon", "이지훈"),
    ("Choi Seung-woo", "최승우"),
    ("Jang Hye-rin", "장혜린"),
    ("Yoon Da-eun", "윤다은"),
    ("Oh Jae-won", "오재원"),
    ("Han Seo-yeon", "한서연"),
];
const WORDS: [&str; 48] = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "officials",
    "said",
    "would",
    "will",
    "could",
    "more",
    "than",
    "after",
    "over",
    "new",
    "Korea",
    "Seoul",
    "government",
    "minister",
    "market",
    "exports",
    "company",
    "president",
    "announced",
    "plans",
    "week",
    "year",
    "percent",
    "billion",
    "won",
    "talks",
    "summit",
    "agreement",
    "ministry",
    "data",
    "showed",
    "expected",
    "growth",
];

/// SplitMix64: a tiny deterministic generator, so the corpus is the same
/// on every machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Story `i` of a corpus: (relative path, text).
pub fn story(i: usize, n: usize, rng: &mut Rng) -> (String, String) {
    // Spread over six years, one story every ~30 minutes of filing time.
    let minutes = (i as i64) * (6 * 365 * 24 * 60) / n as i64;
    let t = chrono::NaiveDate::from_ymd_opt(2020, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        + chrono::Duration::minutes(minutes)
        + chrono::Duration::seconds((i % 60) as i64);
    let (name, native) = AUTHORS[rng.below(AUTHORS.len())];
    let mut slug = Vec::new();
    while slug.len() < 3 {
        let c = CATEGORIES[rng.below(CATEGORIES.len())].replace('-', "");
        if !slug.contains(&c) {
            slug.push(c);
        }
    }
    let mut text = format!(
        "{native}\n| {}\n{}\nHeadline {i}: {} {} {} as {} {}\nBy {name}\n",
        t.format("%Y-%m-%d %H:%M:%S"),
        slug.join("-"),
        WORDS[rng.below(WORDS.len())],
        WORDS[rng.below(WORDS.len())],
        WORDS[rng.below(WORDS.len())],
        WORDS[rng.below(WORDS.len())],
        WORDS[rng.below(WORDS.len())],
    );
    // Shaped like the sample story (3.2 KB, 13 paragraphs, 37 words a
    // paragraph on average, longer words than these): 10-16 paragraphs, 13
    // on average, of 28-51 words.
    let paragraphs = 10 + rng.below(7);
    for p in 0..paragraphs {
        if p == 0 {
            text.push_str(&format!("SEOUL, {} (Yonhap) -- ", t.format("%b. %-d")));
        }
        let words = 28 + rng.below(24);
        for w in 0..words {
            if w > 0 {
                text.push(' ');
            }
            text.push_str(WORDS[rng.below(WORDS.len())]);
        }
        text.push_str(".\n");
    }
    text.push_str("(END)\n[ⓒ K-VIBE. 무단전재-재배포 금지]");
    let path = format!(
        "{}/{}/AEN{}{:09}.txt",
        t.format("%Y"),
        t.format("%m"),
        t.format("%Y%m%d"),
        i
    );
    (path, text)
}

/// Writes an n-story corpus under `root` unless a complete one is there.
pub fn corpus(root: &Path, n: usize) -> PathBuf {
    // Named for the generator's version: a corpus of another shape is
    // never reused.
    let dir = root.join(format!("corpus-v4-{n}"));
    let done = dir.join(".complete");
    if done.exists() {
        return dir;
    }
    let _ = fs::remove_dir_all(&dir);
    eprintln!("generating {n} stories in {}", dir.display());
    let mut rng = Rng(42);
    let mut bytes = 0;
    for i in 0..n {
        let (rel, text) = story(i, n, &mut rng);
        let path = dir.join("articles").join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        bytes += text.len();
        fs::write(path, text).unwrap();
    }
    eprintln!(
        "  {} MB of articles, {} bytes a story on average",
        bytes / 1_000_000,
        bytes / n.max(1)
    );
    fs::write(&done, "").unwrap();
    dir
}

pub fn median<T: Copy + Ord>(mut v: Vec<T>) -> T {
    v.sort();
    v[v.len() / 2]
}

/// The newest story of the corpus of `n`: (path under `articles`, text).
pub fn newest_story(n: usize) -> (String, String) {
    let mut rng = Rng(42);
    let mut last = (String::new(), String::new());
    for i in 0..n {
        last = story(i, n, &mut rng);
    }
    last
}

/// A port free on 127.0.0.1 just now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops a child with SIGTERM (nginx stops its workers then), or kills it
/// when it has not exited 15 s later.
pub fn stop(mut child: Child) {
    // SAFETY: signals our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            let _ = child.wait();
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
