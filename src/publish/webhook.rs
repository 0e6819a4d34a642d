//! A webhook's body: the changed feeds (with the item ids added and
//! removed since the last announcement) and the feeds gone.
//!
//! In: the plan's files, the output folder, what the webhook was told
//! before. Out: [`Changes`], sent by `send`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::outbox::TargetBox;
use super::sha256;
use crate::config::Config;

/// A webhook's body and what it covers.
pub struct Changes {
    body: WebhookBody,
    /// Every file covered, with its version.
    pub files: Vec<(String, String)>,
    /// Feed file → the item ids it now announces.
    pub announced: BTreeMap<String, Vec<String>>,
    /// Files announced as gone.
    pub removed: Vec<String>,
}

impl Changes {
    /// The JSON body.
    pub fn body(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(&self.body)
    }
}

#[derive(Serialize)]
struct WebhookBody {
    changed: Vec<ChangedFeed>,
    removed: Vec<RemovedFeed>,
}

#[derive(Serialize)]
struct RemovedFeed {
    name: String,
    format: String,
    url: String,
}

#[derive(Serialize)]
struct ChangedFeed {
    name: String,
    format: String,
    url: String,
    sha256: String,
    added: Vec<String>,
    removed: Vec<String>,
}

/// The webhook body for changed `files` and `removed` ones (feed files
/// only are listed; all are acknowledged with it), in the plan's order.
pub fn changes(
    config: &Config,
    dir: &Path,
    files: &[String],
    removed: Vec<String>,
    tb: &TargetBox,
) -> Changes {
    let mut changed = Vec::new();
    let mut covered = Vec::new();
    let mut announced = BTreeMap::new();
    for file in files {
        let Ok(bytes) = std::fs::read(dir.join(file)) else {
            continue;
        };
        let sha = sha256(&bytes);
        covered.push((file.clone(), sha.clone()));
        let Some((name, format)) = file.rsplit_once('.') else {
            continue;
        };
        let Some(ids) = item_ids(format, &bytes) else {
            continue;
        };
        let before = tb.announced.get(file).cloned().unwrap_or_default();
        changed.push(ChangedFeed {
            name: name.to_owned(),
            format: format.to_owned(),
            url: config.site.feed_url_of_file(file),
            sha256: sha,
            added: ids
                .iter()
                .filter(|i| !before.contains(i))
                .cloned()
                .collect(),
            removed: before
                .iter()
                .filter(|i| !ids.contains(i))
                .cloned()
                .collect(),
        });
        announced.insert(file.clone(), ids);
    }
    let removed_feeds = removed
        .iter()
        .filter(|f| tb.announced.contains_key(*f))
        .filter_map(|f| {
            let (name, format) = f.rsplit_once('.')?;
            Some(RemovedFeed {
                name: name.to_owned(),
                format: format.to_owned(),
                url: config.site.feed_url_of_file(f),
            })
        })
        .collect();
    Changes {
        body: WebhookBody {
            changed,
            removed: removed_feeds,
        },
        files: covered,
        announced,
        removed,
    }
}

/// The item ids of a feed file, read back with the same crates that wrote
/// it; `None` for files that are not feeds.
fn item_ids(format: &str, bytes: &[u8]) -> Option<Vec<String>> {
    match format {
        "rss" => rss::Channel::read_from(bytes).ok().map(|c| {
            c.items
                .iter()
                .filter_map(|i| i.guid.as_ref().map(|g| g.value.clone()))
                .collect()
        }),
        "atom" => atom_syndication::Feed::read_from(bytes)
            .ok()
            .map(|f| f.entries.iter().map(|e| e.id.clone()).collect()),
        "json" => {
            let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
            let items = v.get("items")?.as_array()?;
            Some(
                items
                    .iter()
                    .filter_map(|i| i.get("id")?.as_str().map(str::to_owned))
                    .collect(),
            )
        }
        _ => None,
    }
}
