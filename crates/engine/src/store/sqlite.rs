//! SQLite: the embedded, zero-setup store. One writer at a time is SQLite's model, so
//! every write transaction starts with `BEGIN IMMEDIATE` (it takes the write lock up
//! front and waits for it, instead of failing on a read-to-write upgrade); within it the
//! statements mirror `postgres.rs`, fenced the same way. Checkpoints go through the
//! same group commit as PostgreSQL's (`batch.rs`), written by `sqlite_batch.rs`. Wake-ups are in-process only;
//! other processes sharing the file find work by polling.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::SqliteQueryBuilder;
use serde_json::Value;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Row, Sqlite, Transaction};
use tokio::sync::{Notify, broadcast};
use uuid::Uuid;

use super::batch::{Batcher, Checkpoint};
use super::list::{JOB_COLUMNS, JobFilter, JobPage, count_query, into_page, list_query};
use super::postgres::{conflict, fenced};
use super::sqlite_batch::SqliteCheckpoints;
use super::types::*;
use super::{Protocol, Store, action_log_line, sha256_hex};
use crate::error::{EngineError, Result};
use crate::logs::{LogLevel, LogLine, StoredLogLine};
use crate::secrets::SealedSecret;

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    notifier: Arc<Notify>,
    cancels: broadcast::Sender<Uuid>,
    /// The group commit of checkpoints, started on first use: one lane, since
    /// SQLite writes one transaction at a time anyway.
    batcher: OnceLock<Batcher>,
}

pub(super) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub(super) fn ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn after_ms(duration: Duration) -> i64 {
    now_ms() + duration.as_millis() as i64
}

impl SqliteStore {
    /// Opens (creating if needed) the database file the `sqlite://PATH` URL names.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            notifier: Arc::new(Notify::new()),
            cancels: broadcast::channel(256).0,
            batcher: OnceLock::new(),
        })
    }

    fn batcher(&self) -> &Batcher {
        self.batcher.get_or_init(|| {
            let writer = SqliteCheckpoints {
                pool: self.pool.clone(),
            };
            Batcher::spawn(Arc::new(writer), 1)
        })
    }

    async fn write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Deletes the jobs `condition` (with one parameter, `?1`) selects, and everything
    /// recorded about them (the queue row goes by its foreign key).
    async fn delete_jobs_where(&self, condition: &str, value: String) -> Result<u64> {
        let mut tx = self.write().await?;
        for table in [
            "attempts",
            "checkpoints",
            "logs",
            "step_memos",
            "artifacts",
            "job_actions",
        ] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE job_id IN (SELECT id FROM jobs WHERE {condition})"
            )))
            .bind(&value)
            .execute(&mut *tx)
            .await?;
        }
        let deleted = sqlx::query(AssertSqlSafe(format!("DELETE FROM jobs WHERE {condition}")))
            .bind(&value)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }

    /// Writes the end of an attempt that checkpoints nothing (a retry, a release,
    /// a failure or wait) in its own transaction, fenced by the lease.
    async fn finish_attempt_now(
        &self,
        lease: &Lease,
        attempt: &AttemptRecord,
        transition: &Transition,
        logs: &[LogLine],
    ) -> Result<Heartbeat> {
        let mut tx = self.write().await?;
        let Some(cancel_requested) = fence(&mut tx, lease, transition).await? else {
            tx.rollback().await?;
            return fenced(lease, None);
        };
        insert_attempt(&mut tx, lease, attempt).await?;
        insert_logs(&mut tx, lease.job_id, logs).await?;
        let job_id = lease.job_id.to_string();
        let now = now_ms();
        match transition {
            Transition::End {
                status,
                error,
                state,
            } => {
                let failed = *status == JobStatus::Failed;
                let failed_step = failed.then_some(&attempt.step_name);
                let error_code = attempt.error_code.as_ref().filter(|_| failed);
                let finished_at = (*status != JobStatus::Waiting).then_some(now);
                sqlx::query(
                    "UPDATE jobs SET status = ?, error = ?, error_code = ?, state = COALESCE(?, state),
                         failed_step = ?, current_step = ?,
                         lease_epoch = ?, updated_at = ?, finished_at = ?
                     WHERE id = ?",
                )
                .bind(status.as_str())
                .bind(error)
                .bind(error_code)
                .bind(state)
                .bind(failed_step)
                .bind(&attempt.step_name)
                .bind(lease.epoch)
                .bind(now)
                .bind(finished_at)
                .bind(&job_id)
                .execute(&mut *tx)
                .await?;
            }
            Transition::Advance { .. }
            | Transition::Complete { .. }
            | Transition::RetryAfter { .. }
            | Transition::Release
            | Transition::Stay => {}
        }
        tx.commit().await?;
        Ok(Heartbeat { cancel_requested })
    }

    async fn not_in_queue(&self, job_id: Uuid, operation: &str) -> EngineError {
        match self.get_job(job_id).await {
            Ok(Some(job)) => conflict(&job, operation),
            Ok(None) => EngineError::JobNotFound(job_id),
            Err(e) => e,
        }
    }
}

