//! Select stage: items + `[[feed]]` and `[category_feeds]` config + the
//! clock → [`Feed`]s.
//!
//! Drafts and embargoed items (published after `now`) are left out. Items
//! are sorted once, by (published desc, id asc), a total order, then every
//! feed is filled in one pass, so the cost does not grow with the number of
//! feeds times a sort. No I/O, no rendering.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::config::{Config, FeedConfig};
use crate::model::{Feed, Item};

/// The feeds, and what was held back.
#[derive(Debug)]
pub struct Selection<'a> {
    /// Configured feeds in config order, then category feeds by name.
    pub feeds: Vec<Feed<'a>>,
    /// Items not yet published because their time has not come.
    pub embargoed: usize,
    /// Items marked as drafts.
    pub drafts: usize,
    /// When the next embargoed item becomes due.
    pub next_release: Option<DateTime<Utc>>,
}

/// Groups `items` into the configured feeds as of `now`.
pub fn select<'a>(items: &'a [Item], config: &Config, now: DateTime<Utc>) -> Selection<'a> {
    let mut order: Vec<&Item> = Vec::with_capacity(items.len());
    let (mut embargoed, mut drafts, mut next_release) = (0, 0, None::<DateTime<Utc>>);
    for item in items {
        if item.draft {
            drafts += 1;
        } else if item.published > now {
            embargoed += 1;
            let due = item.published.with_timezone(&Utc);
            next_release = Some(next_release.map_or(due, |n| n.min(due)));
        } else {
            order.push(item);
        }
    }
    order.sort_by(|a, b| b.published.cmp(&a.published).then_with(|| a.id.cmp(&b.id)));

    let mut feeds: Vec<Feed> = config
        .feeds
        .iter()
        .map(|f| {
            empty_feed(
                f.name.clone(),
                f.title.clone(),
                description(f, config),
                f.formats.clone(),
            )
        })
        .collect();
    let mut limits: Vec<usize> = config.feeds.iter().map(|f| f.limit).collect();
    let mut by_slug: BTreeMap<String, usize> = BTreeMap::new();
    if let Some(cats) = &config.category_feeds {
        for (slug, category) in categories(&order) {
            by_slug.insert(slug.clone(), feeds.len());
            feeds.push(empty_feed(
                format!("category/{slug}"),
                cats.title.replace("{category}", &category),
                format!("Stories filed under {category} from {}", config.site.title),
                cats.formats.clone(),
            ));
            limits.push(cats.limit);
        }
    }

    for &item in &order {
        for (i, spec) in config.feeds.iter().enumerate() {
            if feeds[i].items.len() < limits[i] && matches(item, spec) {
                feeds[i].items.push(item);
            }
        }
        let mut seen: Vec<usize> = Vec::new();
        for category in &item.categories {
            if let Some(&i) = by_slug.get(&slug(category)) {
                if !seen.contains(&i) && feeds[i].items.len() < limits[i] {
                    seen.push(i);
                    feeds[i].items.push(item);
                }
            }
        }
    }
    let site_updated = order
        .iter()
        .map(|i| i.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH.fixed_offset());
    for feed in &mut feeds {
        feed.updated = feed
            .items
            .iter()
            .map(|i| i.updated)
            .max()
            .unwrap_or(site_updated);
    }
    Selection {
        feeds,
        embargoed,
        drafts,
        next_release,
    }
}

fn empty_feed<'a>(
    name: String,
    title: String,
    description: String,
    formats: Vec<crate::config::Format>,
) -> Feed<'a> {
    Feed {
        name,
        title,
        description,
        formats,
        updated: DateTime::UNIX_EPOCH.fixed_offset(),
        items: Vec::new(),
    }
}

fn description(feed: &FeedConfig, config: &Config) -> String {
    feed.description
        .clone()
        .or_else(|| config.site.description.clone())
        .unwrap_or_else(|| feed.title.clone())
}

fn matches(item: &Item, feed: &FeedConfig) -> bool {
    let by_category = feed.categories.is_empty()
        || item
            .categories
            .iter()
            .any(|c| feed.categories.iter().any(|f| f.eq_ignore_ascii_case(c)));
    let by_author = feed.authors.is_empty()
        || item.authors.iter().any(|p| {
            feed.authors.iter().any(|f| {
                f.eq_ignore_ascii_case(&p.name) || p.native_name.as_deref() == Some(f.as_str())
            })
        });
    by_category && by_author
}

