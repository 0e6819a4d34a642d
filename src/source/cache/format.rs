//! The cache file's whole byte format, written and read here alone. A
//! change to anything in this file that changes bytes must change
//! [`MAGIC`]: a test pins the bytes of a known record, so a format change
//! that forgets to fails it.
//!
//! ```text
//! file    MAGIC, frame(fingerprint), then per listed file, in path order:
//!         frame(key), frame(body)
//! frame   u32 little-endian length, then that many bytes
//! key     the path's bytes, then the stamp: len u64, modified_ns i128,
//!         changed_ns i128, inode u64 (little-endian, fixed width)
//! body    bool legacy_encoded, varint count, then per outcome:
//!           varint 0, str id, varint line, time published, time updated,
//!                     texts categories, texts authors, bool draft,
//!                     status (one byte: 0 usable, 1 withheld, 2 canceled),
//!                     varint revision (0 none, else the number + 1),
//!                     bool embargoed, then (if true) time embargo
//!           varint 1, varint line, str reason
//! varint  7 bits a byte, low first, high bit set on all but the last
//! str     varint length, UTF-8 bytes;   texts: varint count, strs
//! time    zigzag varint seconds, varint nanoseconds, zigzag varint
//!         offset seconds
//! bool    one byte, 0 or 1
//! ```

use std::borrow::Cow;
use std::ops::Range;

use chrono::{DateTime, FixedOffset};

use super::{FileRecord, Outcome};
use crate::model::{ItemKey, Status, Texts};
use crate::source::Stamp;

/// Starts every cache file; another version's cache is ignored.
pub(super) const MAGIC: &[u8; 8] = b"WFCACHE5";

/// No record is this large (a damaged length must not allocate gigabytes).
pub(super) const MAX_FRAME: usize = 64 << 20;

/// Appends a record's body: whether the file was decoded as EUC-KR, and
/// what it gave.
pub(super) fn encode_body(legacy_encoded: bool, results: &[Outcome<'_>], out: &mut Vec<u8>) {
    let mut out = Output(out);
    out.bool(legacy_encoded);
    out.varint(results.len() as u64);
    for outcome in results {
        match outcome {
            Outcome::Key(key) => {
                out.varint(0);
                out.str(&key.id);
                out.varint(key.line as u64);
                out.time(&key.published);
                out.time(&key.updated);
                out.texts(&key.categories);
                out.texts(&key.authors);
                out.bool(key.draft);
                out.0.push(match key.status {
                    Status::Usable => 0,
                    Status::Withheld => 1,
                    Status::Canceled => 2,
                });
                out.varint(key.revision.map_or(0, |r| u64::from(r) + 1));
                out.bool(key.embargo.is_some());
                if let Some(embargo) = &key.embargo {
                    out.time(embargo);
                }
            }
            Outcome::Error { line, reason } => {
                out.varint(1);
                out.varint(*line as u64);
                out.str(reason);
            }
        }
    }
}

/// Where a body is being written.
struct Output<'o>(&'o mut Vec<u8>);

impl Output<'_> {
    fn bool(&mut self, b: bool) {
        self.0.push(u8::from(b));
    }

    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.0.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.0.push(n as u8);
    }

    fn str(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn texts(&mut self, texts: &Texts<'_>) {
        self.varint(texts.len() as u64);
        for t in texts {
            self.str(t);
        }
    }

    /// (seconds, nanoseconds, offset seconds), zigzag-encoded where
    /// signed: far cheaper to store and load than RFC 3339 text, and the
    /// offset is kept.
    fn time(&mut self, t: &DateTime<FixedOffset>) {
        let zigzag = |n: i64| ((n << 1) ^ (n >> 63)) as u64;
        self.varint(zigzag(t.timestamp()));
        self.varint(u64::from(t.timestamp_subsec_nanos()));
        self.varint(zigzag(i64::from(t.offset().local_minus_utc())));
    }
}

/// Decodes a record's body (as [`encode_body`] wrote it) into a
/// [`FileRecord`], its texts borrowed from `bytes`; `None` when the bytes are
/// no valid body. A cached build decodes one per file. Without `authors`,
/// author names are stepped over, not checked or kept.
pub(super) fn decode_body(bytes: &[u8], authors: bool) -> Option<FileRecord<'_>> {
    let mut input = Input(bytes);
    let legacy_encoded = input.bool()?;
    let count = input.len()?;
    let mut results = smallvec::SmallVec::new();
    for _ in 0..count {
        let outcome = match input.varint(5)? {
            0 => Outcome::Key(ItemKey {
                id: Cow::Borrowed(input.str()?),
                line: input.usize()?,
                published: input.time()?,
                updated: input.time()?,
                categories: input.texts()?,
                authors: match authors {
                    true => input.texts()?,
                    false => input.skip_texts()?,
                },
                draft: input.bool()?,
                status: match input.byte()? {
                    0 => Status::Usable,
                    1 => Status::Withheld,
                    2 => Status::Canceled,
                    _ => return None,
                },
                revision: match input.varint(5)? {
                    0 => None,
                    n => Some(u32::try_from(n - 1).ok()?),
                },
                embargo: match input.bool()? {
                    true => Some(input.time()?),
                    false => None,
                },
            }),
            1 => Outcome::Error {
                line: input.usize()?,
                reason: Cow::Borrowed(input.str()?),
            },
            _ => return None,
        };
        results.push(outcome);
    }
    Some(FileRecord {
        legacy_encoded,
        results,
    })
}

