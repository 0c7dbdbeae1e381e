//! The Docker engine the preflight step builds and starts bundles on: which
//! CLI, which engine (`DOCKER_HOST`, or the default socket), which Compose
//! (`docker compose` or the standalone `docker-compose`), and the short
//! commands whose whole output is read (`version`, `inspect`, `logs`, `exec`).
//!
//! The CLIs see only the environment the binary chose for them (PATH, HOME,
//! `DOCKER_*`, proxies): never cloud credentials or the database's address.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::process::Command;

use crate::build_network::BuildIsolation;
use crate::terraform::runner::ChildSettings;

/// Whether the preflight step builds and probes the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreflightMode {
    /// When a Docker engine answers; skipped, with the reason, when none does.
    Auto,
    /// Always: no engine is a failure of the step.
    Required,
    /// Never (`PREFLIGHT=off`).
    Off,
}

/// How the preflight step reaches Docker.
#[derive(Debug, Clone)]
pub struct DockerConfig {
    pub mode: PreflightMode,
    /// The Docker CLI.
    pub bin: PathBuf,
    /// The standalone Compose, used when the CLI has no `compose` plugin.
    pub compose_bin: PathBuf,
    /// The only environment the CLIs get (PATH, HOME, `DOCKER_HOST`,
    /// `DOCKER_CONFIG`, `DOCKER_CERT_PATH`, `DOCKER_TLS_VERIFY`, proxies).
    pub env: Vec<(String, SecretString)>,
    /// Per-job build directories (scratch, removed after the step).
    pub work_dir: PathBuf,
    /// Where the bundles of `docker-host` deployments are kept while they run
    /// (their compose files may mount files of their own directory).
    pub deployments_dir: PathBuf,
    /// The `docker-host` target deploys (false with `APPLY_MODE=plan`).
    pub deploy: bool,
    /// A description that names no target gets `docker-host` when an engine
    /// answers (the embedded mode without cloud credentials).
    pub docker_host_by_default: bool,
    /// Longest the image build may take.
    pub build_timeout: Duration,
    /// How long the started app has to answer its health path.
    pub start_deadline: Duration,
    /// Between SIGINT and SIGKILL when a build or start is stopped.
    pub stop_grace: Duration,
    /// Builds of repository code run on an isolated network with an
    /// allow-list egress proxy; `None`: on the engine's default network
    /// (`BUILD_ISOLATION=off`).
    pub isolation: Option<BuildIsolation>,
}

impl DockerConfig {
    /// Off (the binary turns it on: `PREFLIGHT=auto` by default), the
    /// CLIs' defaults, scratch space under `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            mode: PreflightMode::Off,
            bin: PathBuf::from("docker"),
            compose_bin: PathBuf::from("docker-compose"),
            env: Vec::new(),
            work_dir: data_dir.join("preflight"),
            deployments_dir: data_dir.join("docker-host"),
            deploy: true,
            docker_host_by_default: false,
            build_timeout: Duration::from_secs(30 * 60),
            start_deadline: Duration::from_secs(90),
            stop_grace: Duration::from_secs(10),
            isolation: Some(BuildIsolation::new("debian:trixie-slim")),
        }
    }

    /// `DOCKER_HOST` as the CLIs see it, if set.
    pub fn docker_host(&self) -> Option<&str> {
        self.env
            .iter()
            .find(|(name, _)| name == "DOCKER_HOST")
            .map(|(_, value)| value.expose_secret())
            .filter(|v| !v.is_empty())
    }

    /// The host a port the engine publishes is reached on: loopback for a
    /// local engine, the engine's host for `tcp://` and `ssh://` ones.
    pub fn published_host(&self) -> String {
        let Some(host) = self.docker_host() else {
            return "127.0.0.1".to_owned();
        };
        let rest = match host.split_once("://") {
            Some(("tcp" | "ssh" | "http" | "https", rest)) => rest,
            _ => return "127.0.0.1".to_owned(),
        };
        let authority = rest.split('/').next().unwrap_or(rest);
        let without_user = authority.rsplit('@').next().unwrap_or(authority);
        let host = match without_user.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => without_user.split(':').next().unwrap_or(without_user),
        };
        if host.is_empty() || host == "0.0.0.0" {
            "127.0.0.1".to_owned()
        } else {
            host.to_owned()
        }
    }

    /// `http://HOST:port` of a port the engine publishes (an IPv6 host in
    /// brackets).
    pub fn published_url(&self, port: u16) -> String {
        let host = self.published_host();
        if host.contains(':') {
            format!("http://[{host}]:{port}")
        } else {
            format!("http://{host}:{port}")
        }
    }

    /// Limits for a build or start command.
    pub(crate) fn child(&self, timeout: Duration) -> ChildSettings<'_> {
        ChildSettings {
            env: &self.env,
            timeout,
            stop_grace: self.stop_grace,
        }
    }
}

