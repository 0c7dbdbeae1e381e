//! The one typed configuration, read from the environment (and flags) once, here.
//! Every variable is documented in `.env.example`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

mod apply;
mod auth;
mod preflight;

pub use apply::ApplyConfig;
pub use preflight::PreflightConfig;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL (`postgres://…`) or SQLite (`sqlite://…`) URL; unset means SQLite in DATA_DIR.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Where the embedded SQLite database lives when DATABASE_URL is unset.
    #[arg(long, env = "DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Directory of workflow definitions (`*.toml`); unset, the definitions
    /// built into the binary (the repository's `workflows/`).
    #[arg(long, env = "WORKFLOWS_DIR", global = true)]
    pub workflows_dir: Option<PathBuf>,

    /// Jobs one worker process runs at once.
    #[arg(long, env = "MAX_CONCURRENT_JOBS", default_value_t = 8, global = true)]
    pub max_concurrent_jobs: usize,

    /// Lease length in seconds: a dead worker's job is taken over this long after its last heartbeat.
    #[arg(long, env = "LEASE_SECONDS", default_value_t = 30.0, global = true)]
    pub lease_seconds: f64,

    /// Heartbeat interval in seconds (default: a third of the lease).
    #[arg(long, env = "HEARTBEAT_SECONDS", global = true)]
    pub heartbeat_seconds: Option<f64>,

    /// Longest idle wait between two looks at the queue when no notification arrives.
    #[arg(long, env = "POLL_INTERVAL_MS", default_value_t = 5000, global = true)]
    pub poll_interval_ms: u64,

    /// Times workers may die on the same step of a job before it is parked `failed`.
    #[arg(long, env = "MAX_RECOVERIES", default_value_t = 3, global = true)]
    pub max_recoveries: u32,

    /// On SIGTERM, how long running steps may take to finish before their jobs are handed back.
    #[arg(
        long,
        env = "SHUTDOWN_GRACE_SECONDS",
        default_value_t = 30.0,
        global = true
    )]
    pub shutdown_grace_seconds: f64,

    /// Finished jobs older than this many days are deleted (0 keeps them forever).
    #[arg(long, env = "RETENTION_DAYS", default_value_t = 30, global = true)]
    pub retention_days: u64,

    /// Database connections per process (default: MAX_CONCURRENT_JOBS + 4).
    #[arg(long, env = "DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,

    /// Address `deployflow serve` listens on for HTTP (loopback unless told
    /// otherwise: the API holds cloud credentials).
    #[arg(
        long,
        env = "LISTEN_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: String,

    /// `tokens`: every API route but the probes needs a bearer token
    /// (`deployflow token create`). `off`: no authentication, every request
    /// acts as an admin; only allowed when LISTEN_ADDR is a loopback address.
    #[arg(long, env = "AUTH", default_value = "tokens", global = true)]
    pub auth: String,

    /// The address users reach the API at (`https://deploy.example.com`):
    /// requests naming another Host, or sent from pages of another origin,
    /// are refused. Unset on a loopback LISTEN_ADDR: loopback names only.
    #[arg(long, env = "PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Submitters see every job, not only the ones they submitted.
    #[arg(
        long,
        env = "SUBMITTERS_SEE_ALL_JOBS",
        default_value_t = false,
        global = true
    )]
    pub submitters_see_all_jobs: bool,

    /// Jobs (submissions and retries) one token may start per minute; 0: no limit.
    #[arg(
        long,
        env = "SUBMISSIONS_PER_MINUTE",
        default_value_t = 30,
        global = true
    )]
    pub submissions_per_minute: u32,

    /// Queued, running and waiting jobs one token may have at once; 0: no limit.
    #[arg(
        long,
        env = "MAX_ACTIVE_JOBS_PER_TOKEN",
        default_value_t = 20,
        global = true
    )]
    pub max_active_jobs_per_token: u32,

    /// Event streams (`GET /job/{id}/events`) one token may have open at once; 0: no limit.
    #[arg(
        long,
        env = "MAX_EVENT_STREAMS_PER_TOKEN",
        default_value_t = 8,
        global = true
    )]
    pub max_event_streams_per_token: u32,

    /// The API token the client commands (`submit`, `status`, `list`…) send.
    #[arg(long, env = "DEPLOYFLOW_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,

    /// Base URL of the HTTP API that `run`, `status`, `list`, `retry` and `cancel` talk to.
    #[arg(
        long = "api",
        env = "DEPLOYFLOW_API",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub api_url: String,

    /// Log format on stderr: `json`, `pretty`, or `auto` (pretty on a terminal, JSON otherwise).
    #[arg(long, env = "LOG_FORMAT", default_value = "auto", global = true)]
    pub log_format: String,

    /// Demo workflow only: a file each demo step appends its start and end to.
    #[arg(long, env = "DEMO_EFFECTS_FILE", global = true)]
    pub demo_effects_file: Option<PathBuf>,

    /// Hosts repository URLs may name, comma-separated (https only).
    #[arg(
        long,
        env = "ALLOWED_GIT_HOSTS",
        default_value = "github.com",
        value_delimiter = ',',
        global = true
    )]
    pub allowed_git_hosts: Vec<String>,

    /// Also accept file:// and loopback repository URLs (development and tests only:
    /// it lets whoever submits a job read this machine's disk).
    #[arg(
        long,
        env = "ALLOW_LOCAL_REPOS",
        default_value_t = false,
        global = true
    )]
    pub allow_local_repos: bool,

    /// Largest repository clone accepted, in MiB.
    #[arg(long, env = "CLONE_MAX_MB", default_value_t = 512, global = true)]
    pub clone_max_mb: u64,

    /// Most files a cloned commit may have.
    #[arg(
        long,
        env = "CLONE_MAX_FILES",
        default_value_t = 100_000,
        global = true
    )]
    pub clone_max_files: usize,

    /// Longest a clone may take, in seconds.
    #[arg(
        long,
        env = "CLONE_TIMEOUT_SECONDS",
        default_value_t = 300,
        global = true
    )]
    pub clone_timeout_seconds: u64,

    /// Key (64 hex characters) that seals the access tokens jobs keep for resuming.
    /// Unset on SQLite: a key is generated in DATA_DIR/secrets.key. Unset on
    /// PostgreSQL: requests carrying a token are refused.
    #[arg(long, env = "SECRETS_KEY", hide_env_values = true, global = true)]
    pub secrets_key: Option<String>,

    /// OpenAI (or compatible) API key; unset runs the analysis on its detectors alone
    /// and the Terraform from the vetted templates.
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true, global = true)]
    pub openai_api_key: Option<String>,

    /// Model the analysis and Terraform calls use.
    #[arg(
        long,
        env = "OPENAI_MODEL",
        default_value = "gpt-4.1-mini",
        global = true
    )]
    pub openai_model: String,

    /// Base URL of the OpenAI-compatible API.
    #[arg(
        long,
        env = "OPENAI_BASE_URL",
        default_value = "https://api.openai.com/v1",
        global = true
    )]
    pub openai_base_url: String,

    #[command(flatten)]
    pub apply: ApplyConfig,

    #[command(flatten)]
    pub preflight: PreflightConfig,
}

