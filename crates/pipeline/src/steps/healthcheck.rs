//! `healthcheck` → HealthChecked: probe the URL Terraform printed (at the health
//! path the analysis found, if any) with backoff until a deadline. Every probe is
//! recorded; a 2xx or 3xx answer is healthy. Failing is retryable, so
//! `POST /job/{id}/retry` checks again without applying again.

use std::sync::Arc;
use std::time::Instant;

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};
use engine::{StepContext, StepError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Shared;
use super::apply::ApplyOutput;
use crate::analyse::Analysed;
use crate::terraform::HealthConfig;

/// One probe of the app.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    pub at: DateTime<Utc>,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
}

/// The `healthcheck` step's checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HealthOutput {
    pub url: String,
    pub status: u16,
    pub latency_ms: u64,
    pub probes: Vec<Probe>,
}

pub(super) async fn run(
    shared: Arc<Shared>,
    ctx: StepContext,
    _input: Value,
) -> Result<HealthOutput, StepError> {
    let applied: ApplyOutput = ctx.output_of("apply")?;
    let analysed: Analysed = ctx.output_of("analyse")?;
    let base = applied.app_url.ok_or_else(|| {
        StepError::permanent("terraform printed no app_url output: nothing to check")
    })?;
    let url = probe_url(&base, analysed.analysis.health_path.as_deref());
    ctx.info(format!("health check: probing {url}"));
    let probes = probe_until_healthy(&url, &shared.config.health, &ctx).await?;
    let last = probes.last().expect("at least one probe is made");
    match last.status {
        Some(status) if is_healthy(status) => {
            ctx.info(format!(
                "healthy: HTTP {status} in {} ms after {} probe(s)",
                last.latency_ms,
                probes.len()
            ));
            Ok(HealthOutput {
                url,
                status,
                latency_ms: last.latency_ms,
                probes,
            })
        }
        _ => Err(StepError::retryable(format!(
            "{url} was not healthy after {} probes over {}s; last: {}",
            probes.len(),
            shared.config.health.deadline.as_secs(),
            describe(last)
        ))),
    }
}

fn is_healthy(status: u16) -> bool {
    (200..400).contains(&status)
}

/// `base` with the health path in place of its path.
fn probe_url(base: &str, health_path: Option<&str>) -> String {
    let Some(path) = health_path.filter(|p| p.starts_with('/')) else {
        return base.to_owned();
    };
    match reqwest::Url::parse(base) {
        Ok(mut url) => {
            url.set_path(path);
            url.to_string()
        }
        Err(_) => base.to_owned(),
    }
}

fn describe(probe: &Probe) -> String {
    match (&probe.status, &probe.error) {
        (Some(status), _) => format!("HTTP {status}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".into(),
    }
}

/// Probes until a healthy answer or the deadline; returns every probe made.
async fn probe_until_healthy(
    url: &str,
    config: &HealthConfig,
    ctx: &StepContext,
) -> Result<Vec<Probe>, StepError> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.request_timeout)
        .build()
        .map_err(|e| StepError::permanent(format!("cannot build an HTTP client: {e}")))?;
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(config.first_interval)
        .with_max_delay(config.max_interval)
        .with_jitter()
        .without_max_times()
        .build();
    let deadline = Instant::now() + config.deadline;
    let mut probes = Vec::new();
    loop {
        let probe = probe(&client, url).await;
        ctx.info(format!(
            "probe {}: {} ({} ms)",
            probes.len() + 1,
            describe(&probe),
            probe.latency_ms
        ));
        let healthy = probe.status.is_some_and(is_healthy);
        probes.push(probe);
        let wait = delays.next().unwrap_or(config.max_interval);
        if healthy || Instant::now() + wait > deadline {
            return Ok(probes);
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = ctx.cancellation.cancelled() => {
                return Err(StepError::retryable("health check interrupted"));
            }
        }
    }
}

async fn probe(client: &reqwest::Client, url: &str) -> Probe {
    let at = Utc::now();
    let started = Instant::now();
    let span = tracing::info_span!("health.probe", http.request.method = "GET", url.full = %url,
        http.response.status_code = tracing::field::Empty);
    let answer = tracing::Instrument::instrument(client.get(url).send(), span.clone()).await;
    if let Ok(response) = &answer {
        span.record("http.response.status_code", response.status().as_u16());
    }
    let latency_ms = started.elapsed().as_millis() as u64;
    match answer {
        Ok(response) => Probe {
            at,
            status: Some(response.status().as_u16()),
            latency_ms,
            error: None,
        },
        Err(error) => Probe {
            at,
            status: None,
            latency_ms,
            error: Some(without_url(&error)),
        },
    }
}

/// reqwest's message without the URL it appends (the URL is already recorded).
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection refused or unreachable"
    } else {
        "request failed"
    };
    let source = std::error::Error::source(error)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    format!("{kind}{source}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_health_path_replaces_the_url_path() {
        assert_eq!(
            probe_url("http://127.0.0.1:8080/", Some("/healthz")),
            "http://127.0.0.1:8080/healthz"
        );
        assert_eq!(probe_url("http://h:8080/", None), "http://h:8080/");
        assert_eq!(
            probe_url("http://h:8080/", Some("health")),
            "http://h:8080/"
        );
        assert!(is_healthy(204) && is_healthy(302) && !is_healthy(503));
    }
}
