//! The plain pipeline: every stage in its simplest form, everything in
//! memory, one thread's worth of logic: discover → load → item → select →
//! render. It is what a build means; [`super::build`] is the same thing
//! made fast (streamed, cached, two passes, in parallel), and a test holds
//! the fast one to this one's bytes.
//!
//! Not for large archives: it holds every article and item at once.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};

use super::BuildError;
use crate::config::Config;
use crate::model::{Feed, Item};
use crate::normalize::Normalizer;
use crate::render::{self, Document};
use crate::select::select;
use crate::source::{self, ParseContext, SourceError};

/// What the plain pipeline makes: every output file's name (relative to
/// the output folder) and bytes, and every article problem.
#[derive(Debug, Default)]
pub struct Made {
    /// Output files, by name.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Article problems, by file and line.
    pub errors: Vec<SourceError>,
}

/// Builds the feeds of `config` as of `now`, in memory.
pub fn build(config: &Config, now: DateTime<Utc>) -> Result<Made, BuildError> {
    let files = source::discover(&config.sources)?;
    let ctx = ParseContext {
        timezone: config.site.timezone,
        bodies: true,
    };
    let corpus = source::load(&files, ctx, &|| {});
    let mut errors = corpus.errors;
    let normalizer = Normalizer::new(&config.site);
    // The first article (in path order) to use an id keeps it, unless
    // both have version numbers: then the best version does.
    let mut seen = HashSet::new();
    let mut items: Vec<Item> = Vec::with_capacity(corpus.articles.len());
    let mut first_path = BTreeMap::new();
    let mut versions: BTreeMap<String, usize> = BTreeMap::new();
    for article in &corpus.articles {
        let item = normalizer.item(article);
        let versioned = versions
            .get(&item.id)
            .copied()
            .filter(|_| item.revision.is_some());
        if seen.insert(item.id.clone()) {
            first_path.insert(item.id.clone(), article.path.clone());
            if item.revision.is_some() {
                versions.insert(item.id.clone(), items.len());
            }
            items.push(item);
        } else if let Some(best) = versioned {
            let better =
                (item.revision, item.updated) > (items[best].revision, items[best].updated);
            if better {
                items[best] = item;
            }
        } else if let Some(first) = first_path.get(&item.id) {
            errors.push(super::duplicate_error(
                &article.path,
                article.line,
                &item.id,
                first,
            ));
        }
    }
    let selection = select(&items, config, now);
    let mut made = BTreeMap::new();
    for feed in &selection.feeds {
        let whole: Feed<&Item> = Feed {
            info: feed.info.clone(),
            items: feed.items.clone(),
        };
        for document in Document::all(&feed.info) {
            let bytes = render::render(&whole, document, &config.site)?;
            made.insert(document.file_name(&feed.info.name), bytes);
        }
    }
    let subscribable: Vec<_> = selection
        .feeds
        .iter()
        .map(|f| f.info.clone())
        .filter(|i| !i.archive.is_archive)
        .collect();
    let main: Vec<&str> = config.feeds.iter().map(|f| f.name.as_str()).collect();
    for (name, bytes) in render::site_files(&subscribable, &config.site, &main) {
        made.insert(name.into(), bytes);
    }
    errors.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Ok(Made {
        files: made,
        errors,
    })
}
