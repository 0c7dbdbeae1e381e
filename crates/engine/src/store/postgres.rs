//! PostgreSQL: the production store. Every write a running job makes is one statement
//! (data-modifying CTEs), fenced by `lease_owner` and `lease_epoch`, so a step costs at
//! most one commit (checkpoints of concurrent jobs share one: `pg_batch.rs`) and a
//! worker that lost its lease writes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::PostgresQueryBuilder;
use serde_json::Value;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::{Notify, broadcast};
use uuid::Uuid;

use super::batch::{Batcher, Checkpoint};
use super::list::{JobFilter, JobPage, count_query, into_page, list_query};
use super::pg_batch::PgCheckpoints;
use super::pg_sql::{
    CLAIM, DELETE_JOBS_WHERE, END, HAND_BACK_UNSTARTED, RELEASE, RETRY_AFTER, STAY, SUBMIT,
};
use super::types::*;
use super::{Protocol, Store, action_log_line, sha256_hex};
use crate::error::{EngineError, Result};
use crate::logs::{LogLevel, LogLine, StoredLogLine};
use crate::secrets::SealedSecret;

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// The one channel of hints: an empty payload means work may be due, `cancel:<id>` that
/// a job's cancellation was requested.
const CHANNEL: &str = "deployflow_engine";
/// Checkpoint batches in flight at once: one commits while the next forms.
const PG_LANES: usize = 2;

