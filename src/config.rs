//! `config.toml`: read, parse into typed tables, then check what parsing
//! cannot (folders exist, names are unique).
//!
//! In: the file's path. Out: a [`Config`] whose relative paths are already
//! resolved against the file's folder, or a [`ConfigError`] that names the
//! file, the line and the key. Nothing here reads articles.

use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

/// A feed file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// RSS 2.0, `NAME.rss`.
    Rss,
    /// Atom 1.0, `NAME.atom`.
    Atom,
    /// JSON Feed 1.1, `NAME.json`.
    Json,
}

impl Format {
    /// Every format, in the order files are written.
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    /// The media type autodiscovery links and feed links use (no charset).
    pub fn media_type(self) -> &'static str {
        let full = media_type_of_extension(self.extension());
        full.split_once(';').map_or(full, |(bare, _)| bare)
    }
}

/// The one table of media types: what `serve` sends, what push targets are
/// told, and (without the charset) what feeds and pages link with. Every
/// text file wirefeed writes is UTF-8.
const MEDIA_TYPES: [(&str, &str); 9] = [
    ("rss", "application/rss+xml; charset=utf-8"),
    ("atom", "application/atom+xml; charset=utf-8"),
    ("json", "application/feed+json; charset=utf-8"),
    ("opml", "text/x-opml; charset=utf-8"),
    ("html", "text/html; charset=utf-8"),
    ("xsl", "text/xsl; charset=utf-8"),
    ("xml", "application/xml; charset=utf-8"),
    ("css", "text/css; charset=utf-8"),
    ("txt", "text/plain; charset=utf-8"),
];

fn media_type_of_extension(extension: &str) -> &'static str {
    MEDIA_TYPES
        .iter()
        .find(|(e, _)| *e == extension)
        .map_or("application/octet-stream", |(_, t)| t)
}

/// The media type of an output file, by its extension, with its charset.
pub fn media_type(path: &Path) -> &'static str {
    path.extension()
        .and_then(|e| e.to_str())
        .map_or("application/octet-stream", media_type_of_extension)
}

/// How a source folder's files are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// By extension: `.txt` wire, `.md`/`.markdown` Markdown, `.json`/`.jsonl` JSON.
    #[default]
    Auto,
    /// Every file is a wire story.
    Wire,
    /// Every file is Markdown.
    Markdown,
    /// Every file is JSON (`.jsonl` is still read line by line).
    Json,
    /// Every file is IPTC NewsML-G2 (a `newsItem` or a `newsMessage`).
    #[serde(rename = "newsml-g2")]
    NewsMlG2,
    /// Every file is IPTC NITF.
    Nitf,
    /// Every file is IPTC ninjs.
    Ninjs,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Site-wide settings.
    pub site: Site,
    /// Where articles are read from.
    pub sources: Vec<Source>,
    /// The feeds to write.
    pub feeds: Vec<FeedConfig>,
    /// One feed per category, when configured.
    pub category_feeds: Option<CategoryFeeds>,
    /// The output folder (resolved).
    pub output: PathBuf,
    /// `[serve]`.
    pub serve: Serve,
    /// `[[push]]` targets.
    pub push: Vec<PushTarget>,
    /// `[websub]`.
    pub websub: Option<WebSub>,
    /// `[schedule]`.
    pub schedule: Option<Schedule>,
    /// `[schedule] watch`: whether `run` also publishes as soon as a
    /// source changes (default true).
    pub watch_sources: bool,
    /// `[metrics]`: `run`'s metrics listener and the health check's limit.
    pub metrics: Metrics,
}

/// `[metrics]`: where `run` answers `/metrics` and `/healthz`, and when
/// `/healthz` calls the last publish too old.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// `run`'s listener for `/metrics` and `/healthz`; none when absent.
    pub bind: Option<std::net::SocketAddr>,
    /// `/healthz` fails once the last successful publish is older than
    /// this; never when absent.
    pub max_publish_age: Option<std::time::Duration>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    bind: Option<std::net::SocketAddr>,
    max_publish_age: Option<Spanned<String>>,
}

impl RawMetrics {
    fn check(self) -> Result<Metrics, (std::ops::Range<usize>, String)> {
        let max_publish_age = match self.max_publish_age {
            None => None,
            Some(v) => Some(
                parse_duration(
                    "metrics.max_publish_age",
                    v.get_ref(),
                    std::time::Duration::from_secs(1),
                    std::time::Duration::from_secs(366 * 86400),
                )
                .map_err(|m| (v.span(), m))?,
            ),
        };
        Ok(Metrics {
            bind: self.bind,
            max_publish_age,
        })
    }
}

/// `[serve] metrics`: who may read `/metrics` on the serve port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsAccess {
    /// Clients on 127.0.0.1 or ::1 whose request came through no proxy
    /// (no `Forwarded` or `X-Forwarded-For` header); others get a 404.
    #[default]
    Loopback,
    /// Every client.
    Public,
    /// Nobody: `/metrics` is a 404.
    Off,
}

/// `[schedule]`: when `wirefeed run` builds and pushes.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Every so often (`every = "5m"`).
    Every(std::time::Duration),
    /// A five-field cron expression in the site's time zone
    /// (`cron = "*/5 * * * *"`).
    Cron(Box<croner::Cron>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    every: Option<Spanned<String>>,
    cron: Option<Spanned<String>>,
    watch: Option<bool>,
}

/// A crontab line's five fields (minute, hour, day of month, month, day of
/// week), as the README says: no seconds, no years, no `@` nicknames.
fn parse_cron(text: &str) -> Result<croner::Cron, String> {
    let fields = text.split_whitespace().count();
    if fields != 5 {
        return Err(format!(
            "give five fields (minute hour day-of-month month day-of-week), not {fields}"
        ));
    }
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .year(croner::parser::Year::Disallowed)
        .build()
        .parse(text)
        .map_err(|e| e.to_string())
}

/// `500ms`, `30s`, `5m`, `2h`, `1d`, between `min` and `max`; errors
/// name `key`.
fn parse_duration(
    key: &str,
    text: &str,
    min: std::time::Duration,
    max: std::time::Duration,
) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{key}: `{text}` is not a duration like 30s, 5m, 2h"))?;
    let unit_ms: u64 = match unit.trim() {
        "ms" => 1,
        "s" | "sec" | "" => 1000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => {
            return Err(format!(
                "{key}: unknown unit `{other}` (use ms, s, m, h or d)"
            ))
        }
    };
    let duration = n
        .checked_mul(unit_ms)
        .map(std::time::Duration::from_millis)
        .filter(|d| (min..=max).contains(d));
    duration.ok_or_else(|| {
        format!(
            "{key}: `{text}` must be between {} and {}",
            show_duration(min),
            show_duration(max)
        )
    })
}

