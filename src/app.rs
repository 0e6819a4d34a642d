//! Entry points of the long-running commands: they own the tokio runtimes,
//! turn Ctrl-C and SIGTERM into a shutdown token, set the thread pool, and
//! hand the stages that rebuild (`watch`, `schedule`) the pipeline's build
//! function, so that no stage calls back up into the crate root.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::config::{self, Config};
use crate::pipeline::{self, BuildError, BuildOptions};
use crate::sys::ServiceState;
use crate::{schedule, watch};

/// A problem that stops `serve`.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The first build failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Nothing to serve yet.
    #[error("{}: no index.html here: run `wirefeed build` first, or serve with --watch", .0.display())]
    NotBuilt(PathBuf),
    /// Binding, watching or serving failed.
    #[error("{0}")]
    Io(String),
}

/// Serves the output folder on `bind` (default: the config's) until
/// Ctrl-C or SIGTERM; with `watch`, builds first and rebuilds on every
/// change. `now` is the clock embargoes are judged against.
pub fn serve(
    config_path: &Path,
    bind: Option<std::net::SocketAddr>,
    watch: bool,
    now: fn() -> DateTime<Utc>,
) -> Result<(), ServeError> {
    let config = Config::load(config_path)?;
    if watch {
        let report = pipeline::build(&config, &BuildOptions::service(now()))?;
        for e in &report.errors {
            tracing::warn!("{}", config::one_line(&e.to_string()));
        }
        let summary = pipeline::Summary {
            report: &report,
            wrote: true,
            zone: config.site.timezone,
        };
        tracing::info!("built: {summary}");
    } else if !config.output.join("index.html").is_file() {
        return Err(ServeError::NotBuilt(config.output.clone()));
    }
    let bind = bind.unwrap_or(config.serve.bind);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServeError::Io(format!("cannot start: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|e| ServeError::Io(format!("cannot listen on {bind}: {e}")))?;
        let shutdown = CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
        let watcher = watch.then(|| {
            let token = shutdown.clone();
            tokio::spawn(watch::run(
                config_path.to_owned(),
                now,
                pipeline::build,
                token,
            ))
        });
        let local = listener.local_addr().map_or(bind, |a| a);
        let serving = format!("serving {} on http://{local}/", config.output.display());
        eprintln!("{serving} (Ctrl-C stops)");
        tokio::spawn(keep_watchdog_fed(shutdown.clone()));
        crate::sys::service_state(ServiceState::Ready(&serving));
        let served = crate::serve::run(listener, &config.output, &config.serve, shutdown.clone())
            .await
            .map_err(|e| ServeError::Io(e.to_string()));
        crate::sys::service_state(ServiceState::Stopping);
        shutdown.cancel();
        if let Some(w) = watcher {
            match w.await {
                Ok(Err(e)) => tracing::error!("watching stopped: {e}"),
                Err(e) => tracing::error!("watching stopped: {e}"),
                Ok(Ok(())) => {}
            }
        }
        served
    })
}

/// Builds and pushes on the `[schedule]` until Ctrl-C or SIGTERM (or once,
/// with `options.once`). `now` is the clock embargoes are judged against.
pub fn run(
    config_path: &Path,
    options: schedule::RunOptions,
    now: fn() -> DateTime<Utc>,
) -> Result<(), schedule::RunError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| schedule::RunError::Start(e.to_string()))?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
        tokio::spawn(keep_watchdog_fed(shutdown.clone()));
        let ran = schedule::run(config_path, options, now, pipeline::build, shutdown).await;
        crate::sys::service_state(ServiceState::Stopping);
        ran
    })
}

/// Tells systemd's watchdog (`WatchdogSec=`) the service is alive, at half
/// its interval, until `shutdown`: a process whose runtime stops answering
/// is restarted. Nothing without a watchdog.
async fn keep_watchdog_fed(shutdown: CancellationToken) {
    let Some(interval) = crate::sys::watchdog_interval() else {
        return;
    };
    let mut ticks = tokio::time::interval(interval / 2);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => crate::sys::service_state(ServiceState::Alive),
        }
    }
}

/// Cancels `token` on Ctrl-C or SIGTERM.
async fn cancel_on_signal(token: CancellationToken) {
    crate::sys::stop_signal().await;
    token.cancel();
}

/// Uses `threads` threads for parsing and rendering (default: one per
/// core). Call once, before the first build.
pub fn set_threads(threads: usize) -> Result<(), String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| e.to_string())
}
