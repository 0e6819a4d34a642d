//! Metrics: what a running `serve` or `run` has done, for Prometheus, and
//! whether it is healthy, for `/healthz`.
//!
//! In: builds, pushes and answered requests, told by the code that does
//! them (`watch`, `schedule`, `serve`, `app`), each through one method of
//! [`Registry`]. Out: the text exposition format 0.0.4 ([`Registry::render`])
//! and a health verdict with a one-line reason ([`Registry::health`]).
//! One registry per process, handed down as an `Arc`; there are no
//! globals. It never decides anything itself: a publish is what the caller
//! says succeeded.
//!
//! A small registry of atomics rather than a crate: the metrics are few and
//! fixed, their labels are known (an outcome, a target, a status class), and
//! `prometheus-client` writes OpenMetrics (`# EOF`, its own content type)
//! where the plain 0.0.4 format is asked for; this needs no dependency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::pipeline::{BuildError, BuildReport};
use crate::publish::{PushError, PushReport};

/// The `Content-Type` of [`Registry::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the build duration histogram's buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// "Never" in the millisecond timestamps.
const NEVER: i64 = i64::MIN;

/// Who publishes what this process serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publisher {
    /// This process builds (and, for `run`, pushes): its own successes
    /// are the publishes `/healthz` judges.
    Here,
    /// Another process builds the folder served (`serve` without
    /// `--watch`): healthy while this file, written by every build, is
    /// there.
    Elsewhere(std::path::PathBuf),
}

/// How one push went for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PushOutcome {
    /// Everything delivered (and deleted) as planned.
    Complete,
    /// Something is left for the next push to try again.
    Pending,
    /// The target refused a file for good.
    Refused,
    /// The push could not start (the outbox, a missing secret).
    Failed,
}

impl PushOutcome {
    fn label(self) -> &'static str {
        match self {
            PushOutcome::Complete => "complete",
            PushOutcome::Pending => "pending",
            PushOutcome::Refused => "refused",
            PushOutcome::Failed => "failed",
        }
    }
}

/// Every metric of one process.
pub struct Registry {
    clock: fn() -> DateTime<Utc>,
    publisher: Publisher,
    max_publish_age: Option<Duration>,
    started_ms: i64,
    builds_ok: AtomicU64,
    builds_failed: AtomicU64,
    duration_buckets: [AtomicU64; BUCKETS.len()],
    duration_count: AtomicU64,
    duration_sum_us: AtomicU64,
    articles: AtomicU64,
    article_errors: AtomicU64,
    feeds: AtomicU64,
    files_written: AtomicU64,
    /// (target, outcome) → pushes.
    pushes: Mutex<BTreeMap<(String, PushOutcome), u64>>,
    /// target → files pending or refused after its last push.
    pending: Mutex<BTreeMap<String, u64>>,
    /// Requests answered, by status class: 1xx … 5xx.
    requests: [AtomicU64; 5],
    last_publish_ms: AtomicI64,
    /// Why the last build or push did not publish, until one does.
    problem: Mutex<Option<String>>,
}

impl Registry {
    /// A registry for a process that started now (`clock()`); `/healthz`
    /// fails when the last publish is older than `max_publish_age`.
    pub fn new(
        clock: fn() -> DateTime<Utc>,
        publisher: Publisher,
        max_publish_age: Option<Duration>,
    ) -> Registry {
        Registry {
            clock,
            publisher,
            max_publish_age,
            started_ms: clock().timestamp_millis(),
            builds_ok: AtomicU64::new(0),
            builds_failed: AtomicU64::new(0),
            duration_buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            duration_count: AtomicU64::new(0),
            duration_sum_us: AtomicU64::new(0),
            articles: AtomicU64::new(0),
            article_errors: AtomicU64::new(0),
            feeds: AtomicU64::new(0),
            files_written: AtomicU64::new(0),
            pushes: Mutex::new(BTreeMap::new()),
            pending: Mutex::new(BTreeMap::new()),
            requests: std::array::from_fn(|_| AtomicU64::new(0)),
            last_publish_ms: AtomicI64::new(NEVER),
            problem: Mutex::new(None),
        }
    }