/// A bound as a config would write it: `1s`, `366d`, `10ms`.
fn show_duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    match ms {
        _ if ms.is_multiple_of(86_400_000) && ms > 0 => format!("{}d", ms / 86_400_000),
        _ if ms.is_multiple_of(3_600_000) && ms > 0 => format!("{}h", ms / 3_600_000),
        _ if ms.is_multiple_of(1000) => format!("{}s", ms / 1000),
        _ => format!("{ms}ms"),
    }
}

/// How a push target takes files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PushKind {
    /// `PUT {url}{relative path}` for every changed file, `DELETE` for a
    /// file gone (WebDAV, CDNs, storage gateways).
    HttpPut,
    /// One `POST {url}` per push with a JSON list of the changed and
    /// removed feeds.
    Webhook,
    /// An S3 bucket (AWS or any S3-compatible store): `PutObject` and
    /// `DeleteObject` under `prefix`.
    S3,
}

/// `[[push]]`: a remote endpoint that receives what changed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushTarget {
    /// A short name, for the outbox and messages.
    pub name: String,
    /// `http-put`, `webhook` or `s3`.
    pub kind: PushKind,
    /// Base URL (`http-put`, a folder: ends in `/`) or endpoint
    /// (`webhook`); not for `s3`.
    #[serde(default)]
    pub url: Option<Url>,
    /// Environment variable holding a bearer token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// User for basic authentication.
    #[serde(default)]
    pub user: Option<String>,
    /// Environment variable holding the basic-authentication password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Extra request headers.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// Seconds a request may take.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Tries per file and push before it is left for the next push.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// `s3`: the bucket.
    #[serde(default)]
    pub bucket: Option<String>,
    /// `s3`: a key prefix (`site/`); default none.
    #[serde(default)]
    pub prefix: String,
    /// `s3`: an S3-compatible endpoint (`https://...`; `http://` only when
    /// written so); default AWS's for the region.
    #[serde(default)]
    pub endpoint: Option<Url>,
    /// `s3`: the region; default `us-east-1`.
    #[serde(default = "default_region")]
    pub region: String,
    /// `s3`: environment variable holding the access key id; default
    /// `AWS_ACCESS_KEY_ID`.
    #[serde(default)]
    pub access_key_env: Option<String>,
    /// `s3`: environment variable holding the secret key; default
    /// `AWS_SECRET_ACCESS_KEY`.
    #[serde(default)]
    pub secret_key_env: Option<String>,
    /// `s3`: environment variable holding a session token; default
    /// `AWS_SESSION_TOKEN` (used when set).
    #[serde(default)]
    pub session_token_env: Option<String>,
    /// `s3`: the `Cache-Control` every object gets.
    #[serde(default)]
    pub cache_control: Option<String>,
    /// `s3`: the `Cache-Control` of RFC 5005 archive pages (`NAME/archive/N.*`),
    /// which never change once full; default `cache_control`.
    #[serde(default)]
    pub archive_cache_control: Option<String>,
    /// Remove from the target what this wirefeed published there and is
    /// gone from the output folder; default true.
    #[serde(default = "default_true")]
    pub delete: bool,
    /// More deletions than this in one push: none is done, the push
    /// reports it (a broken build must not empty the site).
    #[serde(default = "default_max_deletes")]
    pub max_deletes: usize,
    /// `s3`: `lease = "30s"` (the default) or `lease = false`, as written.
    #[serde(default, rename = "lease")]
    lease_setting: Option<LeaseSetting>,
    /// `s3`: how long the lease lasts unless renewed (see `publish`'s
    /// lease); `None`: no lease, this wirefeed publishes whenever it runs.
    /// Set from `lease` at load.
    #[serde(skip)]
    pub lease: Option<std::time::Duration>,
}

/// `lease` as written: a switch or a duration.
#[derive(Debug, Clone)]
enum LeaseSetting {
    Switch(bool),
    For(String),
}

