//! A session's live index: what a build of every file it knows would
//! select, kept up to date file by file, so that a change costs in
//! proportion to the change (and to the feeds written), not to the
//! archive.
//!
//! In: a file's record (its keys and problems) added or removed, and the
//! clock moving forward. Out: the same [`Selection`] and report counts a
//! whole scan gives. The rules are not here: who wins an id is
//! `claims::verdict`, where an item stands, where it goes, how it ranks
//! and how feeds are made of ranked items are `select`'s. This keeps, per
//! id, its claimants in path order; per feed, the ranked set of eligible
//! winners (so its newest `limit` are a range read); embargoed winners by
//! release time; and the counts. Ids and paths are shared (`Arc`); keys
//! are looked up in the session's records, never copied.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use smallvec::SmallVec;

use super::claims::{held_after, verdict, Held, Verdict};
use super::Candidate;
use crate::config::Config;
use crate::model::ItemKey;
use crate::select::{self, FeedSpec, RankKey, Ranked, Selection, Standing};
use crate::source::cache::{FileRecord, Outcome};
use crate::source::{path_order, SourceError, SourceFile};

/// A file's path, ordered as a walk lists files.
#[derive(Debug, Clone)]
pub(super) struct FileKey(pub(super) Arc<Path>);

impl PartialEq for FileKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for FileKey {}
impl PartialOrd for FileKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for FileKey {
    fn cmp(&self, other: &Self) -> Ordering {
        path_order(&self.0, &other.0)
    }
}

/// One article that claims an id: its file, its place among the file's
/// results (articles and problems) and among its articles.
#[derive(Debug, Clone)]
struct Claimant {
    file: FileKey,
    result: u32,
    position: u32,
}

/// An id's claimants, in path order then order in the file, and which of
/// them won it (when judged).
#[derive(Debug, Default)]
struct Claims {
    claimants: SmallVec<[Claimant; 1]>,
    winner: Option<usize>,
}

/// The files and records a session knows, in path order: where the keys
/// are looked up.
#[derive(Clone, Copy)]
pub(super) struct View<'k> {
    pub(super) files: &'k [SourceFile],
    pub(super) records: &'k [FileRecord<'static>],
}

impl<'k> View<'k> {
    /// The index of the file at `path`.
    fn index_of(&self, path: &Path) -> Option<usize> {
        self.files
            .binary_search_by(|f| path_order(&f.path, path))
            .ok()
    }

    /// A claimant's key, and its file's index.
    fn key(&self, c: &Claimant) -> Option<(usize, &'k ItemKey<'static>)> {
        self.key_near(c, None)
    }

    /// [`View::key`], trying file `hint` before searching.
    fn key_near(&self, c: &Claimant, hint: Option<usize>) -> Option<(usize, &'k ItemKey<'static>)> {
        let hinted = hint.filter(|&h| self.files.get(h).is_some_and(|f| *f.path == *c.file.0));
        let i = match hinted {
            Some(h) => h,
            None => self.index_of(&c.file.0)?,
        };
        let result = self
            .records
            .get(i)?
            .results
            .get(usize::try_from(c.result).ok()?)?;
        match result {
            Outcome::Key(key) => Some((i, key)),
            Outcome::Error { .. } => None,
        }
    }
}

/// A category feed's items, and the spellings of its category among them
/// (each with how many items use it: the smallest titles the feed).
#[derive(Default)]
struct Category {
    spellings: BTreeMap<String, usize>,
    items: BTreeSet<RankKey>,
}

/// See the module's documentation.
pub(super) struct Live {
    /// The settings it selects with: the feeds and the site.
    settings: String,
    /// The time embargoes were last judged against.
    now: DateTime<Utc>,
    ids: HashMap<Arc<str>, Claims>,
    articles: usize,
    /// Every problem: each file's own and the duplicate ids, by file and
    /// place in it.
    errors: BTreeMap<(FileKey, u32), SourceError>,
    legacy: BTreeSet<FileKey>,
    drafts: usize,
    withdrawn: usize,
    /// Winners not due yet, by release time.
    held: BTreeSet<(DateTime<Utc>, Arc<str>)>,
    /// The `updated` times of eligible winners (`select::update_order`),
    /// each with how many have it.
    updates: BTreeMap<(DateTime<FixedOffset>, i32), usize>,
    /// Per configured feed, its eligible winners.
    feeds: Vec<BTreeSet<RankKey>>,
    /// Per category slug with eligible winners, its feed.
    categories: BTreeMap<String, Category>,
    /// Category spelling → its slug (`None`: no category feed).
    slugs: HashMap<String, Option<Arc<str>>>,
    /// A key was not where the index said: only a whole scan can tell.
    broken: bool,
}