pub struct PgStore {
    pool: PgPool,
    notifier: Arc<Notify>,
    cancels: broadcast::Sender<Uuid>,
    listening: AtomicBool,
    batcher: OnceLock<Batcher>,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self::from_pool(pool))
    }

    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            notifier: Arc::new(Notify::new()),
            cancels: broadcast::channel(256).0,
            listening: AtomicBool::new(false),
            batcher: OnceLock::new(),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
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
        let rows: Vec<(String, Value)> =
            sqlx::query_as("SELECT step_name, output FROM engine.checkpoints WHERE job_id = $1")
                .bind(job_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    async fn get_job(&self, id: Uuid) -> Result<Option<JobRecord>> {
        let sql = format!(
            "SELECT {} FROM engine.jobs WHERE id = $1",
            super::list::JOB_COLUMNS.join(", ")
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self, filter: &JobFilter) -> Result<JobPage> {
        let (sql, values) = list_query(("engine", "jobs"), filter, PostgresQueryBuilder);
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
             FROM engine.attempts WHERE job_id = $1 ORDER BY id",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AttemptRow {
                    step_index: r.try_get::<i32, _>(0)? as usize,
                    step_name: r.try_get(1)?,
                    attempt: r.try_get::<i32, _>(2)? as u32,
                    worker: r.try_get(3)?,
                    epoch: r.try_get(4)?,
                    started_at: r.try_get(5)?,
                    finished_at: r.try_get(6)?,
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
             FROM engine.checkpoints WHERE job_id = $1 ORDER BY step_index",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CheckpointRow {
                    step_name: r.try_get(0)?,
                    step_index: r.try_get::<i32, _>(1)? as usize,
                    output: r.try_get(2)?,
                    worker: r.try_get(3)?,
                    epoch: r.try_get(4)?,
                    created_at: r.try_get(5)?,
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
            "SELECT id, step, attempt, level, message, at FROM engine.logs
             WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(job_id)
        .bind(after.unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(log_line_from_row).collect()
    }

    async fn tail_logs(&self, job_id: Uuid, limit: i64) -> Result<Vec<StoredLogLine>> {
        let rows = sqlx::query(
            "SELECT * FROM (
                 SELECT id, step, attempt, level, message, at FROM engine.logs
                 WHERE job_id = $1 ORDER BY id DESC LIMIT $2
             ) AS tail ORDER BY id",
        )
        .bind(job_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(log_line_from_row).collect()
    }

    async fn actions(&self, job_id: Uuid) -> Result<Vec<JobAction>> {
        let rows = sqlx::query(
            "SELECT action, actor, role, at FROM engine.job_actions WHERE job_id = $1 ORDER BY id",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(JobAction {
                    action: row.try_get(0)?,
                    actor: row.try_get(1)?,
                    role: row.try_get(2)?,
                    at: row.try_get(3)?,
                })
            })
            .collect()
    }

    async fn count_jobs(&self, filter: &JobFilter) -> Result<i64> {
        let (sql, values) = count_query(("engine", "jobs"), filter, PostgresQueryBuilder);
        Ok(sqlx::query_scalar_with(AssertSqlSafe(sql), values)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn delete_workflow_jobs(&self, workflow: &str) -> Result<u64> {
        let sql = DELETE_JOBS_WHERE.replace("{condition}", "workflow = $1");
        let deleted: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(workflow)
            .fetch_one(&self.pool)
            .await?;
        Ok(deleted as u64)
    }

    fn checkpoint_batches(&self) -> Option<CheckpointBatches> {
        Some(self.batcher().stats.read())
    }

    async fn commit_ceiling(&self, clients: usize, duration: Duration) -> Result<f64> {
        sqlx::query("DROP TABLE IF EXISTS engine.bench_commit_ceiling")
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "CREATE TABLE engine.bench_commit_ceiling (id INT PRIMARY KEY, n BIGINT NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        for client in 0..clients.max(1) {
            sqlx::query("INSERT INTO engine.bench_commit_ceiling (id, n) VALUES ($1, 0)")
                .bind(client as i32)
                .execute(&self.pool)
                .await?;
        }
        let pool = self.pool.clone();
        let rate = super::measure_commits(clients, duration, move |client| {
            let pool = pool.clone();
            async move {
                sqlx::query("UPDATE engine.bench_commit_ceiling SET n = n + 1 WHERE id = $1")
                    .bind(client)
                    .execute(&pool)
                    .await?;
                Ok(())
            }
        })
        .await;
        sqlx::query("DROP TABLE IF EXISTS engine.bench_commit_ceiling")
            .execute(&self.pool)
            .await?;
        rate
    }

    async fn memo_get(&self, job_id: Uuid, step: &str, key: &str) -> Result<Option<Value>> {
        Ok(sqlx::query_scalar(
            "SELECT value FROM engine.step_memos WHERE job_id = $1 AND step_name = $2 AND key = $3",
        )
        .bind(job_id)
        .bind(step)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn list_artifacts(&self, job_id: Uuid) -> Result<Vec<ArtifactMeta>> {
        let rows: Vec<(String, String, i32, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT path, step_name, length(content), sha256, created_at
             FROM engine.artifacts WHERE job_id = $1 ORDER BY path",
        )
        .bind(job_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(path, step, size, sha256, created_at)| ArtifactMeta {
                path,
                step,
                size: size as u64,
                sha256,
                created_at,
            })
            .collect())
    }

    async fn get_artifact(&self, job_id: Uuid, path: &str) -> Result<Option<Artifact>> {
        let row: Option<(String, Vec<u8>, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT step_name, content, sha256, created_at
             FROM engine.artifacts WHERE job_id = $1 AND path = $2",
        )
        .bind(job_id)
        .bind(path)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(step, content, sha256, created_at)| Artifact {
            meta: ArtifactMeta {
                path: path.to_owned(),
                step,
                size: content.len() as u64,
                sha256,
                created_at,
            },
            content,
        }))
    }

    async fn queue_depth(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM engine.queue")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn oldest_due_age_seconds(&self) -> Result<f64> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(EXTRACT(EPOCH FROM now() - min(due_at)), 0)::float8
             FROM engine.queue WHERE due_at <= now()",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}

#[async_trait]
impl Protocol for PgStore {
    fn work_notifier(&self) -> Arc<Notify> {
        self.notifier.clone()
    }

    fn cancel_signals(&self) -> broadcast::Receiver<Uuid> {
        self.cancels.subscribe()
    }

    fn start_listening(&self) {
        if self.listening.swap(true, Ordering::SeqCst) {
            return;
        }
        tokio::spawn(listen_loop(
            self.pool.clone(),
            self.notifier.clone(),
            self.cancels.clone(),
        ));
    }

    async fn submit(&self, job: NewJob) -> Result<Submitted> {
        let (names, nonces, ciphertexts) = sealed_columns(&job.secrets);
        // One statement, so one round trip: the job becomes visible (and its
        // NOTIFY goes out) at the commit of this statement's own transaction.
        let inserted: Option<Uuid> = sqlx::query_scalar(SUBMIT)
            .bind(job.id)
            .bind(&job.workflow)
            .bind(&job.workflow_version)
            .bind(Json(&job.steps))
            .bind(&job.input)
            .bind(&job.first_step)
            .bind(&job.idempotency_key)
            .bind(&job.trace_context)
            .bind(&job.created_by)
            .bind(names)
            .bind(nonces)
            .bind(ciphertexts)
            .bind(CHANNEL)
            .fetch_optional(&self.pool)
            .await?;
        let (id, created) = match inserted {
            Some(id) => (id, true),
            None => {
                let id: Uuid =
                    sqlx::query_scalar("SELECT id FROM engine.jobs WHERE idempotency_key = $1")
                        .bind(&job.idempotency_key)
                        .fetch_one(&self.pool)
                        .await?;
                (id, false)
            }
        };
        if created {
            self.notifier.notify_one();
        }
        let job = self
            .get_job(id)
            .await?
            .ok_or(EngineError::JobNotFound(id))?;
        Ok(Submitted { job, created })
    }

    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<ClaimedJob>> {
        let rows = sqlx::query(CLAIM)
            .bind(owner)
            .bind(limit as i64)
            .bind(lease.as_secs_f64())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| claimed_from_row(row, owner, lease))
            .collect()
    }

    async fn hand_back_unstarted(&self, owner: &str, leases: &[Lease]) -> Result<u64> {
        if leases.is_empty() {
            return Ok(0);
        }
        let handed_back: i64 = sqlx::query_scalar(HAND_BACK_UNSTARTED)
            .bind(leases.iter().map(|l| l.job_id).collect::<Vec<_>>())
            .bind(leases.iter().map(|l| l.epoch).collect::<Vec<_>>())
            .bind(owner)
            .fetch_one(&self.pool)
            .await?;
        Ok(handed_back as u64)
    }

    async fn heartbeat(
        &self,
        lease: &Lease,
        duration: Duration,
        logs: &[LogLine],
    ) -> Result<Heartbeat> {
        let cancel_requested: Option<bool> = sqlx::query_scalar(
            "WITH lease AS (
                 UPDATE engine.queue SET due_at = now() + make_interval(secs => $4)
                 WHERE job_id = $1 AND lease_owner = $2 AND lease_epoch = $3
                 RETURNING job_id, cancel_requested
             ),
             log_rows AS (
                 INSERT INTO engine.logs (job_id, step, attempt, level, message, at)
                 SELECT lease.job_id, l.step, l.attempt, l.level, l.message, l.at
                 FROM lease, jsonb_to_recordset($5::jsonb)
                     AS l(step TEXT, attempt INT, level TEXT, message TEXT, at TIMESTAMPTZ)
             )
             SELECT cancel_requested FROM lease",
        )
        .bind(lease.job_id)
        .bind(&lease.owner)
        .bind(lease.epoch)
        .bind(duration.as_secs_f64())
        .bind(Json(logs))
        .fetch_optional(&self.pool)
        .await?;
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
            None => finish_attempt_now(&self.pool, lease, attempt, transition, logs).await,
        }
    }

    async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(sqlx::query_scalar("SELECT min(due_at) FROM engine.queue")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn record_action(&self, job_id: Uuid, action: &JobAction) -> Result<()> {
        let line = action_log_line(action);
        sqlx::query(
            "WITH act AS (
                 INSERT INTO engine.job_actions (job_id, action, actor, role, at)
                 VALUES ($1, $2, $3, $4, $5)
             )
             INSERT INTO engine.logs (job_id, step, attempt, level, message, at)
             VALUES ($1, NULL, NULL, $6, $7, $5)",
        )
        .bind(job_id)
        .bind(&action.action)
        .bind(&action.actor)
        .bind(&action.role)
        .bind(action.at)
        .bind(line.level.as_str())
        .bind(&line.message)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn append_logs(&self, job_id: Uuid, logs: &[LogLine]) -> Result<()> {
        sqlx::query(
            "INSERT INTO engine.logs (job_id, step, attempt, level, message, at)
             SELECT $1, l.step, l.attempt, l.level, l.message, l.at
             FROM jsonb_to_recordset($2::jsonb)
                 AS l(step TEXT, attempt INT, level TEXT, message TEXT, at TIMESTAMPTZ)",
        )
        .bind(job_id)
        .bind(Json(logs))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn cancel(&self, job_id: Uuid) -> Result<CancelOutcome> {
        let mut tx = self.pool.begin().await?;
        let waiting: Option<i64> = sqlx::query_scalar(
            "DELETE FROM engine.queue WHERE job_id = $1 AND lease_owner IS NULL RETURNING lease_epoch",
        )
        .bind(job_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(epoch) = waiting {
            sqlx::query(
                "UPDATE engine.jobs SET status = 'cancelled', lease_epoch = $2, error = 'cancelled by request',
                     updated_at = now(), finished_at = now()
                 WHERE id = $1",
            )
            .bind(job_id)
            .bind(epoch)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(CancelOutcome::Cancelled);
        }
        let parked = sqlx::query(
            "UPDATE engine.jobs SET status = 'cancelled', error = 'cancelled by request',
                 updated_at = now(), finished_at = now()
             WHERE id = $1 AND status = 'waiting'",
        )
        .bind(job_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if parked == 1 {
            tx.commit().await?;
            return Ok(CancelOutcome::Cancelled);
        }
        let flagged =
            sqlx::query("UPDATE engine.queue SET cancel_requested = true WHERE job_id = $1")
                .bind(job_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if flagged == 1 {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(format!("{CANCEL_PREFIX}{job_id}"))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(CancelOutcome::Requested);
        }
        tx.rollback().await?;
        Err(self.not_in_queue(job_id, "cancel").await)
    }

    async fn requeue(&self, job_id: Uuid, plan: &RequeuePlan) -> Result<()> {
        let allowed: Vec<&str> = plan.allowed.iter().map(|s| s.as_str()).collect();
        let mut tx = self.pool.begin().await?;
        let epoch: Option<i64> = sqlx::query_scalar(
            "UPDATE engine.jobs SET status = 'queued', steps = $3, workflow_version = $4,
                 current_step = $5, state = $6, error = NULL, error_code = NULL, failed_step = NULL,
                 finished_at = NULL, updated_at = now()
             WHERE id = $1 AND status = ANY($2)
             RETURNING lease_epoch",
        )
        .bind(job_id)
        .bind(&allowed)
        .bind(Json(&plan.steps))
        .bind(&plan.workflow_version)
        .bind(&plan.step_name)
        .bind(&plan.state)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(epoch) = epoch else {
            tx.rollback().await?;
            return Err(self.not_in_queue(job_id, "retry").await);
        };
        sqlx::query("DELETE FROM engine.step_memos WHERE job_id = $1 AND step_name = ANY($2)")
            .bind(job_id)
            .bind(&plan.discard)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM engine.checkpoints WHERE job_id = $1 AND step_name = ANY($2)")
            .bind(job_id)
            .bind(&plan.discard)
            .execute(&mut *tx)
            .await?;
        if let Some((key, value)) = &plan.memo {
            sqlx::query(
                "INSERT INTO engine.step_memos (job_id, step_name, key, value) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (job_id, step_name, key) DO UPDATE SET value = excluded.value",
            )
            .bind(job_id)
            .bind(&plan.step_name)
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO engine.queue (job_id, due_at, step_index, lease_epoch) VALUES ($1, now(), $2, $3)",
        )
        .bind(job_id)
        .bind(plan.step_index as i32)
        .bind(epoch)
        .execute(&mut *tx)
        .await?;
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.notifier.notify_one();
        Ok(())
    }

    async fn purge_finished(&self, before: DateTime<Utc>) -> Result<u64> {
        let sql = DELETE_JOBS_WHERE.replace(
            "{condition}",
            "finished_at < $1 AND status IN ('succeeded', 'failed', 'cancelled')",
        );
        let deleted: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(before)
            .fetch_one(&self.pool)
            .await?;
        Ok(deleted as u64)
    }

    async fn sealed_secret(&self, job_id: Uuid, name: &str) -> Result<Option<SealedSecret>> {
        let row: Option<(Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT nonce, ciphertext FROM engine.job_secrets WHERE job_id = $1 AND name = $2",
        )
        .bind(job_id)
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
        let written = sqlx::query(
            "INSERT INTO engine.step_memos (job_id, step_name, key, value)
             SELECT $1, $4, $5, $6 FROM engine.queue
             WHERE job_id = $1 AND lease_owner = $2 AND lease_epoch = $3
             ON CONFLICT (job_id, step_name, key) DO UPDATE SET value = excluded.value",
        )
        .bind(lease.job_id)
        .bind(&lease.owner)
        .bind(lease.epoch)
        .bind(step)
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if written == 0 {
            return Err(EngineError::LeaseLost {
                job_id: lease.job_id,
            });
        }
        Ok(())
    }

    async fn put_artifact(
        &self,
        lease: &Lease,
        step: &str,
        path: &str,
        content: &[u8],
    ) -> Result<()> {
        let written = sqlx::query(
            "INSERT INTO engine.artifacts (job_id, path, step_name, content, sha256)
             SELECT $1, $4, $5, $6, $7 FROM engine.queue
             WHERE job_id = $1 AND lease_owner = $2 AND lease_epoch = $3
             ON CONFLICT (job_id, path) DO UPDATE SET step_name = excluded.step_name,
                 content = excluded.content, sha256 = excluded.sha256, created_at = now()",
        )
        .bind(lease.job_id)
        .bind(&lease.owner)
        .bind(lease.epoch)
        .bind(path)
        .bind(step)
        .bind(content)
        .bind(sha256_hex(content))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if written == 0 {
            return Err(EngineError::LeaseLost {
                job_id: lease.job_id,
            });
        }
        Ok(())
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO engine.access_tokens (name, role, digest, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&token.name)
        .bind(&token.role)
        .bind(&token.digest)
        .bind(token.created_at)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn token_by_digest(&self, digest: &str) -> Result<Option<TokenRecord>> {
        let row = sqlx::query(
            "SELECT name, role, digest, created_at, expires_at, revoked_at
             FROM engine.access_tokens WHERE digest = $1",
        )
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query(
            "SELECT name, role, digest, created_at, expires_at, revoked_at
             FROM engine.access_tokens ORDER BY created_at, name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(&self, name: &str) -> Result<bool> {
        let revoked = sqlx::query(
            "UPDATE engine.access_tokens SET revoked_at = now()
             WHERE name = $1 AND revoked_at IS NULL",
        )
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(revoked.rows_affected() == 1)
    }
}

fn token_from_row(row: &PgRow) -> Result<TokenRecord> {
    Ok(TokenRecord {
        name: row.try_get("name")?,
        role: row.try_get("role")?,
        digest: row.try_get("digest")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl PgStore {
    /// The group-commit writer for checkpoints, started on first use.
    fn batcher(&self) -> &Batcher {
        self.batcher.get_or_init(|| {
            let writer = PgCheckpoints {
                pool: self.pool.clone(),
            };
            Batcher::spawn(Arc::new(writer), PG_LANES)
        })
    }

    /// The error for an operation on a job that is not (or no longer) in the queue.
    async fn not_in_queue(&self, job_id: Uuid, operation: &str) -> EngineError {
        match self.get_job(job_id).await {
            Ok(Some(job)) => conflict(&job, operation),
            Ok(None) => EngineError::JobNotFound(job_id),
            Err(e) => e,
        }
    }
}

/// Writes one attempt's end with its own statement (and commit).
async fn finish_attempt_now(
    pool: &PgPool,
    lease: &Lease,
    attempt: &AttemptRecord,
    transition: &Transition,
    logs: &[LogLine],
) -> Result<Heartbeat> {
    let sql: &'static str = match transition {
        Transition::Advance { .. } | Transition::Complete { .. } => {
            unreachable!("checkpoints are written by the batcher (batch.rs, pg_batch.rs)")
        }
        Transition::RetryAfter { .. } => &RETRY_AFTER,
        Transition::Release => &RELEASE,
        Transition::Stay => &STAY,
        Transition::End { .. } => &END,
    };
    let query = sqlx::query_scalar(sql)
        .bind(lease.job_id)
        .bind(&lease.owner)
        .bind(lease.epoch)
        .bind(attempt.step_index as i32)
        .bind(&attempt.step_name)
        .bind(attempt.attempt as i32)
        .bind(attempt.started_at)
        .bind(attempt.finished_at)
        .bind(attempt.outcome.as_str())
        .bind(&attempt.error)
        .bind(Json(logs))
        .bind(&attempt.error_code);
    let query = match transition {
        Transition::Advance { .. } | Transition::Complete { .. } => query,
        Transition::RetryAfter { delay } => query.bind(delay.as_secs_f64()),
        Transition::Release | Transition::Stay => query,
        Transition::End {
            status,
            error,
            state,
        } => query.bind(status.as_str()).bind(error).bind(state),
    };
    let cancel_requested: Option<bool> = query.fetch_optional(pool).await?;
    fenced(lease, cancel_requested)
}

pub(super) fn conflict(job: &JobRecord, operation: &str) -> EngineError {
    EngineError::Conflict(format!(
        "cannot {operation} job {}: it is {}",
        job.id, job.status
    ))
}

pub(super) fn fenced(lease: &Lease, cancel_requested: Option<bool>) -> Result<Heartbeat> {
    match cancel_requested {
        Some(cancel_requested) => Ok(Heartbeat { cancel_requested }),
        None => Err(EngineError::LeaseLost {
            job_id: lease.job_id,
        }),
    }
}

/// Payload prefix of a cancellation hint; any other payload means "work may be due".
const CANCEL_PREFIX: &str = "cancel:";

/// The sealed secrets as the three parallel arrays `SUBMIT` unnests.
fn sealed_columns(secrets: &[SealedSecret]) -> (Vec<&str>, Vec<Vec<u8>>, Vec<Vec<u8>>) {
    (
        secrets.iter().map(|s| s.name.as_str()).collect(),
        secrets.iter().map(|s| s.nonce.clone()).collect(),
        secrets.iter().map(|s| s.ciphertext.clone()).collect(),
    )
}

async fn listen_loop(pool: PgPool, notifier: Arc<Notify>, cancels: broadcast::Sender<Uuid>) {
    let mut delay = Duration::from_millis(100);
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    delay = Duration::from_millis(100);
                    // Anything sent while we were not listening was missed: look once.
                    notifier.notify_one();
                    while let Ok(Some(notification)) = listener.try_recv().await {
                        match notification.payload().strip_prefix(CANCEL_PREFIX) {
                            Some(id) => {
                                if let Ok(id) = Uuid::parse_str(id) {
                                    let _ = cancels.send(id);
                                }
                            }
                            None => notifier.notify_one(),
                        }
                    }
                    tracing::warn!("notification listener lost its connection; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "LISTEN failed; retrying"),
            },
            Err(e) => tracing::warn!(error = %e, "notification listener cannot connect; retrying"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

fn claimed_from_row(row: &PgRow, owner: &str, lease: Duration) -> Result<ClaimedJob> {
    let job_id: Uuid = row.try_get("job_id")?;
    let previous_owner: Option<String> = row.try_get("previous_owner")?;
    let rescued_from = match previous_owner {
        Some(previous_owner) => Some(Rescue {
            previous_owner,
            attempt: row.try_get::<i32, _>("previous_attempt")? as u32,
            started_at: row.try_get("previous_started_at")?,
        }),
        None => None,
    };
    Ok(ClaimedJob {
        lease: Lease {
            job_id,
            owner: owner.to_owned(),
            epoch: row.try_get("lease_epoch")?,
            duration: lease,
        },
        workflow: row.try_get("workflow")?,
        workflow_version: row.try_get("workflow_version")?,
        steps: row.try_get::<Json<Vec<String>>, _>("steps")?.0,
        input: row.try_get("input")?,
        step_index: row.try_get::<i32, _>("step_index")? as usize,
        attempt: row.try_get::<i32, _>("attempt")? as u32,
        failures: row.try_get::<i32, _>("failures")? as u32,
        recoveries: row.try_get::<i32, _>("recoveries")? as u32,
        cancel_requested: row.try_get("cancel_requested")?,
        rescued_from,
        trace_context: row.try_get("trace_context")?,
    })
}

pub(super) fn trace_id_of(traceparent: Option<String>) -> Option<String> {
    crate::trace_context::trace_id(traceparent.as_deref()?).map(str::to_owned)
}

fn job_from_row(row: &PgRow) -> Result<JobRecord> {
    let status: String = row.try_get("status")?;
    Ok(JobRecord {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        workflow: row.try_get("workflow")?,
        workflow_version: row.try_get("workflow_version")?,
        steps: row.try_get::<Json<Vec<String>>, _>("steps")?.0,
        input: row.try_get("input")?,
        status: status
            .parse()
            .map_err(|e: String| sqlx::Error::Decode(e.into()))?,
        state: row.try_get("state")?,
        current_step: row.try_get("current_step")?,
        idempotency_key: row.try_get("idempotency_key")?,
        error: row.try_get("error")?,
        error_code: row.try_get("error_code")?,
        failed_step: row.try_get("failed_step")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        trace_id: trace_id_of(row.try_get("trace_context")?),
        created_by: row.try_get("created_by")?,
    })
}

fn log_line_from_row(row: &PgRow) -> Result<StoredLogLine> {
    Ok(StoredLogLine {
        id: row.try_get(0)?,
        line: LogLine {
            step: row.try_get(1)?,
            attempt: row.try_get(2)?,
            level: LogLevel::parse(row.try_get(3)?),
            message: row.try_get(4)?,
            at: row.try_get(5)?,
        },
    })
}