async fn insert_logs(
    tx: &mut Transaction<'static, Sqlite>,
    job_id: Uuid,
    logs: &[LogLine],
) -> Result<()> {
    for line in logs {
        sqlx::query("INSERT INTO logs (job_id, step, attempt, level, message, at) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(job_id.to_string())
            .bind(&line.step)
            .bind(line.attempt)
            .bind(line.level.as_str())
            .bind(&line.message)
            .bind(ms(line.at))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn insert_attempt(
    tx: &mut Transaction<'static, Sqlite>,
    lease: &Lease,
    attempt: &AttemptRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO attempts
             (job_id, step_index, step_name, attempt, worker, epoch, started_at, finished_at, outcome,
              error, error_code)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(lease.job_id.to_string())
    .bind(attempt.step_index as i64)
    .bind(&attempt.step_name)
    .bind(attempt.attempt as i64)
    .bind(&lease.owner)
    .bind(lease.epoch)
    .bind(ms(attempt.started_at))
    .bind(ms(attempt.finished_at))
    .bind(attempt.outcome.as_str())
    .bind(&attempt.error)
    .bind(&attempt.error_code)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The fenced queue write that opens every attempt-finishing transaction.
async fn fence(
    tx: &mut Transaction<'static, Sqlite>,
    lease: &Lease,
    transition: &Transition,
) -> Result<Option<bool>> {
    let now = now_ms();
    // ?1..?3 are the lease; a transition's own values follow from ?4.
    const FENCE: &str = "job_id = ?1 AND lease_owner = ?2 AND lease_epoch = ?3";
    let (sql, value): (String, Option<i64>) = match transition {
        Transition::Advance { .. } | Transition::Complete { .. } => {
            unreachable!("checkpoints are written by the batcher (batch.rs, sqlite_batch.rs)")
        }
        Transition::End { .. } => (
            format!("DELETE FROM queue WHERE {FENCE} RETURNING cancel_requested"),
            None,
        ),
        Transition::RetryAfter { delay } => (
            format!(
                "UPDATE queue SET lease_owner = NULL, attempt = attempt + 1, failures = failures + 1,
                     due_at = ?4
                 WHERE {FENCE} RETURNING cancel_requested"
            ),
            Some(after_ms(*delay)),
        ),
        Transition::Release => (
            format!(
                "UPDATE queue SET lease_owner = NULL, attempt = attempt + 1, due_at = ?4
                 WHERE {FENCE} RETURNING cancel_requested"
            ),
            Some(now),
        ),
        Transition::Stay => (
            format!("UPDATE queue SET lease_epoch = lease_epoch WHERE {FENCE} RETURNING cancel_requested"),
            None,
        ),
    };
    let mut query = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(lease.job_id.to_string())
        .bind(&lease.owner)
        .bind(lease.epoch);
    if let Some(value) = value {
        query = query.bind(value);
    }
    let cancel_requested: Option<bool> = query.fetch_optional(&mut **tx).await?;
    Ok(cancel_requested)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn load_outputs(&self, job_id: Uuid) -> Result<BTreeMap<String, Value>> {
        let rows: Vec<(String, Json<Value>)> =
            sqlx::query_as("SELECT step_name, output FROM checkpoints WHERE job_id = ?")
                .bind(job_id.to_string())
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(name, Json(v))| (name, v)).collect())
    }

    async fn get_job(&self, id: Uuid) -> Result<Option<JobRecord>> {
        let sql = format!("SELECT {} FROM jobs WHERE id = ?", JOB_COLUMNS.join(", "));
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self, filter: &JobFilter) -> Result<JobPage> {
        let (sql, values) = list_query("jobs", filter, SqliteQueryBuilder);
        let rows = sqlx::query_with(AssertSqlSafe(sql), values)
            .fetch_all(&self.pool)
            .await?;
        let jobs = rows.iter().map(job_from_row).collect::<Result<Vec<_>>>()?;
        Ok(into_page(jobs, filter.limit))
    }

    async fn attempts(&self, job_id: Uuid) -> Result<Vec<AttemptRow>> {
        let rows = sqlx::query(
            "SELECT step_index, step_name, attempt, worker, epoch, started_at, finished_at, outcome, error,
                 error_code
             FROM attempts WHERE job_id = ? ORDER BY id",
        )
        .bind(job_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AttemptRow {
                    step_index: r.try_get::<i64, _>(0)? as usize,
                    step_name: r.try_get(1)?,
                    attempt: r.try_get::<i64, _>(2)? as u32,
                    worker: r.try_get(3)?,
                    epoch: r.try_get(4)?,
                    started_at: from_ms(r.try_get(5)?),
                    finished_at: from_ms(r.try_get(6)?),
                    outcome: Outcome::parse(r.try_get(7)?),
                    error: r.try_get(8)?,
                    error_code: r.try_get(9)?,
                })
            })
            .collect()
    }

    async fn checkpoints(&self, job_id: Uuid) -> Result<Vec<CheckpointRow>> {
        let rows = sqlx::query(
            "SELECT step_name, step_index, output, worker, epoch, created_at
             FROM checkpoints WHERE job_id = ? ORDER BY step_index",
        )
        .bind(job_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CheckpointRow {
                    step_name: r.try_get(0)?,
                    step_index: r.try_get::<i64, _>(1)? as usize,
                    output: r.try_get::<Json<Value>, _>(2)?.0,
                    worker: r.try_get(3)?,
                    epoch: r.try_get(4)?,
                    created_at: from_ms(r.try_get(5)?),
                })
            })
            .collect()
    }

    async fn logs(
        &self,
        job_id: Uuid,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredLogLine>> {
        let rows = sqlx::query(
            "SELECT id, step, attempt, level, message, at FROM logs
             WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?",
        )
        .bind(job_id.to_string())
        .bind(after.unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(log_line_from_row).collect()
    }

    async fn tail_logs(&self, job_id: Uuid, limit: i64) -> Result<Vec<StoredLogLine>> {
        let rows = sqlx::query(
            "SELECT * FROM (
                 SELECT id, step, attempt, level, message, at FROM logs
                 WHERE job_id = ? ORDER BY id DESC LIMIT ?
             ) ORDER BY id",
        )
        .bind(job_id.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(log_line_from_row).collect()
    }

    async fn actions(&self, job_id: Uuid) -> Result<Vec<JobAction>> {
        let rows = sqlx::query(
            "SELECT action, actor, role, at FROM job_actions WHERE job_id = ? ORDER BY id",
        )
        .bind(job_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(JobAction {
                    action: row.try_get(0)?,
                    actor: row.try_get(1)?,
                    role: row.try_get(2)?,
                    at: from_ms(row.try_get(3)?),
                })
            })
            .collect()
    }

    async fn count_jobs(&self, filter: &JobFilter) -> Result<i64> {
        let (sql, values) = count_query("jobs", filter, SqliteQueryBuilder);
        Ok(sqlx::query_scalar_with(AssertSqlSafe(sql), values)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn delete_workflow_jobs(&self, workflow: &str) -> Result<u64> {
        self.delete_jobs_where("workflow = ?1", workflow.to_owned())
            .await
    }

    fn checkpoint_batches(&self) -> Option<CheckpointBatches> {
        Some(self.batcher().stats.read())
    }

    async fn commit_ceiling(&self, clients: usize, duration: Duration) -> Result<f64> {
        sqlx::query("DROP TABLE IF EXISTS bench_commit_ceiling")
            .execute(&self.pool)
            .await?;
        sqlx::query("CREATE TABLE bench_commit_ceiling (id INT PRIMARY KEY, n BIGINT NOT NULL)")
            .execute(&self.pool)
            .await?;
        for client in 0..clients.max(1) {
            sqlx::query("INSERT INTO bench_commit_ceiling (id, n) VALUES (?, 0)")
                .bind(client as i32)
                .execute(&self.pool)
                .await?;
        }
        let pool = self.pool.clone();
        let rate = super::measure_commits(clients, duration, move |client| {
            let pool = pool.clone();
            async move {
                sqlx::query("UPDATE bench_commit_ceiling SET n = n + 1 WHERE id = ?")
                    .bind(client)
                    .execute(&pool)
                    .await?;
                Ok(())
            }
        })
        .await;
        sqlx::query("DROP TABLE IF EXISTS bench_commit_ceiling")
            .execute(&self.pool)
            .await?;
        rate
    }

    async fn memo_get(&self, job_id: Uuid, step: &str, key: &str) -> Result<Option<Value>> {
        let value: Option<Json<Value>> = sqlx::query_scalar(
            "SELECT value FROM step_memos WHERE job_id = ? AND step_name = ? AND key = ?",
        )
        .bind(job_id.to_string())
        .bind(step)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(value.map(|Json(v)| v))
    }

    async fn list_artifacts(&self, job_id: Uuid) -> Result<Vec<ArtifactMeta>> {
        let rows: Vec<(String, String, i64, String, i64)> = sqlx::query_as(
            "SELECT path, step_name, length(content), sha256, created_at
             FROM artifacts WHERE job_id = ? ORDER BY path",
        )
        .bind(job_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(path, step, size, sha256, created_at)| ArtifactMeta {
                path,
                step,
                size: size as u64,
                sha256,
                created_at: from_ms(created_at),
            })
            .collect())
    }

    async fn get_artifact(&self, job_id: Uuid, path: &str) -> Result<Option<Artifact>> {
        let row: Option<(String, Vec<u8>, String, i64)> = sqlx::query_as(
            "SELECT step_name, content, sha256, created_at FROM artifacts
             WHERE job_id = ? AND path = ?",
        )
        .bind(job_id.to_string())
        .bind(path)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(step, content, sha256, created_at)| Artifact {
            meta: ArtifactMeta {
                path: path.to_owned(),
                step,
                size: content.len() as u64,
                sha256,
                created_at: from_ms(created_at),
            },
            content,
        }))
    }

    async fn queue_depth(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM queue")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn oldest_due_age_seconds(&self) -> Result<f64> {
        let now = now_ms();
        let oldest: Option<i64> =
            sqlx::query_scalar("SELECT min(due_at) FROM queue WHERE due_at <= ?")
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
        Ok(oldest.map_or(0.0, |due| (now - due).max(0) as f64 / 1000.0))
    }
}

