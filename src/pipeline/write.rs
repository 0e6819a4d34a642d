//! The second pass of a build: stream every feed to its files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use rayon::prelude::*;

use super::{count, progress_bar, Candidate, FileList};
use super::{BuildError, BuildReport};
use crate::config::Config;
use crate::model::{Feed, Item};
use crate::normalize::Normalizer;
use crate::output::{self, AtomicFile, Written};
use crate::render::{self, Document};
use crate::source::{self, ParseContext, SourceError};

/// Items normalized and rendered per parallel batch.
const WRITE_CHUNK: usize = 1024;
/// Items per rendered fragment.
const FRAGMENT: usize = 64;

/// One chunk of items, rendered: the bytes for each document, in order.
struct Rendered {
    bytes: Vec<Vec<render::Fragment>>,
    items: usize,
    errors: Vec<SourceError>,
}

/// Streams feeds to their files.
pub(super) struct FeedWriter<'a> {
    pub(super) config: &'a Config,
    pub(super) files: &'a FileList,
    pub(super) normalizer: &'a Normalizer<'a>,
    pub(super) ctx: ParseContext,
    pub(super) out_dir: &'a Path,
    pub(super) write: bool,
    /// See [`crate::BuildOptions::whole_up_to`].
    pub(super) whole_up_to: usize,
}

