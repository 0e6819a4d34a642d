//! The plain data handed from one pipeline stage to the next.
//!
//! `source` produces [`Article`]s (what a file said, as it said it),
//! `normalize` turns each into an [`Item`] (everything a feed needs, already
//! cleaned and complete), and `select` groups items into [`Feed`]s. No type
//! here does I/O or knows about a feed format.

use std::borrow::Cow;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};

/// The format an article file was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArticleFormat {
    /// A news-wire text story (`.txt`).
    Wire,
    /// Markdown with YAML or TOML front matter (`.md`).
    Markdown,
    /// A JSON object, array of objects, or JSON Lines (`.json`, `.jsonl`);
    /// with `format = "auto"`, a ninjs object is read as [`Self::Ninjs`].
    Json,
    /// An XML file whose root says what it is: a NewsML-G2 `newsItem` or
    /// `newsMessage`, or an NITF document (`format = "auto"`, `.xml`).
    Xml,
    /// IPTC NewsML-G2: a `newsItem`, or a `newsMessage` of several items.
    NewsMlG2,
    /// IPTC NITF (News Industry Text Format).
    Nitf,
    /// IPTC ninjs (news in JSON), 1.x or 2.x.
    Ninjs,
}

/// Where an item stands with its provider: IPTC `pubStatus` (ninjs
/// `pubstatus`, NITF `management-status`), or front matter `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Status {
    /// Published (IPTC `usable`).
    #[default]
    Usable,
    /// Not to be published for now (IPTC `withheld`).
    Withheld,
    /// Killed: removed from every feed, even after an earlier version went
    /// out (IPTC `canceled`).
    Canceled,
}

/// What a wire desk needs besides the story, when the source gives it: JSON
/// Feed `_wirefeed` (`urgency`, `slugline`, `signals`, `ednote`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WireMeta {
    /// IPTC urgency, 1 (most urgent) to 9.
    pub urgency: Option<u8>,
    /// The slugline, a short name for the story as the desk knows it.
    pub slugline: Option<String>,
    /// IPTC signals (`sig:update`, `sig:correction`), as given.
    pub signals: Vec<String>,
    /// An editorial note to the desk (G2 `edNote`, NITF `ed-msg`, ninjs
    /// `ednote`).
    pub ednote: Option<String>,
}

/// A story's picture.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Image {
    /// Its URL (absolute after normalize).
    pub url: String,
    /// Media type, e.g. `image/jpeg`, when given or known from the URL.
    pub mime_type: Option<String>,
    /// Size in bytes, when given.
    pub length: Option<u64>,
    /// Width in pixels, when given.
    pub width: Option<u32>,
    /// Height in pixels, when given.
    pub height: Option<u32>,
}

/// A person credited with an article.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Person {
    /// Display name, e.g. `Park Boram`. RSS `dc:creator`, Atom `author/name`,
    /// JSON Feed `authors[].name`.
    pub name: String,
    /// The name in the reporter's own script when the source gives it,
    /// e.g. `박보람`. JSON Feed `_wirefeed.authors_native`.
    pub native_name: Option<String>,
    /// E-mail address when the source gives one (`Name <addr>`). RSS
    /// `author` (as `addr (Name)`), Atom `author/email`.
    pub email: Option<String>,
}

/// Where and from whom a wire story was filed: `SEOUL, Sept. 2 (Yonhap) --`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dateline {
    /// `SEOUL`.
    pub place: String,
    /// `Yonhap`.
    pub agency: String,
}

/// A file attached to an item (podcast audio, a PDF, a large image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enclosure {
    /// Absolute URL of the file.
    pub url: String,
    /// MIME type, e.g. `audio/mpeg`.
    pub mime_type: String,
    /// Size in bytes.
    pub length: u64,
}

/// The body of an article as its source gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Plain-text paragraphs (wire stories, JSON `content_text`).
    Paragraphs(Vec<String>),
    /// HTML that has not been sanitized yet (rendered Markdown, JSON
    /// `content_html`).
    Html(String),
}

