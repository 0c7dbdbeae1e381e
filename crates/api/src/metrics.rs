//! `GET /metrics`: the Prometheus text exposition.
//!
//! Two sources meet here. What this process recorded through the `metrics` facade
//! (its worker's steps, model tokens, HTTP requests) comes from the recorder the
//! binary installed, if it installed one. What the database says (jobs by status,
//! queue depth, the oldest due job's age) is read at scrape time, so every API
//! process reports the same database-wide numbers whoever ran the jobs.

use std::fmt::Write as _;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use engine::store::JobFilter;
use engine::{Engine, JobStatus};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};

pub use metrics_exporter_prometheus::PrometheusHandle;

use crate::AppState;

/// API requests by method, route template and status, in seconds.
pub const HTTP_DURATION: &str = "deployflow_http_request_duration_seconds";

/// The Prometheus text format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Bucket bounds (seconds) of every `*_seconds` histogram: from a fast API read to
/// a long deployment step.
const BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0, 600.0,
];

/// Installs the process-wide recorder and returns the handle `/metrics` renders;
/// fails if this process already has a recorder.
pub fn install_recorder() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)?
        .install_recorder()?;
    engine::metrics::describe();
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "API request durations by method, route template and status"
    );
    Ok(handle)
}

/// Records each request's duration under its route template (`/job/{id}`), never the
/// raw path, so the number of series stays bounded.
pub(crate) async fn record_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::histogram!(HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}

/// Methods outside the standard set share one label value: a client must not be
/// able to mint series.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const KNOWN: [Method; 7] = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", |known| known.as_str())
}

/// Metrics in the Prometheus text format: this process's recorded metrics, then the
/// database-wide gauges read now.
#[utoipa::path(
    get, path = "/metrics", tag = "meta",
    responses((status = 200, description = "Prometheus text exposition format 0.0.4",
        content_type = "text/plain; version=0.0.4"))
)]
pub(crate) async fn get_metrics(State(state): State<AppState>) -> Response {
    let mut body = String::new();
    if let Some(handle) = &state.config.metrics {
        // Publishes new help texts; rendering drains histograms itself.
        handle.run_upkeep();
        body = handle.render();
    }
    // A database outage must not hide this process's own metrics: it is a gauge too.
    let up = match database_gauges(&state.engine).await {
        Ok(gauges) => {
            body.push_str(&gauges);
            1.0
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: the database did not answer");
            0.0
        }
    };
    push_gauge(
        &mut body,
        "deployflow_database_up",
        "Whether the database answered this scrape",
        up,
    );
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
}

/// Jobs by workflow and status, queue depth and the oldest due job's age.
async fn database_gauges(engine: &Engine) -> engine::Result<String> {
    let mut out = String::new();
    out.push_str("# HELP deployflow_jobs Jobs in the database by workflow and status\n");
    out.push_str("# TYPE deployflow_jobs gauge\n");
    for workflow in engine.catalog().workflows() {
        for status in JobStatus::ALL {
            let filter = JobFilter {
                statuses: vec![status],
                workflow: Some(workflow.name.clone()),
                ..JobFilter::default()
            };
            let count = engine.count(&filter).await?;
            let _ = writeln!(
                out,
                "deployflow_jobs{{workflow=\"{}\",status=\"{}\"}} {count}",
                escape(&workflow.name),
                status.as_str()
            );
        }
    }
    out.push('\n');
    let depth = engine.queue_depth().await?;
    push_gauge(
        &mut out,
        "deployflow_queue_depth",
        "Jobs waiting or running",
        depth as f64,
    );
    let age = engine.oldest_due_age_seconds().await?;
    push_gauge(
        &mut out,
        "deployflow_oldest_due_job_age_seconds",
        "How long the longest-waiting claimable job has been due",
        age,
    );
    Ok(out)
}

fn push_gauge(out: &mut String, name: &str, help: &str, value: f64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
    );
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