/// What the settings `config` selects by are, as one text.
fn settings(config: &Config) -> String {
    format!(
        "{:?}|{:?}|{:?}",
        config.feeds, config.category_feeds, config.site
    )
}

impl Live {
    /// The index of every file of `view`, as of `now`: O(n), once per
    /// whole scan (or when the clock went back).
    pub(super) fn new(config: &Config, now: DateTime<Utc>, view: View<'_>) -> Live {
        let mut live = Live {
            settings: settings(config),
            now,
            ids: HashMap::with_capacity(view.records.len()),
            articles: 0,
            errors: BTreeMap::new(),
            legacy: BTreeSet::new(),
            drafts: 0,
            withdrawn: 0,
            held: BTreeSet::new(),
            updates: BTreeMap::new(),
            feeds: vec![BTreeSet::new(); config.feeds.len()],
            categories: BTreeMap::new(),
            slugs: HashMap::default(),
            broken: false,
        };
        for (file, record) in view.files.iter().zip(view.records) {
            live.add_file(&file.path, record);
        }
        // Each id judged once, at its first claimant's file: most ids have
        // one claimant, whose key is then found without a search.
        for (i, (file, record)) in view.files.iter().zip(view.records).enumerate() {
            for (result, outcome) in record.results.iter().enumerate() {
                let Outcome::Key(key) = outcome else {
                    continue;
                };
                let first = live.ids.get(&*key.id).and_then(|c| c.claimants.first());
                let is_first = first.is_some_and(|c| {
                    usize::try_from(c.result).is_ok_and(|r| r == result) && *c.file.0 == *file.path
                });
                if is_first {
                    live.judge_near(config, &key.id, view, Some(i));
                }
            }
        }
        live
    }

    /// Whether it selects for `config` as of `now`: the same settings, a
    /// clock that did not go back, and nothing found amiss.
    pub(super) fn usable(&self, config: &Config, now: DateTime<Utc>) -> bool {
        !self.broken && now >= self.now && self.settings == settings(config)
    }

    /// Adds to `out` the ids of a record's articles.
    pub(super) fn ids_of(record: &FileRecord<'_>, out: &mut Vec<String>) {
        for outcome in &record.results {
            if let Outcome::Key(k) = outcome {
                out.push(k.id.to_string());
            }
        }
    }

    /// Takes in a file's record: its problems, and its articles as
    /// claimants of their ids (not judged yet: see [`Live::judge`]).
    pub(super) fn add_file(&mut self, path: &Path, record: &FileRecord<'_>) {
        let file = FileKey(Arc::from(path));
        if record.legacy_encoded {
            self.legacy.insert(file.clone());
        }
        let mut position = 0u32;
        for (result, outcome) in record.results.iter().enumerate() {
            let result = u32::try_from(result).unwrap_or(u32::MAX);
            let key = match outcome {
                Outcome::Key(key) => key,
                Outcome::Error { line, reason } => {
                    let error = SourceError {
                        path: path.to_owned(),
                        line: *line,
                        reason: reason.to_string(),
                    };
                    self.errors.insert((file.clone(), result), error);
                    continue;
                }
            };
            self.articles += 1;
            let claimant = Claimant {
                file: file.clone(),
                result,
                position,
            };
            position += 1;
            let claims = match self.ids.get_mut(&*key.id) {
                Some(claims) => claims,
                None => self.ids.entry(Arc::from(&*key.id)).or_default(),
            };
            // Files come mostly in path order: look from the end.
            let list = &mut claims.claimants;
            let at = list.len()
                - list
                    .iter()
                    .rev()
                    .take_while(|c| (&c.file, c.position) > (&claimant.file, claimant.position))
                    .count();
            list.insert(at, claimant);
        }
    }