impl<'de> Deserialize<'de> for LeaseSetting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<LeaseSetting, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = LeaseSetting;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a duration like \"30s\", or false for no lease")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<LeaseSetting, E> {
                Ok(LeaseSetting::Switch(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<LeaseSetting, E> {
                Ok(LeaseSetting::For(v.to_owned()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// The lease a `kind = "s3"` target has unless its table says otherwise.
pub const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(30);

impl PushTarget {
    /// The `url` of an `http-put` or `webhook` target (checked at load).
    pub fn url(&self) -> Result<&Url, String> {
        self.url
            .as_ref()
            .ok_or_else(|| format!("push `{}`: no url", self.name))
    }

    /// `s3`: the variable holding the access key id.
    pub fn access_key_var(&self) -> &str {
        self.access_key_env
            .as_deref()
            .unwrap_or("AWS_ACCESS_KEY_ID")
    }

    /// `s3`: the variable holding the secret access key.
    pub fn secret_key_var(&self) -> &str {
        self.secret_key_env
            .as_deref()
            .unwrap_or("AWS_SECRET_ACCESS_KEY")
    }

    /// `s3`: the variable holding a session token (used when set).
    pub fn session_token_var(&self) -> &str {
        self.session_token_env
            .as_deref()
            .unwrap_or("AWS_SESSION_TOKEN")
    }

    /// The `Cache-Control` to send with `file`, if any.
    pub fn cache_control_of(&self, file: &str) -> Option<&str> {
        let archive = file
            .rsplit_once('/')
            .is_some_and(|(dir, _)| dir == "archive" || dir.ends_with("/archive"));
        match archive {
            true => self
                .archive_cache_control
                .as_deref()
                .or(self.cache_control.as_deref()),
            false => self.cache_control.as_deref(),
        }
    }
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

fn default_true() -> bool {
    true
}

fn default_max_deletes() -> usize {
    256
}

fn default_timeout() -> u64 {
    30
}

fn default_attempts() -> u32 {
    5
}

/// `[websub]`: the hub told about every changed feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSub {
    /// The hub's URL.
    pub hub: Url,
}

/// `[serve]`: how `wirefeed serve` answers, and the limits it keeps.
#[derive(Debug, Clone)]
pub struct Serve {
    /// Address to listen on; loopback unless told otherwise.
    pub bind: std::net::SocketAddr,
    /// `Cache-Control` sent with every file.
    pub cache_control: String,
    /// How long a client may take to send a request's headers, from its
    /// first byte (`header_timeout`, default 10 s).
    pub header_timeout: std::time::Duration,
    /// How long a connection may wait for its next request, or make no
    /// progress taking a response, before it is closed (`idle_timeout`,
    /// default 30 s).
    pub idle_timeout: std::time::Duration,
    /// How long requests in flight may still take once asked to stop
    /// (`shutdown_timeout`, default 10 s).
    pub shutdown_timeout: std::time::Duration,
    /// Connections served at once; more wait to be accepted
    /// (`max_connections`, default 512, less when few files may be open).
    pub max_connections: usize,
    /// Bytes of compressed bodies kept in memory (`compression_cache_mib`,
    /// default 64 MiB).
    pub compression_cache: usize,
    /// Who may read `/metrics` (`metrics`, default loopback clients only).
    pub metrics: MetricsAccess,
}

impl Default for Serve {
    fn default() -> Serve {
        Serve {
            bind: default_bind(),
            cache_control: default_cache_control(),
            header_timeout: std::time::Duration::from_secs(10),
            idle_timeout: std::time::Duration::from_secs(30),
            shutdown_timeout: std::time::Duration::from_secs(10),
            max_connections: default_max_connections(),
            compression_cache: 64 << 20,
            metrics: MetricsAccess::default(),
        }
    }
}

/// 512, or fewer when the process may not open two descriptors per
/// connection (a socket and the file it is sent) and some to spare.
fn default_max_connections() -> usize {
    let room = crate::sys::open_files_limit().map_or(usize::MAX, |n| {
        usize::try_from(n.saturating_sub(64) / 2).unwrap_or(usize::MAX)
    });
    room.clamp(16, 512)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServe {
    bind: Option<std::net::SocketAddr>,
    cache_control: Option<String>,
    header_timeout: Option<Spanned<String>>,
    idle_timeout: Option<Spanned<String>>,
    shutdown_timeout: Option<Spanned<String>>,
    max_connections: Option<Spanned<usize>>,
    compression_cache_mib: Option<Spanned<usize>>,
    metrics: Option<MetricsAccess>,
}

impl RawServe {
    /// Checks every value; errors carry the span of the value at fault.
    fn check(self) -> Result<Serve, (std::ops::Range<usize>, String)> {
        let d = Serve::default();
        let duration = |value: Option<Spanned<String>>,
                        key: &str,
                        min: std::time::Duration,
                        default: std::time::Duration| {
            match value {
                None => Ok(default),
                Some(v) => parse_duration(&format!("serve.{key}"), v.get_ref(), min, HOUR)
                    .map_err(|m| (v.span(), m)),
            }
        };
        const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);
        const MS: std::time::Duration = std::time::Duration::from_millis(1);
        let max_connections = match self.max_connections {
            None => d.max_connections,
            Some(n) if *n.get_ref() == 0 => {
                return Err((n.span(), "serve.max_connections: must be at least 1".into()))
            }
            Some(n) => n.into_inner(),
        };
        let compression_cache = match self.compression_cache_mib {
            None => d.compression_cache,
            Some(n) => n
                .get_ref()
                .checked_mul(1 << 20)
                .filter(|&b| b <= 1 << 40)
                .ok_or_else(|| {
                    (
                        n.span(),
                        "serve.compression_cache_mib: at most 1048576 (1 TiB)".into(),
                    )
                })?,
        };
        Ok(Serve {
            bind: self.bind.unwrap_or(d.bind),
            cache_control: self.cache_control.unwrap_or(d.cache_control),
            header_timeout: duration(self.header_timeout, "header_timeout", MS, d.header_timeout)?,
            idle_timeout: duration(self.idle_timeout, "idle_timeout", MS, d.idle_timeout)?,
            shutdown_timeout: duration(
                self.shutdown_timeout,
                "shutdown_timeout",
                std::time::Duration::ZERO,
                d.shutdown_timeout,
            )?,
            max_connections,
            compression_cache,
            metrics: self.metrics.unwrap_or_default(),
        })
    }
}

fn default_bind() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_cache_control() -> String {
    "public, max-age=300".to_owned()
}

/// `[site]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Site name, the default feed title.
    pub title: String,
    /// Default feed description.
    #[serde(default)]
    pub description: Option<String>,
    /// The site's home page; RSS channel `link`, Atom `link rel="alternate"`.
    pub base_url: Url,
    /// Where the feed files are served from; default `base_url` + `feeds/`.
    #[serde(default)]
    pub feeds_url: Option<Url>,
    /// Language tag, default `en`.
    #[serde(default = "default_language")]
    pub language: String,
    /// Time zone of wire time lines and of dates written without an offset.
    #[serde(default = "default_timezone")]
    pub timezone: Tz,
    /// Rights statement for the feeds and for articles that carry none.
    #[serde(default)]
    pub rights: Option<String>,
    /// Author credited when an article names none; default the site title.
    #[serde(default)]
    pub author: Option<String>,
    /// URL template for an item's link: `{id}` is replaced by the article's
    /// short id (explicit id or file stem).
    #[serde(default)]
    pub item_link: Option<String>,
    /// A small square image for the feeds (RSS `image`, Atom `icon`, JSON
    /// Feed `favicon`); http(s).
    #[serde(default)]
    pub icon: Option<Url>,
    /// A larger image for the feeds (Atom `logo`, JSON Feed `icon`; RSS
    /// `image` when there is no `icon`); http(s).
    #[serde(default)]
    pub logo: Option<Url>,
    /// The WebSub hub every feed names (from `[websub]`).
    #[serde(skip)]
    pub hub: Option<Url>,
}

fn default_language() -> String {
    "en".to_owned()
}

fn default_timezone() -> Tz {
    chrono_tz::Asia::Seoul
}

impl Site {
    /// The URL feed files are served from, always ending in `/`.
    pub fn feeds_url(&self) -> Url {
        match &self.feeds_url {
            Some(url) => with_trailing_slash(url.clone()),
            // Joining a relative path onto a valid base URL cannot fail.
            None => self
                .base_url
                .join("feeds/")
                .unwrap_or_else(|_| self.base_url.clone()),
        }
    }

    /// The absolute URL of feed `name` in `format`, percent-encoded (a
    /// category feed's name may be in any script).
    pub fn feed_url(&self, name: &str, format: Format) -> String {
        let base = self.feeds_url();
        let file = format!("{name}.{}", format.extension());
        match base.join(&file) {
            Ok(url) => url.to_string(),
            Err(_) => format!("{base}{file}"),
        }
    }

    /// The absolute URL of output file `file` (a relative path).
    pub fn feed_url_of_file(&self, file: &str) -> String {
        let base = self.feeds_url();
        match base.join(file) {
            Ok(url) => url.to_string(),
            Err(_) => format!("{base}{file}"),
        }
    }

    /// The authority part of `tag:` ids: the host of `base_url`.
    pub fn tag_authority(&self) -> &str {
        self.base_url.host_str().unwrap_or("localhost")
    }

    /// The default author's name.
    pub fn author_name(&self) -> &str {
        self.author.as_deref().unwrap_or(&self.title)
    }
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// `[[source]]`.
#[derive(Debug, Clone)]
pub struct Source {
    /// Folder to read, resolved against the config file's folder.
    pub path: PathBuf,
    /// How to read its files.
    pub format: SourceFormat,
}

/// `[[feed]]`.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// File name without extension; letters, digits, `-`, `_`.
    pub name: String,
    /// Feed title.
    pub title: String,
    /// Feed description; default the site's, then the title.
    pub description: Option<String>,
    /// Only items with any of these categories (case-insensitive); empty: all.
    pub categories: Vec<String>,
    /// Only items by any of these authors (case-insensitive); empty: all.
    pub authors: Vec<String>,
    /// At most this many items, newest first.
    pub limit: usize,
    /// The formats to write.
    pub formats: Vec<Format>,
    /// Also write RFC 5005 archive documents of older items.
    pub archive: bool,
}

/// `[category_feeds]`: one feed per category, `category/SLUG.EXT`.
#[derive(Debug, Clone)]
pub struct CategoryFeeds {
    /// Title template; `{category}` is replaced by the category.
    pub title: String,
    /// At most this many items per feed.
    pub limit: usize,
    /// The formats to write.
    pub formats: Vec<Format>,
}

/// A configuration problem, located in the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// There is no such file.
    #[error("{}: no configuration file here ({}): start a project with `wirefeed init DIR`, or name the file with `-c FILE`", .0.display(), where_is(.0))]
    Missing(PathBuf),
    /// The file could not be read.
    #[error("{path}: cannot read the configuration: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a wrong or unknown key.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong, naming the key.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    site: Site,
    #[serde(default)]
    output: Option<PathBuf>,
    #[serde(default, rename = "source")]
    sources: Vec<RawSource>,
    #[serde(default, rename = "feed")]
    feeds: Vec<Spanned<RawFeed>>,
    #[serde(default)]
    category_feeds: Option<RawCategoryFeeds>,
    #[serde(default)]
    serve: RawServe,
    #[serde(default)]
    push: Vec<Spanned<PushTarget>>,
    #[serde(default)]
    websub: Option<WebSub>,
    #[serde(default)]
    schedule: Option<RawSchedule>,
    #[serde(default)]
    metrics: RawMetrics,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    path: Spanned<PathBuf>,
    #[serde(default)]
    format: SourceFormat,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    name: Spanned<String>,
    title: Option<String>,
    description: Option<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    authors: Vec<String>,
    #[serde(default = "default_limit")]
    limit: Spanned<usize>,
    #[serde(default)]
    formats: Option<Spanned<Vec<Format>>>,
    #[serde(default)]
    archive: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategoryFeeds {
    #[serde(default = "default_enabled")]
    enabled: bool,
    title: Option<String>,
    #[serde(default = "default_limit")]
    limit: Spanned<usize>,
    #[serde(default)]
    formats: Option<Spanned<Vec<Format>>>,
}

fn default_limit() -> Spanned<usize> {
    Spanned::new(0..0, 50)
}

fn default_enabled() -> bool {
    true
}

impl Config {
    /// Whether a feed chooses its items by author: only then do item keys
    /// carry author names (and the cache keep them).
    pub fn chooses_by_author(&self) -> bool {
        self.feeds.iter().any(|f| !f.authors.is_empty())
    }

    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ConfigError::Missing(path.to_owned()),
            _ => ConfigError::Read {
                path: path.to_owned(),
                source,
            },
        })?;
        Config::parse(&text, path)
    }

    /// Parses `text` as if read from `path` (relative folders resolve
    /// against `path`'s folder).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |span: Option<std::ops::Range<usize>>, message: String| {
            let line = span.map_or(1, |s| line_of(text, s.start));
            ConfigError::Invalid {
                path: path.to_owned(),
                line,
                message,
            }
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let message = hint(
                &one_line(e.message()),
                e.span().and_then(|s| key_at(text, s.start)),
            );
            invalid(e.span(), message)
        })?;
        let dir = path.parent().unwrap_or(Path::new(""));

