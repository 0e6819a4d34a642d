//! A fake HTTP target in the test process: stores PUT files, injects
//! faults, records WebSub pings and webhook bodies.

#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;

/// What the fake server does and saw.
#[derive(Default)]
pub struct Server {
    /// Path → stored bytes.
    pub stored: HashMap<String, Vec<u8>>,
    /// Path → PUTs received.
    pub puts: HashMap<String, usize>,
    /// Path → faults to answer with first, in order.
    pub faults: HashMap<String, Vec<Fault>>,
    /// Paths always refused with 403.
    pub forbidden: Vec<String>,
    /// Form bodies the hub received.
    pub pings: Vec<String>,
    /// Webhook bodies received.
    pub hooks: Vec<serde_json::Value>,
    /// Bearer tokens seen.
    pub tokens: Vec<String>,
    /// Every PUT waits this long (for the kill test).
    pub slow: Duration,
    /// Paths in the order their PUTs were stored.
    pub order: Vec<String>,
    /// Paths DELETEd, in order.
    pub deleted: Vec<String>,
    /// Answer PUTs with an `ETag` and honour `If-Match` and
    /// `If-None-Match: *` on PUT and DELETE (nginx does neither).
    pub conditional: bool,
    /// Path → the ETag of what is stored.
    pub etags: HashMap<String, String>,
    /// Requests answered 412.
    pub precondition_failed: usize,
}

#[derive(Clone, Copy)]
pub enum Fault {
    /// Close the connection without an answer.
    Drop,
    Status500,
    TooMany,
    Stall,
}

pub type Shared = Arc<Mutex<Server>>;

async fn handle(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    if let Some(token) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        s.lock().unwrap().tokens.push(token.to_owned());
    }
    // A hostile target: it answers with what it was sent.
    if path.starts_with("/echo/") {
        return (StatusCode::FORBIDDEN, echo(&headers)).into_response();
    }
    if path.starts_with("/echo-redirect/") {
        let location = format!("/login?{}", echo(&headers).replace('\n', "&"));
        return (StatusCode::FOUND, [("location", location)]).into_response();
    }
    if path.starts_with("/hostile/") {
        return (StatusCode::BAD_REQUEST, HOSTILE).into_response();
    }
    if path == "/hub" {
        s.lock()
            .unwrap()
            .pings
            .push(String::from_utf8_lossy(&body).into_owned());
        return StatusCode::NO_CONTENT.into_response();
    }
    if path == "/redirect" {
        return (StatusCode::MOVED_PERMANENTLY, [("location", "/hook")]).into_response();
    }
    if path == "/hook" {
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        s.lock().unwrap().hooks.push(v);
        return StatusCode::OK.into_response();
    }
    if let Some(refused) = precondition(&s, &path, &headers) {
        return refused;
    }
    if method == Method::DELETE {
        let mut s = s.lock().unwrap();
        s.etags.remove(&path);
        s.deleted.push(path.clone());
        return match s.stored.remove(&path) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    if method == Method::GET {
        let s = s.lock().unwrap();
        return match s.stored.get(&path) {
            Some(bytes) => {
                let etag = s.etags.get(&path).cloned().unwrap_or_default();
                (StatusCode::OK, [("etag", etag)], bytes.clone()).into_response()
            }
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    if method != Method::PUT {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let (fault, slow) = {
        let mut s = s.lock().unwrap();
        *s.puts.entry(path.clone()).or_default() += 1;
        if s.forbidden.contains(&path) {
            return (StatusCode::FORBIDDEN, "not allowed here").into_response();
        }
        let fault = s
            .faults
            .get_mut(&path)
            .and_then(|f| (!f.is_empty()).then(|| f.remove(0)));
        (fault, s.slow)
    };
    tokio::time::sleep(slow).await;
    match fault {
        // Unwinding out of the handler makes the server close the
        // connection mid-request (without the panic hook's message).
        Some(Fault::Drop) => std::panic::resume_unwind(Box::new(())),
        Some(Fault::Status500) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Some(Fault::TooMany) => {
            return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response()
        }
        Some(Fault::Stall) => {
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        None => {}
    }
    let mut s = s.lock().unwrap();
    s.order.push(path.clone());
    s.stored.insert(path.clone(), body.to_vec());
    if !s.conditional {
        return StatusCode::CREATED.into_response();
    }
    let etag = format!("\"{}-{}\"", body.len(), s.order.len());
    s.etags.insert(path, etag.clone());
    (StatusCode::CREATED, [("etag", etag)]).into_response()
}

/// A 412 when the server is `conditional` and the request's `If-Match`
/// or `If-None-Match: *` does not hold.
fn precondition(s: &Shared, path: &str, headers: &HeaderMap) -> Option<Response> {
    let mut s = s.lock().unwrap();
    if !s.conditional {
        return None;
    }
    let current = s.etags.get(path).cloned();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let fails = match (header("if-match"), header("if-none-match")) {
        (Some(tag), _) => current.as_deref() != Some(tag),
        (None, Some("*")) => s.stored.contains_key(path),
        _ => false,
    };
    if fails {
        s.precondition_failed += 1;
        return Some(StatusCode::PRECONDITION_FAILED.into_response());
    }
    None
}

/// A body that tries to forge log lines and drive the terminal.
pub const HOSTILE: &str = "nope\n\x1b[2K\rERROR forged: every feed deleted\r\n\x1b]0;pwned\x07\
                           \nWARN forged too\n\x1b[31mred\x1b[0m\u{202e}desrever";

/// The request's credentials as a server that echoes them would show them,
/// one form a line (the header, its percent-encoding, the credential
/// decoded or encoded), then every other header. Fits in a header value.
pub fn echo(headers: &HeaderMap) -> String {
    use base64::Engine;
    let pct = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut lines = Vec::new();
    if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        lines.push(format!("authorization: {auth}"));
        lines.push(format!("pct: {}", pct(auth)));
        match auth.split_once(' ') {
            Some(("Basic", cred)) => {
                let plain = b64.decode(cred).unwrap();
                let plain = String::from_utf8(plain).unwrap();
                lines.push(format!("decoded: {plain}"));
                lines.push(format!("pct-decoded: {}", pct(&plain)));
                if let Some((_, password)) = plain.split_once(':') {
                    lines.push(format!("b64-password: {}", b64.encode(password)));
                }
            }
            Some((_, token)) => {
                lines.push(format!("b64: {}", b64.encode(token)));
                lines.push(format!("pct-b64: {}", pct(&b64.encode(token))));
            }
            None => {}
        }
    }
    for (name, value) in headers {
        if name != "authorization" {
            let value = String::from_utf8_lossy(value.as_bytes());
            lines.push(format!("{name}: {value}"));
        }
    }
    lines.join("\n")
}

/// Starts the server on 127.0.0.1:0 in a runtime of its own; returns its
/// base URL. It runs until the test process ends.
pub fn start(shared: Shared) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = Router::new().fallback(handle).with_state(shared);
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}
