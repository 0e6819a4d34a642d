//! One connection: HTTP/1.1 through hyper, watched for the two timeouts,
//! closed when idle under pressure, stopped gracefully and then for good.
//!
//! hyper knows one timeout, from the moment it waits for a request; here
//! the connection's reads, writes and requests move it through phases,
//! each with its own deadline:
//!
//! | phase | since | closed after |
//! |---|---|---|
//! | `FRESH`: accepted, no byte yet | accept | `header_timeout` |
//! | `HEADERS`: a request's first byte came | that byte | `header_timeout` |
//! | `BUSY`: a request is being answered | — | never |
//! | `IDLE`: answered; taking the body, then waiting | the last byte either way | `idle_timeout` |

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Handler;

/// What every connection shares.
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    /// Notified when the server is full: idle connections then close.
    pub pressure: Notify,
}

/// How long a connection must have been idle (or silent since accept) for
/// the server, when full, to close it.
const RECLAIM_AFTER: Duration = Duration::from_secs(1);

const FRESH: u8 = 0;
const HEADERS: u8 = 1;
const BUSY: u8 = 2;
const IDLE: u8 = 3;

/// A connection's phase and since when, in milliseconds from `start`.
struct Watch {
    start: Instant,
    phase: AtomicU8,
    since: AtomicU64,
}

impl Watch {
    fn now(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn enter(&self, phase: u8) {
        self.since.store(self.now(), Ordering::Relaxed);
        self.phase.store(phase, Ordering::Relaxed);
    }

    /// When the connection is to be closed, if nothing happens first.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let since = self.start + Duration::from_millis(self.since.load(Ordering::Relaxed));
        match self.phase.load(Ordering::Relaxed) {
            FRESH | HEADERS => Some(since + limits.header_timeout),
            IDLE => Some(since + limits.idle_timeout),
            _ => None,
        }
    }

    /// Whether closing it loses nobody a request: silent since accept, or
    /// idle between requests, for a while.
    fn reclaimable(&self) -> bool {
        let quiet = self
            .now()
            .saturating_sub(self.since.load(Ordering::Relaxed));
        matches!(self.phase.load(Ordering::Relaxed), FRESH | IDLE)
            && quiet >= RECLAIM_AFTER.as_millis() as u64
    }
}

/// The socket, telling the watch what it reads and writes.
struct Watched {
    io: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            let phase = this.watch.phase.load(Ordering::Relaxed);
            if phase == IDLE || phase == FRESH {
                this.watch.enter(HEADERS);
            }
        }
        polled
    }
}

impl Watched {
    fn wrote(&self, polled: &Poll<io::Result<usize>>) {
        if matches!(polled, Poll::Ready(Ok(n)) if *n > 0)
            && self.watch.phase.load(Ordering::Relaxed) == IDLE
        {
            self.watch.enter(IDLE);
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write(cx, buf);
        this.wrote(&polled);
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.wrote(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Serves one connection until the client closes it, a timeout or the
/// server's pressure closes it, or shutdown ends it.
pub async fn serve(
    stream: TcpStream,
    peer: std::net::IpAddr,
    handler: Arc<Handler>,
    limits: Arc<Limits>,
    shutdown: CancellationToken,
    hard_stop: CancellationToken,
) {
    let watch = Arc::new(Watch {
        start: Instant::now(),
        phase: AtomicU8::new(FRESH),
        since: AtomicU64::new(0),
    });
    let io = TokioIo::new(Watched {
        io: stream,
        watch: watch.clone(),
    });
    let request_watch = watch.clone();
    let service = hyper::service::service_fn(move |request| {
        let (handler, watch) = (handler.clone(), request_watch.clone());
        watch.enter(BUSY);
        async move {
            let response = handler.answer(request, peer).await;
            handler.answered(response.status().as_u16());
            watch.enter(IDLE);
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let connection = http1::Builder::new()
        .header_read_timeout(None)
        .max_buf_size(64 * 1024)
        .serve_connection(io, service);
    tokio::pin!(connection);
    let mut stopping = false;
    // The phase changes under the timer: it is looked at again at least
    // every quarter of the shorter timeout (a request does not wake it).
    let tick = limits.header_timeout.min(limits.idle_timeout) / 4;
    loop {
        let next = Instant::now() + tick;
        let wake = watch.deadline(&limits).map_or(next, |d| d.min(next));
        let timer = tokio::time::sleep_until(wake.into());
        tokio::select! {
            _ = connection.as_mut() => return,
            _ = timer => {
                // Activity may have moved the deadline since.
                if watch.deadline(&limits).is_some_and(|d| d <= Instant::now()) {
                    return;
                }
            }
            _ = limits.pressure.notified() => {
                if watch.reclaimable() {
                    return;
                }
            }
            _ = shutdown.cancelled(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = hard_stop.cancelled() => return,
        }
    }
}
