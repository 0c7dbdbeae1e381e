//! Storage behind one trait, one implementation per backend.
//!
//! `postgres.rs` and `sqlite.rs` hold each backend's SQL side by side under the same
//! method names; `list.rs` builds the one dynamic query (job listing) for both with
//! sea-query. Every method that writes on behalf of a running job takes a [`Lease`] and
//! writes nothing unless the job's queue row still carries that lease's owner and epoch.

mod batch;
mod list;
mod pg_batch;
mod pg_sql;
mod postgres;
mod protocol;
mod sqlite;
mod sqlite_batch;
mod types;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use uuid::Uuid;

pub use list::{JobFilter, JobPage};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use types::*;

#[cfg(feature = "protocol-tests")]
pub use protocol::Protocol;
#[cfg(not(feature = "protocol-tests"))]
pub(crate) use protocol::Protocol;

/// A connected database: what `Engine` and `Worker` are made from. Outside
/// the engine it reads as a [`Store`] (the read model, migrations); the
/// queue protocol inside stays the engine's.
#[derive(Clone)]
pub struct Database(Arc<dyn Protocol>);

impl Database {
    /// The whole protocol, for the engine's own writers.
    pub(crate) fn queue(&self) -> &Arc<dyn Protocol> {
        &self.0
    }

    pub(crate) fn from_queue(queue: Arc<dyn Protocol>) -> Self {
        Self(queue)
    }
}

#[cfg(not(feature = "protocol-tests"))]
impl std::ops::Deref for Database {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        &*self.0
    }
}

/// The engine's own tests drive the protocol through the same handle.
#[cfg(feature = "protocol-tests")]
impl std::ops::Deref for Database {
    type Target = dyn Protocol;
    fn deref(&self) -> &(dyn Protocol + 'static) {
        &*self.0
    }
}

use crate::error::Result;
use crate::logs::{LogLine, StoredLogLine};

/// What callers outside the engine may ask of the database: reads (the read
/// model behind `Engine`), migrations, and the bench's measurements. Every
/// write on behalf of a job — submit, claim, heartbeat, checkpoint, memos,
/// artifacts, cancel, retry — is in the crate's sealed `Protocol`, which
/// `Engine` and the workers use and nothing outside can name or reach.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;

    /// Runs pending migrations.
    async fn migrate(&self) -> Result<()>;

    /// Is the database reachable?
    async fn ping(&self) -> Result<()>;

    /// Checkpointed outputs of the job's completed steps, by step name.
    async fn load_outputs(&self, job_id: Uuid) -> Result<BTreeMap<String, Value>>;

    async fn get_job(&self, id: Uuid) -> Result<Option<JobRecord>>;

    async fn list_jobs(&self, filter: &JobFilter) -> Result<JobPage>;

    async fn attempts(&self, job_id: Uuid) -> Result<Vec<AttemptRow>>;

    async fn checkpoints(&self, job_id: Uuid) -> Result<Vec<CheckpointRow>>;

    async fn logs(
        &self,
        job_id: Uuid,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredLogLine>>;

    /// The last `limit` lines of a job's log, oldest first.
    async fn tail_logs(&self, job_id: Uuid, limit: i64) -> Result<Vec<StoredLogLine>>;

    /// The job's recorded actions, oldest first.
    async fn actions(&self, job_id: Uuid) -> Result<Vec<JobAction>>;

    /// A value a step recorded under `key` in an earlier attempt.
    async fn memo_get(&self, job_id: Uuid, step: &str, key: &str) -> Result<Option<Value>>;

    /// The job's artifacts (without content), by path.
    async fn list_artifacts(&self, job_id: Uuid) -> Result<Vec<ArtifactMeta>>;

    /// One artifact with its content.
    async fn get_artifact(&self, job_id: Uuid, path: &str) -> Result<Option<Artifact>>;

    /// Number of jobs in the queue (waiting or running).
    async fn queue_depth(&self) -> Result<i64>;

    /// Number of jobs matching the filter (its cursor and limit are ignored).
    async fn count_jobs(&self, filter: &JobFilter) -> Result<i64>;

    /// Deletes every job of a workflow, finished or not (the benchmark cleans up with it).
    async fn delete_workflow_jobs(&self, workflow: &str) -> Result<u64>;

    /// Single-row UPDATE commits per second that `clients` connections reach in `duration`
    /// on this database: the baseline the engine's step rate is compared with.
    async fn commit_ceiling(&self, clients: usize, duration: Duration) -> Result<f64>;

    /// What the store's group commit has written so far, when it has one.
    fn checkpoint_batches(&self) -> Option<CheckpointBatches> {
        None
    }

    /// Seconds the longest-waiting claimable job (due, or with an expired lease) has
    /// been due; 0 when none is.
    async fn oldest_due_age_seconds(&self) -> Result<f64>;
}

/// Runs `clients` loops of `one_commit` until `duration` is over; returns commits per second.
/// The log line an action is also recorded as.
pub(crate) fn action_log_line(action: &JobAction) -> LogLine {
    LogLine {
        step: None,
        attempt: None,
        level: crate::logs::LogLevel::Info,
        message: action.log_message(),
        at: action.at,
    }
}

pub(crate) async fn measure_commits<F, Fut>(
    clients: usize,
    duration: Duration,
    one_commit: F,
) -> Result<f64>
where
    F: Fn(i32) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send,
{
    let started = std::time::Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients.max(1) {
        let one_commit = one_commit.clone();
        tasks.spawn(async move {
            let mut commits = 0u64;
            while std::time::Instant::now() < deadline {
                one_commit(client as i32).await?;
                commits += 1;
            }
            Ok::<_, crate::EngineError>(commits)
        });
    }
    let mut total = 0u64;
    while let Some(joined) = tasks.join_next().await {
        total += joined.expect("commit loop task")?;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Hex SHA-256 of an artifact's content, stored beside it for downloads to check.
pub(crate) fn sha256_hex(content: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(content))
}

/// Opens the store a database URL names: `postgres://…` or `sqlite://…`.
pub async fn connect(url: &str, max_connections: u32) -> Result<Database> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Database(Arc::new(
            PgStore::connect(url, max_connections).await?,
        )))
    } else if url.starts_with("sqlite:") {
        Ok(Database(Arc::new(
            SqliteStore::connect(url, max_connections).await?,
        )))
    } else {
        Err(crate::EngineError::InvalidDatabaseUrl(format!(
            "{:?}: expected postgres://… or sqlite://…",
            redact_url(url)
        )))
    }
}

/// The URL with any password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***{}", &url[..scheme_end], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}
