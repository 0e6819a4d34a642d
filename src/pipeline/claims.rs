//! Which file claimed each item id first. A build of a large archive keeps
//! a 64-bit hash per id, not the id; two different ids that share a hash
//! (practically never, but a silent loss if it happens) are told apart by
//! asking for the first file's ids again, and from then on both are kept
//! by their full text.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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
