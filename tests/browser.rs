//! A person opening a feed in a browser sees a page, not raw XML: the
//! built feeds are served on 127.0.0.1 and rendered by headless Chromium,
//! which applies the feeds' XSLT stylesheet; `index.html` and each feed's
//! own page (`NAME.html`, with `style.css`) are shot at a phone's width and
//! a desktop's, light and dark. Screenshots are kept under
//! `target/browser/`. Needs Chromium (`.ci/run` installs Debian's, and
//! `fonts-noto-cjk` for Hangul); without it the tests say they skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{repo, serve_built_samples};

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
        Some(PathBuf::from("/usr/bin/chromium-browser")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

/// Chromium's flags for a closed network and a root user (see the
/// workplace notes): no sandbox, no background connections.
fn headless(chromium: &PathBuf, profile: &std::path::Path) -> Command {
    let mut c = Command::new(chromium);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_open_in_a_browser_as_a_readable_page() {
    let Some(chromium) = chromium() else {
        common::skip(
            "feeds_open_in_a_browser_as_a_readable_page",
            "Chromium not found (set CHROMIUM, or run .ci/run, which installs it)",
        );
        return;
    };
    let (_out, base, token) = serve_built_samples("no-cache").await;

    let shots = repo().join("target/browser");
    std::fs::create_dir_all(&shots).unwrap();
    let cases = [
        ("all.rss", "Example Wire: All stories"),
        ("all.atom", "Example Wire: All stories"),
        ("category/busan.rss", "Example Wire: Busan"),
    ];
    for (path, title) in cases {
        let url = format!("{base}/{path}");
        let profile = tempfile::tempdir().unwrap();
        let (dump, shot) = {
            let (c, u, p) = (chromium.clone(), url.clone(), profile.path().to_owned());
            let name = path.replace(['/', '.'], "-");
            let shot = shots.join(format!("{name}.png"));
            let s = shot.clone();
            tokio::task::spawn_blocking(move || {
                let dump = headless(&c, &p).arg("--dump-dom").arg(&u).output().unwrap();
                headless(&c, &p)
                    .arg(format!("--screenshot={}", s.display()))
                    .arg("--window-size=1200,1600")
                    .arg(&u)
                    .output()
                    .unwrap();
                (String::from_utf8_lossy(&dump.stdout).into_owned(), shot)
            })
            .await
            .unwrap()
        };
        // The transformed page, not the XML tree viewer.
        assert!(dump.contains("<h1>"), "{path}: no page was made:\n{dump}");
        assert!(dump.contains(title), "{path}: title missing:\n{dump}");
        assert!(dump.contains("Subscribe"), "{path}: no subscribe help");
        assert!(
            dump.contains(&format!("https://news.example.com/feeds/{path}")),
            "{path}: no feed address"
        );
        if path.starts_with("all") {
            assert!(
                dump.contains("Busan harbor festival draws record crowds"),
                "{path}: item title"
            );
            assert!(dump.contains("Yoon Da-eun"), "{path}: author");
            // Summaries are text: markup in them is shown, never run.
            assert!(
                dump.contains("lift &lt;Outlook&gt; for 2027"),
                "{path}: escaped title"
            );
            // Text that looks like HTML is written as HTML escaped once
            // more; the page shows it as written, as text.
            assert!(
                dump.contains("why &lt;b&gt;bold&lt;/b&gt; and &lt;script&gt;alert(\"hi\")&lt;/script&gt; stay"),
                "{path}: HTML-looking title"
            );
            assert!(
                dump.contains("such as &lt;b&gt;bold&lt;/b&gt; or &lt;script&gt;"),
                "{path}: HTML-looking summary"
            );
        }
        assert!(shot.is_file(), "{path}: no screenshot");
        println!("{path}: rendered; screenshot {}", shot.display());
    }
    token.cancel();
}

/// Chromium's `--dump-dom` of `url` and a screenshot of it at `width` ×
/// `height` (dark: as with `prefers-color-scheme: dark`) into `shot`.
fn dump_and_shoot(
    chromium: &PathBuf,
    url: &str,
    (width, height): (u32, u32),
    dark: bool,
    shot: &std::path::Path,
) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut dump = headless(chromium, profile.path());
    let dump = dump.arg("--dump-dom").arg(url).output().unwrap();
    let mut shoot = headless(chromium, profile.path());
    if dark {
        shoot.arg("--force-dark-mode");
    }
    let status = shoot
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(url)
        .output()
        .unwrap();
    assert!(
        shot.is_file(),
        "{url}: no screenshot: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    String::from_utf8_lossy(&dump.stdout).into_owned()
}

/// What a screenshot shows, in numbers.
struct Picture {
    width: u32,
    height: u32,
    /// Distinct colours.
    colours: usize,
    /// The share of pixels that differ from the top-left one (the page's
    /// background).
    drawn: f64,
    /// The background's luma, 0 to 255.
    background_luma: f64,
}

fn look_at(shot: &std::path::Path) -> Picture {
    let file = std::fs::File::open(shot).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    let channels = frame.color_type.samples();
    assert_eq!(frame.bit_depth, png::BitDepth::Eight, "{}", shot.display());
    assert!(channels >= 3, "{}: not in colour", shot.display());
    let pixels: Vec<&[u8]> = buf[..frame.buffer_size()]
        .chunks(channels)
        .map(|p| &p[..3])
        .collect();
    let background = pixels[0];
    let drawn = pixels.iter().filter(|p| **p != background).count();
    let colours: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
    let [r, g, b] = [0, 1, 2].map(|i| f64::from(background[i]));
    Picture {
        width: frame.width,
        height: frame.height,
        colours: colours.len(),
        drawn: drawn as f64 / pixels.len() as f64,
        background_luma: 0.2126 * r + 0.7152 * g + 0.0722 * b,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_and_a_feed_page_read_well_on_a_phone_and_a_desktop() {
    let Some(chromium) = chromium() else {
        common::skip(
            "the_index_and_a_feed_page_read_well_on_a_phone_and_a_desktop",
            "Chromium not found (set CHROMIUM, or run .ci/run, which installs it)",
        );
        return;
    };
    let (_out, base, token) = serve_built_samples("no-cache").await;
    let shots = repo().join("target/browser");
    std::fs::create_dir_all(&shots).unwrap();
    let sizes = [("phone", (390, 844)), ("desktop", (1280, 800))];
    for page in ["index.html", "wire.html", "all.html"] {
        // The page of every story, for what it shows: one size suffices.
        let sizes = match page {
            "all.html" => &sizes[..1],
            _ => &sizes[..],
        };
        for &(device, size) in sizes {
            for dark in [false, true] {
                let url = format!("{base}/{page}");
                let name = format!(
                    "{}-{device}{}.png",
                    page.trim_end_matches(".html"),
                    if dark { "-dark" } else { "" }
                );
                let shot = shots.join(&name);
                let (c, u, s) = (chromium.clone(), url.clone(), shot.clone());
                let dom =
                    tokio::task::spawn_blocking(move || dump_and_shoot(&c, &u, size, dark, &s))
                        .await
                        .unwrap();
                check_dom(page, &dom);
                let picture = look_at(&shot);
                assert_eq!((picture.width, picture.height), size, "{name}");
                // Text was drawn (many colours: glyphs are antialiased), on
                // more than a sliver of the screen, not one flat colour.
                assert!(picture.colours > 50, "{name}: {} colours", picture.colours);
                assert!(picture.drawn > 0.02, "{name}: {:.3} drawn", picture.drawn);
                // The stylesheet follows the reader's colour scheme.
                match dark {
                    false => assert!(picture.background_luma > 200.0, "{name}: light background"),
                    true => assert!(picture.background_luma < 60.0, "{name}: dark background"),
                }
                println!(
                    "{name}: {} colours, {:.0}% drawn; {}",
                    picture.colours,
                    picture.drawn * 100.0,
                    shot.display()
                );
            }
        }
    }
    token.cancel();
}

/// What the page must show, read from the DOM Chromium built.
fn check_dom(page: &str, dom: &str) {
    assert!(
        dom.contains("href=\"style.css\""),
        "{page}: no stylesheet:\n{dom}"
    );
    if page == "index.html" {
        assert!(dom.contains("<h1>Example Wire</h1>"), "{page}:\n{dom}");
        // Autodiscovery: the three configured feeds, once each.
        assert_eq!(
            dom.matches("<link rel=\"alternate\"").count(),
            3,
            "{page}:\n{dom}"
        );
        assert_eq!(dom.matches("<a href=\"wire.html\">").count(), 1, "{page}");
        assert!(dom.contains("<a href=\"category/busan.html\">Example Wire: Busan</a>"));
        assert!(
            dom.contains("ⓒ K-VIBE. 무단전재-재배포 금지"),
            "{page}: rights"
        );
        return;
    }
    if page == "all.html" {
        // Hangul from the wire stories: a reporter's own name, a tour's title.
        assert!(dom.contains("Seo Ha-neul (서하늘)"), "{page}: native name");
        assert!(
            dom.contains("&quot;빛나는 밤&quot;") || dom.contains("\"빛나는 밤\""),
            "{page}"
        );
        // Markup in a headline is shown, never run.
        assert!(
            dom.contains("lift &lt;Outlook&gt; for 2027"),
            "{page}: escaped title"
        );
        assert!(
            dom.contains("16 Nov 2026, 07:10 KST"),
            "{page}: date in the site's zone"
        );
        return;
    }
    assert!(
        dom.contains("<h1>Example Wire: Breaking and top stories</h1>"),
        "{page}:\n{dom}"
    );
    assert!(dom
        .contains("<code class=\"url\">https://news.example.com/<wbr>feeds/<wbr>wire.atom</code>"));
    assert_eq!(
        dom.matches("<article").count(),
        3,
        "{page}: the feed's three items"
    );
    assert!(
        dom.contains(" KST</time>"),
        "{page}: dates in the site's zone"
    );
    assert!(
        dom.contains("<a href=\"wire/archive/5.html\">"),
        "{page}: older stories"
    );
}
