//! Storage behind one trait, one implementation per backend.
//!
//! `postgres.rs` and `sqlite.rs` hold each backend's SQL side by side under the same
//! method names; `list.rs` builds the one dynamic query (job listing) for both with
//! sea-query. Every method that writes on behalf of a running job takes a [`Lease`] and
//! writes nothing unless the job's queue row still carries that lease's owner and epoch.

mod list;
mod pg_batch;
mod pg_sql;
mod postgres;
mod sqlite;
mod types;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::Notify;
use uuid::Uuid;

pub use list::{JobFilter, JobPage};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use types::*;

use crate::error::Result;
use crate::logs::{LogLine, StoredLogLine};
use crate::secrets::SealedSecret;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;

    /// Runs pending migrations.
    async fn migrate(&self) -> Result<()>;

    /// Is the database reachable?
    async fn ping(&self) -> Result<()>;

    /// Woken when work may have appeared (a submit or retry, here or, on Postgres,
    /// in any process through LISTEN/NOTIFY). A hint only: workers also poll.
    fn work_notifier(&self) -> Arc<Notify>;

    /// Ids of jobs whose cancellation was just requested (here or, on Postgres, in any
    /// process), so their workers stop the running step at once. A hint: workers also
    /// see the request at their next heartbeat.
    fn cancel_signals(&self) -> tokio::sync::broadcast::Receiver<Uuid>;

    /// Starts forwarding cross-process wake-ups to [`Store::work_notifier`] and
    /// [`Store::cancel_signals`]. Returns at once.
    fn start_listening(&self);

    /// Creates the job and queues it, or returns the job already holding the idempotency key.
    async fn submit(&self, job: NewJob) -> Result<Submitted>;

    /// Claims up to `limit` runnable jobs (queued and due, or leased with an expired
    /// lease) for `owner`, taking a lease of `lease` on each in the same statement.
    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<ClaimedJob>>;

    /// Extends the lease and stores buffered log lines. `Err(LeaseLost)` if it is gone.
    async fn heartbeat(
        &self,
        lease: &Lease,
        duration: Duration,
        logs: &[LogLine],
    ) -> Result<Heartbeat>;

    /// Records a finished attempt and moves the job on, in one transaction fenced by the lease.
    async fn finish_attempt(
        &self,
        lease: &Lease,
        attempt: &AttemptRecord,
        transition: &Transition,
        logs: &[LogLine],
    ) -> Result<Heartbeat>;

    /// Checkpointed outputs of the job's completed steps, by step name.
    async fn load_outputs(&self, job_id: Uuid) -> Result<BTreeMap<String, Value>>;

    /// When the next queued job becomes due, if any.
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>>;

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

    /// Appends log lines outside of a lease (engine-side notes such as "retry requested").
    async fn append_logs(&self, job_id: Uuid, logs: &[LogLine]) -> Result<()>;

    /// Records `action` on the job's timeline and, in the same transaction,
    /// as a line of its log.
    async fn record_action(&self, job_id: Uuid, action: &JobAction) -> Result<()>;

    /// The job's recorded actions, oldest first.
    async fn actions(&self, job_id: Uuid) -> Result<Vec<JobAction>>;

    /// Cancels a queued job at once, or flags a running one so its worker stops it.
    async fn cancel(&self, job_id: Uuid) -> Result<CancelOutcome>;

    /// Re-queues a failed, cancelled (or, with `from_step`, succeeded) job.
    async fn requeue(&self, job_id: Uuid, plan: &RequeuePlan) -> Result<()>;

    /// Deletes finished jobs (and their attempts, checkpoints and logs) finished before `before`.
    async fn purge_finished(&self, before: DateTime<Utc>) -> Result<u64>;

    /// A job's sealed secret, if it was submitted with one of that name.
    async fn sealed_secret(&self, job_id: Uuid, name: &str) -> Result<Option<SealedSecret>>;

    /// A value a step recorded under `key` in an earlier attempt.
    async fn memo_get(&self, job_id: Uuid, step: &str, key: &str) -> Result<Option<Value>>;

    /// Records a value for the step's later attempts, fenced by the lease: steps keep
    /// state in memos (a saved plan, a pushed image), so a worker that lost its lease
    /// must not overwrite what the current attempt recorded.
    async fn memo_put(&self, lease: &Lease, step: &str, key: &str, value: &Value) -> Result<()>;

    /// Stores (or replaces) a file the job produced, fenced by the lease.
    async fn put_artifact(
        &self,
        lease: &Lease,
        step: &str,
        path: &str,
        content: &[u8],
    ) -> Result<()>;

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

    /// (statements, checkpoints) the store's group commit has written so far, when it
    /// has one: how well checkpoints batch under load.
    fn checkpoint_batches(&self) -> Option<(u64, u64)> {
        None
    }

    /// Seconds the longest-waiting claimable job (due, or with an expired lease) has
    /// been due; 0 when none is.
    async fn oldest_due_age_seconds(&self) -> Result<f64>;

    /// Stores a new API token; false when its name is taken.
    async fn insert_token(&self, token: &TokenRecord) -> Result<bool>;

    /// The token whose secret has this digest, revoked and expired ones included.
    async fn token_by_digest(&self, digest: &str) -> Result<Option<TokenRecord>>;

    /// Every token, oldest first.
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>>;

    /// Revokes the token of this name; false when there is none not yet revoked.
    async fn revoke_token(&self, name: &str) -> Result<bool>;
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
pub async fn connect(url: &str, max_connections: u32) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url, max_connections).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, max_connections).await?))
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
