//! Select stage: item keys + `[[feed]]` and `[category_feeds]` config +
//! the clock → [`Feed`]s.
//!
//! Drafts, withheld and canceled items, and embargoed items (published,
//! or embargoed until, after `now`) are left out. Items
//! are offered one at a time; each feed keeps only its newest `limit`
//! (gathering at most twice as many between cuts), so memory follows what
//! is published, not the archive's size, and no feed sorts the whole
//! archive. The order is total:
//! (published desc, id asc). No I/O, no rendering.
//!
//! The rules are functions of their own (`standing`, `configured_targets`,
//! `category_slug`, `RankKey`'s order, `push_feeds`), so that a session's
//! live index (`pipeline::live`), which keeps every eligible item ranked
//! and updates it per changed file, selects by the same rules.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};

use crate::config::{Config, FeedConfig, Format};
use crate::model::{Archive, Feed, FeedInfo, Item, ItemKey, Status};

/// The feeds, and what was held back.
#[derive(Debug)]
pub struct Selection<T> {
    /// Configured feeds in config order, then category feeds by name.
    pub feeds: Vec<Feed<T>>,
    /// Distinct items in at least one feed.
    pub published: usize,
    /// Items not yet published because their time has not come.
    pub embargoed: usize,
    /// Items marked as drafts.
    pub drafts: usize,
    /// Items withheld or canceled by their provider.
    pub withdrawn: usize,
    /// When the next embargoed item becomes due.
    pub next_release: Option<DateTime<Utc>>,
}

/// Groups `items` into the configured feeds as of `now`.
pub fn select<'a>(items: &'a [Item], config: &Config, now: DateTime<Utc>) -> Selection<&'a Item> {
    let mut selector = Selector::new(config, now);
    for item in items {
        selector.offer(&key_of(item), item);
    }
    selector.finish()
}

pub(crate) fn key_of(item: &Item) -> ItemKey<'_> {
    ItemKey {
        id: Cow::Borrowed(&item.id),
        line: item.line,
        published: item.published,
        updated: item.updated,
        categories: item
            .categories
            .iter()
            .map(|c| Cow::Borrowed(c.as_str()))
            .collect(),
        authors: item
            .authors
            .iter()
            .flat_map(|p| std::iter::once(&p.name).chain(&p.native_name))
            .map(|n| Cow::Borrowed(n.as_str()))
            .collect(),
        draft: item.draft,
        status: item.status,
        revision: item.revision,
        embargo: item.embargo,
    }
}

/// Where an item stands: never published (a draft; withheld or canceled),
/// or published from its release time on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// A draft: never published.
    Draft,
    /// Withheld or canceled by its provider: not published.
    Withdrawn,
    /// Published once `now` reaches this time (its publication time, or
    /// its embargo when later): embargoed before.
    Due(DateTime<Utc>),
}

/// The eligibility rule: where `key` stands (see [`Standing`]).
pub(crate) fn standing(key: &ItemKey<'_>) -> Standing {
    if key.draft {
        return Standing::Draft;
    }
    if key.status != Status::Usable {
        return Standing::Withdrawn;
    }
    // An embargo holds an item as a date to come does.
    let release = key.embargo.map_or(key.published, |e| e.max(key.published));
    Standing::Due(release.with_timezone(&Utc))
}

/// Whether an item due at `release` is still embargoed at `now`.
pub(crate) fn embargoed_at(release: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    release > now
}

/// The order of `updated` times when the newest is taken: by instant, and
/// of equal instants the one with the greater offset, so that the newest
/// does not depend on the order items are offered in.
pub(crate) fn update_order(t: DateTime<FixedOffset>) -> (DateTime<FixedOffset>, i32) {
    (t, t.offset().local_minus_utc())
}

/// Adds to `out` the configured feeds (by index in `config.feeds`) an
/// eligible `key` goes to.
pub(crate) fn configured_targets(config: &Config, key: &ItemKey<'_>, out: &mut impl Extend<usize>) {
    let feeds = config.feeds.iter().enumerate();
    out.extend(feeds.filter(|(_, f)| matches(key, f)).map(|(i, _)| i));
}

/// The slug of the category feed an eligible item of `category` goes to;
/// `None` without `[category_feeds]` or for a category with no letter or
/// digit.
pub(crate) fn category_slug(config: &Config, category: &str) -> Option<String> {
    config.category_feeds.as_ref()?;
    Some(slug(category)).filter(|s| !s.is_empty())
}

