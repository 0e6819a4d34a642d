//! Hashing for maps keyed by short texts (category spellings, looked up for
//! every item of every build).
//!
//! `xxh3`'s streaming `Hasher` sets up a state of several hundred bytes
//! for each key, which costs more than hashing a word; std's SipHash is
//! slower still. [`ShortTexts`] hashes each key in one `xxh3` call,
//! seeded at random once per map, so that texts from articles cannot be
//! chosen to collide.

use std::hash::{BuildHasher, Hasher};

/// A [`BuildHasher`] for short texts: one seeded `xxh3` call per key.
#[derive(Clone)]
pub struct ShortTexts {
    seed: u64,
}

impl Default for ShortTexts {
    fn default() -> ShortTexts {
        // std's random keys, drawn once per map.
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        ShortTexts { seed }
    }
}

impl BuildHasher for ShortTexts {
    type Hasher = ShortTextHasher;

    fn build_hasher(&self) -> ShortTextHasher {
        ShortTextHasher(self.seed)
    }
}

/// The hasher of [`ShortTexts`]: each `write` hashes its bytes in one call,
/// seeded with what was hashed before.
pub struct ShortTextHasher(u64);

impl Hasher for ShortTextHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = xxhash_rust::xxh3::xxh3_64_with_seed(bytes, self.0);
    }

    // `str` ends its hash with one byte: mixed in without another call.
    fn write_u8(&mut self, byte: u8) {
        self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn equal_texts_hash_alike_and_different_ones_apart() {
        let build = ShortTexts::default();
        let hash = |s: &str| build.hash_one(s);
        assert_eq!(hash("Seoul"), hash("Seoul"));
        assert_ne!(hash("Seoul"), hash("seoul"));
        assert_ne!(hash(""), hash("a"));
        // Another map draws another seed.
        assert_ne!(hash("Seoul"), ShortTexts::default().hash_one("Seoul"));
        let mut map: HashMap<String, usize, ShortTexts> = HashMap::default();
        for i in 0..1000 {
            map.insert(format!("category {i}"), i);
        }
        assert!((0..1000).all(|i| map.get(format!("category {i}").as_str()) == Some(&i)));
        assert_eq!(map.get("category 1000"), None);
    }
}