    /// A build that began at `started` ended with `result`.
    pub fn build(&self, started: Instant, result: &Result<BuildReport, BuildError>) {
        let took = started.elapsed();
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.duration_sum_us.fetch_add(us, Ordering::Relaxed);
        let seconds = took.as_secs_f64();
        for (bucket, le) in self.duration_buckets.iter().zip(BUCKETS) {
            if seconds <= le {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        match result {
            Ok(report) => {
                self.builds_ok.fetch_add(1, Ordering::Relaxed);
                self.articles
                    .store(count(report.articles), Ordering::Relaxed);
                self.feeds.store(count(report.feeds), Ordering::Relaxed);
                self.article_errors
                    .fetch_add(count(report.errors.len()), Ordering::Relaxed);
                self.files_written
                    .fetch_add(count(report.written), Ordering::Relaxed);
            }
            Err(e) => {
                self.builds_failed.fetch_add(1, Ordering::Relaxed);
                self.set_problem(format!("the last build failed: {e}"));
            }
        }
    }

    /// A push ended with `result`; `targets` are the configured ones (each
    /// counted `failed` when the push could not start).
    pub fn push(&self, result: &Result<PushReport, PushError>, targets: &[String]) {
        let mut pushes = lock(&self.pushes);
        let mut pending = lock(&self.pending);
        match result {
            Ok(report) => {
                for t in &report.targets {
                    let outcome = if !t.refused.is_empty() {
                        PushOutcome::Refused
                    } else if t.pending.is_empty()
                        && t.not_deleted.is_empty()
                        && t.errors.is_empty()
                    {
                        PushOutcome::Complete
                    } else {
                        PushOutcome::Pending
                    };
                    *pushes.entry((t.name.clone(), outcome)).or_default() += 1;
                    let left = t.pending.len() + t.refused.len();
                    pending.insert(t.name.clone(), count(left));
                }
                if !report.complete() {
                    let stuck: Vec<String> = report
                        .targets
                        .iter()
                        .filter(|t| !t.pending.is_empty() || !t.refused.is_empty())
                        .map(|t| format!("{} {}", t.name, t.pending.len() + t.refused.len()))
                        .collect();
                    self.set_problem(format!(
                        "the last push left files pending or refused ({})",
                        stuck.join(", ")
                    ));
                }
            }
            Err(e) => {
                for name in targets {
                    *pushes
                        .entry((name.clone(), PushOutcome::Failed))
                        .or_default() += 1;
                }
                self.set_problem(format!("the last push failed: {e}"));
            }
        }
    }

    /// What was built (and pushed) is out: now.
    pub fn published(&self) {
        let now = (self.clock)().timestamp_millis();
        self.last_publish_ms.store(now, Ordering::Relaxed);
        *lock(&self.problem) = None;
    }

    /// A request was answered with `status`.
    pub fn request(&self, status: u16) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.requests[class].fetch_add(1, Ordering::Relaxed);
    }

    fn set_problem(&self, why: String) {
        *lock(&self.problem) = Some(crate::config::one_line(&why));
    }

    /// Whether the service is healthy, with why, on one short line.
    pub fn health(&self) -> (bool, String) {
        if let Publisher::Elsewhere(index) = &self.publisher {
            return match index.is_file() {
                true => (true, "ok: serving what a build wrote".to_owned()),
                false => (
                    false,
                    format!("nothing to serve yet: no {}", index.display()),
                ),
            };
        }
        let last = self.last_publish_ms.load(Ordering::Relaxed);
        let problem = lock(&self.problem).clone();
        if last == NEVER {
            let why = problem.map_or(String::new(), |p| format!(": {p}"));
            return (false, format!("not published yet{why}"));
        }
        let now = (self.clock)().timestamp_millis();
        let age = Duration::from_millis(u64::try_from(now - last).unwrap_or(0));
        let since = format!("last publish {}s ago", age.as_secs());
        match self.max_publish_age {
            Some(max) if age > max => {
                let why = problem.map_or(String::new(), |p| format!("; {p}"));
                let limit = max.as_secs();
                (
                    false,
                    format!("stale: {since}, more than max_publish_age ({limit}s){why}"),
                )
            }
            // Still fresh enough, but say what went wrong since.
            _ => {
                let why = problem.map_or(String::new(), |p| format!("; since then {p}"));
                (true, format!("ok: {since}{why}"))
            }
        }
    }

    /// Every metric in the text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        for (name, kind, help, samples) in self.families() {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (suffix, value) in samples {
                let _ = writeln!(out, "{name}{suffix} {value}");
            }
        }
        out
    }

    /// Each family: name, type, help, and its samples as (what follows
    /// the name: a `_bucket` suffix, labels; value).
    fn families(&self) -> Vec<Family> {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        let one = |a: &AtomicU64| vec![(String::new(), load(a))];
        let by_target = |rows: Vec<(String, u64)>| {
            rows.into_iter()
                .map(|(labels, n)| (labels, n as f64))
                .collect()
        };
        let pushes = lock(&self.pushes)
            .iter()
            .map(|((t, o), n)| {
                (
                    format!("{{target=\"{}\",outcome=\"{}\"}}", escape(t), o.label()),
                    *n,
                )
            })
            .collect();
        let pending = lock(&self.pending)
            .iter()
            .map(|(t, n)| (format!("{{target=\"{}\"}}", escape(t)), *n))
            .collect();
        let requests = (self.requests.iter().enumerate())
            .map(|(i, n)| (format!("{{class=\"{}xx\"}}", i + 1), load(n)))
            .collect();
        let last = match self.last_publish_ms.load(Ordering::Relaxed) {
            NEVER => 0.0,
            ms => seconds(ms),
        };
        vec![
            (
                "wirefeed_builds_total",
                "counter",
                "Builds finished, by outcome (ok or failed).",
                vec![
                    ("{outcome=\"ok\"}".to_owned(), load(&self.builds_ok)),
                    ("{outcome=\"failed\"}".to_owned(), load(&self.builds_failed)),
                ],
            ),
            (
                "wirefeed_build_duration_seconds",
                "histogram",
                "How long builds took.",
                self.duration(),
            ),
            (
                "wirefeed_articles",
                "gauge",
                "Articles the last successful build read.",
                one(&self.articles),
            ),
            (
                "wirefeed_article_errors_total",
                "counter",
                "Article problems reported by builds (path:line: reason).",
                one(&self.article_errors),
            ),
            (
                "wirefeed_feeds",
                "gauge",
                "Feeds the last successful build produced (each in one or more formats).",
                one(&self.feeds),
            ),
            (
                "wirefeed_files_written_total",
                "counter",
                "Files builds wrote with new bytes (feeds, pages, archive pages).",
                one(&self.files_written),
            ),
            (
                "wirefeed_pushes_total",
                "counter",
                "Pushes to each target, by outcome (complete, pending, refused, failed).",
                by_target(pushes),
            ),
            (
                "wirefeed_outbox_pending_files",
                "gauge",
                "Files pending or refused in the outbox after each target's last push.",
                by_target(pending),
            ),
            (
                "wirefeed_http_requests_total",
                "counter",
                "HTTP requests answered, by status class.",
                requests,
            ),
            (
                "wirefeed_last_publish_timestamp_seconds",
                "gauge",
                "When this process last published successfully (unix seconds; 0: not yet).",
                vec![(String::new(), last)],
            ),
            (
                "process_start_time_seconds",
                "gauge",
                "When this process started (unix seconds).",
                vec![(String::new(), seconds(self.started_ms))],
            ),
        ]
    }

    /// The build duration histogram's samples: cumulative buckets, the
    /// sum and the count.
    fn duration(&self) -> Vec<(String, f64)> {
        let count = self.duration_count.load(Ordering::Relaxed) as f64;
        let sum = self.duration_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let buckets = self.duration_buckets.iter().zip(BUCKETS);
        buckets
            .map(|(n, le)| {
                (
                    format!("_bucket{{le=\"{le}\"}}"),
                    n.load(Ordering::Relaxed) as f64,
                )
            })
            .chain([
                ("_bucket{le=\"+Inf\"}".to_owned(), count),
                ("_sum".to_owned(), sum),
                ("_count".to_owned(), count),
            ])
            .collect()
    }
}

