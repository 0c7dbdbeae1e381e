//! The apply side of the configuration: the Terraform CLI, where its state lives,
//! approvals and the health check.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use pipeline::{ApplyMode, HealthConfig, StateBackend, TerraformConfig};
use secrecy::SecretString;

/// Environment variables whose presence means AWS credentials are configured.
const AWS_CREDENTIAL_VARS: [&str; 5] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
];

/// Variables the Terraform, Docker and AWS CLI children get besides `AWS_*` and `TF_*`.
const PASSED_THROUGH: [&str; 10] = [
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
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApplyModeArg {
    /// Apply when AWS credentials are in the environment, else stop after the plan.
    Auto,
    /// Always run terraform init/plan/apply.
    Apply,
    /// Never touch the cloud: the job ends after generating, in state Planned.
    Plan,
}

#[derive(Debug, Clone, Args)]
pub struct ApplyConfig {
    /// Whether the apply step runs Terraform against the cloud.
    #[arg(long, env = "APPLY_MODE", value_enum, default_value_t = ApplyModeArg::Auto, global = true)]
    pub apply_mode: ApplyModeArg,

    /// The Terraform CLI: `terraform`, `tofu`, or a path to either.
    #[arg(
        long,
        env = "TERRAFORM_BIN",
        default_value = "terraform",
        global = true
    )]
    pub terraform_bin: PathBuf,

    /// Schema of Terraform's pg backend state (PostgreSQL mode), one workspace per job.
    #[arg(
        long,
        env = "TERRAFORM_STATE_SCHEMA",
        default_value = "terraform_state",
        global = true
    )]
    pub terraform_state_schema: String,

    /// How long a Terraform command waits for a state lock held elsewhere, in seconds.
    #[arg(
        long,
        env = "TERRAFORM_LOCK_TIMEOUT_SECONDS",
        default_value_t = 300,
        global = true
    )]
    pub terraform_lock_timeout_seconds: u64,

    /// Longest one Terraform command may run, in seconds (then SIGINT, then SIGKILL).
    #[arg(
        long,
        env = "TERRAFORM_COMMAND_TIMEOUT_SECONDS",
        default_value_t = 2700,
        global = true
    )]
    pub terraform_command_timeout_seconds: u64,

    /// Seconds between SIGINT and SIGKILL when a Terraform command is stopped.
    #[arg(
        long,
        env = "TERRAFORM_STOP_GRACE_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub terraform_stop_grace_seconds: u64,

    /// The Docker CLI that builds and pushes the app image (container service,
    /// serverless, Kubernetes targets).
    #[arg(long, env = "DOCKER_BIN", default_value = "docker", global = true)]
    pub docker_bin: PathBuf,

    /// The AWS CLI, for the ECR login of the image push.
    #[arg(long, env = "AWS_BIN", default_value = "aws", global = true)]
    pub aws_bin: PathBuf,

    /// Park every deployment after its plan until POST /job/{id}/approve.
    #[arg(long, env = "REQUIRE_APPROVAL", default_value_t = false, global = true)]
    pub require_approval: bool,

    /// A deployment estimated above this many USD a month waits for an
    /// approver even when REQUIRE_APPROVAL is off.
    #[arg(long, env = "MAX_MONTHLY_COST_USD", global = true)]
    pub max_monthly_cost_usd: Option<f64>,

    /// Instance types applied without approval (comma-separated); another
    /// waits for an approver. Unset: any.
    #[arg(
        long,
        env = "INSTANCE_TYPES_WITHOUT_APPROVAL",
        value_delimiter = ',',
        global = true
    )]
    pub instance_types_without_approval: Vec<String>,

    /// How long the health check keeps probing before the step fails, in seconds.
    #[arg(
        long,
        env = "HEALTHCHECK_DEADLINE_SECONDS",
        default_value_t = 300,
        global = true
    )]
    pub healthcheck_deadline_seconds: u64,

    /// First wait between health probes, in milliseconds (doubling up to 15 s).
    #[arg(
        long,
        env = "HEALTHCHECK_INTERVAL_MS",
        default_value_t = 1000,
        global = true
    )]
    pub healthcheck_interval_ms: u64,

    /// Let the health check probe a cloud deployment on a private, loopback or
    /// link-local address (a private network of your own; tests). Off, an
    /// app_url that is not on the internet fails the check unprobed.
    #[arg(
        long,
        env = "HEALTHCHECK_ALLOW_PRIVATE",
        default_value_t = false,
        global = true
    )]
    pub healthcheck_allow_private: bool,
}