    /// Lets go of a file's record (the one [`Live::add_file`] took in):
    /// its problems and claims. Its ids must have been unjudged first.
    pub(super) fn remove_file(&mut self, path: &Path, record: &FileRecord<'_>) {
        let file = FileKey(Arc::from(path));
        self.legacy.remove(&file);
        for (result, outcome) in record.results.iter().enumerate() {
            let result = u32::try_from(result).unwrap_or(u32::MAX);
            let key = match outcome {
                Outcome::Key(key) => key,
                Outcome::Error { .. } => {
                    self.errors.remove(&(file.clone(), result));
                    continue;
                }
            };
            self.articles = self.articles.saturating_sub(1);
            if let Some(claims) = self.ids.get_mut(&*key.id) {
                claims.claimants.retain(|c| c.file != file);
                if claims.claimants.is_empty() {
                    self.ids.remove(&*key.id);
                }
            }
        }
    }

    /// Decides who wins `id` by the claim rule, notes the duplicates, and
    /// puts the winner where it stands (held, or in its feeds).
    pub(super) fn judge(&mut self, config: &Config, id: &str, view: View<'_>) {
        self.judge_near(config, id, view, None);
    }

    /// [`Live::judge`], with a hint of the file most claimants are in.
    fn judge_near(&mut self, config: &Config, id: &str, view: View<'_>, hint: Option<usize>) {
        let Some((id, claims)) = self.ids.get_key_value(id) else {
            return;
        };
        let id = id.clone();
        let mut held = Held::Nothing;
        let mut winner = None;
        let mut duplicates = Vec::new();
        for (n, c) in claims.claimants.iter().enumerate() {
            let Some((_, key)) = view.key_near(c, hint) else {
                self.broken = true;
                return;
            };
            let v = verdict(held, key.revision, key.updated);
            match v {
                Verdict::Keeps | Verdict::Replaces => winner = Some((n, key)),
                Verdict::Duplicate => duplicates.push((c.clone(), key.line)),
                Verdict::Loses => {}
            }
            held = held_after(held, v, key.revision, key.updated);
        }
        if let Some(first) = claims.claimants.first() {
            for (c, line) in duplicates {
                let error = super::duplicate_error(&c.file.0, line, &id, &first.file.0);
                self.errors.insert((c.file, c.result), error);
            }
        }
        if let Some(claims) = self.ids.get_mut(&id) {
            claims.winner = winner.map(|(n, _)| n);
        }
        if let Some((_, key)) = winner {
            self.place(config, key, &id, 1);
        }
    }

    /// Undoes [`Live::judge`] for `id`: its duplicates' errors go, and its
    /// winner leaves where it stands.
    pub(super) fn unjudge(&mut self, config: &Config, id: &str, view: View<'_>) {
        let Some((id, claims)) = self.ids.get_key_value(id) else {
            return;
        };
        let id = id.clone();
        for c in &claims.claimants {
            self.errors.remove(&(c.file.clone(), c.result));
        }
        let Some(n) = claims.winner else {
            return;
        };
        let Some((_, key)) = claims.claimants.get(n).and_then(|c| view.key(c)) else {
            self.broken = true;
            return;
        };
        self.place(config, key, &id, -1);
        if let Some(claims) = self.ids.get_mut(&id) {
            claims.winner = None;
        }
    }

    /// Adds (`by` 1) or removes (-1) a winner where it stands as of
    /// `self.now`.
    fn place(&mut self, config: &Config, key: &ItemKey<'_>, id: &Arc<str>, by: i8) {
        let count = |n: &mut usize| match by > 0 {
            true => *n += 1,
            false => *n = n.saturating_sub(1),
        };
        match select::standing(key) {
            Standing::Draft => count(&mut self.drafts),
            Standing::Withdrawn => count(&mut self.withdrawn),
            Standing::Due(due) if select::embargoed_at(due, self.now) => {
                match by > 0 {
                    true => self.held.insert((due, id.clone())),
                    false => self.held.remove(&(due, id.clone())),
                };
            }
            Standing::Due(_) => self.place_eligible(config, key, id, by),
        }
    }

