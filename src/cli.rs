//! The command line, declared with clap; the `///` comments are the
//! `--help` text.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

/// Turns news-wire stories, Markdown and JSON articles into RSS 2.0, Atom 1.0
/// and JSON Feed 1.1 files.
///
/// Exit codes: 0 all good; 1 some articles had problems (every good article
/// was still published); 2 bad configuration or command line; 3 the output
/// could not be written, or another wirefeed holds it.
#[derive(Debug, Parser)]
#[command(name = "wirefeed", version)]
pub struct Cli {
    /// The configuration file.
    #[arg(short, long, global = true, default_value = "config.toml")]
    pub config: PathBuf,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more (-v: what each stage did, -vv: everything).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines as text, or as JSON objects for log shippers.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Threads for reading and rendering (default: one per core).
    #[arg(short, long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read every article and write the feeds (only files whose bytes change).
    Build {
        /// Write here instead of the configured output folder.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Judge embargoes against this time instead of the clock
        /// (RFC 3339, e.g. 2026-11-01T09:00:00+09:00).
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
        /// Read and parse every article again: neither use nor update the
        /// build cache (`.wirefeed-cache` in the output folder).
        #[arg(long)]
        no_cache: bool,
    },
    /// Read every article and report problems; write nothing.
    Check {
        /// Judge embargoes against this time instead of the clock.
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
        /// Read and parse every article again, ignoring the build cache.
        #[arg(long)]
        no_cache: bool,
    },
    /// Serve the output folder over HTTP (GET and HEAD, conditional GET,
    /// gzip and brotli) until Ctrl-C.
    Serve {
        /// Address to listen on (default: `[serve] bind`, else 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR:PORT")]
        bind: Option<std::net::SocketAddr>,
        /// Build first, then rebuild whenever an article or the config changes.
        #[arg(long)]
        watch: bool,
    },
    /// Send what changed since the last push to every [[push]] target and
    /// delete there what this wirefeed published and is gone, then ping the
    /// [websub] hub. Exit 1 when something is still pending, 3 when
    /// another wirefeed holds the output folder.
    Push {
        /// Print what would be sent and deleted; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Send every file, changed or not, without conditions: overwrites
        /// what another publisher wrote.
        #[arg(long)]
        force: bool,
    },
    /// Show what is pending, per target: file, version, attempts, last error.
    Status,
    /// Build and push on the [schedule] until Ctrl-C or SIGTERM; wakes early
    /// when an embargoed story becomes due. One log line per tick.
    Run {
        /// One tick, then exit (for cron or CI).
        #[arg(long)]
        once: bool,
    },
    /// Create a new folder with a config.toml (or the file `-c` names), a
    /// sample article, and a .gitignore for wirefeed's state files.
    Init {
        /// The folder to create (it may exist, but must not hold a config.toml).
        dir: PathBuf,
    },
    /// Print a shell completion script, e.g.
    /// `wirefeed completions bash > ~/.local/share/bash-completion/completions/wirefeed`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per command into a
    /// folder: `wirefeed man | man -l -`, `wirefeed man --out /usr/local/share/man/man1`.
    Man {
        /// Write wirefeed.1 and a page per subcommand (wirefeed-build.1, …) here.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}