impl ApplyConfig {
    /// The Terraform settings for a worker on `database_url`, scratch space and
    /// local state under `data_dir`.
    pub fn terraform(&self, database_url: &str, data_dir: &Path) -> TerraformConfig {
        let mut config = TerraformConfig::plan_only(data_dir.to_path_buf(), "");
        config.mode = self.mode();
        config.bin = self.terraform_bin.clone();
        if database_url.starts_with("postgres") {
            config.state = StateBackend::Postgres {
                conn_str: SecretString::from(database_url.to_owned()),
                schema: self.terraform_state_schema.clone(),
            };
        }
        config.lock_timeout = Duration::from_secs(self.terraform_lock_timeout_seconds);
        config.command_timeout = Duration::from_secs(self.terraform_command_timeout_seconds.max(1));
        config.stop_grace = Duration::from_secs(self.terraform_stop_grace_seconds);
        config.require_approval = self.require_approval;
        config.max_monthly_cost_usd = self.max_monthly_cost_usd;
        config.instance_types_without_approval = self
            .instance_types_without_approval
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        config.docker_bin = self.docker_bin.clone();
        config.aws_bin = self.aws_bin.clone();
        config.env = child_environment();
        config
    }

    pub fn health(&self) -> HealthConfig {
        let first = Duration::from_millis(self.healthcheck_interval_ms.max(10));
        HealthConfig {
            deadline: Duration::from_secs(self.healthcheck_deadline_seconds),
            first_interval: first,
            max_interval: first.max(Duration::from_secs(15)),
            allow_private_addresses: self.healthcheck_allow_private,
            ..HealthConfig::default()
        }
    }

    /// Whether the `docker-host` target deploys (anything but APPLY_MODE=plan).
    pub fn deploys_to_docker_host(&self) -> bool {
        self.apply_mode != ApplyModeArg::Plan
    }

    /// Whether a description that names no target goes to a reachable
    /// Docker engine: APPLY_MODE=auto without cloud credentials, in the
    /// embedded mode.
    pub fn docker_host_by_default(&self, embedded: bool) -> bool {
        embedded && self.apply_mode == ApplyModeArg::Auto && !has_aws_credentials()
    }

    fn mode(&self) -> ApplyMode {
        match self.apply_mode {
            ApplyModeArg::Apply => ApplyMode::Apply,
            ApplyModeArg::Plan => ApplyMode::PlanOnly {
                reason: "APPLY_MODE=plan".into(),
            },
            ApplyModeArg::Auto if has_aws_credentials() => ApplyMode::Apply,
            ApplyModeArg::Auto => ApplyMode::PlanOnly {
                reason: format!(
                    "no AWS credentials in the environment (none of {}); set them, or \
                     APPLY_MODE=apply",
                    AWS_CREDENTIAL_VARS.join(", ")
                ),
            },
        }
    }
}

fn has_aws_credentials() -> bool {
    AWS_CREDENTIAL_VARS
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// What the Terraform child may see of this process's environment.
fn child_environment() -> Vec<(String, SecretString)> {
    std::env::vars()
        .filter(|(name, _)| {
            PASSED_THROUGH.contains(&name.as_str())
                || (name.starts_with("AWS_") && name != "AWS_BIN")
                || name.starts_with("TF_")
        })
        .map(|(name, value)| (name, SecretString::from(value)))
        .collect()
}