impl FeedWriter<'_> {
    /// Writes every feed, then the site files, then removes the files of
    /// feeds that are gone.
    pub(super) fn write_all(
        &self,
        feeds: Vec<Feed<Candidate>>,
        progress: bool,
        report: &mut BuildReport,
    ) -> Result<(), BuildError> {
        let site = &self.config.site;
        let infos: Vec<_> = feeds.iter().map(|f| f.info.clone()).collect();
        let total: usize = infos.iter().map(|i| i.len).sum();
        if total <= self.whole_up_to {
            self.write_few(feeds, report)?;
        } else {
            let bar = progress_bar(progress, total as u64, "items written");
            for feed in feeds {
                self.write(feed, &bar, report)?;
            }
            bar.finish_and_clear();
        }
        // Archive documents are reached through their feed, not listed.
        let subscribable: Vec<_> = infos
            .iter()
            .filter(|i| !i.archive.is_archive)
            .cloned()
            .collect();
        let main: Vec<&str> = self.config.feeds.iter().map(|f| f.name.as_str()).collect();
        let site_files = render::site_files(&subscribable, site, &main);
        for (name, bytes) in &site_files {
            let mut file = self.open(&self.out_dir.join(name))?;
            file.write(bytes)?;
            count(file.commit_leaving_folder()?, report);
        }
        let mut names: Vec<String> = infos
            .iter()
            .flat_map(|i| Document::all(i).into_iter().map(|d| d.file_name(&i.name)))
            .chain(site_files.map(|(name, _)| name.to_owned()))
            .collect();
        names.sort();
        // Every file this build replaced, durably in place: each folder
        // synced once (a file's own bytes were synced before its rename).
        if self.write && report.written > 0 {
            let paths: Vec<PathBuf> = names.iter().map(|n| self.out_dir.join(n)).collect();
            output::sync_folders(paths.iter().map(PathBuf::as_path));
        }
        report.removed = output::prune(self.out_dir, &names, !self.write)?;
        Ok(())
    }

    /// Writes feeds of few items in all: every item is made once (an item
    /// is often in several feeds), then the feeds are rendered whole and
    /// written in parallel.
    fn write_few(
        &self,
        feeds: Vec<Feed<Candidate>>,
        report: &mut BuildReport,
    ) -> Result<(), BuildError> {
        let mut wanted: Vec<&Candidate> = feeds.iter().flat_map(|f| &f.items).collect();
        wanted.sort_unstable_by_key(|c| (c.file, c.position));
        wanted.dedup_by_key(|c| (c.file, c.position));
        let made: Vec<((usize, usize), Result<Item, SourceError>)> = wanted
            .par_iter()
            .map(|c| ((c.file, c.position), self.item(c)))
            .collect();
        let mut items = HashMap::with_capacity(made.len());
        for (key, result) in made {
            match result {
                Ok(item) => {
                    items.insert(key, item);
                }
                Err(e) => report.errors.push(e),
            }
        }
        let site = &self.config.site;
        let written: Vec<Result<Vec<Written>, BuildError>> = feeds
            .par_iter()
            .map(|feed| {
                let refs: Vec<&Item> = feed
                    .items
                    .iter()
                    .filter_map(|c| items.get(&(c.file, c.position)))
                    .collect();
                let whole = Feed {
                    info: feed.info.clone(),
                    items: refs,
                };
                let documents = Document::all(&feed.info);
                let mut done = Vec::with_capacity(documents.len());
                for document in documents {
                    let bytes = render::render(&whole, document, site)?;
                    let name = document.file_name(&feed.info.name);
                    let mut file = self.open(&self.out_dir.join(name))?;
                    file.write(&bytes)?;
                    done.push(file.commit_leaving_folder()?);
                }
                Ok(done)
            })
            .collect();
        for result in written {
            for w in result? {
                count(w, report);
            }
        }
        Ok(())
    }

    fn open(&self, path: &Path) -> Result<AtomicFile, BuildError> {
        Ok(match self.write {
            true => AtomicFile::create(path)?,
            false => AtomicFile::dry_run(path),
        })
    }

    /// Writes every format of `feed` and its page, a chunk of items at a
    /// time.
    fn write(
        &self,
        feed: Feed<Candidate>,
        bar: &ProgressBar,
        report: &mut BuildReport,
    ) -> Result<(), BuildError> {
        let site = &self.config.site;
        let documents = Document::all(&feed.info);
        let mut outputs = Vec::with_capacity(documents.len());
        for &document in &documents {
            let path: PathBuf = self.out_dir.join(document.file_name(&feed.info.name));
            let frame = render::frame(&feed.info, document, site)?;
            let mut file = self.open(&path)?;
            file.write(&frame.head)?;
            outputs.push((document, file, frame.tail));
        }
        // Chunk k is rendered on the pool while chunk k-1 is written.
        let mut first = true;
        let mut candidates = feed.items.into_iter();
        let mut pending: Option<Rendered> = None;
        loop {
            let chunk: Vec<Candidate> = candidates.by_ref().take(WRITE_CHUNK).collect();
            if chunk.is_empty() && pending.is_none() {
                break;
            }
            let previous = pending.take();
            let (rendered, written) = rayon::join(
                || self.render_chunk(chunk, &documents, first),
                || -> Result<(), BuildError> {
                    if let Some(r) = previous {
                        for ((_, file, _), fragments) in outputs.iter_mut().zip(&r.bytes) {
                            for fragment in fragments {
                                file.write(fragment.as_bytes())?;
                            }
                        }
                    }
                    Ok(())
                },
            );
            written?;
            let rendered = rendered?;
            first = first && rendered.items == 0;
            bar.inc(rendered.items as u64);
            report.errors.extend(rendered.errors.iter().cloned());
            if rendered.items > 0 {
                pending = Some(rendered);
            }
        }
        for (_, mut file, tail) in outputs {
            file.write(&tail)?;
            count(file.commit_leaving_folder()?, report);
        }
        Ok(())
    }

    /// Normalizes and renders one chunk of items as every document, on all
    /// cores.
    fn render_chunk(
        &self,
        chunk: Vec<Candidate>,
        documents: &[Document],
        first: bool,
    ) -> Result<Rendered, BuildError> {
        let mut rendered = Rendered {
            bytes: vec![Vec::new(); documents.len()],
            items: 0,
            errors: Vec::new(),
        };
        if chunk.is_empty() {
            return Ok(rendered);
        }
        let results: Vec<Result<Item, SourceError>> =
            chunk.par_iter().map(|c| self.item(c)).collect();
        drop(chunk);
        let mut ready: Vec<Item> = Vec::with_capacity(results.len());
        for result in results {
            match result {
                Ok(i) => ready.push(i),
                Err(e) => rendered.errors.push(e),
            }
        }
        let refs: Vec<&Item> = ready.iter().collect();
        let site = &self.config.site;
        let fragments: Vec<Vec<render::Fragment>> = refs
            .par_chunks(FRAGMENT)
            .enumerate()
            .map(|(i, part)| {
                documents
                    .iter()
                    .map(|&d| render::items(part, d, site, first && i == 0))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<_, _>>()?;
        for per_format in fragments {
            for (out, fragment) in rendered.bytes.iter_mut().zip(per_format) {
                out.push(fragment);
            }
        }
        rendered.items = refs.len();
        Ok(rendered)
    }

    /// The item of a candidate, by reading its file again.
    fn item(&self, candidate: &Candidate) -> Result<Item, SourceError> {
        let file = self.files.get(candidate.file);
        let parsed = source::parse_file(file, self.ctx);
        parsed
            .articles
            .get(candidate.position)
            .filter(|a| a.line == candidate.line)
            .map(|a| self.normalizer.item(a))
            .ok_or_else(|| SourceError {
                path: file.path.clone(),
                line: candidate.line,
                reason: "changed while the build ran; build again".into(),
            })
    }
}
