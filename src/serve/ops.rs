//! The operator's two addresses: `/metrics` (Prometheus text format 0.0.4)
//! and `/healthz` (200 or 503 with a one-line reason), answered from the
//! process's [`Registry`] before any file is looked up.
//!
//! `/healthz` answers everyone: it says no more than "ok" or what is
//! wrong. `/metrics` names push targets and counts, so on the serve port
//! it answers only whom `[serve] metrics` lets in (by default, clients on
//! loopback whose request came through no proxy); anyone else gets the
//! same `404` as for a file that is not there. On `run`'s own metrics
//! listener both answer everyone who can reach it.

use std::net::IpAddr;
use std::sync::Arc;

use hyper::body::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::files::{self, Body};
use crate::config::MetricsAccess;
use crate::metrics::{self, Registry};

/// The registry and who may read it.
pub struct Ops {
    /// This process's metrics.
    pub registry: Arc<Registry>,
    /// Who may read `/metrics`.
    pub access: MetricsAccess,
}

/// The answer when `request` names `/metrics` or `/healthz`; `None` for
/// any other path.
pub fn answer<B>(ops: &Ops, request: &Request<B>, peer: IpAddr) -> Option<Response<Body>> {
    let head = request.method() == Method::HEAD;
    let mut response = match request.uri().path() {
        "/healthz" => {
            let (ok, why) = ops.registry.health();
            let status = match ok {
                true => StatusCode::OK,
                false => StatusCode::SERVICE_UNAVAILABLE,
            };
            let text = Bytes::from(format!("{why}\n"));
            files::text_answer(status, "text/plain; charset=utf-8", text, head)
        }
        "/metrics" if allowed(ops.access, request.headers(), peer) => {
            let text = Bytes::from(ops.registry.render());
            files::text_answer(StatusCode::OK, metrics::CONTENT_TYPE, text, head)
        }
        "/metrics" => files::not_found(),
        _ => return None,
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Some(response)
}

/// Whether this client may read `/metrics`.
fn allowed(access: MetricsAccess, headers: &HeaderMap, peer: IpAddr) -> bool {
    match access {
        MetricsAccess::Public => true,
        MetricsAccess::Off => false,
        MetricsAccess::Loopback => {
            // A proxy on this machine makes every client look local; the
            // headers it adds say the request came from elsewhere.
            let proxied =
                headers.contains_key(header::FORWARDED) || headers.contains_key("x-forwarded-for");
            peer.to_canonical().is_loopback() && !proxied
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_on_the_serve_port_are_for_loopback_clients_only() {
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        let remote: IpAddr = "192.0.2.7".parse().unwrap();
        let none = HeaderMap::new();
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-for", HeaderValue::from_static("192.0.2.7"));
        assert!(allowed(MetricsAccess::Loopback, &none, local));
        assert!(allowed(MetricsAccess::Loopback, &none, mapped));
        assert!(!allowed(MetricsAccess::Loopback, &none, remote));
        assert!(!allowed(MetricsAccess::Loopback, &proxied, local));
        assert!(allowed(MetricsAccess::Public, &proxied, remote));
        assert!(!allowed(MetricsAccess::Off, &none, local));
    }
}
