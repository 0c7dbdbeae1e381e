//! `GET /metrics`: real demo jobs (one retried, one failed) through a real server and
//! worker, then the exposition is parsed and checked family by family.

#[macro_use]
mod common;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use api::metrics::PrometheusHandle;
use common::{Backend, TestApp, api_config};
use serde_json::json;

api_tests!(
    metrics_count_jobs_steps_retries_and_routes,
    without_a_recorder_the_database_gauges_are_still_served,
);

/// The process's one recorder: tests of a binary may share a process, and a recorder
/// can be installed once. Counters therefore only grow across tests: the in-process
/// checks below are lower bounds, the database gauges exact.
fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| api::metrics::install_recorder().expect("install the recorder"))
        .clone()
}

async fn metrics_count_jobs_steps_retries_and_routes(backend: Backend) {
    let config = api::ApiConfig {
        metrics: Some(recorder()),
        ..api_config()
    };
    let app = TestApp::spawn_with(backend, true, config).await;
    let plain = app.submit_demo(json!({"sleep_ms": 10})).await;
    let retried = app
        .submit_demo(json!({"sleep_ms": 10, "fail_step": "build", "fail_times": 1}))
        .await;
    // demo.toml allows 4 attempts: this one fails for good at `build`.
    let failed = app
        .submit_demo(json!({"sleep_ms": 10, "fail_step": "build", "fail_times": 10}))
        .await;
    app.wait_for_status(&plain, "succeeded").await;
    app.wait_for_status(&retried, "succeeded").await;
    let ended = app.wait_for_status(&failed, "failed").await;
    // A failure that ends the job names its code and what to do.
    assert_eq!(ended["error_code"], "demo.requested_failure", "{ended:#}");
    assert_eq!(
        ended["suggestion"],
        engine::demo::FAILURES[0].suggestion,
        "{ended:#}"
    );

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    let m = Exposition::parse(&text);

    // Database-wide gauges, read at scrape time: exact.
    let jobs = |status: &str| {
        m.value(
            "deployflow_jobs",
            &[("workflow", "demo"), ("status", status)],
        )
    };
    assert_eq!(jobs("succeeded"), 2.0, "{text}");
    assert_eq!(jobs("failed"), 1.0, "{text}");
    for status in ["queued", "running", "waiting", "cancelled"] {
        assert_eq!(jobs(status), 0.0, "{status}: {text}");
    }
    assert_eq!(
        m.value(
            "deployflow_jobs",
            &[("workflow", "deploy"), ("status", "succeeded")]
        ),
        0.0
    );
    assert_eq!(m.value("deployflow_queue_depth", &[]), 0.0);
    assert_eq!(m.value("deployflow_oldest_due_job_age_seconds", &[]), 0.0);
    assert_eq!(m.value("deployflow_database_up", &[]), 1.0);

    // Recorded by this process's worker: lower bounds (see `recorder`).
    assert!(text.contains("# TYPE deployflow_step_attempt_duration_seconds histogram"));
    let demo = ("workflow", "demo");
    for (step, succeeded) in [
        ("prepare", 3.0),
        ("build", 2.0),
        ("publish", 2.0),
        ("verify", 2.0),
    ] {
        let labels = [demo, ("step", step), ("outcome", "succeeded")];
        let count = m.value("deployflow_step_attempt_duration_seconds_count", &labels);
        assert!(count >= succeeded, "{step}: {count} attempts\n{text}");
        // Every demo step sleeps 10 ms, so the sum is in seconds, not milliseconds.
        let sum = m.value("deployflow_step_attempt_duration_seconds_sum", &labels);
        assert!(
            sum >= count * 0.01 && sum < count * 5.0,
            "{step}: sum {sum}"
        );
        let all = m.value(
            "deployflow_step_attempt_duration_seconds_bucket",
            &[
                demo,
                ("step", step),
                ("outcome", "succeeded"),
                ("le", "+Inf"),
            ],
        );
        assert_eq!(all, count, "{step}: +Inf bucket");
    }
    let build_failed = [demo, ("step", "build"), ("outcome", "failed")];
    assert!(
        m.value(
            "deployflow_step_attempt_duration_seconds_count",
            &build_failed
        ) >= 5.0
    );
    // One retry of `retried`, three of `failed` before its fourth attempt ended it.
    assert!(m.value("deployflow_step_retries_total", &[demo, ("step", "build")]) >= 4.0);
    let retryable = [demo, ("step", "build"), ("kind", "retryable")];
    assert!(m.value("deployflow_step_failures_total", &retryable) >= 5.0);
    let finished = |status| {
        m.value(
            "deployflow_jobs_finished_total",
            &[demo, ("status", status)],
        )
    };
    assert!(
        finished("succeeded") >= 2.0 && finished("failed") >= 1.0,
        "{text}"
    );
    // Three first claims and one more after each of the four retries' backoff.
    assert!(
        m.value("deployflow_job_claims_total", &[demo]) >= 7.0,
        "{text}"
    );

    // Requests under their route template, never under a job's id.
    let polled = [("method", "GET"), ("route", "/job/{id}"), ("status", "200")];
    assert!(m.value("deployflow_http_request_duration_seconds_count", &polled) >= 3.0);
    let submitted = [
        ("method", "POST"),
        ("route", "/workflows/{name}/runs"),
        ("status", "202"),
    ];
    assert!(m.value("deployflow_http_request_duration_seconds_count", &submitted) >= 3.0);
    for id in [&plain, &retried, &failed] {
        assert!(
            !text.contains(id.as_str()),
            "a job id is a label value:\n{text}"
        );
    }
    let unmatched = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(unmatched.status(), 404);
    let (_, again) = app.get("/metrics").await;
    let again = Exposition::parse(again.as_str().expect("text"));
    let not_found = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert!(again.value("deployflow_http_request_duration_seconds_count", &not_found) >= 1.0);
}