/// The total order of a feed's items, best first: the newest, and among
/// equally new the smallest id.
fn rank(a: (DateTime<FixedOffset>, &str), b: (DateTime<FixedOffset>, &str)) -> Ordering {
    b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1))
}

/// Where an item ranks in every feed (see [`rank`]): ordered best first.
#[derive(Debug, Clone)]
pub(crate) struct RankKey {
    /// Its publication time.
    pub(crate) published: DateTime<FixedOffset>,
    /// Its id, shared by every feed that holds it.
    pub(crate) id: Arc<str>,
}

impl PartialEq for RankKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for RankKey {}
impl PartialOrd for RankKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for RankKey {
    fn cmp(&self, other: &Self) -> Ordering {
        rank((self.published, &self.id), (other.published, &other.id))
    }
}

/// An item ranked for a feed: it orders as its [`RankKey`].
#[derive(Clone)]
pub(crate) struct Ranked<T> {
    pub(crate) key: RankKey,
    pub(crate) updated: DateTime<FixedOffset>,
    pub(crate) value: T,
}

impl<T> PartialEq for Ranked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<T> Eq for Ranked<T> {}
impl<T> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Ranked<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// What a feed is, besides its items: a configured feed's, or a category's.
#[derive(Debug, Clone)]
pub(crate) struct FeedSpec {
    /// Keep every item: the newest `limit` make the feed, the older ones its
    /// archive documents.
    pub(crate) archive: bool,
    pub(crate) name: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) formats: Vec<Format>,
    pub(crate) limit: usize,
}

impl FeedSpec {
    /// The `i`th `[[feed]]`.
    pub(crate) fn configured(config: &Config, i: usize) -> FeedSpec {
        let f = &config.feeds[i];
        FeedSpec {
            archive: f.archive,
            name: f.name.clone(),
            title: f.title.clone(),
            description: description(f, config),
            formats: f.formats.clone(),
            limit: f.limit,
        }
    }

    /// The category feed of `slug`, titled by `spelling`: the smallest
    /// spelling of the category among its eligible items. `None` without
    /// `[category_feeds]`.
    pub(crate) fn category(config: &Config, slug: &str, spelling: &str) -> Option<FeedSpec> {
        let cats = config.category_feeds.as_ref()?;
        Some(FeedSpec {
            archive: false,
            name: format!("category/{slug}"),
            title: cats.title.replace("{category}", spelling),
            description: format!("Stories filed under {spelling} from {}", config.site.title),
            formats: cats.formats.clone(),
            limit: cats.limit,
        })
    }
}

/// The `updated` of a feed with no items: the newest `updated` of every
/// eligible item, or the Unix epoch when there is none.
pub(crate) fn site_updated(newest: Option<DateTime<FixedOffset>>) -> DateTime<FixedOffset> {
    newest.unwrap_or(DateTime::UNIX_EPOCH.fixed_offset())
}

/// Adds to `feeds` the feed `spec` with `ranked` (best first: its newest
/// `limit` items, and for an archive feed every item), then its archive
/// documents; every id published goes into `ids`.
pub(crate) fn push_feeds<T: Clone>(
    spec: &FeedSpec,
    mut ranked: Vec<Ranked<T>>,
    site_updated: DateTime<FixedOffset>,
    ids: &mut HashSet<Arc<str>>,
    feeds: &mut Vec<Feed<T>>,
) {
    let pages = match spec.archive {
        true => archive_pages(&ranked, spec.limit),
        false => Vec::new(),
    };
    ranked.truncate(spec.limit);
    let mut current = Archive::default();
    if let Some(newest) = pages.len().checked_sub(1) {
        current.prev_archive = Some(page_name(&spec.name, newest + 1));
    }
    let mut push = |name: String, ranked: Vec<Ranked<T>>, archive: Archive| {
        let updated = ranked
            .iter()
            .map(|r| r.updated)
            .max_by_key(|t| update_order(*t))
            .unwrap_or(site_updated);
        let mut items = Vec::with_capacity(ranked.len());
        for r in ranked {
            ids.insert(r.key.id);
            items.push(r.value);
        }
        feeds.push(Feed {
            info: FeedInfo {
                name,
                title: spec.title.clone(),
                description: spec.description.clone(),
                formats: spec.formats.clone(),
                updated,
                len: items.len(),
                archive,
            },
            items,
        });
    };
    push(spec.name.clone(), ranked, current);
    let count = pages.len();
    for (k, page) in pages.into_iter().enumerate() {
        // Page k + 1 links to its neighbours; the newest has no next one
        // until the next page fills.
        let archive = Archive {
            is_archive: true,
            current: Some(spec.name.clone()),
            prev_archive: (k > 0).then(|| page_name(&spec.name, k)),
            next_archive: (k + 1 < count).then(|| page_name(&spec.name, k + 2)),
        };
        push(page_name(&spec.name, k + 1), page, archive);
    }
}

