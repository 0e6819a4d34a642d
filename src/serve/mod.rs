//! Serve: the output folder over HTTP, the way feed readers expect, with
//! the limits a server on the open internet needs.
//!
//! In: a folder of built files, a listener and `[serve]`. Out: GET and
//! HEAD answers (`files`), compressed once per version (`compress`), over
//! connections that are timed out and counted (`conn`). It never builds
//! anything itself: see `watch` for rebuilding while serving.
//!
//! - Connections: at most `max_connections` at once. More wait in the
//!   kernel's queue until one ends; while they wait, connections that sit
//!   idle between requests (or sent nothing yet) for a second are closed,
//!   so a client hoarding sockets cannot lock readers out. Established
//!   connections keep being served.
//! - Timeouts: a request's headers must arrive within `header_timeout` of
//!   their first byte (a new connection's, of the connection); a
//!   connection waiting for its next request, or making no progress taking
//!   a response, is closed after `idle_timeout`.
//! - Shutdown: once `shutdown` is cancelled nothing new is accepted,
//!   idle connections close, requests in flight finish; after
//!   `shutdown_timeout` whatever is left (a client that sent half a
//!   request, a reader too slow to take its feed) is dropped.
//! - Operations: with a metrics registry, `/metrics` and `/healthz` are
//!   answered before any file (`ops`), and every answer is counted by
//!   status class. `run`'s metrics listener is this same server with no
//!   folder behind it.

mod compress;
mod conn;
mod files;
mod ops;

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config;
use crate::metrics::Registry;

pub use files::Site;

/// What a request may reach: the folder's files, the operator's
/// addresses, or both.
pub(crate) struct Handler {
    site: Option<Site>,
    ops: Option<ops::Ops>,
}

impl Handler {
    /// The answer to `request` from `peer`.
    async fn answer(&self, request: Request<Incoming>, peer: IpAddr) -> Response<files::Body> {
        if let Some(refused) = files::refuse(&request) {
            return refused;
        }
        if let Some(answer) = self
            .ops
            .as_ref()
            .and_then(|o| ops::answer(o, &request, peer))
        {
            return answer;
        }
        match &self.site {
            Some(site) => files::answer(site, request).await,
            None => files::not_found(),
        }
    }

    /// Counts an answer with `status`, when there is a registry.
    fn answered(&self, status: u16) {
        if let Some(ops) = &self.ops {
            ops.registry.request(status);
        }
    }
}

/// Serves `root` on `listener` until `shutdown` is cancelled, then lets
/// requests in flight finish for at most `settings.shutdown_timeout`.
pub async fn run(
    listener: TcpListener,
    root: &Path,
    settings: &config::Serve,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let site = Some(Site::new(root, settings)?);
    accept(listener, Handler { site, ops: None }, settings, shutdown).await
}

/// [`run`], also answering `/metrics` (to whom `settings.metrics` lets in)
/// and `/healthz` from `registry`, which counts every answer.
pub async fn run_with_metrics(
    listener: TcpListener,
    root: &Path,
    settings: &config::Serve,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let site = Some(Site::new(root, settings)?);
    let ops = Some(ops::Ops {
        registry,
        access: settings.metrics,
    });
    accept(listener, Handler { site, ops }, settings, shutdown).await
}

/// `/metrics` and `/healthz` alone, to everyone who reaches `listener`
/// (`run`'s `[metrics] bind`), with `settings`' limits.
pub async fn run_metrics_listener(
    listener: TcpListener,
    settings: &config::Serve,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let ops = Some(ops::Ops {
        registry,
        access: config::MetricsAccess::Public,
    });
    accept(listener, Handler { site: None, ops }, settings, shutdown).await
}

/// The accept loop, the connection limit and the shutdown deadline.
async fn accept(
    listener: TcpListener,
    handler: Handler,
    settings: &config::Serve,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let handler = Arc::new(handler);
    let limits = Arc::new(conn::Limits {
        header_timeout: settings.header_timeout,
        idle_timeout: settings.idle_timeout,
        pressure: Notify::new(),
    });
    let permits = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    let tracker = TaskTracker::new();
    // Cancelled at the deadline: connections still open are dropped.
    let hard_stop = CancellationToken::new();
    let mut last_accept_error = None::<std::time::Instant>;
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // Full: ask idle connections to make room, and ask again
                // every second until one ends.
                limits.pressure.notify_waiters();
                tokio::select! {
                    p = permits.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    _ = shutdown.cancelled() => break,
                }
            }
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors (EMFILE) and the like: wait a little
                // rather than spin; say so at most once a minute.
                let now = std::time::Instant::now();
                if last_accept_error.is_none_or(|t| now.duration_since(t) > Duration::from_secs(60))
                {
                    tracing::warn!("serve: cannot accept a connection: {e}");
                    last_accept_error = Some(now);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (handler, limits) = (handler.clone(), limits.clone());
        let (shutdown, hard_stop) = (shutdown.clone(), hard_stop.clone());
        tracker.spawn(async move {
            conn::serve(stream, peer.ip(), handler, limits, shutdown, hard_stop).await;
            drop(permit);
        });
    }
    drop(listener);
    tracker.close();
    if tokio::time::timeout(settings.shutdown_timeout, tracker.wait())
        .await
        .is_err()
    {
        tracing::info!(
            "serve: {} connections still open after {:?}: closed",
            tracker.len(),
            settings.shutdown_timeout
        );
        hard_stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(1), tracker.wait()).await;
    }
    Ok(())
}