        if let Some(template) = &raw.site.item_link {
            check_item_link(template).map_err(|m| invalid(find_key(text, "item_link"), m))?;
        }

        let mut sources = Vec::new();
        for s in raw.sources {
            let folder = dir.join(s.path.get_ref());
            if !folder.is_dir() {
                return Err(invalid(
                    Some(s.path.span()),
                    format!("source.path: folder `{}` does not exist", folder.display()),
                ));
            }
            sources.push(Source {
                path: folder,
                format: s.format,
            });
        }
        if sources.is_empty() {
            return Err(invalid(
                None,
                "no [[source]] table: name at least one folder of articles".to_owned(),
            ));
        }

        let mut feeds: Vec<FeedConfig> = Vec::new();
        for spanned in raw.feeds {
            let span = spanned.span();
            let f = spanned.into_inner();
            let name_span = f.name.span();
            let name = f.name.into_inner();
            if let Err(m) = check_feed_name(&name) {
                return Err(invalid(Some(name_span), format!("feed.name: {m}")));
            }
            if feeds.iter().any(|other| other.name == name) {
                return Err(invalid(
                    Some(name_span),
                    format!("feed.name: `{name}` is used by two feeds"),
                ));
            }
            let limit = check_limit(&f.limit).map_err(|m| invalid(Some(span.clone()), m))?;
            let formats = check_formats(f.formats).map_err(|(s, m)| invalid(Some(s), m))?;
            feeds.push(FeedConfig {
                title: f.title.unwrap_or_else(|| raw.site.title.clone()),
                name,
                description: f.description,
                categories: f.categories,
                authors: f.authors,
                limit,
                formats,
                archive: f.archive,
            });
        }

        let category_feeds = match raw.category_feeds {
            Some(c) if c.enabled => Some(CategoryFeeds {
                title: c
                    .title
                    .unwrap_or_else(|| format!("{}: {{category}}", raw.site.title)),
                limit: check_limit(&c.limit)
                    .map_err(|m| invalid(find_key(text, "category_feeds"), m))?,
                formats: check_formats(c.formats).map_err(|(s, m)| invalid(Some(s), m))?,
            }),
            _ => None,
        };
        if feeds.is_empty() && category_feeds.is_none() {
            return Err(invalid(
                None,
                "no [[feed]] table and no [category_feeds]: nothing to publish".to_owned(),
            ));
        }

        let mut push: Vec<PushTarget> = Vec::new();
        for spanned in raw.push {
            let span = spanned.span();
            let mut target = spanned.into_inner();
            check_push(&target, &push).map_err(|m| invalid(Some(span.clone()), m))?;
            target.lease = lease_of(&target).map_err(|m| invalid(Some(span), m))?;
            if target.kind == PushKind::HttpPut {
                target.url = target.url.map(with_trailing_slash);
            }
            if !target.prefix.is_empty() && !target.prefix.ends_with('/') {
                target.prefix.push('/');
            }
            push.push(target);
        }

