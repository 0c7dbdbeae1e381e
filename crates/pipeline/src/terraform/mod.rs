//! Running the Terraform CLI for a job: its configuration ([`TerraformConfig`]),
//! the child process ([`runner`]), the per-job working directory ([`workdir`]) and
//! the plan's summary ([`plan`]).

pub mod plan;
pub mod runner;
pub mod workdir;

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

/// Whether the `apply` step changes the cloud or stops after the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyMode {
    /// Run `terraform init/plan/apply`.
    Apply,
    /// Stop after generating, saying why (no credentials, or `APPLY_MODE=plan`).
    PlanOnly { reason: String },
}

/// Where Terraform keeps its state, so that any worker can continue a job.
#[derive(Debug, Clone)]
pub enum StateBackend {
    /// Terraform's `pg` backend on the engine's database: a schema of its own,
    /// one workspace per job. The connection string reaches the child only as
    /// `PG_CONN_STR`.
    Postgres {
        conn_str: SecretString,
        schema: String,
    },
    /// A state file per job in this directory (the embedded default); copied into
    /// the job's artifacts after every apply.
    Local { dir: PathBuf },
}

#[derive(Debug, Clone)]
pub struct TerraformConfig {
    /// `terraform` or `tofu`, or a path to either.
    pub bin: PathBuf,
    pub mode: ApplyMode,
    pub state: StateBackend,
    /// Per-job working directories live here (scratch: rebuilt from the database).
    pub work_dir: PathBuf,
    /// How long a command waits for the state lock another process holds.
    pub lock_timeout: Duration,
    /// Longest one Terraform command may run before it is stopped.
    pub command_timeout: Duration,
    /// Between SIGINT and SIGKILL when a command is stopped.
    pub stop_grace: Duration,
    /// The only environment the child gets: PATH, HOME, `AWS_*`, `TF_*`, proxies
    /// (chosen by the binary). Nothing else of the worker's leaks to providers.
    pub env: Vec<(String, SecretString)>,
    /// Park every deployment for approval after its plan (`REQUIRE_APPROVAL`).
    pub require_approval: bool,
    /// A deployment estimated above this many USD a month waits for an
    /// approver even when approval is otherwise off (`MAX_MONTHLY_COST_USD`).
    pub max_monthly_cost_usd: Option<f64>,
    /// Instance types that may be applied without approval; another waits for
    /// an approver. Empty: any (`INSTANCE_TYPES_WITHOUT_APPROVAL`).
    pub instance_types_without_approval: Vec<String>,
    /// The Docker CLI that builds and pushes the app image of the targets that
    /// run one from ECR (container service, serverless, Kubernetes).
    pub docker_bin: PathBuf,
    /// The AWS CLI, for the ECR login (`aws ecr get-login-password`).
    pub aws_bin: PathBuf,
}

impl TerraformConfig {
    /// Plan-only, local state: what a machine without cloud credentials gets.
    pub fn plan_only(data_dir: PathBuf, reason: impl Into<String>) -> Self {
        Self {
            bin: PathBuf::from("terraform"),
            mode: ApplyMode::PlanOnly {
                reason: reason.into(),
            },
            state: StateBackend::Local {
                dir: data_dir.join("tfstate"),
            },
            work_dir: data_dir.join("terraform-work"),
            lock_timeout: Duration::from_secs(300),
            command_timeout: Duration::from_secs(45 * 60),
            stop_grace: Duration::from_secs(10),
            env: Vec::new(),
            require_approval: false,
            max_monthly_cost_usd: None,
            instance_types_without_approval: Vec::new(),
            docker_bin: PathBuf::from("docker"),
            aws_bin: PathBuf::from("aws"),
        }
    }
}

/// How the health check probes the deployed app.
#[derive(Debug, Clone)]
pub struct HealthConfig {
    /// Probing stops failing the step after this long.
    pub deadline: Duration,
    pub first_interval: Duration,
    pub max_interval: Duration,
    pub request_timeout: Duration,
    /// Whether a cloud deployment's URL may be a private or loopback address
    /// (the docker-host target's always is).
    pub allow_private_addresses: bool,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(300),
            first_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(15),
            request_timeout: Duration::from_secs(10),
            allow_private_addresses: false,
        }
    }
}
