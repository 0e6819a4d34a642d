//! Interop with a server users really push to: nginx with WebDAV `PUT`
//! and `DELETE`. nginx's dav module ignores `If-Match` and
//! `If-None-Match` on `PUT` and answers it without an `ETag`, so against
//! nginx a push cannot be conditional (checked below, so that a future
//! nginx that honours them is noticed).
//! `.ci/run` installs and starts nginx on 127.0.0.1 and sets
//! `WIREFEED_NGINX_URL` (where to PUT) and `WIREFEED_NGINX_ROOT` (nginx's
//! document root); without them this test says it skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::{files, repo, wirefeed};

#[test]
fn nginx_holds_exactly_the_built_files_after_a_push() {
    let (Some(url), Some(root)) = (
        std::env::var_os("WIREFEED_NGINX_URL"),
        std::env::var_os("WIREFEED_NGINX_ROOT"),
    ) else {
        common::skip(
            "nginx_holds_exactly_the_built_files_after_a_push",
            "no nginx (set WIREFEED_NGINX_URL and WIREFEED_NGINX_ROOT, or run .ci/run)",
        );
        return;
    };
    let url = url.to_string_lossy().into_owned();
    let root = PathBuf::from(root);
    // A copy of the sample project that pushes to nginx.
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &str| {
        let status = std::process::Command::new("cp")
            .args(["-r", from])
            .arg(dir.path())
            .current_dir(repo())
            .status()
            .unwrap();
        assert!(status.success());
    };
    copy("articles");
    let config = std::fs::read_to_string(repo().join("config.toml")).unwrap();
    let push = format!("\n[[push]]\nname = \"nginx\"\nkind = \"http-put\"\nurl = \"{url}\"\n");
    std::fs::write(dir.path().join("config.toml"), config + &push).unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    let run = wirefeed(dir.path(), &["push"]);
    run.expect_code(0);
    let built = files(&dir.path().join("feeds"));
    let served = files(&root);
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&served), names(&built));
    for ((name, a), (_, b)) in built.iter().zip(&served) {
        assert!(a == b, "nginx's {name} differs from feeds/{name}");
    }
    // Nothing changed: a second push sends nothing.
    let again = wirefeed(dir.path(), &["push"]);
    again.expect_code(0);
    assert!(
        again.stdout().contains("nginx: sent 0,"),
        "{}",
        again.stdout()
    );
    println!("nginx holds all {} files", built.len());

    // A category's only story goes: its feeds are deleted from nginx, a
    // file wirefeed did not publish stays.
    let foreign = root.join("category/foreign.rss");
    std::fs::write(&foreign, "not ours").unwrap();
    let solo = dir.path().join("articles/wire/solo.txt");
    std::fs::write(
        &solo,
        "| 2026-10-04 09:00:00\nSoloTopic\nA story alone\nBy Kim Test\n\
         SEOUL, Oct. 4 (Yonhap) -- A story alone, officials said.\n(END)",
    )
    .unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    wirefeed(dir.path(), &["push"]).expect_code(0);
    assert!(root.join("category/solotopic.rss").is_file());
    std::fs::remove_file(&solo).unwrap();
    wirefeed(dir.path(), &["-q", "build"]).expect_code(0);
    let run = wirefeed(dir.path(), &["push"]);
    run.expect_code(0);
    for ext in ["rss", "atom", "json"] {
        assert!(!root.join(format!("category/solotopic.{ext}")).exists());
    }
    assert!(foreign.is_file(), "not ours: kept");
    std::fs::remove_file(&foreign).unwrap();
    let served = files(&root);
    let built = files(&dir.path().join("feeds"));
    assert_eq!(names(&served), names(&built));
    nginx_ignores_preconditions_on_put(&url);
}

/// What nginx does with conditional PUTs (run after the push test, which
/// compares the whole document root).
fn nginx_ignores_preconditions_on_put(url: &str) {
    let url = format!("{url}precondition-probe.txt");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let statuses = rt.block_on(async {
        let client = reqwest::Client::new();
        let put = |h: Option<(&'static str, &'static str)>, body: &'static str| {
            let mut r = client.put(&url).body(body);
            if let Some((k, v)) = h {
                r = r.header(k, v);
            }
            r.send()
        };
        let first = put(None, "one").await.unwrap();
        let etag = first.headers().get("etag").cloned();
        let wrong = put(Some(("if-match", "\"nope\"")), "two").await.unwrap();
        let exists = put(Some(("if-none-match", "*")), "three").await.unwrap();
        let _ = client.delete(&url).send().await;
        (etag, wrong.status().as_u16(), exists.status().as_u16())
    });
    // If these fail, nginx learned conditional PUT: send the conditions
    // and test the 412s against it.
    assert_eq!(statuses.0, None, "nginx now answers PUT with an ETag");
    assert_eq!(statuses.1, 204, "nginx now honours If-Match on PUT");
    assert_eq!(statuses.2, 204, "nginx now honours If-None-Match on PUT");
}