#[async_trait]
impl Protocol for SqliteStore {
    fn work_notifier(&self) -> Arc<Notify> {
        self.notifier.clone()
    }

    fn cancel_signals(&self) -> broadcast::Receiver<Uuid> {
        self.cancels.subscribe()
    }

    fn start_listening(&self) {}

    async fn submit(&self, job: NewJob) -> Result<Submitted> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let inserted = sqlx::query(
            "INSERT INTO jobs (id, workflow, workflow_version, steps, input, status, current_step,
                 idempotency_key, created_at, updated_at, trace_context, created_by)
             VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(job.id.to_string())
        .bind(&job.workflow)
        .bind(&job.workflow_version)
        .bind(Json(&job.steps))
        .bind(Json(&job.input))
        .bind(&job.first_step)
        .bind(&job.idempotency_key)
        .bind(now)
        .bind(now)
        .bind(&job.trace_context)
        .bind(&job.created_by)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let id = if inserted {
            sqlx::query("INSERT INTO queue (job_id, due_at, step_index) VALUES (?, ?, 0)")
                .bind(job.id.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            for secret in &job.secrets {
                sqlx::query(
                    "INSERT INTO job_secrets (job_id, name, nonce, ciphertext) VALUES (?, ?, ?, ?)",
                )
                .bind(job.id.to_string())
                .bind(&secret.name)
                .bind(&secret.nonce)
                .bind(&secret.ciphertext)
                .execute(&mut *tx)
                .await?;
            }
            job.id
        } else {
            let id: String = sqlx::query_scalar("SELECT id FROM jobs WHERE idempotency_key = ?")
                .bind(&job.idempotency_key)
                .fetch_one(&mut *tx)
                .await?;
            parse_uuid(&id)?
        };
        tx.commit().await?;
        if inserted {
            self.notifier.notify_one();
        }
        let record = self
            .get_job(id)
            .await?
            .ok_or(EngineError::JobNotFound(id))?;
        Ok(Submitted {
            job: record,
            created: inserted,
        })
    }

    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<ClaimedJob>> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let candidates = sqlx::query(
            "SELECT q.job_id, q.lease_owner, q.attempt, q.attempt_started_at,
                 j.workflow, j.workflow_version, j.steps, j.input, j.trace_context
             FROM queue q JOIN jobs j ON j.id = q.job_id
             WHERE q.due_at <= ? ORDER BY q.due_at LIMIT ?",
        )
        .bind(now)
        .bind(limit as i64)
        .fetch_all(&mut *tx)
        .await?;
        if candidates.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        // Every candidate is leased by one statement and its job marked running by
        // another, whatever their number; a rescued job (its lease had expired) also
        // counts a recovery and a new attempt.
        let ids = candidates
            .iter()
            .map(|row| row.try_get::<String, _>("job_id"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let leased = sqlx::query(
            "UPDATE queue SET lease_owner = ?1, lease_epoch = lease_epoch + 1, due_at = ?2,
                 recoveries = recoveries + (lease_owner IS NOT NULL),
                 attempt = attempt + (lease_owner IS NOT NULL), attempt_started_at = ?3
             WHERE job_id IN (SELECT value FROM json_each(?4))
             RETURNING job_id, lease_epoch, step_index, attempt, failures, recoveries, cancel_requested",
        )
        .bind(owner)
        .bind(now + lease.as_millis() as i64)
        .bind(now)
        .bind(Json(&ids))
        .fetch_all(&mut *tx)
        .await?;
        let mut leased: HashMap<String, SqliteRow> = leased
            .into_iter()
            .map(|row| Ok((row.try_get::<String, _>("job_id")?, row)))
            .collect::<Result<_>>()?;
        sqlx::query(
            "UPDATE jobs SET status = 'running', started_at = COALESCE(started_at, ?1), updated_at = ?1
             WHERE id IN (SELECT value FROM json_each(?2)) AND status <> 'running'",
        )
        .bind(now)
        .bind(Json(&ids))
        .execute(&mut *tx)
        .await?;
        let mut claimed = Vec::with_capacity(candidates.len());
        for (row, job_id) in candidates.iter().zip(ids) {
            let previous_owner: Option<String> = row.try_get("lease_owner")?;
            let Some(updated) = leased.remove(&job_id) else {
                continue;
            };
            let rescued_from = match previous_owner {
                Some(previous_owner) => Some(Rescue {
                    previous_owner,
                    attempt: row.try_get::<i64, _>("attempt")? as u32,
                    started_at: row
                        .try_get::<Option<i64>, _>("attempt_started_at")?
                        .map(from_ms),
                }),
                None => None,
            };
            // A dead worker's attempt is recorded by the claim that takes its job over,
            // in the same commit: a rescuer that dies in turn cannot lose it.
            if let Some(rescue) = &rescued_from {
                let steps = row.try_get::<Json<Vec<String>>, _>("steps")?.0;
                let step_index = updated.try_get::<i64, _>("step_index")?;
                sqlx::query(
                    "INSERT INTO attempts (job_id, step_index, step_name, attempt, worker, epoch,
                         started_at, finished_at, outcome, error)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'interrupted', ?)",
                )
                .bind(&job_id)
                .bind(step_index)
                .bind(steps.get(step_index as usize).cloned().unwrap_or_default())
                .bind(i64::from(rescue.attempt))
                .bind(owner)
                .bind(updated.try_get::<i64, _>("lease_epoch")?)
                .bind(rescue.started_at.map(ms).unwrap_or(now))
                .bind(now)
                .bind(format!(
                    "worker {} stopped responding",
                    rescue.previous_owner
                ))
                .execute(&mut *tx)
                .await?;
            }
            claimed.push(ClaimedJob {
                lease: Lease {
                    job_id: parse_uuid(&job_id)?,
                    owner: owner.to_owned(),
                    epoch: updated.try_get("lease_epoch")?,
                    duration: lease,
                },
                workflow: row.try_get("workflow")?,
                workflow_version: row.try_get("workflow_version")?,
                steps: row.try_get::<Json<Vec<String>>, _>("steps")?.0,
                input: row.try_get::<Json<Value>, _>("input")?.0,
                step_index: updated.try_get::<i64, _>("step_index")? as usize,
                attempt: updated.try_get::<i64, _>("attempt")? as u32,
                failures: updated.try_get::<i64, _>("failures")? as u32,
                recoveries: updated.try_get::<i64, _>("recoveries")? as u32,
                cancel_requested: updated.try_get("cancel_requested")?,
                rescued_from,
                trace_context: row.try_get("trace_context")?,
            });
        }
        tx.commit().await?;
        Ok(claimed)
    }

    async fn hand_back_unstarted(&self, owner: &str, leases: &[Lease]) -> Result<u64> {
        if leases.is_empty() {
            return Ok(0);
        }
        let fences: Vec<(String, i64)> = leases
            .iter()
            .map(|l| (l.job_id.to_string(), l.epoch))
            .collect();
        let mut tx = self.write().await?;
        // The claim set `attempt_started_at` to the time it claimed, which is where the
        // job goes back in the queue; a job that claim started (its `started_at` is that
        // time) is queued again, one that had run before stays running.
        let handed_back: Vec<(String, Option<i64>)> = sqlx::query_as(
            "UPDATE queue SET lease_owner = NULL, due_at = COALESCE(attempt_started_at, ?1)
             WHERE lease_owner = ?2 AND EXISTS (
                 SELECT 1 FROM json_each(?3) AS f
                 WHERE json_extract(f.value, '$[0]') = queue.job_id
                   AND json_extract(f.value, '$[1]') = queue.lease_epoch)
             RETURNING job_id, attempt_started_at",
        )
        .bind(now_ms())
        .bind(owner)
        .bind(Json(&fences))
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE jobs SET status = 'queued', started_at = NULL, updated_at = ?1
             WHERE status = 'running' AND EXISTS (
                 SELECT 1 FROM json_each(?2) AS h
                 WHERE json_extract(h.value, '$[0]') = jobs.id
                   AND json_extract(h.value, '$[1]') = jobs.started_at)",
        )
        .bind(now_ms())
        .bind(Json(&handed_back))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(handed_back.len() as u64)
    }

    async fn heartbeat(
        &self,
        lease: &Lease,
        duration: Duration,
        logs: &[LogLine],
    ) -> Result<Heartbeat> {
        let mut tx = self.write().await?;
        let cancel_requested: Option<bool> = sqlx::query_scalar(
            "UPDATE queue SET due_at = ? WHERE job_id = ? AND lease_owner = ? AND lease_epoch = ?
             RETURNING cancel_requested",
        )
        .bind(after_ms(duration))
        .bind(lease.job_id.to_string())
        .bind(&lease.owner)
        .bind(lease.epoch)
        .fetch_optional(&mut *tx)
        .await?;
        if cancel_requested.is_some() {
            insert_logs(&mut tx, lease.job_id, logs).await?;
        }
        tx.commit().await?;
        fenced(lease, cancel_requested)
    }

    async fn finish_attempt(
        &self,
        lease: &Lease,
        attempt: &AttemptRecord,
        transition: &Transition,
        logs: &[LogLine],
    ) -> Result<Heartbeat> {
        match Checkpoint::of(lease, attempt, transition, logs) {
            Some(checkpoint) => self.batcher().write(checkpoint).await,
            None => {
                self.finish_attempt_now(lease, attempt, transition, logs)
                    .await
            }
        }
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        let due: Option<i64> = sqlx::query_scalar("SELECT min(due_at) FROM queue")
            .fetch_one(&self.pool)
            .await?;
        Ok(due.map(from_ms))
    }

    async fn append_logs(&self, job_id: Uuid, logs: &[LogLine]) -> Result<()> {
        let mut tx = self.write().await?;
        insert_logs(&mut tx, job_id, logs).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_action(&self, job_id: Uuid, action: &JobAction) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO job_actions (job_id, action, actor, role, at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(job_id.to_string())
        .bind(&action.action)
        .bind(&action.actor)
        .bind(&action.role)
        .bind(ms(action.at))
        .execute(&mut *tx)
        .await?;
        insert_logs(&mut tx, job_id, &[action_log_line(action)]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn cancel(&self, job_id: Uuid) -> Result<CancelOutcome> {
        let mut tx = self.write().await?;
        let id = job_id.to_string();
        let waiting: Option<i64> = sqlx::query_scalar(
            "DELETE FROM queue WHERE job_id = ? AND lease_owner IS NULL RETURNING lease_epoch",
        )
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(epoch) = waiting {
            let now = now_ms();
            sqlx::query(
                "UPDATE jobs SET status = 'cancelled', lease_epoch = ?, error = 'cancelled by request',
                     updated_at = ?, finished_at = ?
                 WHERE id = ?",
            )
            .bind(epoch)
            .bind(now)
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(CancelOutcome::Cancelled);
        }
        let now = now_ms();
        let parked = sqlx::query(
            "UPDATE jobs SET status = 'cancelled', error = 'cancelled by request',
                 updated_at = ?, finished_at = ?
             WHERE id = ? AND status = 'waiting'",
        )
        .bind(now)
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if parked == 1 {
            tx.commit().await?;
            return Ok(CancelOutcome::Cancelled);
        }
        let flagged = sqlx::query("UPDATE queue SET cancel_requested = 1 WHERE job_id = ?")
            .bind(&id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if flagged == 1 {
            tx.commit().await?;
            let _ = self.cancels.send(job_id);
            return Ok(CancelOutcome::Requested);
        }
        tx.rollback().await?;
        Err(self.not_in_queue(job_id, "cancel").await)
    }

    async fn requeue(&self, job_id: Uuid, plan: &RequeuePlan) -> Result<()> {
        let mut tx = self.write().await?;
        let id = job_id.to_string();
        let allowed = Json(plan.allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>());
        let epoch: Option<i64> = sqlx::query_scalar(
            "UPDATE jobs SET status = 'queued', steps = ?, workflow_version = ?, current_step = ?,
                 state = ?, error = NULL, error_code = NULL, failed_step = NULL, finished_at = NULL, updated_at = ?
             WHERE id = ? AND status IN (SELECT value FROM json_each(?))
             RETURNING lease_epoch",
        )
        .bind(Json(&plan.steps))
        .bind(&plan.workflow_version)
        .bind(&plan.step_name)
        .bind(&plan.state)
        .bind(now_ms())
        .bind(&id)
        .bind(allowed)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(epoch) = epoch else {
            tx.rollback().await?;
            return Err(self.not_in_queue(job_id, "retry").await);
        };
        sqlx::query("DELETE FROM step_memos WHERE job_id = ? AND step_name IN (SELECT value FROM json_each(?))")
            .bind(&id)
            .bind(Json(&plan.discard))
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM checkpoints WHERE job_id = ? AND step_name IN (SELECT value FROM json_each(?))")
            .bind(&id)
            .bind(Json(&plan.discard))
            .execute(&mut *tx)
            .await?;
        if let Some((key, value)) = &plan.memo {
            sqlx::query(
                "INSERT INTO step_memos (job_id, step_name, key, value, created_at) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (job_id, step_name, key) DO UPDATE SET value = excluded.value",
            )
            .bind(&id)
            .bind(&plan.step_name)
            .bind(key)
            .bind(Json(value))
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO queue (job_id, due_at, step_index, lease_epoch) VALUES (?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(now_ms())
        .bind(plan.step_index as i64)
        .bind(epoch)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.notifier.notify_one();
        Ok(())
    }

    async fn purge_finished(&self, before: DateTime<Utc>) -> Result<u64> {
        self.delete_jobs_where(
            "finished_at < ?1 AND status IN ('succeeded', 'failed', 'cancelled')",
            ms(before).to_string(),
        )
        .await
    }

    async fn sealed_secret(&self, job_id: Uuid, name: &str) -> Result<Option<SealedSecret>> {
        let row: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT nonce, ciphertext FROM job_secrets WHERE job_id = ? AND name = ?",
        )
        .bind(job_id.to_string())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(nonce, ciphertext)| SealedSecret {
            name: name.to_owned(),
            nonce,
            ciphertext,
        }))
    }

    async fn memo_put(&self, lease: &Lease, step: &str, key: &str, value: &Value) -> Result<()> {
        let mut tx = self.write().await?;
        let written = sqlx::query(
            "INSERT INTO step_memos (job_id, step_name, key, value, created_at)
             SELECT ?1, ?4, ?5, ?6, ?7 FROM queue
             WHERE job_id = ?1 AND lease_owner = ?2 AND lease_epoch = ?3
             ON CONFLICT (job_id, step_name, key) DO UPDATE SET value = excluded.value",
        )
        .bind(lease.job_id.to_string())
        .bind(&lease.owner)
        .bind(lease.epoch)
        .bind(step)
        .bind(key)
        .bind(Json(value))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if written == 0 {
            tx.rollback().await?;
            return Err(EngineError::LeaseLost {
                job_id: lease.job_id,
            });
        }
        tx.commit().await?;
        Ok(())
    }

    async fn put_artifact(
        &self,
        lease: &Lease,
        step: &str,
        path: &str,
        content: &[u8],
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let written = sqlx::query(
            "INSERT INTO artifacts (job_id, path, step_name, content, sha256, created_at)
             SELECT ?1, ?4, ?5, ?6, ?7, ?8 FROM queue
             WHERE job_id = ?1 AND lease_owner = ?2 AND lease_epoch = ?3
             ON CONFLICT (job_id, path) DO UPDATE SET step_name = excluded.step_name,
                 content = excluded.content, sha256 = excluded.sha256,
                 created_at = excluded.created_at",
        )
        .bind(lease.job_id.to_string())
        .bind(&lease.owner)
        .bind(lease.epoch)
        .bind(path)
        .bind(step)
        .bind(content)
        .bind(sha256_hex(content))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if written == 0 {
            tx.rollback().await?;
            return Err(EngineError::LeaseLost {
                job_id: lease.job_id,
            });
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<bool> {
        let mut tx = self.write().await?;
        let inserted = sqlx::query(
            "INSERT INTO access_tokens (name, role, digest, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&token.name)
        .bind(&token.role)
        .bind(&token.digest)
        .bind(token.created_at.timestamp_millis())
        .bind(token.expires_at.map(|t| t.timestamp_millis()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn token_by_digest(&self, digest: &str) -> Result<Option<TokenRecord>> {
        let row = sqlx::query(
            "SELECT name, role, digest, created_at, expires_at, revoked_at
             FROM access_tokens WHERE digest = ?",
        )
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query(
            "SELECT name, role, digest, created_at, expires_at, revoked_at
             FROM access_tokens ORDER BY created_at, name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(&self, name: &str) -> Result<bool> {
        let mut tx = self.write().await?;
        let revoked = sqlx::query(
            "UPDATE access_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(name)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(revoked.rows_affected() == 1)
    }
}

fn token_from_row(row: &SqliteRow) -> Result<TokenRecord> {
    Ok(TokenRecord {
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        digest: row.try_get("digest")?,
        created_at: from_ms(row.try_get("created_at")?),
        expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(from_ms),
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(from_ms),
    })
}

pub(super) fn parse_uuid(text: &str) -> Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| EngineError::Database(sqlx::Error::Decode(e.into())))
}

fn job_from_row(row: &SqliteRow) -> Result<JobRecord> {
    let status: String = row.try_get("status")?;
    let id: String = row.try_get("id")?;
    let opt_ms = |name: &str| -> Result<Option<DateTime<Utc>>> {
        Ok(row.try_get::<Option<i64>, _>(name)?.map(from_ms))
    };
    Ok(JobRecord {
        seq: row.try_get("seq")?,
        id: parse_uuid(&id)?,
        workflow: row.try_get("workflow")?,
        workflow_version: row.try_get("workflow_version")?,
        steps: row.try_get::<Json<Vec<String>>, _>("steps")?.0,
        input: row.try_get::<Json<Value>, _>("input")?.0,
        status: status
            .parse()
            .map_err(|e: String| sqlx::Error::Decode(e.into()))?,
        state: row.try_get("state")?,
        current_step: row.try_get("current_step")?,
        idempotency_key: row.try_get("idempotency_key")?,
        error: row.try_get("error")?,
        error_code: row.try_get("error_code")?,
        failed_step: row.try_get("failed_step")?,
        created_at: from_ms(row.try_get("created_at")?),
        updated_at: from_ms(row.try_get("updated_at")?),
        started_at: opt_ms("started_at")?,
        finished_at: opt_ms("finished_at")?,
        trace_id: super::postgres::trace_id_of(row.try_get("trace_context")?),
        created_by: row.try_get("created_by")?,
    })
}

fn log_line_from_row(row: &SqliteRow) -> Result<StoredLogLine> {
    Ok(StoredLogLine {
        id: row.try_get(0)?,
        line: LogLine {
            step: row.try_get(1)?,
            attempt: row.try_get::<Option<i64>, _>(2)?.map(|a| a as i32),
            level: LogLevel::parse(row.try_get(3)?),
            message: row.try_get(4)?,
            at: from_ms(row.try_get(5)?),
        },
    })
}