/// Fills every feed from items offered one by one. `T` is what stands for
/// an item (a reference, or a handle to load it later).
pub struct Selector<'c, T> {
    config: &'c Config,
    now: DateTime<Utc>,
    slots: Vec<Slot<T>>,
    /// Category slug → (slot index, smallest spelling seen).
    categories: BTreeMap<String, (usize, String)>,
    /// Category spelling → its slot (none for a spelling with no slug).
    /// Looked up for every category of every item. Spellings come from
    /// articles: the standard library's keyed hash, which texts cannot be
    /// chosen to collide under (a seeded `xxh3` saved 6% of a cached
    /// build's instructions, but has seed-independent collisions).
    spellings: HashMap<String, Option<usize>>,
    embargoed: usize,
    drafts: usize,
    withdrawn: usize,
    next_release: Option<DateTime<Utc>>,
    newest: Option<DateTime<FixedOffset>>,
    targets: Vec<usize>,
}

struct Slot<T> {
    /// Keep every item (see [`FeedSpec::archive`]).
    archive: bool,
    limit: usize,
    /// What the feed is; `None` for a category's until the selection ends
    /// (its title takes the smallest spelling).
    spec: Option<FeedSpec>,
    /// Its items so far: at most twice `limit` (unless `archive`).
    kept: Vec<Ranked<T>>,
    /// Once `kept` was cut down: the worst item kept then. Nothing ranked
    /// after it can make the feed.
    floor: Option<RankKey>,
}

impl<T: Clone> Slot<T> {
    /// Keeps the item if it may make the feed. Items are gathered up to
    /// twice the limit, then cut down to the best `limit` at once: a
    /// linear-time selection instead of a heap operation per item (a wire
    /// archive in date folders offers every item newer than the last).
    /// `id` is the item's id shared by the feeds that keep it, made by the
    /// first.
    fn offer(&mut self, key: &ItemKey<'_>, value: &T, id: &mut Option<Arc<str>>) {
        if !self.archive {
            if self.limit == 0 {
                return;
            }
            // Ranked after the floor, or equal to it.
            if let Some(floor) = &self.floor {
                let worse = rank((key.published, &key.id), (floor.published, &floor.id));
                if worse.is_ge() {
                    return;
                }
            }
        }
        self.kept.push(Ranked {
            key: RankKey {
                published: key.published,
                id: id.get_or_insert_with(|| Arc::from(&*key.id)).clone(),
            },
            updated: key.updated,
            value: value.clone(),
        });
        if !self.archive && self.kept.len() >= self.limit.saturating_mul(2) {
            self.kept.select_nth_unstable(self.limit - 1);
            self.kept.truncate(self.limit);
            self.floor = self.kept.iter().max().map(|w| w.key.clone());
        }
    }
}