/// One article as read from its file: fields are what the file said,
/// trimmed but not yet cleaned, sanitized or completed with defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// The file it came from.
    pub path: PathBuf,
    /// Line in `path` where the article starts (1 for single-article files).
    pub line: usize,
    /// The file's format.
    pub format: ArticleFormat,
    /// An id the article gives explicitly (front matter `id`, a wire story
    /// id in the file name).
    pub id: Option<String>,
    /// A short, stable name derived from the file (its stem), used for an id
    /// when there is no explicit one.
    pub stem: String,
    /// The headline, with any version tag kept.
    pub title: String,
    /// A wire version tag such as `LEAD`, `2nd LD`, `URGENT`.
    pub version: Option<String>,
    /// Credited authors, in byline order.
    pub authors: Vec<Person>,
    /// First publication, with the offset the source gave (or the site's).
    pub published: DateTime<FixedOffset>,
    /// Last substantive update, if the source gives one.
    pub updated: Option<DateTime<FixedOffset>>,
    /// Categories or tags, in source order.
    pub categories: Vec<String>,
    /// Wire dateline, when the first paragraph has one.
    pub dateline: Option<Dateline>,
    /// An explicit summary (front matter, JSON). Wire stories leave it empty;
    /// normalize uses the lede.
    pub summary: Option<String>,
    /// The body as given.
    pub body: Body,
    /// Rights statement (`ⓒ K-VIBE. 무단전재-재배포 금지`).
    pub rights: Option<String>,
    /// A link to the article's page, when the source gives one.
    pub link: Option<String>,
    /// A lead image.
    pub image: Option<Image>,
    /// An attached file.
    pub enclosure: Option<Enclosure>,
    /// Language tag (`en`, `ko`), when the source gives one.
    pub language: Option<String>,
    /// Drafts are read and checked but never published.
    pub draft: bool,
    /// Withheld and canceled articles are never published.
    pub status: Status,
    /// IPTC version number (G2 `version`, ninjs `version`, NITF `du-key`
    /// `version`): of several articles with one id, the highest wins.
    /// `None` for formats without versions.
    pub revision: Option<u32>,
    /// Not to be published before this time (G2 `embargoed`, NITF
    /// `date.release`, ninjs `embargoed`).
    pub embargo: Option<DateTime<FixedOffset>>,
    /// Urgency, slugline, signals, editorial note.
    pub wire: WireMeta,
}

/// A feed item: complete, cleaned and ready to render. Renderers never fail
/// on a missing field and never write a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Globally unique, stable id, an absolute IRI (a `tag:` URI unless the
    /// article gave an absolute one). RSS `guid`, Atom `id`, JSON Feed `id`.
    pub id: String,
    /// Headline, plain text. RSS `title`, Atom `title type="text"`, JSON
    /// Feed `title`.
    pub title: String,
    /// Wire version tag (`LEAD`, `2nd LD`). JSON Feed `_wirefeed.version`.
    pub version: Option<String>,
    /// Absolute URL of the article's page. RSS `link`, Atom
    /// `link rel="alternate"`, JSON Feed `url`.
    pub link: Option<String>,
    /// At least one author (the site's default when the article names
    /// none). RSS `dc:creator` (or `author`, when the one author has an
    /// e-mail), Atom `author`, JSON Feed `authors`.
    pub authors: Vec<Person>,
    /// First publication. RSS `pubDate`, Atom `published`, JSON Feed
    /// `date_published`.
    pub published: DateTime<FixedOffset>,
    /// Last update, never before `published`. Atom `updated`, JSON Feed
    /// `date_modified`.
    pub updated: DateTime<FixedOffset>,
    /// RSS `category`, Atom `category term`, JSON Feed `tags`.
    pub categories: Vec<String>,
    /// JSON Feed `_wirefeed.dateline`.
    pub dateline: Option<Dateline>,
    /// Plain-text summary. RSS `description` (escaped), Atom `summary`,
    /// JSON Feed `summary`.
    pub summary: Option<String>,
    /// Sanitized HTML. RSS `content:encoded`, Atom `content type="html"`,
    /// JSON Feed `content_html`.
    pub content_html: String,
    /// Atom `rights`, JSON Feed `_wirefeed.rights`.
    pub rights: Option<String>,
    /// Atom `content xml:lang` when it differs from the feed's, JSON Feed
    /// `language`.
    pub language: Option<String>,
    /// The story's picture, absolute http(s). RSS `media:content` and
    /// `media:thumbnail` (Media RSS), Atom `link rel="enclosure"` (unless
    /// the item has an enclosure of its own), JSON Feed `image`.
    pub image: Option<Image>,
    /// RSS `enclosure`, Atom `link rel="enclosure"`, JSON Feed `attachments`.
    pub enclosure: Option<Enclosure>,
    /// Never published while true.
    pub draft: bool,
    /// Never published unless usable.
    pub status: Status,
    /// See [`Article::revision`]. JSON Feed `_wirefeed.revision`.
    pub revision: Option<u32>,
    /// Not published before this time.
    pub embargo: Option<DateTime<FixedOffset>>,
    /// JSON Feed `_wirefeed` (`urgency`, `slugline`, `signals`, `ednote`).
    pub wire: WireMeta,
    /// The source file, for messages.
    pub source: PathBuf,
    /// The line in `source` where the article starts.
    pub line: usize,
}