/// Every category of the published items by slug; where several spellings
/// share a slug, the smallest spelling names the feed.
fn categories(items: &[&Item]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for category in items.iter().flat_map(|i| &i.categories) {
        let s = slug(category);
        if s.is_empty() {
            continue;
        }
        match out.get_mut(&s) {
            Some(name) if category < name => *name = category.clone(),
            Some(_) => {}
            None => {
                out.insert(s, category.clone());
            }
        }
    }
    out
}

/// A file-name-safe form of a category: lowercase letters and digits (any
/// script), other runs of characters become one `-`.
pub fn slug(category: &str) -> String {
    let mut out = String::with_capacity(category.len());
    for c in category.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Person;
    use chrono::DateTime;
    use std::path::PathBuf;

    fn item(id: &str, published: &str, categories: &[&str], author: &str) -> Item {
        let published = DateTime::parse_from_rfc3339(published).unwrap();
        Item {
            id: id.into(),
            title: id.into(),
            version: None,
            link: None,
            authors: vec![Person {
                name: author.into(),
                native_name: None,
                email: None,
            }],
            published,
            updated: published,
            categories: categories.iter().map(|c| c.to_string()).collect(),
            dateline: None,
            summary: None,
            content_html: "<p>x</p>".into(),
            rights: None,
            language: None,
            image: None,
            enclosure: None,
            draft: false,
            source: PathBuf::from(id),
            line: 1,
        }
    }

    fn config(extra: &str) -> Config {
        let text = format!(
            "[site]\ntitle = \"Desk\"\nbase_url = \"https://n.example.com/\"\n\
             [[source]]\npath = \".\"\n{extra}"
        );
        Config::parse(&text, &std::env::temp_dir().join("c.toml")).unwrap()
    }

    fn ids(feed: &Feed) -> Vec<String> {
        feed.items.iter().map(|i| i.id.clone()).collect()
    }

    #[test]
    fn order_limit_filters_embargo_and_drafts() {
        let mut draft = item("d", "2026-01-05T00:00:00Z", &["Tech"], "A");
        draft.draft = true;
        let items = vec![
            item("b", "2026-01-02T00:00:00+09:00", &["Tech"], "A"),
            item("a", "2026-01-01T15:00:00Z", &["Sports"], "B"),
            // Same instant as "b", other offset: the id breaks the tie.
            item("a2", "2026-01-01T15:00:00Z", &["tech"], "B"),
            item("future", "2026-02-01T00:00:00Z", &["Tech"], "A"),
            item("old", "2025-01-01T00:00:00Z", &["Tech"], "A"),
            draft,
        ];
        let c = config(
            "[[feed]]\nname = \"all\"\nlimit = 3\n\
             [[feed]]\nname = \"tech\"\ncategories = [\"TECH\"]\n\
             [[feed]]\nname = \"b\"\nauthors = [\"b\"]\n",
        );
        let now = DateTime::parse_from_rfc3339("2026-01-10T00:00:00Z")
            .unwrap()
            .to_utc();
        let s = select(&items, &c, now);
        assert_eq!(ids(&s.feeds[0]), ["a", "a2", "b"]);
        assert_eq!(ids(&s.feeds[1]), ["a2", "b", "old"]);
        assert_eq!(ids(&s.feeds[2]), ["a", "a2"]);
        assert_eq!((s.embargoed, s.drafts), (1, 1));
        assert_eq!(
            s.next_release.unwrap().to_rfc3339(),
            "2026-02-01T00:00:00+00:00"
        );
        assert_eq!(
            s.feeds[0].updated.to_utc().to_rfc3339(),
            "2026-01-01T15:00:00+00:00"
        );
        // The embargo lifts when its time comes.
        let later = DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(ids(&select(&items, &c, later).feeds[0])[0], "future");
    }

    #[test]
    fn one_feed_per_category() {
        let items = vec![
            item("x", "2026-01-02T00:00:00Z", &["NK leader", "Russia"], "A"),
            item("y", "2026-01-01T00:00:00Z", &["nk-leader", "비디오"], "A"),
        ];
        let c = config("[category_feeds]\nlimit = 5\n");
        let s = select(&items, &c, Utc::now());
        let names: Vec<_> = s.feeds.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["category/nk-leader", "category/russia", "category/비디오"]
        );
        assert_eq!(s.feeds[0].title, "Desk: NK leader");
        assert_eq!(ids(&s.feeds[0]), ["x", "y"]);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("NK leader"), "nk-leader");
        assert_eq!(slug("  U.S.-China  "), "u-s-china");
        assert_eq!(slug("반도체 수출"), "반도체-수출");
        assert_eq!(slug("!!!"), "");
    }
}