    /// Adds or removes an eligible winner: its update, and its place in
    /// each feed it goes to.
    fn place_eligible(&mut self, config: &Config, key: &ItemKey<'_>, id: &Arc<str>, by: i8) {
        let rank = RankKey {
            published: key.published,
            id: id.clone(),
        };
        let update = select::update_order(key.updated);
        let mut targets: SmallVec<[usize; 4]> = SmallVec::new();
        select::configured_targets(config, key, &mut targets);
        let mut slugs: SmallVec<[(&str, Arc<str>); 2]> = SmallVec::new();
        for spelling in &key.categories {
            if let Some(slug) = self.slug_of(config, spelling) {
                slugs.push((spelling, slug));
            }
        }
        if by > 0 {
            *self.updates.entry(update).or_default() += 1;
            for i in targets {
                if let Some(feed) = self.feeds.get_mut(i) {
                    feed.insert(rank.clone());
                }
            }
            for (spelling, slug) in slugs {
                let category = match self.categories.get_mut(&*slug) {
                    Some(category) => category,
                    None => self.categories.entry(slug.to_string()).or_default(),
                };
                match category.spellings.get_mut(spelling) {
                    Some(n) => *n += 1,
                    None => {
                        category.spellings.insert(spelling.to_owned(), 1);
                    }
                }
                category.items.insert(rank.clone());
            }
            return;
        }
        if let Some(n) = self.updates.get_mut(&update) {
            *n -= 1;
            if *n == 0 {
                self.updates.remove(&update);
            }
        }
        for i in targets {
            if let Some(feed) = self.feeds.get_mut(i) {
                feed.remove(&rank);
            }
        }
        for (spelling, slug) in slugs {
            let Some(category) = self.categories.get_mut(&*slug) else {
                continue;
            };
            if let Some(n) = category.spellings.get_mut(spelling) {
                *n -= 1;
                if *n == 0 {
                    category.spellings.remove(spelling);
                }
            }
            category.items.remove(&rank);
            if category.items.is_empty() {
                self.categories.remove(&*slug);
            }
        }
    }

    /// The slug of the category feed of `spelling` (see
    /// `select::category_slug`), worked out once per spelling.
    fn slug_of(&mut self, config: &Config, spelling: &str) -> Option<Arc<str>> {
        if let Some(known) = self.slugs.get(spelling) {
            return known.clone();
        }
        let slug: Option<Arc<str>> = select::category_slug(config, spelling).map(Arc::from);
        self.slugs.insert(spelling.to_owned(), slug.clone());
        slug
    }

    /// Moves the clock on to `now` (not before [`Live::usable`]'s): the
    /// winners whose time has come leave the held ones for their feeds.
    pub(super) fn advance(&mut self, config: &Config, now: DateTime<Utc>, view: View<'_>) {
        self.now = now;
        while let Some((due, id)) = self.held.first().cloned() {
            if select::embargoed_at(due, now) {
                break;
            }
            self.held.remove(&(due, id.clone()));
            let key = self.ids.get(&id).and_then(|claims| {
                let winner = claims.claimants.get(claims.winner?)?;
                view.key(winner)
            });
            match key {
                Some((_, key)) => self.place_eligible(config, key, &id, 1),
                None => {
                    self.broken = true;
                    return;
                }
            }
        }
    }

