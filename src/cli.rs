//! The command line, declared with clap; the `///` comments are the
//! `--help` text.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

/// Turns news-wire stories, Markdown and JSON articles into RSS 2.0, Atom 1.0
/// and JSON Feed 1.1 files.
///
/// Each command lists the options it takes (`wirefeed build --help`); `-c`,
/// `-q`, `-v`, `-j` and `--log-format` may also come before the command
/// name (`wirefeed -v build`), where the command takes them.
///
/// Exit codes: 0 all good; 1 some articles had problems (every good article
/// was still published); 2 bad configuration or command line; 3 the output
/// could not be written, or another wirefeed holds it.
#[derive(Debug, Parser)]
#[command(name = "wirefeed", version)]
pub struct Cli {
    /// The configuration file (before the command, as earlier versions
    /// took it).
    #[arg(short, long, value_name = "FILE", hide = true)]
    pub config: Option<PathBuf>,
    /// Print only errors.
    #[arg(short, long, hide = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more.
    #[arg(short, long, hide = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines as text or JSON.
    #[arg(long, hide = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Threads.
    #[arg(short, long, hide = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `-c`: for every command that reads (or, for `init`, writes) a config.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArg {
    /// The configuration file [default: config.toml].
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `-q`, `-v`, `--log-format`: for every command that writes logs.
#[derive(Debug, Clone, Default, Args)]
pub struct LogArgs {
    /// Print only errors.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more (-v: what each stage did, -vv: everything).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log lines as text, or as JSON objects for log shippers (then every
    /// line on stdout and stderr is one JSON object) [default: text].
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
}

/// `-j`: for every command that builds.
#[derive(Debug, Clone, Default, Args)]
pub struct JobsArg {
    /// Threads for reading and rendering (default: one per core).
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

/// The options in force: the command's own, else those given before it.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration file.
    pub config: PathBuf,
    /// Only errors.
    pub quiet: bool,
    /// How much more.
    pub verbose: u8,
    /// Text or JSON logs.
    pub log_format: LogFormat,
    /// Threads, when given.
    pub jobs: Option<u16>,
}

impl Cli {
    /// Merges the options given before the command with its own; an option
    /// before a command that does not take it is an error naming both.
    pub fn settings(&self) -> Result<Settings, String> {
        let (name, config, logs, jobs) = self.command.takes();
        let refuse = |option: &str, what: &str| {
            format!("`{option}` does not apply to `wirefeed {name}` ({what})")
        };
        if config.is_none() && self.config.is_some() {
            return Err(refuse("--config", "it reads no configuration"));
        }
        if logs.is_none() && (self.quiet || self.verbose > 0 || self.log_format.is_some()) {
            let option = match (self.quiet, self.verbose > 0) {
                (true, _) => "--quiet",
                (_, true) => "--verbose",
                _ => "--log-format",
            };
            return Err(refuse(option, "it writes no logs"));
        }
        if jobs.is_none() && self.jobs.is_some() {
            return Err(refuse("--jobs", "it builds nothing"));
        }
        let logs = logs.cloned().unwrap_or_default();
        let verbose = self.verbose.saturating_add(logs.verbose);
        let quiet = self.quiet || logs.quiet;
        if quiet && verbose > 0 {
            return Err("`--quiet` and `--verbose` cannot be used together".to_owned());
        }
        let config = config.and_then(|c| c.config.clone());
        Ok(Settings {
            config: config
                .or_else(|| self.config.clone())
                .unwrap_or_else(|| PathBuf::from("config.toml")),
            quiet,
            verbose,
            log_format: logs
                .log_format
                .or(self.log_format)
                .unwrap_or(LogFormat::Text),
            jobs: jobs.and_then(|j| j.jobs).or(self.jobs),
        })
    }
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
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        logs: LogArgs,
        #[command(flatten)]
        jobs: JobsArg,

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
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        logs: LogArgs,
        #[command(flatten)]
        jobs: JobsArg,

        /// Judge embargoes against this time instead of the clock.
        #[arg(long, value_name = "RFC3339")]
        now: Option<DateTime<Utc>>,
        /// Read and parse every article again, ignoring the build cache.
        #[arg(long)]
        no_cache: bool,
    },
    /// Serve the output folder over HTTP (GET and HEAD, conditional GET,
    /// gzip and brotli), with /healthz and /metrics, until Ctrl-C.
    Serve {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        logs: LogArgs,
        #[command(flatten)]
        jobs: JobsArg,

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
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        logs: LogArgs,

        /// Print what would be sent and deleted; send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Send every file, changed or not, without conditions: overwrites
        /// what another publisher wrote.
        #[arg(long)]
        force: bool,
    },
    /// Show what is pending, per target: file, version, attempts, last error.
    Status {
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Build and push on the [schedule] until Ctrl-C or SIGTERM; wakes early
    /// when an embargoed story becomes due. One log line per tick; /metrics
    /// and /healthz on [metrics] bind when set.
    Run {
        #[command(flatten)]
        config: ConfigArg,
        #[command(flatten)]
        logs: LogArgs,
        #[command(flatten)]
        jobs: JobsArg,

        /// One tick, then exit (for cron or CI).
        #[arg(long)]
        once: bool,
    },
    /// Create a new folder with a config.toml (or the file `-c` names), a
    /// sample article, and a .gitignore for wirefeed's state files.
    Init {
        #[command(flatten)]
        config: ConfigArg,

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

impl Command {
    /// Its name, and which of the option groups it takes.
    fn takes(
        &self,
    ) -> (
        &'static str,
        Option<&ConfigArg>,
        Option<&LogArgs>,
        Option<&JobsArg>,
    ) {
        match self {
            Command::Build {
                config, logs, jobs, ..
            } => ("build", Some(config), Some(logs), Some(jobs)),
            Command::Check {
                config, logs, jobs, ..
            } => ("check", Some(config), Some(logs), Some(jobs)),
            Command::Serve {
                config, logs, jobs, ..
            } => ("serve", Some(config), Some(logs), Some(jobs)),
            Command::Run {
                config, logs, jobs, ..
            } => ("run", Some(config), Some(logs), Some(jobs)),
            Command::Push { config, logs, .. } => ("push", Some(config), Some(logs), None),
            Command::Status { config } => ("status", Some(config), None, None),
            Command::Init { config, .. } => ("init", Some(config), None, None),
            Command::Completions { .. } => ("completions", None, None, None),
            Command::Man { .. } => ("man", None, None, None),
        }
    }
}
