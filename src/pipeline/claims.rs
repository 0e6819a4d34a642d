//! Which file claimed each item id first. A build of a large archive keeps
//! a 64-bit hash per id, not the id; two different ids that share a hash
//! (practically never, but a silent loss if it happens) are told apart by
//! asking for the first file's ids again, and from then on both are kept
//! by their full text.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, FixedOffset};

/// What an id's earlier claimants (in path order, then order in the
/// file) hold it as, when the next one comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Held {
    /// Nobody: the next claimant is the first.
    Nothing,
    /// The first claimant has no version number: it keeps the id.
    Plain,
    /// The first claimant has a version number (the IPTC formats): the
    /// best version so far.
    Version {
        revision: Option<u32>,
        updated: DateTime<FixedOffset>,
    },
}

/// What becomes of the next claimant of an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// It is the first: it holds the id (as [`Held::Version`] if it has
    /// a version number, else as [`Held::Plain`]).
    Keeps,
    /// A later version, better than the best so far: it holds the id now.
    Replaces,
    /// A later version, no better: nothing (no error either).
    Loses,
    /// A duplicate id: an error naming the first claimant's file.
    Duplicate,
}

/// The claim rule, the one both a whole scan and a session's live index
/// follow: the first claimant keeps its id, and later ones are duplicates
/// — unless the first has a version number: then versions of one id are
/// no duplicates of each other, and the best (a higher version number,
/// then a later update; on a tie the first in path order stays) wins,
/// while a later claimant without a version number is a duplicate.
pub(super) fn verdict(
    held: Held,
    revision: Option<u32>,
    updated: DateTime<FixedOffset>,
) -> Verdict {
    match held {
        Held::Nothing => Verdict::Keeps,
        Held::Plain => Verdict::Duplicate,
        Held::Version { .. } if revision.is_none() => Verdict::Duplicate,
        Held::Version {
            revision: best,
            updated: best_updated,
        } => match (revision, updated) > (best, best_updated) {
            true => Verdict::Replaces,
            false => Verdict::Loses,
        },
    }
}

/// How an id is held after `verdict` on a claimant with `revision` and
/// `updated`, held as `held` before.
pub(super) fn held_after(
    held: Held,
    verdict: Verdict,
    revision: Option<u32>,
    updated: DateTime<FixedOffset>,
) -> Held {
    match verdict {
        Verdict::Keeps if revision.is_none() => Held::Plain,
        Verdict::Keeps | Verdict::Replaces => Held::Version { revision, updated },
        Verdict::Loses | Verdict::Duplicate => held,
    }
}

/// Ids claimed so far, by hash (and by text, for the ids whose hash was
/// already taken by another id).
pub(super) struct IdClaims<H> {
    by_hash: HashMap<u64, usize, BuildHasherDefault<Prehashed>>,
    by_text: HashMap<Box<str>, usize>,
    hash: H,
}

impl<H: Fn(&str) -> u64> IdClaims<H> {
    /// Room for `capacity` ids, hashed with `hash`.
    pub(super) fn new(capacity: usize, hash: H) -> IdClaims<H> {
        IdClaims {
            by_hash: HashMap::with_capacity_and_hasher(capacity, Default::default()),
            by_text: HashMap::new(),
            hash,
        }
    }

    /// Claims `id` for file `index`; `Err(first)` when file `first`
    /// claimed it already. `ids_of(first)` gives that file's ids again,
    /// asked only when the hash of `id` is taken.
    pub(super) fn claim(
        &mut self,
        id: &str,
        index: usize,
        ids_of: impl FnOnce(usize) -> Vec<String>,
    ) -> Result<(), usize> {
        if let Some(&first) = self.by_text.get(id) {
            return Err(first);
        }
        let hash = (self.hash)(id);
        match self.by_hash.get(&hash) {
            None => {
                self.by_hash.insert(hash, index);
                Ok(())
            }
            Some(&first) if ids_of(first).iter().any(|other| other == id) => Err(first),
            Some(_) => {
                // Another id with the same hash: this one is kept by its text.
                self.by_text.insert(id.into(), index);
                Ok(())
            }
        }
    }
}

/// A 64-bit hash of an id, of the quality a checksum needs and quick on
/// short texts.
pub(super) fn id_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
pub(super) struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_share_a_hash_are_both_kept_and_real_duplicates_are_not() {
        // Every id hashes alike: each claim of a new id must ask again.
        let mut claims = IdClaims::new(4, |_: &str| 7);
        let files = [vec!["a"], vec!["b"], vec!["a", "c"], vec!["b"]];
        let ids_of = |i: usize| files[i].iter().map(|s| s.to_string()).collect();
        assert_eq!(claims.claim("a", 0, ids_of), Ok(()));
        assert_eq!(claims.claim("b", 1, ids_of), Ok(()));
        assert_eq!(claims.claim("a", 2, ids_of), Err(0));
        assert_eq!(claims.claim("c", 2, ids_of), Ok(()));
        assert_eq!(claims.claim("b", 3, ids_of), Err(1));
        assert_eq!(claims.claim("c", 3, ids_of), Err(2));
    }

    #[test]
    fn distinct_hashes_never_ask_again() {
        let mut claims = IdClaims::new(4, id_hash);
        let never = |_: usize| -> Vec<String> { panic!("asked for ids again") };
        assert_eq!(claims.claim("a", 0, never), Ok(()));
        assert_eq!(claims.claim("b", 1, never), Ok(()));
    }
}