    /// The feeds as a whole scan would select them, and what was held
    /// back; `None` when a key is not where the index says.
    pub(super) fn selection(
        &self,
        config: &Config,
        view: View<'_>,
    ) -> Option<Selection<Candidate>> {
        let site_updated = select::site_updated(self.updates.keys().next_back().map(|u| u.0));
        let mut ids = HashSet::new();
        let mut feeds = Vec::new();
        for (i, set) in self.feeds.iter().enumerate() {
            let spec = FeedSpec::configured(config, i);
            let ranked = self.ranked(set, &spec, view)?;
            select::push_feeds(&spec, ranked, site_updated, &mut ids, &mut feeds);
        }
        for (slug, category) in &self.categories {
            let spelling = category.spellings.keys().next()?;
            let spec = FeedSpec::category(config, slug, spelling)?;
            let ranked = self.ranked(&category.items, &spec, view)?;
            select::push_feeds(&spec, ranked, site_updated, &mut ids, &mut feeds);
        }
        Some(Selection {
            feeds,
            published: ids.len(),
            embargoed: self.held.len(),
            drafts: self.drafts,
            withdrawn: self.withdrawn,
            next_release: self.held.first().map(|(due, _)| *due),
        })
    }

    /// A feed's items, best first: its newest `limit`, or for an archive
    /// feed all of them.
    fn ranked(
        &self,
        set: &BTreeSet<RankKey>,
        spec: &FeedSpec,
        view: View<'_>,
    ) -> Option<Vec<Ranked<Candidate>>> {
        let take = match spec.archive {
            true => set.len(),
            false => spec.limit,
        };
        set.iter()
            .take(take)
            .map(|rank| {
                let claims = self.ids.get(&rank.id)?;
                let winner = claims.claimants.get(claims.winner?)?;
                let (file, key) = view.key(winner)?;
                let value = Candidate {
                    file,
                    position: usize::try_from(winner.position).ok()?,
                    line: key.line,
                };
                Some(Ranked {
                    key: rank.clone(),
                    updated: key.updated,
                    value,
                })
            })
            .collect()
    }

    /// How many articles parsed.
    pub(super) fn articles(&self) -> usize {
        self.articles
    }

    /// Every problem, in path order.
    pub(super) fn errors(&self) -> impl Iterator<Item = &SourceError> {
        self.errors.values()
    }

