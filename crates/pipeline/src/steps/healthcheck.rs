//! `healthcheck` → HealthChecked: probe the URL Terraform printed (at the health
//! path the analysis found, if any) with backoff until a deadline. Every probe is
//! recorded; a 2xx or 3xx answer is healthy, and without a health path any
//! answer below 500 but 400 on `/`, as in preflight. Failing is retryable, so
//! `POST /job/{id}/retry` checks again without applying again. A cloud
//! deployment's URL is probed only on public addresses (`public_address`).

use std::sync::Arc;
use std::time::Instant;

use backon::{BackoffBuilder, ExponentialBuilder};
use engine::{StepContext, StepError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Shared;
use super::apply::ApplyOutput;
use super::terraform_session::StateReference;
use crate::analyse::Analysed;
use crate::failures;
use crate::probe::{Answers, Probe, describe, probe, probe_url};
use crate::public_address::{self, PublicOnly, Resolution};
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
    let public_only = !matches!(applied.state, StateReference::DockerHost { .. })
        && !shared.config.health.allow_private_addresses;
    let host = if public_only {
        Some(public_host(&url)?)
    } else {
        None
    };
    ctx.info(format!("health check: probing {url}"));
    let answers = Answers::for_health_path(analysed.analysis.health_path.as_deref());
    let probes =
        probe_until_healthy(&url, host.as_deref(), answers, &shared.config.health, &ctx).await?;
    let last = probes.last().expect("at least one probe is made");
    match last.status {
        Some(status) if answers.shows_up(status) => {
            ctx.info(format!(
                "healthy: HTTP {status} in {} ms after {} probe(s){}",
                last.latency_ms,
                probes.len(),
                answers.note(status)
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

/// The host of a cloud deployment's URL, refused when it is not an
/// internet address or the URL is not HTTP.
fn public_host(url: &str) -> Result<String, StepError> {
    let not_public = |why: String| {
        StepError::permanent(format!("not probing {url}: {why}"))
            .with_code(failures::HEALTHCHECK_NOT_PUBLIC)
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| not_public(format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(not_public(format!("{} is not HTTP", parsed.scheme())));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| not_public("it names no host".into()))?;
    let host = host.trim_matches(['[', ']']);
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) if !public_address::is_public(ip) => {
            Err(not_public(format!("{ip} is not an internet address")))
        }
        _ => Ok(host.to_owned()),
    }
}

/// Probes until a healthy answer or the deadline; returns every probe made.
/// With `public_host`, every probe first checks what the name resolves to.
async fn probe_until_healthy(
    url: &str,
    public_host: Option<&str>,
    answers: Answers,
    config: &HealthConfig,
    ctx: &StepContext,
) -> Result<Vec<Probe>, StepError> {
    let mut client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.request_timeout);
    if public_host.is_some() {
        // A proxy would resolve and connect where the resolver cannot see.
        client = client
            .dns_resolver(std::sync::Arc::new(PublicOnly))
            .no_proxy();
    }
    let client = client
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
        if let Some(host) = public_host
            && let Resolution::NonPublic(addresses) = public_address::resolve(host).await
        {
            return Err(StepError::permanent(format!(
                "not probing {url}: {}",
                public_address::non_public_message(host, &addresses)
            ))
            .with_code(failures::HEALTHCHECK_NOT_PUBLIC));
        }
        let probe = probe(&client, url).await;
        ctx.info(format!(
            "probe {}: {} ({} ms)",
            probes.len() + 1,
            describe(&probe),
            probe.latency_ms
        ));
        let healthy = probe.status.is_some_and(|s| answers.shows_up(s));
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

#[cfg(test)]
mod tests {
    use super::public_host;

    #[test]
    fn only_an_http_url_on_an_internet_host_is_probed() {
        for refused in [
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:8080/",
            "http://[::1]:8080/",
            "http://[fd00:ec2::254]/",
            "http://10.0.1.5/",
            "file:///etc/passwd",
            "gopher://example.com/",
        ] {
            let error = public_host(refused).expect_err(refused);
            assert_eq!(
                error.code.as_deref(),
                Some("healthcheck.not_public"),
                "{refused}"
            );
        }
        assert_eq!(
            public_host("http://app-1.us-east-1.elb.amazonaws.com/health").unwrap(),
            "app-1.us-east-1.elb.amazonaws.com"
        );
        assert_eq!(
            public_host("https://[2600:1f18::1]/").unwrap(),
            "2600:1f18::1"
        );
        assert_eq!(public_host("http://3.5.140.2:8080/").unwrap(), "3.5.140.2");
    }
}