impl<'c, T: Clone> Selector<'c, T> {
    /// An empty selector for `config`'s feeds as of `now`.
    pub fn new(config: &'c Config, now: DateTime<Utc>) -> Selector<'c, T> {
        let slots = (0..config.feeds.len())
            .map(|i| {
                let spec = FeedSpec::configured(config, i);
                Slot {
                    archive: spec.archive,
                    limit: spec.limit,
                    spec: Some(spec),
                    kept: Vec::new(),
                    floor: None,
                }
            })
            .collect();
        Selector {
            config,
            now,
            slots,
            categories: BTreeMap::new(),
            spellings: HashMap::default(),
            embargoed: 0,
            drafts: 0,
            withdrawn: 0,
            next_release: None,
            newest: None,
            targets: Vec::new(),
        }
    }

    /// Offers one item; it lands in every feed it matches and is new
    /// enough for.
    pub fn offer(&mut self, key: &ItemKey<'_>, value: T) {
        match standing(key) {
            Standing::Draft => {
                self.drafts += 1;
                return;
            }
            Standing::Withdrawn => {
                self.withdrawn += 1;
                return;
            }
            Standing::Due(due) if embargoed_at(due, self.now) => {
                self.embargoed += 1;
                self.next_release = Some(self.next_release.map_or(due, |n| n.min(due)));
                return;
            }
            Standing::Due(_) => {}
        }
        self.newest = Some(match self.newest {
            Some(n) => std::cmp::max_by_key(n, key.updated, |t| update_order(*t)),
            None => key.updated,
        });
        // The feeds it goes to; the buffer is reused from offer to offer.
        let mut targets = std::mem::take(&mut self.targets);
        targets.clear();
        configured_targets(self.config, key, &mut targets);
        if self.config.category_feeds.is_some() {
            for category in &key.categories {
                if let Some(i) = self.category_slot(category) {
                    if !targets.contains(&i) {
                        targets.push(i);
                    }
                }
            }
        }
        let mut id = None;
        for &i in &targets {
            let slot = &mut self.slots[i];
            slot.offer(key, &value, &mut id);
        }
        self.targets = targets;
    }

    fn category_slot(&mut self, category: &str) -> Option<usize> {
        if let Some(&known) = self.spellings.get(category) {
            return known;
        }
        let slot = self.new_category_slot(category);
        self.spellings.insert(category.to_owned(), slot);
        slot
    }

    fn new_category_slot(&mut self, category: &str) -> Option<usize> {
        let cats = self.config.category_feeds.as_ref()?;
        let slug = category_slug(self.config, category)?;
        if let Some((i, name)) = self.categories.get_mut(&slug) {
            if category < name.as_str() {
                *name = category.to_owned();
            }
            return Some(*i);
        }
        let i = self.slots.len();
        self.slots.push(Slot {
            archive: false,
            limit: cats.limit,
            spec: None,
            kept: Vec::new(),
            floor: None,
        });
        self.categories.insert(slug, (i, category.to_owned()));
        Some(i)
    }

    /// The feeds, each newest first.
    pub fn finish(mut self) -> Selection<T> {
        for (slug, (i, name)) in &self.categories {
            self.slots[*i].spec = FeedSpec::category(self.config, slug, name);
        }
        let site_updated = site_updated(self.newest);
        // Configured feeds keep config order; category feeds follow by slug.
        let order: Vec<usize> = (0..self.config.feeds.len())
            .chain(self.categories.values().map(|(i, _)| *i))
            .collect();
        let mut slots: Vec<Option<Slot<T>>> = self.slots.into_iter().map(Some).collect();
        let mut ids: HashSet<Arc<str>> = HashSet::new();
        let mut feeds = Vec::with_capacity(order.len());
        for i in order {
            let Some(Slot {
                spec: Some(spec),
                mut kept,
                ..
            }) = slots[i].take()
            else {
                continue;
            };
            kept.sort_unstable();
            push_feeds(&spec, kept, site_updated, &mut ids, &mut feeds);
        }
        Selection {
            feeds,
            published: ids.len(),
            embargoed: self.embargoed,
            drafts: self.drafts,
            withdrawn: self.withdrawn,
            next_release: self.next_release,
        }
    }
}

/// The archive documents of a feed of every item in `ranked` (newest
/// first): paged from the oldest item on, `size` items a page, full pages
/// only, so that a page never changes as new items arrive. The items after
/// the last full page are fewer than `size`, so the feed itself (the newest
/// `size`) holds them. Pages come oldest first, items newest first.
fn archive_pages<T: Clone>(ranked: &[Ranked<T>], size: usize) -> Vec<Vec<Ranked<T>>> {
    let size = size.max(1);
    let oldest_first: Vec<&Ranked<T>> = ranked.iter().rev().collect();
    oldest_first
        .chunks_exact(size)
        .map(|page| page.iter().rev().map(|r| (*r).clone()).collect())
        .collect()
}

/// The name of archive page `k` (1 = oldest) of feed `name`.
pub fn page_name(name: &str, k: usize) -> String {
    format!("{name}/archive/{k}")
}

fn description(feed: &FeedConfig, config: &Config) -> String {
    feed.description
        .clone()
        .or_else(|| config.site.description.clone())
        .unwrap_or_else(|| feed.title.clone())
}

fn matches(key: &ItemKey<'_>, feed: &FeedConfig) -> bool {
    let by_category = feed.categories.is_empty()
        || key
            .categories
            .iter()
            .any(|c| feed.categories.iter().any(|f| f.eq_ignore_ascii_case(c)));
    let by_author = feed.authors.is_empty()
        || key
            .authors
            .iter()
            .any(|a| feed.authors.iter().any(|f| f.eq_ignore_ascii_case(a)));
    by_category && by_author
}

/// The most bytes of a category's slug: with `category/`, an extension
/// and the temporary name a file is written under, a feed's file name
/// stays far below the 255 bytes file systems allow a name.
pub const MAX_SLUG_BYTES: usize = 120;

/// A file-name-safe form of a category: lowercase letters and digits (any
/// script), other runs of characters become one `-`. A longer slug than
/// [`MAX_SLUG_BYTES`] is cut at a character boundary and ends in a short
/// hash of the whole slug, so distinct long categories keep distinct,
/// stable names.
pub fn slug(category: &str) -> String {
    let mut out = String::with_capacity(category.len());
    for c in category.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.len() <= MAX_SLUG_BYTES {
        return out.to_owned();
    }
    let hash = xxhash_rust::xxh3::xxh3_64(out.as_bytes());
    let suffix = format!("-{:08x}", hash >> 32);
    let mut cut = MAX_SLUG_BYTES - suffix.len();
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", out[..cut].trim_end_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Person;
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
            status: crate::model::Status::Usable,
            revision: None,
            embargo: None,
            wire: crate::model::WireMeta::default(),
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

    fn ids(feed: &Feed<&Item>) -> Vec<String> {
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
        assert_eq!((s.embargoed, s.drafts, s.published), (1, 1, 4));
        assert_eq!(
            s.next_release.unwrap().to_rfc3339(),
            "2026-02-01T00:00:00+00:00"
        );
        assert_eq!(
            s.feeds[0].info.updated.to_utc().to_rfc3339(),
            "2026-01-01T15:00:00+00:00"
        );
        assert_eq!(s.feeds[0].info.len, 3);
        // The embargo lifts when its time comes.
        let later = DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(ids(&select(&items, &c, later).feeds[0])[0], "future");
    }

    #[test]
    fn each_feed_keeps_the_newest_whatever_the_offer_order() {
        let items: Vec<Item> = (0..200)
            .map(|i| {
                // A scrambled order of publication times.
                let minute = (i * 37) % 200;
                let time = format!("2026-01-01T{:02}:{:02}:00Z", minute / 60, minute % 60);
                item(&format!("id{i:03}"), &time, &["x"], "A")
            })
            .collect();
        let c = config("[[feed]]\nname = \"all\"\nlimit = 5\n");
        let s = select(&items, &c, Utc::now());
        let minutes: Vec<_> = s.feeds[0]
            .items
            .iter()
            .map(|i| i.published.format("%H:%M").to_string())
            .collect();
        assert_eq!(minutes, ["03:19", "03:18", "03:17", "03:16", "03:15"]);
    }

    #[test]
    fn ties_keep_the_smallest_ids_in_any_order() {
        let c = config("[[feed]]\nname = \"all\"\nlimit = 4\n");
        for order in [
            (0..30).collect::<Vec<usize>>(),
            (0..30).rev().collect(),
            (0..30).map(|i| (i * 7) % 30).collect(),
        ] {
            let items: Vec<Item> = order
                .iter()
                .map(|i| item(&format!("id{i:02}"), "2026-01-01T00:00:00Z", &["x"], "A"))
                .collect();
            let s = select(&items, &c, Utc::now());
            assert_eq!(
                ids(&s.feeds[0]),
                ["id00", "id01", "id02", "id03"],
                "{order:?}"
            );
        }
    }

    #[test]
    fn one_feed_per_category() {
        let items = vec![
            item("x", "2026-01-02T00:00:00Z", &["NK leader", "Russia"], "A"),
            item("y", "2026-01-01T00:00:00Z", &["nk-leader", "비디오"], "A"),
        ];
        let c = config("[category_feeds]\nlimit = 5\n");
        let s = select(&items, &c, Utc::now());
        let names: Vec<_> = s.feeds.iter().map(|f| f.info.name.as_str()).collect();
        assert_eq!(
            names,
            ["category/nk-leader", "category/russia", "category/비디오"]
        );
        assert_eq!(s.feeds[0].info.title, "Desk: NK leader");
        assert_eq!(ids(&s.feeds[0]), ["x", "y"]);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("NK leader"), "nk-leader");
        assert_eq!(slug("  U.S.-China  "), "u-s-china");
        assert_eq!(slug("반도체 수출"), "반도체-수출");
        assert_eq!(slug("!!!"), "");
        // Long ones are cut to a bounded, stable, distinct name.
        for long in [
            "k".repeat(300),
            "가".repeat(90),
            format!("{}-x", "ab-".repeat(80)),
        ] {
            let s = slug(&long);
            assert!(s.len() <= MAX_SLUG_BYTES, "{s}");
            assert_eq!(s, slug(&long));
            assert_ne!(s, slug(&format!("{long}y")));
            assert!(!s.starts_with('-') && !s.contains("--"), "{s}");
        }
    }
}
