//! The `wirefeed` binary: parse the command line, set up logging, call the
//! library, turn the outcome into an exit code.

mod cli;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::writer::EitherWriter;
use tracing_subscriber::EnvFilter;
use wirefeed::config::Config;
use wirefeed::{BuildOptions, BuildReport, NOTICE};

use cli::{Cli, Command, LogFormat, Settings};

/// Parsing allocates many small strings on every core; mimalloc's
/// per-thread heaps make that markedly cheaper than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc gives freed memory back to the system 10 ms after it is
/// freed; a large build frees and reuses hundreds of megabytes within a
/// second, and the system then zeroes every page again (a tenth of the
/// archive build's CPU). A second instead: memory still goes back between
/// the builds of `run`. `MIMALLOC_PURGE_DELAY` still decides when set.
fn tune_allocator() {
    // `mi_option_purge_delay` in mimalloc v2's `mi_option_e` (mimalloc.h);
    // the bindings name no constant for it.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's options, which may change at any
        // time; the delay is read when freed memory is next purged.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 1000) };
    }
}

/// `--log-format json`: everything on stderr and stdout is then a log
/// event, one JSON object a line.
static JSON_LOGS: AtomicBool = AtomicBool::new(false);

/// The target of [`say`]'s events in JSON mode: written to stdout.
const STDOUT: &str = "wirefeed::stdout";

/// Prints a problem on stderr, on one line whatever the message held: as
/// it is in text mode, as an error event in JSON mode (shown even with
/// `-q`, as in text mode).
fn complain(problem: &dyn std::fmt::Display) {
    let line = wirefeed::config::one_line(&problem.to_string());
    if JSON_LOGS.load(Ordering::Relaxed) {
        tracing::error!("{line}");
    } else {
        eprintln!("{line}");
    }
}

/// Prints a line of a command's result on stdout: as it is in text mode,
/// as an info event (on stdout) in JSON mode.
fn say(line: &dyn std::fmt::Display) {
    if JSON_LOGS.load(Ordering::Relaxed) {
        tracing::info!(target: STDOUT, "{line}");
    } else {
        println!("{line}");
    }
}

/// Colour in log lines only for a person: when stderr is a terminal and
/// `NO_COLOR` (<https://no-color.org>) is unset or empty. Logs sent to a
/// file or a pipe never carry escape codes.
fn colour() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

/// Log events to stderr, but [`say`]'s to stdout.
struct Streams;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Streams {
    type Writer = EitherWriter<std::io::Stdout, std::io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        EitherWriter::B(std::io::stderr())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        match meta.target() == STDOUT {
            true => EitherWriter::A(std::io::stdout()),
            false => EitherWriter::B(std::io::stderr()),
        }
    }
}

/// Logs at the level `-q`/`-v` (or `RUST_LOG`) asks for, as text or JSON.
/// The lines a command always writes (its result, the address it serves
/// on) are shown at any level: as they are in text mode, as JSON objects
/// in JSON mode.
fn set_up_logs(settings: &Settings, command: &Command) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let level = match (settings.quiet, settings.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let run = matches!(command, Command::Run { .. });
    let level = match run {
        // `run` is a service: its one line per tick is the point, and,
        // with the lease's changes of hands, the only info it logs unless
        // asked for more (-v adds the stages').
        true if level == "warn" => "warn,wirefeed::schedule=info,wirefeed::publish::keeper=info",
        _ => level,
    };
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into());
    for always in [NOTICE, STDOUT] {
        if let Ok(d) = format!("{always}=info").parse() {
            filter = filter.add_directive(d);
        }
    }
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(Streams)
        .with_ansi(colour())
        .with_target(false);
    let registry = tracing_subscriber::registry();
    match settings.log_format {
        LogFormat::Json => {
            JSON_LOGS.store(true, Ordering::Relaxed);
            registry.with(logs.json().with_filter(filter)).init();
        }
        LogFormat::Text => {
            // Notices as they are; everything else as log lines.
            let notices = tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .without_time()
                .with_level(false)
                .with_target(false)
                .with_ansi(false)
                .with_filter(filter_fn(|m| m.target() == NOTICE));
            let not_notices = filter_fn(|m| m.target() != NOTICE);
            let logs = match run {
                true => logs.boxed(),
                false => logs.without_time().boxed(),
            };
            registry
                .with(logs.with_filter(filter).with_filter(not_notices))
                .with(notices)
                .init();
        }
    }
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    let settings = match cli.settings() {
        Ok(s) => s,
        Err(e) => <Cli as clap::CommandFactory>::command()
            .error(clap::error::ErrorKind::ArgumentConflict, e)
            .exit(),
    };
    set_up_logs(&settings, &cli.command);
    if let Some(jobs) = settings.jobs {
        if let Err(e) = wirefeed::set_threads(usize::from(jobs)) {
            return fail(2, &e);
        }
    }
    let config_path = &settings.config;
    let (now, write, out, no_cache) = match cli.command {
        Command::Init { dir, .. } => return init(&dir, config_path),
        Command::Completions { shell } => {
            return completions(shell);
        }
        Command::Man { out } => return man(out.as_deref()),
        Command::Push { dry_run, force, .. } => return push(config_path, dry_run, force),
        Command::Status { .. } => return status(config_path),
        Command::Run { once, .. } => {
            let options = wirefeed::schedule::RunOptions { once };
            return match wirefeed::run(config_path, options, chrono::Utc::now) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e @ wirefeed::schedule::RunError::Locked(_)) => fail(3, &e),
                Err(e) => fail(2, &e),
            };
        }
        Command::Serve { bind, watch, .. } => {
            return match wirefeed::serve(config_path, bind, watch, chrono::Utc::now) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e @ wirefeed::ServeError::Build(_)) => fail(3, &e),
                Err(e) => fail(2, &e),
            };
        }
        Command::Build {
            now, out, no_cache, ..
        } => (now, true, out, no_cache),
        Command::Check { now, no_cache, .. } => (now, false, None, no_cache),
    };
    let config = match Config::load(config_path) {
        Ok(c) => c,
        Err(e) => return fail(2, &e),
    };
    let options = BuildOptions {
        out,
        now: now.unwrap_or_else(chrono::Utc::now),
        write,
        // A progress bar is no log line: never in JSON mode.
        progress: !settings.quiet && settings.log_format == LogFormat::Text,
        cache: !no_cache,
        lock: true,
        whole_up_to: BuildOptions::WHOLE_UP_TO,
    };
    match wirefeed::build(&config, &options) {
        Ok(report) => summarize(&report, &config, write, settings.quiet),
        Err(e) => fail(3, &e),
    }
}

