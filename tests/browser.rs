//! A person opening a feed in a browser sees a page, not raw XML: the
//! built feeds are served on 127.0.0.1 and rendered by headless Chromium,
//! which applies the feeds' XSLT stylesheet. Screenshots are kept under
//! `target/browser/`. Needs Chromium (`.ci/run` installs Debian's); without
//! it the test says it skipped.

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
