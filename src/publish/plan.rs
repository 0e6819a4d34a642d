//! The plan of one push to one target: what to upload, in which order,
//! under which precondition, and what to delete. The one owner of the
//! ordering rule, which every target kind follows:
//!
//! 1. files others point to: the stylesheet, RFC 5005 archive pages (new
//!    pages before changed ones, oldest first, so that every
//!    `prev-archive` link of a page already leads somewhere);
//! 2. category feeds;
//! 3. the other feeds (they link to their archive pages);
//! 4. other pages;
//! 5. `index.html` and `feeds.opml`, which list every feed;
//!
//! then deletions, once every upload is delivered: a page that linked to a
//! removed feed has been replaced first. A stage starts only when every
//! file of the stages before it is delivered, so a reader never sees a
//! link to a file that is not there yet.
//!
//! In: the output folder's versions, the target's box in the outbox, the
//! target's config. Out: a [`Plan`]. It sends nothing.

use std::collections::BTreeMap;

use super::outbox::TargetBox;
use crate::config::{media_type, PushKind, PushTarget};

/// What the target must hold for a write to go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Nothing: write whatever is there (`--force`, or a file whose
    /// version tag the target never told).
    None,
    /// No object yet (`If-None-Match: *`, S3 `PutMode::Create`).
    Absent,
    /// The version this wirefeed wrote last (`If-Match: ETAG`, S3
    /// `PutMode::Update`).
    Matches(String),
}

/// One file to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Relative path in the output folder.
    pub file: String,
    /// The version's sha256.
    pub sha256: String,
    /// What the target must hold.
    pub precondition: Precondition,
    /// The headers it goes with ([`headers_of`]).
    pub headers: String,
    /// Earlier versions of ours not acknowledged (a push killed after
    /// writing one): found on the target after a failed precondition,
    /// they are written over, by their version tag.
    pub ours: Vec<String>,
}

/// One file to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// Relative path, as published.
    pub file: String,
    /// The version tag the target gave the file last, if any.
    pub etag: Option<String>,
}

/// One push to one target.
#[derive(Debug, Default)]
pub struct Plan {
    /// Uploads by stage; a stage waits for every file before it.
    pub stages: Vec<Vec<Upload>>,
    /// Files this wirefeed published there that are gone.
    pub deletions: Vec<Deletion>,
    /// Why no deletion is done this push (too many).
    pub refused_deletions: Option<String>,
    /// Files the target holds already.
    pub unchanged: usize,
}

impl Plan {
    /// Every upload, in order.
    pub fn uploads(&self) -> impl Iterator<Item = &Upload> {
        self.stages.iter().flatten()
    }
}

/// The stage of `file` (see the module's doc), 0 first.
pub fn stage(file: &str) -> usize {
    let (dir, name) = file.rsplit_once('/').unwrap_or(("", file));
    let feed = [".rss", ".atom", ".json"].iter().any(|e| name.ends_with(e));
    if dir == "archive" || dir.ends_with("/archive") || name.ends_with(".xsl") {
        0
    } else if feed && (dir == "category" || dir.starts_with("category/")) {
        1
    } else if feed {
        2
    } else if dir.is_empty() && (name == "index.html" || name == "feeds.opml") {
        4
    } else {
        3
    }
}