        let watch_sources = raw.schedule.as_ref().and_then(|s| s.watch).unwrap_or(true);
        let schedule = match raw.schedule {
            None => None,
            Some(RawSchedule {
                every: Some(every),
                cron: None,
                ..
            }) => Some(Schedule::Every(
                parse_duration(
                    "schedule.every",
                    every.get_ref(),
                    std::time::Duration::from_secs(1),
                    std::time::Duration::from_secs(366 * 86400),
                )
                .map_err(|m| invalid(Some(every.span()), m))?,
            )),
            Some(RawSchedule {
                every: None,
                cron: Some(cron),
                ..
            }) => {
                let parsed = parse_cron(cron.get_ref()).map_err(|m| {
                    invalid(
                        Some(cron.span()),
                        format!("schedule.cron: `{}`: {m}", cron.get_ref()),
                    )
                })?;
                Some(Schedule::Cron(Box::new(parsed)))
            }
            Some(_) => {
                return Err(invalid(
                    find_key(text, "schedule"),
                    "schedule: give exactly one of `every` and `cron`".into(),
                ))
            }
        };
        let serve = raw.serve.check().map_err(|(s, m)| invalid(Some(s), m))?;
        let metrics = raw.metrics.check().map_err(|(s, m)| invalid(Some(s), m))?;
        check_http(&raw.site.base_url, "base_url")
            .map_err(|m| invalid(find_key(text, "base_url"), m))?;
        if let Some(url) = &raw.site.feeds_url {
            check_http(url, "feeds_url").map_err(|m| invalid(find_key(text, "feeds_url"), m))?;
        }
        for (key, url) in [("icon", &raw.site.icon), ("logo", &raw.site.logo)] {
            if let Some(url) = url {
                check_http(url, key).map_err(|m| invalid(find_key(text, key), m))?;
            }
        }
        let mut site = raw.site;
        site.hub = raw.websub.as_ref().map(|w| w.hub.clone());
        // The home page is a folder: relative links and `feeds/` go below it.
        site.base_url = with_trailing_slash(site.base_url);
        Ok(Config {
            path: path.to_owned(),
            output: dir.join(raw.output.unwrap_or_else(|| PathBuf::from("feeds"))),
            site,
            sources,
            feeds,
            category_feeds,
            serve,
            push,
            websub: raw.websub,
            schedule,
            watch_sources,
            metrics,
        })
    }
}

fn check_push(target: &PushTarget, earlier: &[PushTarget]) -> Result<(), String> {
    let name = &target.name;
    if name.is_empty() || earlier.iter().any(|t| &t.name == name) {
        return Err(format!("push.name: `{name}` must be set and unique"));
    }
    if target.kind == PushKind::S3 {
        return check_s3(target);
    }
    let s3_only = [
        ("bucket", target.bucket.is_some()),
        ("prefix", !target.prefix.is_empty()),
        ("endpoint", target.endpoint.is_some()),
        ("region", target.region != default_region()),
        ("access_key_env", target.access_key_env.is_some()),
        ("secret_key_env", target.secret_key_env.is_some()),
        ("session_token_env", target.session_token_env.is_some()),
        ("cache_control", target.cache_control.is_some()),
        (
            "archive_cache_control",
            target.archive_cache_control.is_some(),
        ),
    ];
    if let Some((key, _)) = s3_only.iter().find(|(_, set)| *set) {
        return Err(format!("push `{name}`: `{key}` is for kind = \"s3\" only"));
    }
    match &target.url {
        None => return Err(format!("push `{name}`: url is required")),
        Some(url) if !matches!(url.scheme(), "http" | "https") => {
            return Err(format!("push `{name}`: url must be http or https"))
        }
        Some(_) => {}
    }
    if target.token_env.is_some() && (target.user.is_some() || target.password_env.is_some()) {
        return Err(format!(
            "push `{name}`: give token_env or user + password_env, not both"
        ));
    }
    if target.user.is_some() != target.password_env.is_some() {
        return Err(format!(
            "push `{name}`: user and password_env go together (the password is read from the environment, never from this file)"
        ));
    }
    check_limits(target)
}

fn check_limits(target: &PushTarget) -> Result<(), String> {
    let name = &target.name;
    if target.max_attempts == 0 || target.timeout_secs == 0 {
        return Err(format!(
            "push `{name}`: max_attempts and timeout_secs must be at least 1"
        ));
    }
    for (key, value) in [
        ("cache_control", &target.cache_control),
        ("archive_cache_control", &target.archive_cache_control),
    ] {
        if value
            .as_deref()
            .is_some_and(|v| v.is_empty() || v.chars().any(|c| c.is_control()))
        {
            return Err(format!(
                "push `{name}`: {key} must be a header value on one line"
            ));
        }
    }
    Ok(())
}

/// The folder a config path is looked for in, for a person to read.
fn where_is(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    match absolute.parent() {
        Some(folder) => format!("looked in {}", folder.display()),
        None => "no folder".to_owned(),
    }
}

/// The key of the `key = value` line holding byte `offset` of `text`, if
/// that line is one.
fn key_at(text: &str, offset: usize) -> Option<&str> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    bare.then_some(key)
}

/// What the TOML reader said, made more helpful: the nearest known key to
/// an unknown one, the nearest zone names to an unknown time zone, and the
/// key a bad value belongs to (`key`: the key on the line of the error).
fn hint(message: &str, key: Option<&str>) -> String {
    for (prefix, what) in [("unknown field `", "key"), ("unknown variant `", "value")] {
        let Some((unknown, expected)) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once("`, expected "))
        else {
            continue;
        };
        // serde says "`a`", "`a` or `b`", or "one of `a`, `b`, `c`".
        let known: Vec<&str> = match expected.strip_prefix("one of ") {
            Some(list) => list.split(", ").collect(),
            None => expected.split(" or ").collect(),
        };
        let known: Vec<&str> = known.iter().map(|k| k.trim_matches('`')).collect();
        let expected = known
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let near = match nearest(unknown, known.iter().copied()).first() {
            Some(near) => format!(": did you mean `{near}`?"),
            None => String::new(),
        };
        let message = format!("unknown {what} `{unknown}`{near} (expected one of {expected})");
        return match (what, key) {
            ("value", Some(key)) => format!("{key}: {message}"),
            _ => message,
        };
    }
    let message = match message.strip_prefix("failed to parse timezone: '") {
        Some(zone) => {
            let zone = zone.trim_end_matches('\'');
            let names = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
            let near = nearest(zone, names);
            match near.is_empty() {
                true => format!(
                    "`{zone}` is not a time zone name (IANA names: Asia/Seoul, Europe/Berlin, UTC)"
                ),
                false => format!(
                    "`{zone}` is not a time zone name: did you mean {}?",
                    near.iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            }
        }
        None => message.to_owned(),
    };
    match key {
        Some(key) if !message.contains(&format!("`{key}`")) => format!("{key}: {message}"),
        _ => message,
    }
}

