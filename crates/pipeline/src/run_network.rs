//! The preflight's run of the app away from the control plane. The app is
//! the repository's code as much as its build steps are, and preflight
//! starts it on the engine deployflow itself runs beside: on a compose
//! project's usual network it would reach the host's services on every
//! address, and on a cloud host the instance metadata service.
//!
//! So every network of the preflight's project is internal, with no
//! address of the host on its bridge (`infra::bundle::isolate_run`): the
//! app reaches its own stores and nothing else, and a published port does
//! not answer either. The health probes come from inside instead: the
//! build network's egress proxy container joins the project's networks for
//! the run and sends them with curl. A docker-host deployment is the
//! user's own choice of where the app runs and is not isolated this way.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use crate::docker::{self, DockerConfig};
use crate::probe::Probe;

/// Writes the override that isolates the run of `compose_file` beside it
/// and returns its file name (relative to `source`).
pub(crate) fn isolate(source: &Path, compose_file: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(source.join(compose_file))
        .map_err(|e| format!("{compose_file} cannot be read: {e}"))?;
    let isolated = infra::bundle::isolate_run(&text).map_err(|e| format!("{compose_file}: {e}"))?;
    let file_name = Path::new(compose_file)
        .with_file_name("deployflow.run-network.yml")
        .to_string_lossy()
        .into_owned();
    std::fs::write(source.join(&file_name), isolated)
        .map_err(|e| format!("writing {file_name}: {e}"))?;
    Ok(file_name)
}

/// The networks compose made for `project`.
async fn networks(config: &DockerConfig, project: &str) -> Vec<String> {
    let label = format!("label=com.docker.compose.project={project}");
    docker::capture(
        config,
        &config.bin,
        &["network", "ls", "-q", "--filter", &label],
        Duration::from_secs(30),
    )
    .await
    .map(|answer| {
        answer
            .stdout
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// The prober: the egress proxy's container of this configuration's
/// allow-list. The run is isolated only when builds are.
fn prober(config: &DockerConfig) -> Result<String, String> {
    config
        .isolation
        .as_ref()
        .map(|isolation| isolation.proxy_container())
        .ok_or_else(|| "builds are not isolated, so there is no prober".to_owned())
}

/// Joins the prober to every network of `project`.
pub(crate) async fn connect_prober(config: &DockerConfig, project: &str) -> Result<(), String> {
    let prober = prober(config)?;
    let found = networks(config, project).await;
    if found.is_empty() {
        return Err(format!("compose made no network for {project}"));
    }
    for network in found {
        let answer = docker::capture(
            config,
            &config.bin,
            &["network", "connect", &network, &prober],
            Duration::from_secs(60),
        )
        .await?;
        if !answer.success && !answer.stderr.contains("already exists") {
            return Err(format!(
                "the prober cannot join {network}: {}",
                answer.stderr.trim()
            ));
        }
    }
    Ok(())
}

/// Takes the prober off `project`'s networks, which compose cannot remove
/// while a container of another project is on them.
pub(crate) async fn disconnect_prober(config: &DockerConfig, project: &str) {
    let Ok(prober) = prober(config) else {
        return;
    };
    for network in networks(config, project).await {
        let _ = docker::capture(
            config,
            &config.bin,
            &["network", "disconnect", "-f", &network, &prober],
            Duration::from_secs(60),
        )
        .await;
    }
}

/// The address of `container` on its networks.
pub(crate) async fn address_of(config: &DockerConfig, container: &str) -> Option<String> {
    let format = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}";
    let answer = docker::capture(
        config,
        &config.bin,
        &["inspect", "--format", format, container],
        Duration::from_secs(30),
    )
    .await
    .ok()?;
    answer.stdout.split_whitespace().next().map(str::to_owned)
}

/// One probe of `path` on `address:port`, sent by the prober. The Host
/// header is the one a probe on the host's loopback would send, which
/// frameworks that check it accept in development settings.
pub(crate) async fn probe(config: &DockerConfig, address: &str, port: u16, path: &str) -> Probe {
    let at = Utc::now();
    let url = format!("http://{address}:{port}{path}");
    let host = format!("Host: localhost:{port}");
    let prober = match prober(config) {
        Ok(prober) => prober,
        Err(error) => {
            return Probe {
                at,
                status: None,
                latency_ms: 0,
                error: Some(error),
            };
        }
    };
    let answer = docker::capture(
        config,
        &config.bin,
        &[
            "exec",
            &prober,
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "--max-time",
            "5",
            "-H",
            &host,
            "-w",
            "%{http_code} %{time_total}",
            &url,
        ],
        Duration::from_secs(20),
    )
    .await;
    let (status, seconds, error) = match answer {
        Ok(answer) => {
            let (status, seconds, error) = read_curl(&answer.stdout, answer.success);
            // curl's own words (`Failed to connect … Connection refused`),
            // or the exec's when curl did not run.
            let said = answer.stderr.trim().trim_start_matches("curl: ").to_owned();
            (
                status,
                seconds,
                error.map(|e| if said.is_empty() { e } else { said }),
            )
        }
        Err(error) => (None, 0.0, Some(error)),
    };
    Probe {
        at,
        status,
        latency_ms: (seconds * 1000.0) as u64,
        error,
    }
}

/// curl's `%{http_code} %{time_total}`: `000` when nothing answered.
fn read_curl(written: &str, succeeded: bool) -> (Option<u16>, f64, Option<String>) {
    let mut parts = written.split_whitespace();
    let code = parts.next().and_then(|c| c.parse::<u16>().ok());
    let seconds = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0.0);
    match code {
        Some(code) if code > 0 => (Some(code), seconds, None),
        _ if succeeded => (None, seconds, Some("no answer".into())),
        _ => (
            None,
            seconds,
            Some("connection refused or unreachable".into()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_figures_become_a_probe() {
        assert_eq!(read_curl("200 0.004512", true), (Some(200), 0.004512, None));
        let (status, _, error) = read_curl("000 0.001", false);
        assert_eq!(status, None);
        assert_eq!(error.as_deref(), Some("connection refused or unreachable"));
    }
}