fn summarize(report: &BuildReport, config: &Config, write: bool, quiet: bool) -> ExitCode {
    for e in &report.errors {
        complain(e);
    }
    if !quiet {
        let verb = if write {
            "built"
        } else {
            "checked (nothing written)"
        };
        let summary = wirefeed::pipeline::Summary {
            report,
            wrote: write,
            zone: config.site.timezone,
        };
        say(&format_args!("{verb}: {summary}"));
    }
    ExitCode::from(u8::from(!report.errors.is_empty()))
}

fn push(config: &std::path::Path, dry_run: bool, force: bool) -> ExitCode {
    let config = match Config::load(config) {
        Ok(c) => c,
        Err(e) => return fail(2, &e),
    };
    let options = wirefeed::publish::PushOptions { dry_run, force };
    match wirefeed::publish::push(&config, options, chrono::Utc::now) {
        Ok(report) => {
            for t in &report.targets {
                for file in t.sent.iter().filter(|_| dry_run) {
                    say(&format_args!("{}: would send {file}", t.name));
                }
                for file in t.deleted.iter().filter(|_| dry_run) {
                    say(&format_args!("{}: would delete {file}", t.name));
                }
                for problem in t.problems() {
                    complain(&format_args!("{}: {problem}", t.name));
                }
                say(&t);
            }
            ExitCode::from(u8::from(!dry_run && !report.complete()))
        }
        Err(e @ wirefeed::publish::PushError::Locked(_)) => fail(3, &e),
        Err(e) => fail(2, &e),
    }
}

fn status(config: &std::path::Path) -> ExitCode {
    let config = match Config::load(config) {
        Ok(c) => c,
        Err(e) => return fail(2, &e),
    };
    match wirefeed::publish::status(&config) {
        Ok(targets) => {
            for t in targets {
                println!("{}: {} pending", t.name, t.pending.len());
                for (file, p) in t.pending {
                    println!("  {file}  {p}");
                }
                if !t.deletions.is_empty() {
                    println!("{}: {} to delete", t.name, t.deletions.len());
                }
                for file in &t.deletions {
                    println!("  {file}  gone from the output folder");
                }
                if let Some(why) = t.refused_deletions {
                    println!("  {why}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(2, &e),
    }
}

fn init(dir: &std::path::Path, config: &std::path::Path) -> ExitCode {
    match wirefeed::init::init(dir, config) {
        Ok(files) => {
            for f in files {
                println!("created {}", f.display());
            }
            let named = match config.as_os_str() == wirefeed::init::DEFAULT_CONFIG {
                true => String::new(),
                false => format!(" -c {}", config.display()),
            };
            println!("next: cd {} && wirefeed{named} build", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(2, &e),
    }
}

/// A completion script on stdout. Made in memory first: the generator
/// panics on a write error (a closed pipe), a write here is an error.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    use std::io::Write;
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "wirefeed", &mut script);
    match std::io::stdout().write_all(&script) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(3, &format_args!("cannot write the completions: {e}")),
    }
}

/// The manual: the main page on stdout, or every page into `out`.
fn man(out: Option<&std::path::Path>) -> ExitCode {
    let mut command = <Cli as clap::CommandFactory>::command();
    // Built as `generate_to` builds it, so both give the same main page.
    command.build();
    let written = match out {
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout()),
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(command, dir))
            .map(|()| println!("wrote the manual pages into {}", dir.display())),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(3, &format_args!("cannot write the manual: {e}")),
    }
}

fn fail(code: u8, error: &dyn std::fmt::Display) -> ExitCode {
    complain(&format_args!("error: {error}"));
    ExitCode::from(code)
}
