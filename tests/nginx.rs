//! Interop with a server users really push to: nginx with WebDAV `PUT`.
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
}
