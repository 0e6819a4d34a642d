//! Compressed bodies: which encoding a reader gets, and a bounded cache
//! that compresses each version of a file once.
//!
//! Why a cache here rather than `.gz`/`.br` siblings written by the build:
//! the build and `push` stay as they are (no second and third file per
//! feed to write atomically, prune, list in the manifest and keep out of
//! push targets), and a version is compressed only once somebody asks for
//! it. The key is (path, `ETag`, encoding): the `ETag` comes from the open
//! handle the body is read from, so a cached body is always the one of the
//! version it is served for, and a new version is a new key (the old
//! one's entries go as soon as it appears). Concurrent requests for a
//! version not compressed yet wait for one compression, not one each.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hyper::body::Bytes;
use hyper::header::{self, HeaderMap};
use tokio::sync::OnceCell;

/// Files smaller than this are sent as they are.
const MIN_SIZE: u64 = 256;

/// gzip's level and brotli's quality: good ratios at tens of MB/s, paid
/// once per version.
const GZIP_LEVEL: u32 = 6;
const BROTLI_QUALITY: u32 = 6;
const BROTLI_WINDOW: u32 = 22;

/// A body's content coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// Its `Content-Encoding` token.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Brotli => "br",
        }
    }
}

/// Whether a file of this kind and size is worth compressing: text, and
/// not tiny.
pub fn worth_it(path: &Path, len: u64) -> bool {
    len >= MIN_SIZE && crate::config::media_type(path).contains("charset=utf-8")
}

/// The encoding `Accept-Encoding` prefers (RFC 9110 12.5.3): brotli over
/// gzip at equal weight, none unless one has a weight above zero.
pub fn choose(headers: &HeaderMap) -> Encoding {
    let (mut br, mut gzip, mut star) = (None::<f32>, None::<f32>, None::<f32>);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if coding.eq_ignore_ascii_case("br") {
                br = Some(q);
            } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                gzip = Some(q);
            } else if coding == "*" {
                star = Some(q);
            }
        }
    }
    let br = br.or(star).unwrap_or(0.0);
    let gzip = gzip.or(star).unwrap_or(0.0);
    if br > 0.0 && br >= gzip {
        Encoding::Brotli
    } else if gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// What the cache holds a compressed body under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub path: PathBuf,
    pub etag: String,
    pub encoding: Encoding,
}

/// One version's compressed body: filled once; `None` when compressing
/// did not make it smaller.
type Slot = Arc<OnceCell<Option<Bytes>>>;

struct Entry {
    slot: Slot,
    /// When it was last used, on the cache's clock (for eviction).
    used: AtomicU64,
}

/// Compressed bodies, at most `capacity` bytes of them.
pub struct Cache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    /// Bytes held by filled entries.
    held: usize,
    clock: u64,
}

impl Cache {
    pub fn new(capacity: usize) -> Cache {
        Cache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// The body of `key`'s version in its encoding, compressed now if it is
    /// not held (from the handle `open` gives, `len` bytes long), or
    /// `None` when it is not worth it.
    pub async fn get_or_compress(
        &self,
        key: Key,
        len: u64,
        open: impl FnOnce() -> std::io::Result<std::fs::File>,
    ) -> std::io::Result<Option<Bytes>> {
        let slot = {
            let mut inner = self.lock();
            inner.clock += 1;
            let clock = inner.clock;
            if let Some(entry) = inner.entries.get(&key) {
                entry.used.store(clock, Ordering::Relaxed);
                if let Some(found) = entry.slot.get() {
                    return Ok(found.clone());
                }
                entry.slot.clone()
            } else {
                // A newer version replaces the older ones of the same path.
                let stale: Vec<Key> = inner
                    .entries
                    .keys()
                    .filter(|k| k.path == key.path && k.etag != key.etag)
                    .cloned()
                    .collect();
                for k in stale {
                    inner.remove(&k);
                }
                let slot = Slot::default();
                inner.entries.insert(
                    key.clone(),
                    Entry {
                        slot: slot.clone(),
                        used: AtomicU64::new(clock),
                    },
                );
                slot
            }
        };
        let file = open()?;
        let encoding = key.encoding;
        let found = slot
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || compress(file, len, encoding))
                    .await
                    .map_err(std::io::Error::other)?
            })
            .await;
        let found = match found {
            Ok(found) => found.clone(),
            Err(e) => {
                // Not held: the next request tries again.
                let mut inner = self.lock();
                if inner
                    .entries
                    .get(&key)
                    .is_some_and(|e| Arc::ptr_eq(&e.slot, &slot))
                {
                    inner.entries.remove(&key);
                }
                return Err(e);
            }
        };
        let size = found.as_ref().map_or(0, |b| b.len());
        let mut inner = self.lock();
        // Count it once, and only while it is still in the map.
        if inner
            .entries
            .get(&key)
            .is_some_and(|e| Arc::ptr_eq(&e.slot, &slot))
        {
            inner.held += size;
            inner.evict(self.capacity);
        }
        Ok(found)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves nothing half-done in it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes of compressed bodies held (for tests).
    #[cfg(test)]
    fn held(&self) -> usize {
        self.lock().held
    }
}