/// What a short command printed.
#[derive(Debug)]
pub(crate) struct Captured {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Captured {
    /// Both streams' lines.
    pub fn lines(&self) -> Vec<String> {
        self.stdout
            .lines()
            .chain(self.stderr.lines())
            .map(str::to_owned)
            .collect()
    }
}

/// Runs `bin args…` to the end with the configured environment, for at most
/// `timeout`. An error is a program that could not start or did not finish.
pub(crate) async fn capture(
    config: &DockerConfig,
    bin: &Path,
    args: &[&str],
    timeout: Duration,
) -> Result<Captured, String> {
    capture_in(config, bin, args, timeout, None, &[]).await
}

/// [`capture`] in `dir` with `extra_env` (a compose project's variables).
pub(crate) async fn capture_in(
    config: &DockerConfig,
    bin: &Path,
    args: &[&str],
    timeout: Duration,
    dir: Option<&Path>,
    extra_env: &[(String, String)],
) -> Result<Captured, String> {
    let mut command = Command::new(bin);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in &config.env {
        command.env(name, value.expose_secret());
    }
    command.envs(extra_env.iter().map(|(k, v)| (k, v)));
    let what = format!("{} {}", bin.display(), args.first().copied().unwrap_or(""));
    let output = tokio::time::timeout(timeout, command.output())
        .await
        .map_err(|_| format!("`{what}` gave no answer in {}s", timeout.as_secs()))?
        .map_err(|e| format!("cannot run `{what}`: {e}"))?;
    Ok(Captured {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// The Compose CLI: the plugin (`docker compose`) or the standalone one.
#[derive(Debug, Clone)]
pub(crate) struct ComposeCli {
    pub bin: PathBuf,
    /// `["compose"]` for the plugin, nothing for the standalone binary.
    pub prefix: Vec<String>,
}

impl ComposeCli {
    pub fn describe(&self) -> String {
        let name = self
            .bin
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if self.prefix.is_empty() {
            name
        } else {
            format!("{name} {}", self.prefix.join(" "))
        }
    }

    /// `args` after the Compose command itself.
    pub fn args(&self, args: &[&str]) -> Vec<String> {
        self.prefix
            .iter()
            .cloned()
            .chain(args.iter().map(|a| (*a).to_owned()))
            .collect()
    }
}

/// The engine's version, or why no engine answers.
pub(crate) async fn engine_version(config: &DockerConfig) -> Result<String, String> {
    let answer = capture(
        config,
        &config.bin,
        &["version", "--format", "{{.Server.Version}}"],
        Duration::from_secs(20),
    )
    .await?;
    let version = answer.stdout.trim();
    if answer.success && !version.is_empty() {
        return Ok(version.to_owned());
    }
    let why = answer
        .stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no answer")
        .trim()
        .to_owned();
    Err(format!(
        "no Docker engine answers at {} ({why})",
        config.docker_host().unwrap_or("the default socket")
    ))
}

/// `docker compose` when the CLI has the plugin, else the standalone binary.
pub(crate) async fn compose_cli(config: &DockerConfig) -> Result<ComposeCli, String> {
    let plugin = capture(
        config,
        &config.bin,
        &["compose", "version"],
        Duration::from_secs(20),
    )
    .await;
    if plugin.is_ok_and(|answer| answer.success) {
        return Ok(ComposeCli {
            bin: config.bin.clone(),
            prefix: vec!["compose".to_owned()],
        });
    }
    match capture(
        config,
        &config.compose_bin,
        &["version"],
        Duration::from_secs(20),
    )
    .await
    {
        Ok(answer) if answer.success => Ok(ComposeCli {
            bin: config.compose_bin.clone(),
            prefix: Vec::new(),
        }),
        _ => Err(format!(
            "neither `{} compose` nor `{}` runs: install Docker Compose",
            config.bin.display(),
            config.compose_bin.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> DockerConfig {
        let mut config = DockerConfig::new(Path::new("/tmp"));
        config.env = vec![("DOCKER_HOST".into(), SecretString::from(host.to_owned()))];
        config
    }

    #[test]
    fn published_ports_are_reached_on_the_engines_host() {
        assert_eq!(
            DockerConfig::new(Path::new("/tmp")).published_host(),
            "127.0.0.1"
        );
        assert_eq!(
            with_host("unix:///run/docker.sock").published_host(),
            "127.0.0.1"
        );
        assert_eq!(
            with_host("ssh://deploy@build.example.com").published_host(),
            "build.example.com"
        );
        assert_eq!(
            with_host("tcp://10.1.2.3:2376").published_host(),
            "10.1.2.3"
        );
        assert_eq!(
            with_host("tcp://[fd00::1]:2376").published_host(),
            "fd00::1"
        );
        assert_eq!(
            with_host("tcp://[fd00::1]:2376").published_url(8080),
            "http://[fd00::1]:8080"
        );
    }
}