/// The order key of a file: its stage, files new to the target before
/// changed ones (a changed archive page gains a link to a new one), then
/// archive pages by number, then the path.
fn order_key(file: &str, new: bool) -> (usize, bool, u64, &str) {
    let number = file
        .rsplit_once('/')
        .and_then(|(_, name)| name.split('.').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (stage(file), !new, number, file)
}

/// The headers a file goes out with, as kept in the outbox: a changed
/// type or `Cache-Control` sends the file again.
pub fn headers_of(target: &PushTarget, file: &str) -> String {
    let media = media_type(std::path::Path::new(file));
    match (target.kind, target.cache_control_of(file)) {
        (PushKind::Webhook, _) => String::new(),
        (_, Some(cache)) => format!("{media} | {cache}"),
        (_, None) => media.to_owned(),
    }
}

/// The plan for `target`, whose box is `tb`, given the output folder's
/// `current` versions. Pending entries are brought up to date (see
/// [`TargetBox::queue`]). With `force`, every file goes, unconditionally.
pub fn plan(
    target: &PushTarget,
    tb: &mut TargetBox,
    current: &BTreeMap<String, String>,
    force: bool,
) -> Plan {
    let headers = |file: &str| headers_of(target, file);
    let todo = tb.queue(current, &headers, force);
    let mut uploads: Vec<Upload> = todo
        .into_iter()
        .map(|file| {
            let precondition = match (force, tb.acked.contains_key(&file)) {
                (true, _) => Precondition::None,
                (false, false) => Precondition::Absent,
                (false, true) => match tb.stored.get(&file).and_then(|s| s.etag.clone()) {
                    Some(etag) => Precondition::Matches(etag),
                    None => Precondition::None,
                },
            };
            Upload {
                sha256: current.get(&file).cloned().unwrap_or_default(),
                headers: headers(&file),
                ours: tb
                    .pending
                    .get(&file)
                    .map(|p| p.superseded.clone())
                    .unwrap_or_default(),
                file,
                precondition,
            }
        })
        .collect();
    uploads.sort_by(|a, b| {
        let new = |u: &Upload| !tb.acked.contains_key(&u.file);
        order_key(&a.file, new(a)).cmp(&order_key(&b.file, new(b)))
    });
    let unchanged = current.len() - uploads.len();
    let mut stages: Vec<Vec<Upload>> = Vec::new();
    for upload in uploads {
        match stages.last_mut() {
            Some(last) if last.first().map(|u| stage(&u.file)) == Some(stage(&upload.file)) => {
                last.push(upload)
            }
            _ => stages.push(vec![upload]),
        }
    }
    let mut deletions: Vec<Deletion> = match target.delete {
        true => tb
            .acked
            .keys()
            .filter(|f| !current.contains_key(*f))
            .map(|f| Deletion {
                file: f.clone(),
                // `--force`: whatever is there now goes.
                etag: match force {
                    true => None,
                    false => tb.stored.get(f).and_then(|s| s.etag.clone()),
                },
            })
            .collect(),
        false => Vec::new(),
    };
    // Pages before what they listed, for symmetry with the uploads.
    deletions.sort_by(|a, b| order_key(&b.file, false).cmp(&order_key(&a.file, false)));
    let mut refused_deletions = None;
    if deletions.len() > target.max_deletes {
        refused_deletions = Some(too_many(target, deletions.len()));
        deletions.clear();
    }
    Plan {
        stages,
        deletions,
        refused_deletions,
        unchanged,
    }
}

/// The error of a push that would delete more than `max_deletes`.
fn too_many(target: &PushTarget, count: usize) -> String {
    format!(
        "{count} files to delete, more than max_deletes = {}: none deleted (a broken build? if they are really gone, raise max_deletes in [[push]] `{}`)",
        target.max_deletes, target.name
    )
}

/// What a target answered to a precondition it did not meet, in words.
pub fn conflict(remote_sha256: Option<&str>) -> String {
    let what = match remote_sha256 {
        Some(sha) => format!(" (sha256 {}…)", sha.get(..12).unwrap_or(sha)),
        None => String::new(),
    };
    format!(
        "precondition failed: the target holds a version this wirefeed did not write{what}, so it was not overwritten; another publisher may push there: rebuild from the same articles and push again, or `push --force` to overwrite"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::outbox::Stored;

    fn target(extra: &str) -> PushTarget {
        let text = format!("name = \"b\"\nkind = \"s3\"\nbucket = \"feeds\"\n{extra}");
        toml::from_str(&text).unwrap()
    }

    fn versions(files: &[&str], sha: &str) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|f| (f.to_string(), sha.to_owned()))
            .collect()
    }

    const SITE: [&str; 12] = [
        "index.html",
        "feeds.opml",
        "all.rss",
        "wire.rss",
        "wire/archive/10.rss",
        "wire/archive/9.rss",
        "wire/archive/1.rss",
        "category/busan.rss",
        "category/busan.json",
        "feed.xsl",
        "about.html",
        "wire.json",
    ];

    #[test]
    fn what_is_linked_to_goes_first_and_the_lists_last() {
        let t = target("");
        let mut tb = TargetBox::default();
        let p = plan(&t, &mut tb, &versions(&SITE, "v1"), false);
        let order: Vec<&str> = p.uploads().map(|u| u.file.as_str()).collect();
        assert_eq!(
            order,
            [
                "feed.xsl",
                "wire/archive/1.rss",
                "wire/archive/9.rss",
                "wire/archive/10.rss",
                "category/busan.json",
                "category/busan.rss",
                "all.rss",
                "wire.json",
                "wire.rss",
                "about.html",
                "feeds.opml",
                "index.html",
            ]
        );
        assert_eq!(p.stages.len(), 5);
        assert!(p.uploads().all(|u| u.precondition == Precondition::Absent));
        assert_eq!(
            p.uploads().next().unwrap().headers,
            "text/xsl; charset=utf-8"
        );
    }

    #[test]
    fn a_new_archive_page_goes_before_the_page_that_gains_a_link_to_it() {
        let t = target("");
        let mut tb = TargetBox::default();
        for f in ["wire/archive/1.rss", "wire/archive/2.rss", "wire.rss"] {
            tb.ack(f, "v1");
        }
        let mut now = versions(&["wire/archive/1.rss", "wire/archive/3.rss"], "v1");
        now.insert("wire/archive/2.rss".into(), "v2".into());
        now.insert("wire.rss".into(), "v2".into());
        let p = plan(&t, &mut tb, &now, false);
        let order: Vec<&str> = p.uploads().map(|u| u.file.as_str()).collect();
        assert_eq!(
            order,
            ["wire/archive/3.rss", "wire/archive/2.rss", "wire.rss"]
        );
    }

    #[test]
    fn only_what_was_published_is_deleted_and_the_guard_holds() {
        let t = target("max_deletes = 2\narchive_cache_control = \"max-age=31536000, immutable\"\ncache_control = \"max-age=300\"");
        let mut tb = TargetBox::default();
        for f in ["all.rss", "category/x.rss", "category/x.json"] {
            tb.ack(f, "v1");
            tb.stored.insert(
                f.into(),
                Stored {
                    etag: Some(format!("\"{f}\"")),
                    headers: headers_of(&t, f),
                },
            );
        }
        let mut now = versions(&["all.rss"], "v1");
        now.insert("wire/archive/1.rss".into(), "v1".into());
        let p = plan(&t, &mut tb, &now, false);
        assert_eq!(p.unchanged, 1);
        let up: Vec<_> = p.uploads().collect();
        assert_eq!(up.len(), 1);
        assert_eq!(
            up[0].headers,
            "application/rss+xml; charset=utf-8 | max-age=31536000, immutable"
        );
        let gone: Vec<_> = p.deletions.iter().map(|d| d.file.as_str()).collect();
        assert_eq!(gone, ["category/x.rss", "category/x.json"]);
        assert_eq!(p.deletions[0].etag.as_deref(), Some("\"category/x.rss\""));
        assert!(p.refused_deletions.is_none());

        tb.ack("b.rss", "v1");
        let p = plan(&t, &mut tb, &now, false);
        assert!(p.deletions.is_empty());
        let why = p.refused_deletions.unwrap();
        assert!(
            why.starts_with("3 files to delete, more than max_deletes = 2: none deleted"),
            "{why}"
        );
        assert!(why.contains("raise max_deletes in [[push]] `b`"), "{why}");

        let keep = target("delete = false");
        assert!(plan(&keep, &mut tb, &now, false).deletions.is_empty());
    }

    #[test]
    fn changed_headers_send_again_under_the_recorded_version() {
        let t = target("cache_control = \"max-age=60\"");
        let mut tb = TargetBox::default();
        tb.ack("all.rss", "v1");
        tb.stored.insert(
            "all.rss".into(),
            Stored {
                etag: Some("\"e1\"".into()),
                headers: "application/rss+xml; charset=utf-8 | max-age=300".into(),
            },
        );
        let now = versions(&["all.rss"], "v1");
        let p = plan(&t, &mut tb, &now, false);
        let up: Vec<_> = p.uploads().collect();
        assert_eq!(up.len(), 1, "the Cache-Control changed");
        assert_eq!(up[0].precondition, Precondition::Matches("\"e1\"".into()));
        let forced = plan(&t, &mut tb, &now, true);
        assert!(forced
            .uploads()
            .all(|u| u.precondition == Precondition::None));
    }
}
