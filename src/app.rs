//! Entry points of the long-running commands: they own the tokio runtimes,
//! turn Ctrl-C and SIGTERM into a shutdown token, set the thread pool, and
//! hand the stages that rebuild (`watch`, `schedule`) the pipeline's build
//! function, so that no stage calls back up into the crate root.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::config::{self, Config};
use crate::metrics::{Publisher, Registry};
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
    /// Binding, watching or serving failed.
    #[error("{0}")]
    Io(String),
}

/// The target of the lines a service writes whatever the log level (the
/// address it serves on): the binary shows them as they are, or as JSON
/// objects with `--log-format json`.
pub const NOTICE: &str = "wirefeed::notice";

/// Serves the output folder on `bind` (default: the config's) until
/// Ctrl-C or SIGTERM; with `watch`, builds first and rebuilds on every
/// change. `now` is the clock embargoes are judged against. Without
/// `watch`, a folder not built yet is served anyway (`/healthz` says 503
/// until a build writes its `index.html`), so that `serve` may start
/// before the `run` that builds it.
pub fn serve(
    config_path: &Path,
    bind: Option<std::net::SocketAddr>,
    watch: bool,
    now: fn() -> DateTime<Utc>,
) -> Result<(), ServeError> {
    let config = Config::load(config_path)?;
    let index = config.output.join("index.html");
    let publisher = match watch {
        true => Publisher::Here,
        false => Publisher::Elsewhere(index.clone()),
    };
    let metrics = Arc::new(Registry::new(
        now,
        publisher,
        config.metrics.max_publish_age,
    ));
    // What the first build learns, the watcher's rebuilds start from.
    let session = Arc::new(pipeline::Session::new());
    prepare(&config, watch, now, &session, &metrics)?;
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
                session.clone(),
                metrics.clone(),
                token,
            ))
        });
        let local = listener.local_addr().map_or(bind, |a| a);
        let serving = format!("serving {} on http://{local}/", config.output.display());
        tracing::info!(target: NOTICE, "{serving} (Ctrl-C stops)");
        tokio::spawn(keep_watchdog_fed(shutdown.clone()));
        crate::sys::service_state(ServiceState::Ready(&serving));
        let served = crate::serve::run_with_metrics(
            listener,
            &config.output,
            &config.serve,
            metrics,
            shutdown.clone(),
        )
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

/// Before `serve` listens: with `watch`, the first build (a publish);
/// without, the folder to serve, made if need be, with a warning when
/// nothing is built there yet.
fn prepare(
    config: &Config,
    watch: bool,
    now: fn() -> DateTime<Utc>,
    session: &pipeline::Session,
    metrics: &Registry,
) -> Result<(), ServeError> {
    let index = config.output.join("index.html");
    if watch {
        let started = std::time::Instant::now();
        let built = session.build(config, &BuildOptions::service(now()), None);
        metrics.build(started, &built);
        let report = built?;
        metrics.published();
        for e in &report.errors {
            tracing::warn!("{}", config::one_line(&e.to_string()));
        }
        let summary = pipeline::Summary {
            report: &report,
            wrote: true,
            zone: config.site.timezone,
        };
        tracing::info!("built: {summary}");
    } else if !index.is_file() {
        std::fs::create_dir_all(&config.output).map_err(|e| {
            ServeError::Io(format!("{}: cannot create: {e}", config.output.display()))
        })?;
        tracing::warn!(
            "{}: no index.html yet: /healthz answers 503 until a build writes it (`wirefeed build`, or serve with --watch)",
            config.output.display()
        );
    }
    Ok(())
}

/// Builds and pushes on the `[schedule]` until Ctrl-C or SIGTERM (or once,
/// with `options.once`). `now` is the clock embargoes are judged against.
/// With `[metrics] bind`, answers `/metrics` and `/healthz` there.
pub fn run(
    config_path: &Path,
    options: schedule::RunOptions,
    now: fn() -> DateTime<Utc>,
) -> Result<(), schedule::RunError> {
    let config = Config::load(config_path)?;
    let metrics = Arc::new(Registry::new(
        now,
        Publisher::Here,
        config.metrics.max_publish_age,
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| schedule::RunError::Start(e.to_string()))?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
        tokio::spawn(keep_watchdog_fed(shutdown.clone()));
        let mut listening = None;
        let listen = || {
            listening = config
                .metrics
                .bind
                .map(|bind| metrics_listener(bind, &config, &metrics, &shutdown));
        };
        let ran = schedule::run(
            config_path,
            options,
            now,
            Arc::new(pipeline::Session::new()),
            metrics.clone(),
            listen,
            shutdown.clone(),
        )
        .await;
        crate::sys::service_state(ServiceState::Stopping);
        shutdown.cancel();
        if let Some(l) = listening {
            let _ = l.await;
        }
        ran
    })
}

/// Serves `/metrics` and `/healthz` on `[metrics] bind` until `shutdown`,
/// with `[serve]`'s timeouts and a small connection limit. An address that
/// cannot be bound (still held by the process this one replaces, say) is
/// logged and tried again every few seconds: metrics never stop `run`
/// from publishing. Started once `run` holds the output folder, so a
/// second `run` says that another holds it, not that the port is taken.
fn metrics_listener(
    bind: std::net::SocketAddr,
    config: &Config,
    metrics: &Arc<Registry>,
    shutdown: &CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let settings = config::Serve {
        max_connections: 16,
        ..config.serve.clone()
    };
    let (metrics, shutdown) = (metrics.clone(), shutdown.clone());
    tokio::spawn(async move {
        let mut said = false;
        let listener = loop {
            match tokio::net::TcpListener::bind(bind).await {
                Ok(l) => break l,
                Err(e) if !said => {
                    tracing::error!(
                        "cannot listen on {bind} ([metrics] bind): {e}; trying again every 5s"
                    );
                    said = true;
                }
                Err(_) => {}
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
            }
        };
        let local = listener.local_addr().map_or(bind, |a| a);
        tracing::info!(target: NOTICE, "metrics and health on http://{local}/metrics and /healthz");
        let served = crate::serve::run_metrics_listener(listener, &settings, metrics, shutdown);
        if let Err(e) = served.await {
            tracing::error!("the metrics listener stopped: {e}");
        }
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