impl Config {
    /// The database URL in force: DATABASE_URL, or SQLite in DATA_DIR (created if needed).
    pub fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = self.database_url.as_deref().filter(|u| !u.is_empty()) {
            return Ok(url.to_owned());
        }
        std::fs::create_dir_all(&self.data_dir).map_err(|e| {
            anyhow::anyhow!("cannot create DATA_DIR {}: {e}", self.data_dir.display())
        })?;
        Ok(format!(
            "sqlite://{}/deployflow.db",
            self.data_dir.display()
        ))
    }

    pub fn db_max_connections(&self) -> u32 {
        self.db_max_connections
            .unwrap_or(self.max_concurrent_jobs as u32 + 4)
    }

    pub fn lease(&self) -> anyhow::Result<Duration> {
        positive_seconds("LEASE_SECONDS", self.lease_seconds)
    }

    pub fn heartbeat(&self) -> anyhow::Result<Duration> {
        let lease = self.lease()?;
        let heartbeat = match self.heartbeat_seconds {
            Some(s) => positive_seconds("HEARTBEAT_SECONDS", s)?,
            None => lease / 3,
        };
        if heartbeat >= lease {
            anyhow::bail!(
                "HEARTBEAT_SECONDS ({}) must be shorter than LEASE_SECONDS ({}), or leases expire between heartbeats",
                heartbeat.as_secs_f64(),
                lease.as_secs_f64()
            );
        }
        Ok(heartbeat)
    }

    pub fn shutdown_grace(&self) -> anyhow::Result<Duration> {
        if !(self.shutdown_grace_seconds.is_finite() && self.shutdown_grace_seconds >= 0.0) {
            anyhow::bail!("SHUTDOWN_GRACE_SECONDS must be a number of seconds >= 0");
        }
        Ok(Duration::from_secs_f64(self.shutdown_grace_seconds))
    }

    pub fn url_policy(&self) -> pipeline::UrlPolicy {
        pipeline::UrlPolicy {
            allowed_hosts: self
                .allowed_git_hosts
                .iter()
                .map(|host| host.trim().to_ascii_lowercase())
                .filter(|host| !host.is_empty())
                .collect(),
            allow_local: self.allow_local_repos,
        }
    }

    /// The configuration `analyse` and `plan` run with: this machine's user runs them
    /// on their own files, so local paths and file:// URLs are allowed.
    pub fn local_pipeline(&self) -> anyhow::Result<pipeline::PipelineConfig> {
        let mut pipeline = self.pipeline();
        pipeline.url_policy.allow_local = true;
        Ok(pipeline)
    }

    /// The deployment steps' configuration.
    pub fn pipeline(&self) -> pipeline::PipelineConfig {
        let mut pipeline = pipeline::PipelineConfig::new(self.data_dir.join("checkouts"));
        pipeline.url_policy = self.url_policy();
        pipeline.clone_limits = pipeline::CloneLimits {
            max_bytes: self.clone_max_mb.saturating_mul(1024 * 1024),
            max_files: self.clone_max_files,
            timeout: Duration::from_secs(self.clone_timeout_seconds.max(1)),
        };
        // The clone's limits are the ones users set; reading its files must not refuse
        // a repository the clone accepted.
        pipeline.snapshot_limits.max_files = pipeline
            .snapshot_limits
            .max_files
            .max(pipeline.clone_limits.max_files);
        pipeline.snapshot_limits.max_total_bytes = pipeline
            .snapshot_limits
            .max_total_bytes
            .max(pipeline.clone_limits.max_bytes);
        pipeline.llm = self.llm();
        let database_url = self.database_url.clone().unwrap_or_default();
        pipeline.terraform = self.apply.terraform(&database_url, &self.data_dir);
        pipeline.health = self.apply.health();
        pipeline.docker = self
            .preflight
            .docker(&self.apply.docker_bin, &self.data_dir);
        pipeline.bundle.base_image_registry = self.preflight.base_image_registry();
        pipeline.docker.deploy = self.apply.deploys_to_docker_host();
        let embedded = !database_url.starts_with("postgres");
        pipeline.docker.docker_host_by_default = self.apply.docker_host_by_default(embedded);
        pipeline
    }

    /// The model configuration, when OPENAI_API_KEY is set.
    pub fn llm(&self) -> Option<llm::LlmConfig> {
        let key = self
            .openai_api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())?;
        let mut config = llm::LlmConfig::new(llm::SecretString::from(key.to_owned()));
        config.model = self.openai_model.clone();
        config.base_url = self.openai_base_url.trim_end_matches('/').to_owned();
        Some(config)
    }

    /// The key job secrets are sealed with: SECRETS_KEY, or on the embedded SQLite
    /// default a key generated once in DATA_DIR/secrets.key (readable by its owner only).
    pub fn secret_key(&self) -> anyhow::Result<Option<engine::SecretKey>> {
        if let Some(hex) = self.secrets_key.as_deref().filter(|k| !k.trim().is_empty()) {
            return Ok(Some(
                engine::SecretKey::from_hex(hex)
                    .map_err(|e| anyhow::anyhow!("SECRETS_KEY: {e}"))?,
            ));
        }
        if self
            .database_url
            .as_deref()
            .is_some_and(|u| !u.is_empty() && !u.starts_with("sqlite:"))
        {
            return Ok(None);
        }
        let path = self.data_dir.join("secrets.key");
        if !path.exists() {
            create_key_file(&path)?;
        }
        let hex = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        Ok(Some(
            engine::SecretKey::from_hex(&hex)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        ))
    }

    pub fn retention(&self) -> Option<Duration> {
        (self.retention_days > 0).then(|| Duration::from_secs(self.retention_days * 24 * 3600))
    }
}

/// Writes a fresh key to `path` atomically (a hard link does not replace an existing
/// file), so processes starting together agree on one key.
fn create_key_file(path: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let staging = dir.join(format!(".secrets.key.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&staging)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", staging.display()))?;
    file.write_all(engine::SecretKey::generate_hex().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", staging.display()))?;
    let linked = std::fs::hard_link(&staging, path);
    let _ = std::fs::remove_file(&staging);
    match linked {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            anyhow::bail!("cannot create {}: {e}", path.display())
        }
        _ => Ok(()),
    }
}

fn positive_seconds(name: &str, value: f64) -> anyhow::Result<Duration> {
    if !(value.is_finite() && value > 0.0) {
        anyhow::bail!("{name} must be a number of seconds greater than 0, got {value}");
    }
    Ok(Duration::from_secs_f64(value))
}