/// What is left of a record's body to decode.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn bool(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    /// An unsigned varint of at most `max` bytes (7 bits each, low first).
    fn varint(&mut self, max: u32) -> Option<u64> {
        let mut value = 0u64;
        for i in 0..max {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            let shift = 7 * i;
            // No bits past the type's width.
            if shift > 0 && (bits << shift) >> shift != bits {
                return None;
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.varint(10)?).ok()
    }

    fn len(&mut self) -> Option<usize> {
        self.usize()
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.len()?;
        if len > self.0.len() {
            return None;
        }
        let (bytes, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(bytes)
    }

    fn str(&mut self) -> Option<&'a str> {
        let bytes = self.bytes()?;
        // Ids and categories are short and mostly ASCII: checked a word
        // at a time, where the general check goes byte by byte (it was 6%
        // of a cached build's instructions).
        if bytes.is_ascii() {
            // SAFETY: ASCII bytes are UTF-8.
            return Some(unsafe { std::str::from_utf8_unchecked(bytes) });
        }
        std::str::from_utf8(bytes).ok()
    }

    fn texts(&mut self) -> Option<Texts<'a>> {
        let count = self.len()?;
        let mut texts = Texts::new();
        for _ in 0..count {
            texts.push(Cow::Borrowed(self.str()?));
        }
        Some(texts)
    }

    fn skip_texts(&mut self) -> Option<Texts<'a>> {
        for _ in 0..self.len()? {
            self.bytes()?;
        }
        Some(Texts::new())
    }

    /// A time as [`Output::time`] writes it.
    fn time(&mut self) -> Option<DateTime<FixedOffset>> {
        let zigzag = |n: u64| (n >> 1) as i64 ^ -((n & 1) as i64);
        let secs = zigzag(self.varint(10)?);
        let nanos = u32::try_from(self.varint(5)?).ok()?;
        let offset = i32::try_from(zigzag(self.varint(5)?)).ok()?;
        let offset = FixedOffset::east_opt(offset)?;
        DateTime::from_timestamp(secs, nanos).map(|t| t.with_timezone(&offset))
    }
}

/// The bytes a stamp takes at the end of a key.
const STAMP_LEN: usize = 8 + 16 + 16 + 8;

/// A record's key: its path's bytes, then its stamp in fixed-width
/// little-endian fields (read once per listed file: no varints, and the
/// path is only compared with listed paths, never checked for UTF-8).
pub(super) fn encode_key(path: &str, stamp: &Stamp, out: &mut Vec<u8>) {
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(&stamp.len.to_le_bytes());
    out.extend_from_slice(&stamp.modified_ns.to_le_bytes());
    out.extend_from_slice(&stamp.changed_ns.to_le_bytes());
    out.extend_from_slice(&stamp.inode.to_le_bytes());
}

/// Where a key's path is in it, and its stamp.
pub(super) fn decode_key(key: &[u8]) -> Option<(Range<usize>, Stamp)> {
    let path_len = key.len().checked_sub(STAMP_LEN)?;
    let tail = &key[path_len..];
    let u64_at = |at: usize| tail[at..at + 8].try_into().ok().map(u64::from_le_bytes);
    let i128_at = |at: usize| tail[at..at + 16].try_into().ok().map(i128::from_le_bytes);
    let stamp = Stamp {
        len: u64_at(0)?,
        modified_ns: i128_at(8)?,
        changed_ns: i128_at(24)?,
        inode: u64_at(40)?,
    };
    Some((0..path_len, stamp))
}

