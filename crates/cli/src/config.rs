//! The one typed configuration, read from the environment (and flags) once, here.
//! Every variable is documented in `.env.example`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// PostgreSQL (`postgres://…`) or SQLite (`sqlite://…`) URL; unset means SQLite in DATA_DIR.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Where the embedded SQLite database lives when DATABASE_URL is unset.
    #[arg(long, env = "DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Directory of workflow definitions (`*.toml`).
    #[arg(
        long,
        env = "WORKFLOWS_DIR",
        default_value = "./workflows",
        global = true
    )]
    pub workflows_dir: PathBuf,

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

    /// Address `deployflow serve` listens on for HTTP.
    #[arg(
        long,
        env = "LISTEN_ADDR",
        default_value = "0.0.0.0:8080",
        global = true
    )]
    pub listen: String,

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

    pub fn retention(&self) -> Option<Duration> {
        (self.retention_days > 0).then(|| Duration::from_secs(self.retention_days * 24 * 3600))
    }
}

fn positive_seconds(name: &str, value: f64) -> anyhow::Result<Duration> {
    if !(value.is_finite() && value > 0.0) {
        anyhow::bail!("{name} must be a number of seconds greater than 0, got {value}");
    }
    Ok(Duration::from_secs_f64(value))
}