/// What selection needs to know of an item, and all that the build cache
/// keeps of it: small enough to hold for every article of a large archive.
/// Its texts are borrowed when it is read from the cache (no copy for the
/// many articles that are not published) and owned when an article was
/// just parsed. The cache's byte format is `source::cache`'s alone.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemKey<'a> {
    /// The item's id (see [`Item::id`]).
    pub id: Cow<'a, str>,
    /// Line in the source file where the article starts.
    pub line: usize,
    /// See [`Item::published`].
    pub published: DateTime<FixedOffset>,
    /// See [`Item::updated`].
    pub updated: DateTime<FixedOffset>,
    /// See [`Item::categories`].
    pub categories: Texts<'a>,
    /// Author names and native names, for `authors` filters.
    pub authors: Texts<'a>,
    /// Never published while true.
    pub draft: bool,
    /// See [`Item::status`].
    pub status: Status,
    /// See [`Item::revision`]: which of several versions of an id wins.
    pub revision: Option<u32>,
    /// See [`Item::embargo`].
    pub embargo: Option<DateTime<FixedOffset>>,
}

/// A few texts (categories, names): held inline, so that reading a key
/// from the cache allocates nothing.
pub type Texts<'a> = smallvec::SmallVec<[Cow<'a, str>; 2]>;

/// A feed's metadata: everything but its items.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedInfo {
    /// File name without extension, e.g. `all` or `category/russia`.
    pub name: String,
    /// RSS/Atom/JSON Feed `title`.
    pub title: String,
    /// RSS `description`, Atom `subtitle`, JSON Feed `description`.
    pub description: String,
    /// The formats to write.
    pub formats: Vec<crate::config::Format>,
    /// The newest `updated` of its items. A feed with no items takes the
    /// newest of all published items (the site changed then), and with none
    /// at all the Unix epoch. RSS `lastBuildDate`, Atom `updated`.
    pub updated: DateTime<FixedOffset>,
    /// How many items it has.
    pub len: usize,
    /// Paging links of RFC 5005 archived feeds.
    pub archive: Archive,
}

/// Where a feed stands among its archive documents (RFC 5005). Feed names,
/// not URLs: the renderers make the URLs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Archive {
    /// True for an archive document (`fh:archive`): complete; its items
    /// never change once written.
    pub is_archive: bool,
    /// The subscription feed an archive document belongs to (`current`).
    pub current: Option<String>,
    /// The next older archive document (`prev-archive`; JSON Feed
    /// `next_url`).
    pub prev_archive: Option<String>,
    /// The next newer archive document, once it is full (`next-archive`):
    /// the one change a full archive document ever sees.
    pub next_archive: Option<String>,
}

/// A feed: its metadata and its items (`&Item`s to render, or whatever a
/// stage uses to stand for them), newest first: by (published desc, id).
#[derive(Debug, Clone, PartialEq)]
pub struct Feed<T> {
    /// Everything but the items.
    pub info: FeedInfo,
    /// The items, in order.
    pub items: Vec<T>,
}

/// A file's identity and version as the file system reports them: any
/// edit, touch, rename onto it or replacement changes at least one field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Size in bytes.
    pub len: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub modified_ns: i128,
    /// Status-change time, nanoseconds since the Unix epoch (0 where the
    /// platform has none).
    pub changed_ns: i128,
    /// Inode number (0 where the platform has none).
    pub inode: u64,
}
