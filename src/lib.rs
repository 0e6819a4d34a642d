//! wirefeed turns article files into RSS 2.0, Atom 1.0 and JSON Feed 1.1
//! feeds, serves them, and publishes them to where feeds live.
//!
//! Data flows one way through one module per stage; each hands a plain
//! data type (from `model`) to the next:
//!
//! ```text
//! config     config.toml ─────────────────────────────────► Config
//! source     files ── list, stamp, read, decode, parse ────► Article + errors
//!   cache    unchanged files ── last build's item keys ────► ItemKey
//! normalize  Article ── ids, defaults, sanitized HTML ─────► ItemKey, Item
//! select     ItemKeys + Config + now ── filters, embargo ──► Feed (newest N each)
//! render     Feed ── rss / atom / jsonfeed / site ─────────► bytes, streamed
//! output     bytes ── temp file, sync, rename ─────────────► feeds/
//! publish    feeds/ + outbox ── PUT / POST, WebSub ping ───► remote targets
//! metrics    builds, pushes, requests ── counted ──────────► /metrics, /healthz
//!
//! pipeline   wires source → normalize → select → render → output (a build)
//! schedule   (build → publish) on an interval or cron, embargo wake-ups
//! serve      feeds/ over HTTP, conditional GET; watch: rebuild on change
//! app        runtimes, signals, the entry points of serve and run
//! ```
//!
//! [`build`] (module `pipeline`) runs one build; [`serve()`] and [`run`]
//! (module `app`) start the long-running commands. The `wirefeed` binary
//! only parses the command line and calls these. `model` holds the types
//! handed between stages, `text` the string rules any stage may use, `sys`
//! every call that differs by platform. Nothing here holds logic: this
//! file only declares modules and re-exports the entry points.

mod app;
pub mod config;
pub mod init;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod output;
pub mod pipeline;
pub mod publish;
pub mod render;
pub mod schedule;
pub mod select;
pub mod serve;
pub mod source;
mod sys;
pub mod text;
pub mod watch;

pub use app::{run, serve, set_threads, ServeError, NOTICE};
pub use pipeline::{build, BuildError, BuildOptions, BuildReport};
