//! Listing: the article files of the source folders, found by a walk on a
//! thread of its own and handed on in path order, a batch at a time, then
//! stamped; and the path order itself, which the cache and the duplicate
//! check rely on.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{walk, Listed, SourceError, SourceFile, Stamp};
use crate::config::Source;

/// Files per batch of a [`Listing`].
pub const LIST_BATCH: usize = 512;

/// Paths found by a walk, a batch at a time, or why the walk stopped.
pub type Found = Result<Vec<Listed>, SourceError>;

/// The article files of the sources, found by a walk on a thread of its
/// own and handed over in path order, a batch at a time: a build starts on
/// the first files while the walk goes on.
pub struct Listing {
    batches: std::sync::mpsc::Receiver<Found>,
    /// The walking thread: when it ends without finishing, the listing is
    /// an error, not a shorter list.
    walker: Option<std::thread::JoinHandle<()>>,
    roots: PathBuf,
}

impl Iterator for Listing {
    type Item = Found;

    fn next(&mut self) -> Option<Found> {
        match self.batches.recv() {
            Ok(found) => Some(found),
            Err(_) => match self.walker.take().map(std::thread::JoinHandle::join) {
                Some(Err(_)) => Some(Err(SourceError::new(
                    &self.roots,
                    1,
                    String::from("cannot list: the listing stopped unexpectedly"),
                ))),
                _ => None,
            },
        }
    }
}

/// Starts listing the article files of `sources` (see [`Listing`]).
/// Hidden files and files whose extension names no format are skipped.
pub fn list(sources: &[Source]) -> Listing {
    let sources: Vec<Source> = sources.to_vec();
    // Batches waiting for the build: enough to keep it busy, few enough
    // that a fast walk does not hold the whole listing.
    let (tx, batches) = std::sync::mpsc::sync_channel::<Found>(32);
    let spawned = std::thread::Builder::new()
        .name("wirefeed-list".into())
        .spawn({
            let tx = tx.clone();
            let sources = sources.clone();
            move || list_into(&sources, &mut |found| tx.send(found).is_ok())
        });
    let roots = sources.first().map(|s| s.path.clone()).unwrap_or_default();
    let walker = match spawned {
        Ok(handle) => handle,
        Err(_) => {
            // No thread: list here, whole, then hand it over.
            let mut all = Vec::new();
            list_into(&sources, &mut |found| {
                all.push(found);
                true
            });
            let (tx, batches) = std::sync::mpsc::channel();
            for found in all {
                let _ = tx.send(found);
            }
            return Listing {
                batches,
                walker: None,
                roots,
            };
        }
    };
    drop(tx);
    Listing {
        batches,
        walker: Some(walker),
        roots,
    }
}

/// Walks `sources` and hands batches in path order to `send`, which says
/// whether to go on. One folder is walked in order as it goes; several
/// (which may nest or come in any order) are walked whole, then sorted.
fn list_into(sources: &[Source], send: &mut dyn FnMut(Found) -> bool) {
    let started = std::time::Instant::now();
    let mut batch = Vec::with_capacity(LIST_BATCH);
    let walked = match sources {
        [source] => {
            let mut open = true;
            walk::walk(&source.path, source.format, &mut |listed| {
                batch.push(listed);
                if batch.len() == LIST_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(LIST_BATCH));
                    open = open && send(Ok(full));
                }
                open
            })
        }
        _ => {
            let mut all = Vec::new();
            let walked = sources.iter().try_for_each(|source| {
                walk::walk(&source.path, source.format, &mut |listed| {
                    all.push(listed);
                    true
                })
            });
            all.sort_unstable_by(|a, b| path_order(&a.path, &b.path));
            all.dedup_by(|a, b| a.path == b.path);
            let mut all = all.into_iter().peekable();
            while all.peek().is_some() {
                let next: Vec<_> = all.by_ref().take(LIST_BATCH).collect();
                if !send(Ok(next)) {
                    return;
                }
            }
            walked
        }
    };
    tracing::debug!("walked in {:.2?}", started.elapsed());
    match walked {
        Ok(()) if !batch.is_empty() => {
            send(Ok(batch));
        }
        Ok(()) => {}
        Err(e) => {
            send(Err(e));
        }
    }
}

/// Stamps a batch of listed files, on all cores. A file that is gone or
/// cannot be looked at is left out, with its error.
pub fn stat_batch(found: Vec<Listed>) -> (Vec<SourceFile>, Vec<SourceError>) {
    // Stamped on all cores; the listed files (and their folders' shared
    // handles) are let go of on this thread only.
    let stamps: Vec<std::io::Result<Stamp>> = found.par_iter().map(Listed::stamp).collect();
    let mut files = Vec::with_capacity(found.len());
    let mut errors = Vec::new();
    for (listed, stamp) in found.into_iter().zip(stamps) {
        match stamp {
            Ok(stamp) => files.push(SourceFile {
                stamp,
                path: listed.path,
                format: listed.format,
            }),
            Err(e) => errors.push(SourceError::new(
                &listed.path,
                1,
                format!("cannot read its metadata: {e}"),
            )),
        }
    }
    (files, errors)
}

/// Listed files not stamped yet (they are when they are read).
pub fn unstamped(found: Vec<Listed>) -> Vec<SourceFile> {
    found
        .into_iter()
        .map(|listed| SourceFile {
            path: listed.path,
            format: listed.format,
            stamp: Stamp::default(),
        })
        .collect()
}

/// Lists and stamps every article file of `sources`, in path order; the
/// first problem stops it.
pub fn discover(sources: &[Source]) -> Result<Vec<SourceFile>, SourceError> {
    let mut files = Vec::new();
    for found in list(sources) {
        let (mut batch, errors) = stat_batch(found?);
        if let Some(e) = errors.into_iter().next() {
            return Err(e);
        }
        files.append(&mut batch);
    }
    Ok(files)
}

/// The order files are listed, parsed, cached and deduplicated in: byte
/// order with the separator before every other byte, which is the order of
/// a walk that takes each folder's names in byte order and a subfolder's
/// files at its place (`a/z` before `a-b.txt`), so files can be handed on
/// as they are found.
pub fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    path_bytes_order(
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    )
}

/// [`path_order`] on the paths' bytes.
pub fn path_bytes_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let key = |c: u8| if c == b'/' { 0 } else { u16::from(c) + 1 };
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => key(a[i]).cmp(&key(b[i])),
        None => a.len().cmp(&b.len()),
    }
}
