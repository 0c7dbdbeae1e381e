use std::path::PathBuf;

use analysis::SnapshotLimits;
use repo::{CloneLimits, UrlPolicy};

use crate::terraform::{HealthConfig, TerraformConfig};

/// Everything the deployment steps need to know about their surroundings. Built by
/// the binary from its configuration; this crate reads no environment.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Which repository URLs may be cloned (checked again at clone time: a job
    /// submitted under a wider policy does not widen this worker's).
    pub url_policy: UrlPolicy,
    pub clone_limits: CloneLimits,
    pub snapshot_limits: SnapshotLimits,
    /// Where checkouts live, one directory per commit: a cache, never the source of
    /// truth (a resuming worker re-materialises the checkpointed commit).
    pub checkouts_dir: PathBuf,
    /// The model that deepens the analysis and may write the Terraform; `None`
    /// runs on the deterministic detectors and the vetted templates alone.
    pub llm: Option<llm::LlmConfig>,
    /// Times the policy gate's findings go back to the model before the vetted
    /// template is used instead.
    pub max_terraform_repairs: u32,
    /// Checkouts unused for this long are removed when a clone runs.
    pub checkout_max_idle: std::time::Duration,
    /// How `apply` runs Terraform, or why it does not.
    pub terraform: TerraformConfig,
    pub health: HealthConfig,
    /// The Docker engine the preflight step builds and starts bundles on.
    pub docker: crate::docker::DockerConfig,
    /// How generated bundles name their base images (a registry mirror).
    pub bundle: infra::bundle::BundleOptions,
}

impl PipelineConfig {
    /// Plan-only (no cloud), with state and scratch space under `data_dir`.
    pub fn new(checkouts_dir: PathBuf) -> Self {
        let data_dir = checkouts_dir
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| checkouts_dir.clone());
        let docker = crate::docker::DockerConfig::new(&data_dir);
        Self {
            terraform: TerraformConfig::plan_only(
                data_dir,
                "no AWS credentials were configured (APPLY_MODE=plan)",
            ),
            health: HealthConfig::default(),
            url_policy: UrlPolicy::default(),
            clone_limits: CloneLimits::default(),
            snapshot_limits: SnapshotLimits::default(),
            checkouts_dir,
            llm: None,
            max_terraform_repairs: 2,
            checkout_max_idle: std::time::Duration::from_secs(24 * 3600),
            bundle: infra::bundle::BundleOptions::default(),
            docker,
        }
    }

    /// What the `generate` step (and `deployflow plan`) needs of this configuration.
    pub fn generate_settings(&self) -> crate::plan::GenerateSettings {
        crate::plan::GenerateSettings {
            max_terraform_repairs: self.max_terraform_repairs,
            bundle: self.bundle.clone(),
        }
    }
}