/// Up to three of `candidates` nearest to `word` (ASCII case ignored),
/// nearest first; none when nothing is near enough to be a slip.
fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let word = word.to_ascii_lowercase();
    let budget = (word.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .map(|c| {
            (
                strsim::damerau_levenshtein(&word, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, _)| *d <= budget)
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// The lease of `target`: 30 s for `s3` unless `lease` says otherwise;
/// none for the kinds that cannot hold one safely. nginx's WebDAV module
/// ignores `If-Match` and `If-None-Match` on `PUT` (`tests/nginx.rs`), so
/// a lease object there could be taken by two at once; a webhook stores
/// nothing to hold one in.
fn lease_of(target: &PushTarget) -> Result<Option<std::time::Duration>, String> {
    let name = &target.name;
    let setting = target.lease_setting.as_ref();
    if target.kind != PushKind::S3 {
        return match setting {
            None | Some(LeaseSetting::Switch(false)) => Ok(None),
            Some(_) => Err(format!(
                "push `{name}`: `lease` is for kind = \"s3\" only: {} cannot hold a lease safely (nginx's WebDAV ignores If-Match and If-None-Match; a webhook stores nothing), so run one wirefeed for this target",
                match target.kind {
                    PushKind::Webhook => "a webhook",
                    _ => "an http-put target",
                }
            )),
        };
    }
    match setting {
        None | Some(LeaseSetting::Switch(true)) => Ok(Some(DEFAULT_LEASE)),
        Some(LeaseSetting::Switch(false)) => Ok(None),
        Some(LeaseSetting::For(text)) => parse_duration(
            &format!("push `{name}`: lease"),
            text,
            std::time::Duration::from_secs(3),
            std::time::Duration::from_secs(3600),
        )
        .map(Some),
    }
}

/// `kind = "s3"`: a bucket, no URL or HTTP credentials (keys come from
/// the environment), an http(s) endpoint if any.
fn check_s3(target: &PushTarget) -> Result<(), String> {
    let name = &target.name;
    match target.bucket.as_deref() {
        None | Some("") => return Err(format!("push `{name}`: kind = \"s3\" needs bucket")),
        Some(b) if b.contains('/') => {
            return Err(format!(
                "push `{name}`: bucket `{b}` is a bucket name, without `/` (put folders in prefix)"
            ))
        }
        Some(_) => {}
    }
    let http_only = [
        ("url", target.url.is_some()),
        ("token_env", target.token_env.is_some()),
        ("user", target.user.is_some()),
        ("password_env", target.password_env.is_some()),
        ("headers", !target.headers.is_empty()),
    ];
    if let Some((key, _)) = http_only.iter().find(|(_, set)| *set) {
        return Err(format!(
            "push `{name}`: `{key}` is not for kind = \"s3\" (give bucket, prefix, endpoint, region; keys come from the environment)"
        ));
    }
    if target.prefix.starts_with('/') || target.prefix.split('/').any(|p| p == "..") {
        return Err(format!(
            "push `{name}`: prefix `{}` must be relative (`site/`), without `..`",
            target.prefix
        ));
    }
    if let Some(endpoint) = &target.endpoint {
        if !matches!(endpoint.scheme(), "http" | "https") {
            return Err(format!("push `{name}`: endpoint must be http or https"));
        }
    }
    check_limits(target)
}

/// The site's addresses are where readers go: web pages and feeds.
fn check_http(url: &Url, key: &str) -> Result<(), String> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        _ => Err(format!("site.{key}: `{url}` must be an http or https URL")),
    }
}

fn check_limit(limit: &Spanned<usize>) -> Result<usize, String> {
    match *limit.get_ref() {
        0 => Err("limit: must be at least 1".to_owned()),
        n => Ok(n),
    }
}

fn check_formats(
    formats: Option<Spanned<Vec<Format>>>,
) -> Result<Vec<Format>, (std::ops::Range<usize>, String)> {
    let Some(formats) = formats else {
        return Ok(Format::ALL.to_vec());
    };
    let span = formats.span();
    let mut list = formats.into_inner();
    if list.is_empty() {
        return Err((
            span,
            "formats: name at least one of rss, atom, json".to_owned(),
        ));
    }
    list.sort();
    list.dedup();
    Ok(list)
}

fn check_feed_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(format!(
            "`{name}` must be letters, digits, `-` or `_` (it becomes a file name)"
        ));
    }
    if name == "category" || name == "index" || name == "feeds" {
        return Err(format!("`{name}` is reserved for wirefeed's own files"));
    }
    Ok(())
}

fn check_item_link(template: &str) -> Result<(), String> {
    if !template.contains("{id}") {
        return Err("site.item_link: the template must contain `{id}`".to_owned());
    }
    Url::parse(&template.replace("{id}", "x"))
        .map(|_| ())
        .map_err(|e| format!("site.item_link: not an absolute URL template: {e}"))
}

/// The span of the first line that sets or opens `key`, for messages about
/// keys whose value was already parsed.
fn find_key(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start().trim_start_matches('[');
        if trimmed.starts_with(key) {
            return Some(offset..offset + line.len());
        }
        offset += line.len();
    }
    None
}

/// `message` on one line: a parser's lines (TOML says `invalid date-time`,
/// then `value is out of range`) joined with `; `, blank ones dropped. A
/// problem is printed as one `path:line: reason` line, never two.
pub fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("; ")
}

/// 1-based line number of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir();
        Config::parse(text, &dir.join("config.toml"))
    }

    const GOOD: &str = r#"
[site]
title = "Desk"
base_url = "https://news.example.com/"

[[source]]
path = "."

