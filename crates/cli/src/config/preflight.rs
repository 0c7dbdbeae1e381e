//! The preflight side of the configuration: whether bundles are built and
//! probed on a Docker engine before apply, and how their base images are named.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use pipeline::build_network::BuildIsolation;
use pipeline::docker::{DockerConfig, PreflightMode};
use secrecy::SecretString;

/// Variables the Docker and Compose CLIs of the preflight get: never cloud
/// credentials, never the database's address.
const DOCKER_PASSED_THROUGH: [&str; 14] = [
    "PATH",
    "HOME",
    "TMPDIR",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "DOCKER_HOST",
    "DOCKER_CONFIG",
    "DOCKER_CONTEXT",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
    "DOCKER_BUILDKIT",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PreflightArg {
    /// Build and probe when a Docker engine answers; skip, saying why, when none does.
    Auto,
    /// Always build and probe: no engine fails the step.
    Required,
    /// Never build before apply.
    Off,
}

#[derive(Debug, Clone, Args)]
pub struct PreflightConfig {
    /// Whether the bundle is built, started and probed on a Docker engine before apply.
    #[arg(long, env = "PREFLIGHT", value_enum, default_value_t = PreflightArg::Auto, global = true)]
    pub preflight: PreflightArg,

    /// The standalone Docker Compose, used when `docker compose` is not available.
    #[arg(
        long,
        env = "COMPOSE_BIN",
        default_value = "docker-compose",
        global = true
    )]
    pub compose_bin: PathBuf,

    /// Longest the preflight's image build may take, in seconds.
    #[arg(
        long,
        env = "PREFLIGHT_BUILD_TIMEOUT_SECONDS",
        default_value_t = 1800,
        global = true
    )]
    pub preflight_build_timeout_seconds: u64,

    /// How long the started app has to answer its health path, in seconds.
    #[arg(
        long,
        env = "PREFLIGHT_START_SECONDS",
        default_value_t = 90,
        global = true
    )]
    pub preflight_start_seconds: u64,

    /// Prefix of every base image generated Dockerfiles name (a registry
    /// mirror, e.g. `registry.internal/dockerhub/`); empty: the public registries.
    #[arg(long, env = "BASE_IMAGE_REGISTRY", default_value = "", global = true)]
    pub base_image_registry: String,

    /// Whether builds of repository code run on an isolated network whose
    /// only way out is an egress proxy admitting the package registries.
    #[arg(long, env = "BUILD_ISOLATION", value_enum, default_value_t = Switch::On, global = true)]
    pub build_isolation: Switch,

    /// More hosts isolated builds may reach, comma-separated (`.example.com`
    /// admits the domain and its subdomains).
    #[arg(
        long,
        env = "BUILD_EGRESS_ALLOW",
        value_delimiter = ',',
        default_value = "",
        global = true
    )]
    pub build_egress_allow: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

impl PreflightConfig {
    pub fn docker(&self, docker_bin: &Path, data_dir: &Path) -> DockerConfig {
        let mut config = DockerConfig::new(data_dir);
        config.mode = match self.preflight {
            PreflightArg::Auto => PreflightMode::Auto,
            PreflightArg::Required => PreflightMode::Required,
            PreflightArg::Off => PreflightMode::Off,
        };
        config.bin = docker_bin.to_path_buf();
        config.compose_bin = self.compose_bin.clone();
        config.build_timeout = Duration::from_secs(self.preflight_build_timeout_seconds.max(1));
        config.start_deadline = Duration::from_secs(self.preflight_start_seconds.max(1));
        config.env = std::env::vars()
            .filter(|(name, _)| DOCKER_PASSED_THROUGH.contains(&name.as_str()))
            .map(|(name, value)| (name, SecretString::from(value)))
            .collect();
        config.isolation = (self.build_isolation == Switch::On).then(|| {
            let mut isolation =
                BuildIsolation::new(format!("{}debian:trixie-slim", self.base_image_registry()));
            isolation.allowed_hosts.extend(
                self.build_egress_allow
                    .iter()
                    .map(|host| host.trim().to_owned())
                    .filter(|host| !host.is_empty()),
            );
            isolation
        });
        config
    }

    /// The registry prefix, with the `/` that separates it from image names.
    pub fn base_image_registry(&self) -> String {
        let prefix = self.base_image_registry.trim();
        if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_owned()
        } else {
            format!("{prefix}/")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        preflight: PreflightConfig,
    }

    fn docker(args: &[&str]) -> DockerConfig {
        let cli = Cli::try_parse_from([&["deployflow"], args].concat()).unwrap();
        cli.preflight
            .docker(Path::new("docker"), Path::new("/tmp/deployflow"))
    }

    #[test]
    fn builds_are_isolated_unless_turned_off() {
        let isolation = docker(&[
            "--base-image-registry",
            "registry.internal/hub",
            "--build-egress-allow",
            "pkgs.internal, .corp.example",
        ])
        .isolation
        .expect("on by default");
        assert_eq!(
            isolation.proxy_base_image,
            "registry.internal/hub/debian:trixie-slim"
        );
        assert!(isolation.admits("pypi.org"));
        assert!(isolation.admits("pkgs.internal"));
        assert!(isolation.admits("git.corp.example"));
        assert!(!isolation.admits("169.254.169.254"));
        assert!(docker(&["--build-isolation", "off"]).isolation.is_none());
    }
}