async fn without_a_recorder_the_database_gauges_are_still_served(backend: Backend) {
    let app = TestApp::spawn(backend, false).await;
    app.submit_demo(json!({"sleep_ms": 10})).await;
    // No worker runs: the job stays due, and its wait shows in the age gauge.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = app.get("/metrics").await;
    assert_eq!(status, 200);
    let text = body.as_str().expect("text");
    let m = Exposition::parse(text);
    let queued = [("workflow", "demo"), ("status", "queued")];
    assert_eq!(m.value("deployflow_jobs", &queued), 1.0, "{text}");
    assert_eq!(m.value("deployflow_queue_depth", &[]), 1.0);
    let age = m.value("deployflow_oldest_due_job_age_seconds", &[]);
    assert!((1.0..60.0).contains(&age), "{age}");
    assert!(
        !text.contains("deployflow_http_request_duration_seconds"),
        "{text}"
    );
}

/// The samples of a text exposition, by name, each with its labels.
struct Exposition {
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Exposition {
    fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| parse_sample(line).unwrap_or_else(|| panic!("bad line {line:?}")))
            .collect();
        Self { samples }
    }

    /// The one sample named `name` whose labels include `labels`; panics if none or several.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<f64> = self
            .samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, value)| *value)
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
        found[0]
    }
}

/// `name{k="v",…} value`; label values may hold braces, commas and escaped quotes.
fn parse_sample(line: &str) -> Option<(String, BTreeMap<String, String>, f64)> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices();
        let (mut key, mut value, mut in_value, mut escaped) =
            (String::new(), String::new(), false, false);
        loop {
            let (at, c) = chars.next()?;
            match (in_value, c) {
                (true, _) if escaped => {
                    value.push(if c == 'n' { '\n' } else { c });
                    escaped = false;
                }
                (true, '\\') => escaped = true,
                (true, '"') => {
                    labels.insert(std::mem::take(&mut key), std::mem::take(&mut value));
                    in_value = false;
                }
                (true, _) => value.push(c),
                (false, '}') => {
                    rest = &body[at + 1..];
                    break;
                }
                (false, '"') => in_value = true,
                (false, ',' | '=') => {}
                (false, _) => key.push(c),
            }
        }
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        other => other.parse().ok()?,
    };
    Some((name, labels, value))
}
