//! Render stage: [`Feed`] → bytes, one pure function per format, plus the
//! site-wide files (`index.html`, `feeds.opml`).
//!
//! Same feed in, same bytes out: nothing here reads the clock or the file
//! system. Renderers take complete items (normalize guaranteed every field
//! they need), so the only failure is the XML writer's.

mod atom;
mod jsonfeed;
mod rss;
mod site;

pub use site::{index_html, opml};

use chrono::{DateTime, FixedOffset};

use crate::config::{Format, Site};
use crate::model::Feed;

/// The generator name written into feeds.
pub const GENERATOR: &str = "wirefeed";
/// The generator version written into feeds.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A feed that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot render feed `{feed}` as {format:?}: {reason}")]
pub struct RenderError {
    /// The feed's name.
    pub feed: String,
    /// The format.
    pub format: Format,
    /// What the writer said.
    pub reason: String,
}

/// Renders `feed` in `format`.
pub fn render(feed: &Feed, format: Format, site: &Site) -> Result<Vec<u8>, RenderError> {
    let result = match format {
        Format::Rss => rss::render(feed, site),
        Format::Atom => atom::render(feed, site),
        Format::Json => jsonfeed::render(feed, site),
    };
    result.map_err(|reason| RenderError {
        feed: feed.name.clone(),
        format,
        reason,
    })
}

/// The relative path of a feed file inside the output folder.
pub fn file_name(feed_name: &str, format: Format) -> String {
    format!("{feed_name}.{}", format.extension())
}

/// RFC 822 with a four-digit year and a numeric offset, as RSS wants:
/// `Tue, 02 Sep 2025 09:25:54 +0900`.
pub fn rfc822(date: &DateTime<FixedOffset>) -> String {
    date.format("%a, %d %b %Y %H:%M:%S %z").to_string()
}

/// RFC 3339 with seconds and the original offset: `2025-09-02T09:25:54+09:00`.
pub fn rfc3339(date: &DateTime<FixedOffset>) -> String {
    date.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// The XML declaration every XML file starts with.
const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = DateTime::parse_from_rfc3339("2025-09-02T09:25:54+09:00").unwrap();
        assert_eq!(rfc822(&d), "Tue, 02 Sep 2025 09:25:54 +0900");
        assert_eq!(rfc3339(&d), "2025-09-02T09:25:54+09:00");
        let utc = DateTime::parse_from_rfc3339("2026-11-12T15:30:00Z").unwrap();
        assert_eq!(rfc822(&utc), "Thu, 12 Nov 2026 15:30:00 +0000");
        assert_eq!(rfc3339(&utc), "2026-11-12T15:30:00+00:00");
    }
}