pub(super) fn push_frame(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::super::tests::own;
    use super::*;
    use chrono::DateTime;

    const PINNED_BODY: &[u8] = &[
        1, 2, 0, 4, 65, 69, 78, 49, 172, 2, 128, 138, 237, 171, 13, 128, 202, 181, 238, 1, 160,
        250, 3, 128, 138, 237, 171, 13, 128, 202, 181, 238, 1, 160, 250, 3, 1, 6, 235, 182, 129,
        237, 149, 156, 1, 3, 75, 105, 109, 0, 2, 4, 1, 128, 138, 237, 171, 13, 128, 202, 181, 238,
        1, 160, 250, 3, 1, 2, 3, 98, 97, 100,
    ];
    const PINNED_KEY: &[u8] = &[
        97, 47, 98, 46, 116, 120, 116, 1, 0, 0, 0, 0, 0, 0, 0, 254, 255, 255, 255, 255, 255, 255,
        255, 255, 255, 255, 255, 255, 255, 255, 255, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 4, 0, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn bodies_decode_to_what_was_encoded_and_no_prefix_decodes() {
        // Awkward texts, many or no categories, times far apart, offsets
        // east and west, long lines, errors: every body decodes to what
        // was encoded (without authors: the same, authors left out), and
        // no cut-off prefix of it decodes at all.
        let texts = ["", "a", "Seoul", "북한", "x\"<&>\u{0}", &"long ".repeat(40)];
        let times = [
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59.999999999-12:00",
            "2026-10-01T09:00:00.5+09:00",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00-00:30",
        ];
        let without_authors = |mut c: FileRecord<'static>| {
            for outcome in c.results.iter_mut() {
                if let Outcome::Key(h) = outcome {
                    h.authors.clear();
                }
            }
            c
        };
        let mut bodies = Vec::new();
        for (i, time) in times.iter().enumerate() {
            let t = DateTime::parse_from_rfc3339(time).unwrap();
            for n in [0, 1, 4, 5, 9] {
                let pick = |k: usize| -> Cow<'static, str> {
                    texts[(i + k * 7) % texts.len()].to_owned().into()
                };
                let header = ItemKey {
                    id: pick(n),
                    line: [1, 127, 128, 1 << 20, usize::MAX][n % 5],
                    published: t,
                    updated: DateTime::parse_from_rfc3339(times[(i + n) % 5]).unwrap(),
                    categories: (0..n).map(pick).collect(),
                    authors: (0..(n + 1) % 3).map(|k| pick(k + 2)).collect(),
                    draft: n % 2 == 1,
                    status: [Status::Usable, Status::Withheld, Status::Canceled][n % 3],
                    revision: [None, Some(0), Some(1), Some(u32::MAX)][n % 4],
                    embargo: (n % 2 == 0).then_some(t),
                };
                let error = Outcome::Error {
                    line: n * 300,
                    reason: pick(n + 1),
                };
                let results = match n {
                    0 => vec![],
                    1 => vec![Outcome::Key(header)],
                    _ => vec![Outcome::Key(header.clone()), error, Outcome::Key(header)],
                };
                let mut body = Vec::new();
                encode_body(n == 4, &results, &mut body);
                let cached = FileRecord {
                    legacy_encoded: n == 4,
                    results: results.into_iter().collect(),
                };
                bodies.push((body, Some(cached)));
            }
        }
        let owned = |c: FileRecord<'_>| FileRecord {
            legacy_encoded: c.legacy_encoded,
            results: c.results.into_iter().map(own).collect(),
        };
        // Bytes that are no valid body, too.
        let bad: [&[u8]; 4] = [&[2, 0], &[0, 1, 2], &[0, 1, 0, 1, 0xff], &[0, 0xff, 0xff]];
        bodies.extend(bad.iter().map(|b| (b.to_vec(), None)));
        for (body, expected) in bodies {
            for cut in 0..=body.len() {
                let part = &body[..cut];
                let expected = match cut == body.len() {
                    true => expected.clone(),
                    false => None,
                };
                let got = decode_body(part, true).map(owned);
                assert_eq!(got, expected, "{body:?} cut at {cut}");
                let lean = decode_body(part, false).map(owned);
                assert_eq!(lean, expected.map(without_authors), "{body:?} cut at {cut}");
            }
        }
    }

    /// The bytes of one record, pinned: if this fails, the format changed,
    /// and [`MAGIC`] must change with it (then update these bytes).
    #[test]
    fn the_format_is_pinned() {
        assert_eq!(MAGIC, b"WFCACHE5");
        let t = DateTime::parse_from_rfc3339("2026-10-01T09:00:00.5+09:00").unwrap();
        let results = [
            Outcome::Key(ItemKey {
                id: "AEN1".into(),
                line: 300,
                published: t,
                updated: t,
                categories: vec!["북한".into()].into(),
                authors: vec!["Kim".into()].into(),
                draft: false,
                status: Status::Canceled,
                revision: Some(3),
                embargo: Some(t),
            }),
            Outcome::Error {
                line: 2,
                reason: "bad".into(),
            },
        ];
        let mut body = Vec::new();
        encode_body(true, &results, &mut body);
        assert_eq!(body, PINNED_BODY);
        let stamp = Stamp {
            len: 1,
            modified_ns: -2,
            changed_ns: 3,
            inode: 4,
        };
        let mut key = Vec::new();
        encode_key("a/b.txt", &stamp, &mut key);
        assert_eq!(key, PINNED_KEY);
        assert_eq!(decode_key(&key), Some((0..7, stamp)));
    }
}