[[feed]]
name = "all"
"#;

    #[test]
    fn s3_targets_take_their_keys_and_refuse_the_others() {
        let with = |push: &str| parse(&format!("{GOOD}\n[[push]]\nname = \"b\"\n{push}"));
        let c = with("kind = \"s3\"\nbucket = \"feeds\"\nprefix = \"site\"\nendpoint = \"http://127.0.0.1:9000\"\narchive_cache_control = \"max-age=31536000, immutable\"").unwrap();
        let t = &c.push[0];
        assert_eq!(
            (t.prefix.as_str(), t.region.as_str()),
            ("site/", "us-east-1")
        );
        assert!(t.delete && t.max_deletes == 256);
        assert_eq!(t.cache_control_of("all.rss"), None);
        assert_eq!(
            t.cache_control_of("wire/archive/3.rss"),
            Some("max-age=31536000, immutable")
        );
        let error = |push: &str| with(push).unwrap_err().to_string();
        let e = error("kind = \"s3\"");
        assert!(e.ends_with("push `b`: kind = \"s3\" needs bucket"), "{e}");
        let e = error("kind = \"s3\"\nbucket = \"feeds\"\nurl = \"https://x.example/\"");
        assert!(
            e.contains("push `b`: `url` is not for kind = \"s3\""),
            "{e}"
        );
        let e = error("kind = \"s3\"\nbucket = \"feeds\"\nprefix = \"../up\"");
        assert!(e.contains("must be relative"), "{e}");
        let e = error("kind = \"http-put\"\nurl = \"https://x.example/\"\nbucket = \"feeds\"");
        assert!(
            e.contains("push `b`: `bucket` is for kind = \"s3\" only"),
            "{e}"
        );
        let e = error("kind = \"webhook\"");
        assert!(e.contains("push `b`: url is required"), "{e}");
        let e = error("kind = \"s3\"\nbucket = \"feeds\"\ncache_control = \"a\\nb\"");
        assert!(
            e.contains("cache_control must be a header value on one line"),
            "{e}"
        );
        assert_eq!(t.lease, Some(DEFAULT_LEASE));
        let short = with("kind = \"s3\"\nbucket = \"feeds\"\nlease = \"6s\"").unwrap();
        assert_eq!(short.push[0].lease, Some(std::time::Duration::from_secs(6)));
        let off = with("kind = \"s3\"\nbucket = \"feeds\"\nlease = false").unwrap();
        assert_eq!(off.push[0].lease, None);
        let e = error("kind = \"s3\"\nbucket = \"feeds\"\nlease = \"1s\"");
        assert!(
            e.contains("push `b`: lease: `1s` must be between 3s and 1h"),
            "{e}"
        );
        let e = error("kind = \"s3\"\nbucket = \"feeds\"\nlease = 30");
        assert!(
            e.contains("a duration like \"30s\", or false for no lease"),
            "{e}"
        );
        let e = error("kind = \"http-put\"\nurl = \"https://x.example/\"\nlease = \"30s\"");
        assert!(
            e.contains("push `b`: `lease` is for kind = \"s3\" only: an http-put target cannot hold a lease safely (nginx's WebDAV ignores If-Match"),
            "{e}"
        );
        let e = error("kind = \"webhook\"\nurl = \"https://x.example/\"\nlease = true");
        assert!(e.contains("a webhook cannot hold a lease safely"), "{e}");
        let plain =
            with("kind = \"webhook\"\nurl = \"https://x.example/\"\nlease = false").unwrap();
        assert_eq!(plain.push[0].lease, None);
        let e = error("kind = \"s3\"\nbucket = \"feeds\"\nmax_delete = 3");
        assert!(
            e.contains("unknown key `max_delete`: did you mean `max_deletes`?"),
            "{e}"
        );
    }

    #[test]
    fn good_config_gets_defaults() -> Result<(), ConfigError> {
        let c = parse(GOOD)?;
        assert_eq!(c.site.timezone, chrono_tz::Asia::Seoul);
        assert_eq!(c.site.language, "en");
        assert_eq!(c.feeds[0].limit, 50);
        assert_eq!(c.feeds[0].formats, Format::ALL.to_vec());
        assert_eq!(c.feeds[0].title, "Desk");
        assert_eq!(
            c.site.feed_url("all", Format::Atom),
            "https://news.example.com/feeds/all.atom"
        );
        let sub =
            parse(&GOOD.replace("https://news.example.com/", "https://news.example.com/site"))
                .unwrap();
        assert_eq!(
            sub.site.feed_url("all", Format::Rss),
            "https://news.example.com/site/feeds/all.rss"
        );
        assert_eq!(
            c.site.feed_url("category/반도체", Format::Rss),
            "https://news.example.com/feeds/category/%EB%B0%98%EB%8F%84%EC%B2%B4.rss"
        );
        Ok(())
    }

    fn error_of(text: &str) -> String {
        match parse(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_parser_message_of_several_lines_is_one_line() {
        let text = format!("{GOOD}timeout = 2026-13-01T00:00:00Z\n");
        let e = error_of(&text);
        assert!(
            e.ends_with("config.toml:11: timeout: invalid date-time; value is out of range"),
            "{e}"
        );
        assert_eq!(one_line("a\n\n  b \nc\n"), "a; b; c");
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = GOOD.replace("title = \"Desk\"", "title = \"Desk\"\ncolour = \"red\"");
        let e = error_of(&text);
        assert!(e.contains(":4: unknown key `colour`"), "{e}");
    }

    #[test]
    fn bad_url_timezone_and_format_are_located() {
        let e = error_of(&GOOD.replace("https://news.example.com/", "not a url"));
        assert!(e.contains(":4:") && e.contains("relative URL"), "{e}");
        let e = error_of(
            &format!("{GOOD}\n[site2]\n")
                .replace("base_url", "timezone = \"Mars/Olympus\"\nbase_url"),
        );
        assert!(e.contains(":4:") && e.contains("Mars/Olympus"), "{e}");
        assert!(
            e.contains("timezone: `Mars/Olympus` is not a time zone name"),
            "{e}"
        );
        let e = error_of(&GOOD.replace("base_url", "timezone = \"Asia/Seol\"\nbase_url"));
        assert!(e.contains("did you mean `Asia/Seoul`"), "{e}");
        let e = error_of(&GOOD.replace("https://news.example.com/", "news.example.com"));
        assert!(e.contains(":4: base_url: relative URL"), "{e}");
        let e = error_of(&format!("{GOOD}formats = [\"rss\", \"pdf\"]\n"));
        assert!(
            e.contains(":11:") && e.contains("formats: unknown value `pdf`"),
            "{e}"
        );
    }

    #[test]
    fn missing_source_folder_is_named() {
        let e = error_of(&GOOD.replace("path = \".\"", "path = \"no-such-folder\""));
        assert!(e.contains(":7: source.path: folder"), "{e}");
        assert!(e.contains("no-such-folder` does not exist"), "{e}");
    }

    #[test]
    fn duplicate_and_bad_feed_names_are_refused() {
        let e = error_of(&format!("{GOOD}\n[[feed]]\nname = \"all\"\n"));
        assert!(
            e.contains(":13: feed.name: `all` is used by two feeds"),
            "{e}"
        );
        let e = error_of(&GOOD.replace("name = \"all\"", "name = \"a/b\""));
        assert!(e.contains("feed.name: `a/b` must be letters"), "{e}");
    }

    #[test]
    fn schedules() {
        let c = parse(&format!("{GOOD}[schedule]\nevery = \"5m\"\n")).unwrap();
        assert!(matches!(c.schedule, Some(Schedule::Every(d)) if d.as_secs() == 300));
        assert!(c.watch_sources);
        let c = parse(&format!(
            "{GOOD}[schedule]\ncron = \"*/5 * * * *\"\nwatch = false\n"
        ))
        .unwrap();
        assert!(matches!(c.schedule, Some(Schedule::Cron(_))));
        assert!(!c.watch_sources);
        let e = error_of(&format!("{GOOD}[schedule]\nevery = \"5 weeks\"\n"));
        assert!(
            e.contains(":12: schedule.every: unknown unit `weeks`"),
            "{e}"
        );
        let e = error_of(&format!("{GOOD}[schedule]\nevery = \"213503982334602d\"\n"));
        assert!(e.contains("must be between 1s and 366d"), "{e}");
        let e = error_of(&format!("{GOOD}[schedule]\ncron = \"61 * * * *\"\n"));
        assert!(e.contains(":12: schedule.cron: `61 * * * *`"), "{e}");
        let e = error_of(&format!(
            "{GOOD}[schedule]\ncron = \"* * * * *\"\nevery = \"1m\"\n"
        ));
        assert!(e.contains("give exactly one of `every` and `cron`"), "{e}");
    }

    #[test]
    fn cron_takes_five_fields_and_says_so() {
        for bad in ["* * *", "0 */5 * * * *", "0 0 9 * * * 2027", "@hourly"] {
            let e = error_of(&format!("{GOOD}[schedule]\ncron = \"{bad}\"\n"));
            assert!(
                e.contains(&format!(":12: schedule.cron: `{bad}`: give five fields")),
                "{e}"
            );
            assert!(
                !e.contains("5 to 7") && !e.contains("between 5 and 7"),
                "{e}"
            );
        }
        let c = parse(&format!(
            "{GOOD}[schedule]\ncron = \" 0  9 * * MON-FRI \"\n"
        ))
        .unwrap();
        assert!(matches!(c.schedule, Some(Schedule::Cron(_))));
    }

    #[test]
    fn site_urls_are_http_or_https() {
        for key in ["base_url", "feeds_url"] {
            let text = GOOD.replace(
                "base_url = \"https://news.example.com/\"",
                "base_url = \"https://news.example.com/\"\nfeeds_url = \"https://news.example.com/feeds/\"",
            );
            let line = if key == "base_url" { 4 } else { 5 };
            let url = if key == "base_url" {
                "https://news.example.com/"
            } else {
                "https://news.example.com/feeds/"
            };
            let ftp = url.replace("https://", "ftp://");
            let text = text.replace(&format!("{key} = \"{url}\""), &format!("{key} = \"{ftp}\""));
            let e = error_of(&text);
            assert!(
                e.ends_with(&format!(
                    ":{line}: site.{key}: `{ftp}` must be an http or https URL"
                )),
                "{e}"
            );
        }
        let e = error_of(&GOOD.replace("https://news.example.com/", "mailto:desk@example.com"));
        assert!(
            e.contains(":4: site.base_url: `mailto:desk@example.com`"),
            "{e}"
        );
    }

    #[test]
    fn serve_limits_and_their_errors() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.serve.header_timeout.as_secs(), 10);
        assert_eq!(c.serve.idle_timeout.as_secs(), 30);
        assert_eq!(c.serve.shutdown_timeout.as_secs(), 10);
        assert!((16..=512).contains(&c.serve.max_connections));
        let c = parse(&format!(
            "{GOOD}[serve]\nheader_timeout = \"250ms\"\nidle_timeout = \"2m\"\n\
             shutdown_timeout = \"0s\"\nmax_connections = 3\ncompression_cache_mib = 8\n"
        ))
        .unwrap();
        assert_eq!(c.serve.header_timeout.as_millis(), 250);
        assert_eq!(c.serve.idle_timeout.as_secs(), 120);
        assert!(c.serve.shutdown_timeout.is_zero());
        assert_eq!(c.serve.max_connections, 3);
        assert_eq!(c.serve.compression_cache, 8 << 20);
        let e = error_of(&format!("{GOOD}[serve]\nidle_timeout = \"30 parsecs\"\n"));
        assert!(
            e.contains(":12: serve.idle_timeout: unknown unit `parsecs`"),
            "{e}"
        );
        let e = error_of(&format!("{GOOD}[serve]\nheader_timeout = \"2h\"\n"));
        assert!(
            e.contains(":12: serve.header_timeout: `2h` must be between 1ms and 1h"),
            "{e}"
        );
        let e = error_of(&format!("{GOOD}[serve]\nmax_connections = 0\n"));
        assert!(
            e.contains(":12: serve.max_connections: must be at least 1"),
            "{e}"
        );
        let e = error_of(&format!("{GOOD}[serve]\nkeepalive = \"1s\"\n"));
        assert!(e.contains(":12: unknown key `keepalive`"), "{e}");
    }

    #[test]
    fn metrics_settings_and_their_errors() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.metrics.bind, None);
        assert_eq!(c.metrics.max_publish_age, None);
        assert_eq!(c.serve.metrics, MetricsAccess::Loopback);
        let c = parse(&format!(
            "{GOOD}[serve]\nmetrics = \"public\"\n[metrics]\nbind = \"127.0.0.1:9464\"\n\
             max_publish_age = \"30m\"\n"
        ))
        .unwrap();
        assert_eq!(c.serve.metrics, MetricsAccess::Public);
        assert_eq!(c.metrics.bind, Some(([127, 0, 0, 1], 9464).into()));
        assert_eq!(c.metrics.max_publish_age.map(|d| d.as_secs()), Some(1800));
        let e = error_of(&format!("{GOOD}[metrics]\nmax_publish_age = \"0s\"\n"));
        assert!(
            e.contains(":12: metrics.max_publish_age: `0s` must be between 1s and 366d"),
            "{e}"
        );
        let e = error_of(&format!("{GOOD}[serve]\nmetrics = \"yes\"\n"));
        assert!(
            e.contains(
                ":12: metrics: unknown value `yes` (expected one of `loopback`, `public`, `off`)"
            ),
            "{e}"
        );
    }

    #[test]
    fn item_link_needs_the_placeholder() {
        let e = error_of(&GOOD.replace(
            "base_url",
            "item_link = \"https://news.example.com/news/\"\nbase_url",
        ));
        assert!(
            e.contains(":4: site.item_link: the template must contain `{id}`"),
            "{e}"
        );
    }
}
