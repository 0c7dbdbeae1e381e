//! `healthcheck` → HealthChecked: probe the URL Terraform printed (at the health
//! path the analysis found, if any) with backoff until a deadline. Every probe is
//! recorded; a 2xx or 3xx answer is healthy. Failing is retryable, so
//! `POST /job/{id}/retry` checks again without applying again.

use std::sync::Arc;
use std::time::Instant;

use backon::{BackoffBuilder, ExponentialBuilder};
use engine::{StepContext, StepError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Shared;
use super::apply::ApplyOutput;
use crate::analyse::Analysed;
use crate::failures;
use crate::probe::{Probe, describe, is_healthy, probe, probe_url};
use crate::terraform::HealthConfig;

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
            .with_code(failures::APPLY_NO_OUTPUT)
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
        ))
        .with_code(failures::HEALTHCHECK_UNHEALTHY)),
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