impl Inner {
    fn remove(&mut self, key: &Key) {
        if let Some(entry) = self.entries.remove(key) {
            let size = entry
                .slot
                .get()
                .map_or(0, |b| b.as_ref().map_or(0, |b| b.len()));
            self.held -= size.min(self.held);
        }
    }

    /// Drops the least recently used filled entries until at most
    /// `capacity` bytes are held.
    fn evict(&mut self, capacity: usize) {
        while self.held > capacity {
            let oldest = self
                .entries
                .iter()
                .filter(|(_, e)| e.slot.initialized())
                .min_by_key(|(_, e)| e.used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.remove(&k),
                None => break,
            }
        }
    }
}

/// Reads `len` bytes from `file` and compresses them; `None` when that
/// does not make them smaller.
fn compress(
    mut file: std::fs::File,
    len: u64,
    encoding: Encoding,
) -> std::io::Result<Option<Bytes>> {
    let mut raw = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    (&mut file).take(len).read_to_end(&mut raw)?;
    let out = Vec::with_capacity(raw.len() / 4);
    let out = match encoding {
        Encoding::Identity => return Ok(None),
        Encoding::Gzip => {
            let mut w = flate2::write::GzEncoder::new(out, flate2::Compression::new(GZIP_LEVEL));
            w.write_all(&raw)?;
            w.finish()?
        }
        Encoding::Brotli => {
            let mut w =
                brotli::CompressorWriter::new(out, 64 * 1024, BROTLI_QUALITY, BROTLI_WINDOW);
            w.write_all(&raw)?;
            w.flush()?;
            w.into_inner()
        }
    };
    Ok((out.len() < raw.len()).then(|| Bytes::from(out)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn accept(value: &str) -> Encoding {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        choose(&h)
    }

    #[test]
    fn the_reader_chooses_the_encoding() {
        assert_eq!(accept("gzip"), Encoding::Gzip);
        assert_eq!(accept("gzip, deflate, br, zstd"), Encoding::Brotli);
        assert_eq!(accept("br;q=0.5, gzip"), Encoding::Gzip);
        assert_eq!(accept("br;q=0, gzip;q=0"), Encoding::Identity);
        assert_eq!(accept("*"), Encoding::Brotli);
        assert_eq!(accept("*;q=0.1, br;q=0"), Encoding::Gzip);
        assert_eq!(accept("identity"), Encoding::Identity);
        assert_eq!(accept("deflate"), Encoding::Identity);
        assert_eq!(choose(&HeaderMap::new()), Encoding::Identity);
    }

    fn file_with(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[tokio::test]
    async fn each_version_is_compressed_once_and_the_cache_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        // Words in a pseudo-random order: a few KB once compressed.
        let words = [
            "feed", "item", "wire", "Seoul", "story", "<title>", "</title>", "news",
        ];
        let mut rng = 1u64;
        let text: String = (0..6000)
            .map(|_| {
                rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
                words[(rng >> 61) as usize]
            })
            .collect::<Vec<_>>()
            .join(" ");
        const CAPACITY: usize = 16 * 1024;
        let cache = Cache::new(CAPACITY);
        let mut calls = 0;
        let path = file_with(dir.path(), "a.rss", text.as_bytes());
        let key = |etag: &str| Key {
            path: path.clone(),
            etag: etag.to_owned(),
            encoding: Encoding::Gzip,
        };
        let len = text.len() as u64;
        for _ in 0..3 {
            let body = cache
                .get_or_compress(key("v1"), len, || {
                    calls += 1;
                    std::fs::File::open(&path)
                })
                .await
                .unwrap()
                .unwrap();
            let mut back = String::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_string(&mut back)
                .unwrap();
            assert_eq!(back, text);
        }
        assert_eq!(calls, 1, "compressed once");
        let held = cache.held();
        assert!(held > 1024 && held <= CAPACITY, "{held}");
        // A new version replaces the old one.
        cache
            .get_or_compress(key("v2"), len, || std::fs::File::open(&path))
            .await
            .unwrap();
        assert_eq!(cache.lock().entries.len(), 1);
        // Other files push the oldest out.
        for i in 0..20 {
            let other = file_with(dir.path(), &format!("{i}.rss"), text.as_bytes());
            let k = Key {
                path: other.clone(),
                etag: "v".into(),
                encoding: Encoding::Brotli,
            };
            cache
                .get_or_compress(k, len, || std::fs::File::open(&other))
                .await
                .unwrap();
            assert!(cache.held() <= CAPACITY, "{}", cache.held());
        }
        assert!(cache.lock().entries.len() < 20);
        // Incompressible bytes are not worth it.
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (rng >> 56) as u8
            })
            .collect();
        let n = file_with(dir.path(), "n.json", &noise);
        let k = Key {
            path: n.clone(),
            etag: "v".into(),
            encoding: Encoding::Gzip,
        };
        let found = cache
            .get_or_compress(k, noise.len() as u64, || std::fs::File::open(&n))
            .await
            .unwrap();
        assert!(found.is_none());
    }
}