/// A metric family: name, type, help, and its samples as (what follows
/// the name, value).
type Family = (&'static str, &'static str, &'static str, Vec<(String, f64)>);

/// A label value as the format writes it: `\`, `"` and line feeds escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// A poisoned lock still holds whole counts (each update is one insert).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_noon() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap_or_default()
            .to_utc()
    }

    #[test]
    fn every_sample_has_help_and_type_and_labels_are_escaped() {
        let r = Registry::new(at_noon, Publisher::Here, None);
        r.push(
            &Err(PushError::Setup("no token".into())),
            &["a\"b\\c\nd".to_owned()],
        );
        r.request(200);
        r.request(404);
        r.request(503);
        let text = r.render();
        let mut typed = std::collections::BTreeSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                typed.insert(rest.split(' ').next().unwrap_or_default().to_owned());
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .fold(name, |n, s| n.strip_suffix(s).unwrap_or(n));
            assert!(typed.contains(name) || typed.contains(base), "{line}");
            let value = line.rsplit(' ').next().unwrap_or_default();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
        assert!(text
            .contains("wirefeed_pushes_total{target=\"a\\\"b\\\\c\\nd\",outcome=\"failed\"} 1\n"));
        assert!(text.contains("wirefeed_http_requests_total{class=\"4xx\"} 1\n"));
        assert!(text.contains("process_start_time_seconds 1796126400\n"));
    }

    #[test]
    fn health_waits_for_the_first_publish() {
        let r = Registry::new(at_noon, Publisher::Here, Some(Duration::from_secs(60)));
        let (ok, why) = r.health();
        assert!(!ok);
        assert_eq!(why, "not published yet");
        r.push(&Err(PushError::Setup("no token in $T".into())), &[]);
        assert_eq!(
            r.health().1,
            "not published yet: the last push failed: no token in $T"
        );
        r.published();
        assert_eq!(r.health(), (true, "ok: last publish 0s ago".to_owned()));
        r.push(&Err(PushError::Setup("no token in $T".into())), &[]);
        assert_eq!(
            r.health(),
            (
                true,
                "ok: last publish 0s ago; since then the last push failed: no token in $T"
                    .to_owned()
            )
        );
        assert!(r
            .render()
            .contains("wirefeed_last_publish_timestamp_seconds 1796126400\n"));
    }
}
