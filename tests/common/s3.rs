//! Talking to the S3 server the tests run against (moto's, which
//! `.ci/run` starts and names in `WIREFEED_S3_ENDPOINT`) with plain HTTP
//! requests, not through wirefeed's client, and running wirefeed with
//! the test's keys.

use std::collections::BTreeMap;
use std::path::Path;

pub const KEY: &str = "wirefeed-test-key";
pub const SECRET: &str = "wirefeed-test-S3cret/key";

pub fn endpoint(test: &str) -> Option<String> {
    let e = std::env::var("WIREFEED_S3_ENDPOINT").ok();
    if e.is_none() {
        super::skip(
            test,
            "no S3 server (set WIREFEED_S3_ENDPOINT to moto_server's address, or run .ci/run)",
        );
    }
    e.map(|e| e.trim_end_matches('/').to_owned())
}

/// One request to the S3 server: moto wants an `Authorization` header but
/// does not check signatures.
pub fn s3(method: &str, url: &str, body: &[u8]) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    s3_with(method, url, body, &[])
}

/// [`s3`] with more request headers.
pub fn s3_with(
    method: &str,
    url: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = client.request(method, url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let r = request
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.unwrap().to_vec())
    })
}

/// A new bucket named after the test.
pub fn bucket(endpoint: &str, test: &str) -> String {
    let name = format!("wf-{test}-{}", std::process::id()).replace('_', "-");
    let (status, _, body) = s3("PUT", &format!("{endpoint}/{name}"), b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    name
}

/// Every key of the bucket under `prefix`, with its bytes (one deleted
/// between the listing and its `GET` is left out).
pub fn objects(endpoint: &str, bucket: &str, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    keys(endpoint, bucket, prefix)
        .into_iter()
        .filter_map(|k| {
            let (status, _, bytes) = s3("GET", &format!("{endpoint}/{bucket}/{k}"), b"");
            if status == 404 {
                return None;
            }
            assert_eq!(status, 200, "{k}");
            Some((k[prefix.len()..].to_owned(), bytes))
        })
        .collect()
}

pub fn keys(endpoint: &str, bucket: &str, prefix: &str) -> Vec<String> {
    listing(endpoint, bucket, prefix).into_keys().collect()
}

/// The lease object's name under a prefix: not a file of the folder.
pub const LEASE: &str = ".wirefeed-lease";

/// Key → ETag of every object under `prefix` (one listing request per
/// 1,000 keys), the lease left out. A single-part upload's ETag is the
/// MD5 of its bytes.
pub fn listing(endpoint: &str, bucket: &str, prefix: &str) -> BTreeMap<String, String> {
    let mut all = listing_all(endpoint, bucket, prefix);
    all.remove(&format!("{prefix}{LEASE}"));
    all
}

pub fn listing_all(endpoint: &str, bucket: &str, prefix: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut url = format!("{endpoint}/{bucket}?list-type=2&prefix={prefix}");
        if let Some(t) = &token {
            let t = percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC);
            url.push_str(&format!("&continuation-token={t}"));
        }
        let (status, _, body) = s3("GET", &url, b"");
        assert_eq!(status, 200);
        let text = String::from_utf8(body).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let text_of = |tag: &str| {
            doc.descendants()
                .find(|n| n.has_tag_name(tag))
                .and_then(|n| n.text().map(str::to_owned))
        };
        for object in doc.descendants().filter(|n| n.has_tag_name("Contents")) {
            let child = |tag: &str| {
                object
                    .children()
                    .find(|n| n.has_tag_name(tag))
                    .and_then(|n| n.text())
                    .unwrap_or_default()
                    .to_owned()
            };
            out.insert(child("Key"), child("ETag").trim_matches('"').to_owned());
        }
        token = text_of("NextContinuationToken");
        if text_of("IsTruncated").as_deref() != Some("true") || token.is_none() {
            return out;
        }
    }
}

/// Runs `wirefeed ARGS` with the test's keys in the environment.
pub fn run(dir: &Path, args: &[&str]) -> super::Run {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .output()
        .unwrap();
    let run = super::Run { output };
    assert!(!run.stdout().contains(SECRET) && !run.stderr().contains(SECRET));
    run
}