    /// The files decoded as EUC-KR, in path order.
    pub(super) fn legacy_encoded(&self) -> impl Iterator<Item = &Path> {
        self.legacy.iter().map(|f| &*f.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::path::PathBuf;

    use crate::model::{ArticleFormat, Status};
    use crate::source::Stamp;

    /// The claim rules as `Scanner::take_file` applied them before they
    /// were one function: a first claimant per id; versions of a
    /// versioned first claimant compete, the rest are duplicates.
    fn by_the_old_rules(
        files: &[(PathBuf, Vec<Claim>)],
    ) -> (Vec<(String, usize, usize)>, Vec<String>) {
        let mut first: HashMap<&str, usize> = HashMap::new();
        let mut versions: HashMap<&str, (usize, usize, Option<u32>, i64)> = HashMap::new();
        let mut winners = Vec::new();
        let mut errors = Vec::new();
        for (f, (path, claims)) in files.iter().enumerate() {
            for (p, c) in claims.iter().enumerate() {
                let claimed = match first.get(c.id) {
                    Some(&at) => Err(at),
                    None => {
                        first.insert(c.id, f);
                        Ok(())
                    }
                };
                if c.revision.is_some() {
                    match (claimed, versions.get_mut(c.id)) {
                        (Ok(()), _) => {
                            versions.insert(c.id, (f, p, c.revision, c.updated));
                            continue;
                        }
                        (Err(_), Some(best)) => {
                            if (c.revision, c.updated) > (best.2, best.3) {
                                *best = (f, p, c.revision, c.updated);
                            }
                            continue;
                        }
                        (Err(_), None) => {}
                    }
                }
                match claimed {
                    Err(at) => errors.push(format!(
                        "{}:{}: duplicate id `{}`, already used by {}; give one of them an explicit `id`",
                        path.display(),
                        p + 1,
                        c.id,
                        files[at].0.display()
                    )),
                    Ok(()) => winners.push((c.id.to_owned(), f, p)),
                }
            }
        }
        winners.extend(
            versions
                .into_iter()
                .map(|(id, (f, p, ..))| (id.to_owned(), f, p)),
        );
        winners.sort();
        errors.sort();
        (winners, errors)
    }

    #[derive(Clone, Copy)]
    struct Claim {
        id: &'static str,
        revision: Option<u32>,
        updated: i64,
    }

    fn record(claims: &[Claim]) -> FileRecord<'static> {
        let results = claims.iter().enumerate().map(|(p, c)| {
            let t = DateTime::from_timestamp(1_780_000_000 + c.updated * 60, 0)
                .unwrap_or_default()
                .fixed_offset();
            Outcome::Key(ItemKey {
                id: Cow::Borrowed(c.id),
                line: p + 1,
                published: t,
                updated: t,
                categories: Default::default(),
                authors: Default::default(),
                draft: false,
                status: Status::Usable,
                revision: c.revision,
                embargo: None,
            })
        });
        FileRecord {
            legacy_encoded: false,
            results: results.collect(),
        }
    }

    /// Who won each id, and the duplicate errors, as the index has them.
    fn by_the_index(live: &Live, view: View<'_>) -> (Vec<(String, usize, usize)>, Vec<String>) {
        let mut winners: Vec<_> = live
            .ids
            .iter()
            .filter_map(|(id, claims)| {
                let w = claims.claimants.get(claims.winner?)?;
                let file = view.index_of(&w.file.0)?;
                Some((id.to_string(), file, w.position as usize))
            })
            .collect();
        winners.sort();
        let mut errors: Vec<String> = live.errors().map(|e| e.to_string()).collect();
        errors.sort();
        (winners, errors)
    }

    #[test]
    fn the_index_follows_the_claim_rules_of_a_whole_scan() {
        let config = crate::config::Config::parse(
            "[site]\ntitle = \"T\"\nbase_url = \"https://n.example.com/\"\n\
             [[source]]\npath = \".\"\n[[feed]]\nname = \"all\"\n",
            &std::env::temp_dir().join("c.toml"),
        )
        .unwrap();
        let now = DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let ids = ["a", "b", "c"];
        for round in 0..300 {
            // A few files, each claiming a few ids, some with versions
            // (ties in version and time included).
            let count = 1 + next(5) as usize;
            let mut files: Vec<(PathBuf, Vec<Claim>)> = (0..count)
                .map(|f| {
                    let claims = (0..1 + next(3))
                        .map(|_| Claim {
                            id: ids[next(3) as usize],
                            revision: (next(3) > 0).then(|| next(3) as u32),
                            updated: next(3) as i64,
                        })
                        .collect();
                    (PathBuf::from(format!("d/{f}.json")), claims)
                })
                .collect();
            let source = |files: &[(PathBuf, Vec<Claim>)]| {
                let sources: Vec<SourceFile> = files
                    .iter()
                    .map(|(path, _)| SourceFile {
                        path: path.clone(),
                        format: ArticleFormat::Json,
                        stamp: Stamp::default(),
                    })
                    .collect();
                let records: Vec<FileRecord<'static>> =
                    files.iter().map(|(_, c)| record(c)).collect();
                (sources, records)
            };
            let (sources, mut records) = source(&files);
            let view = View {
                files: &sources,
                records: &records,
            };
            let mut live = Live::new(&config, now, view);
            assert_eq!(
                by_the_index(&live, view),
                by_the_old_rules(&files),
                "round {round}"
            );
            // One file's claims changed, told to the index.
            let f = next(count as u64) as usize;
            let mut before = Vec::new();
            Live::ids_of(&records[f], &mut before);
            files[f].1 = vec![Claim {
                id: ids[next(3) as usize],
                revision: (next(2) > 0).then(|| next(3) as u32),
                updated: next(3) as i64,
            }];
            let new = record(&files[f].1);
            Live::ids_of(&new, &mut before);
            before.sort_unstable();
            before.dedup();
            for id in &before {
                live.unjudge(
                    &config,
                    id,
                    View {
                        files: &sources,
                        records: &records,
                    },
                );
            }
            live.remove_file(&files[f].0, &records[f]);
            live.add_file(&files[f].0, &new);
            records[f] = new;
            let view = View {
                files: &sources,
                records: &records,
            };
            for id in &before {
                live.judge(&config, id, view);
            }
            assert_eq!(
                by_the_index(&live, view),
                by_the_old_rules(&files),
                "round {round}, told"
            );
        }
    }
}
