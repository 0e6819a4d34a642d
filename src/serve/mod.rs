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

mod compress;
mod conn;
mod files;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config;

pub use files::Site;

/// Serves `root` on `listener` until `shutdown` is cancelled, then lets
/// requests in flight finish for at most `settings.shutdown_timeout`.
pub async fn run(
    listener: TcpListener,
    root: &Path,
    settings: &config::Serve,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let site = Arc::new(Site::new(root, settings)?);
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
        let (stream, _) = match accepted {
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
        let (site, limits) = (site.clone(), limits.clone());
        let (shutdown, hard_stop) = (shutdown.clone(), hard_stop.clone());
        tracker.spawn(async move {
            conn::serve(stream, site, limits, shutdown, hard_stop).await;
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
