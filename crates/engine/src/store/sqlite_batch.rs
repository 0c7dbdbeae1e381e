//! SQLite's checkpoint: a batch of the group commit (`batch.rs`) in one `BEGIN
//! IMMEDIATE` transaction of a few set-based statements, whatever the batch's size.
//! The rows travel as one JSON array (`json_each`), so a statement's text and its
//! parameter count do not depend on the batch. Each row is fenced by its lease: the
//! queue's update or delete returns the jobs whose lease held, and only their attempt,
//! checkpoint, log lines and job row are written.

use std::collections::HashMap;

use async_trait::async_trait;
use serde::Serialize;
use sqlx::sqlite::SqlitePool;
use sqlx::types::Json;
use uuid::Uuid;

use super::batch::{Checkpoint, CheckpointWriter};
use crate::error::Result;

/// Writes checkpoints on SQLite.
pub(super) struct SqliteCheckpoints {
    pub pool: SqlitePool,
}

/// One checkpoint as the statements read it from `json_each(?1)`.
#[derive(Serialize)]
struct Row<'a> {
    job_id: String,
    owner: &'a str,
    epoch: i64,
    step_index: i64,
    step_name: &'a str,
    attempt: i64,
    outcome: &'static str,
    started_at: i64,
    finished_at: i64,
    /// The output as JSON text: `json_extract` gives it back as that text.
    output: String,
    state: &'a str,
    /// `None` when the step was the job's last: the job succeeds.
    next_index: Option<i64>,
    next_step: Option<&'a str>,
}

#[derive(Serialize)]
struct LogRow<'a> {
    job_id: String,
    step: Option<&'a str>,
    attempt: Option<i32>,
    level: &'static str,
    message: &'a str,
    at: i64,
}

/// The row's fields as columns of `i`.
const INPUT: &str = "(SELECT json_extract(value, '$.job_id') AS job_id,
        json_extract(value, '$.owner') AS owner, json_extract(value, '$.epoch') AS epoch,
        json_extract(value, '$.step_index') AS step_index,
        json_extract(value, '$.step_name') AS step_name,
        json_extract(value, '$.attempt') AS attempt, json_extract(value, '$.outcome') AS outcome,
        json_extract(value, '$.started_at') AS started_at,
        json_extract(value, '$.finished_at') AS finished_at,
        json_extract(value, '$.output') AS output, json_extract(value, '$.state') AS state,
        json_extract(value, '$.next_index') AS next_index,
        json_extract(value, '$.next_step') AS next_step
    FROM json_each(?1))";

/// Rows with a next step: the queue row moves on, fenced by the lease.
fn advance() -> String {
    format!(
        "UPDATE queue SET step_index = i.next_index, attempt = 1, failures = 0, recoveries = 0,
             attempt_started_at = ?2
         FROM {INPUT} AS i
         WHERE i.next_index IS NOT NULL
           AND queue.job_id = i.job_id AND queue.lease_owner = i.owner AND queue.lease_epoch = i.epoch
         RETURNING job_id, cancel_requested"
    )
}

/// Rows of a last step: the queue row goes, fenced by the lease.
fn complete() -> String {
    format!(
        "DELETE FROM queue WHERE (job_id, lease_owner, lease_epoch) IN
             (SELECT job_id, owner, epoch FROM {INPUT} WHERE next_index IS NULL)
         RETURNING job_id, cancel_requested"
    )
}

fn insert_attempts() -> String {
    format!(
        "INSERT INTO attempts
             (job_id, step_index, step_name, attempt, worker, epoch, started_at, finished_at, outcome)
         SELECT job_id, step_index, step_name, attempt, owner, epoch, started_at, finished_at, outcome
         FROM {INPUT}"
    )
}

fn insert_checkpoints() -> String {
    format!(
        "INSERT INTO checkpoints (job_id, step_name, step_index, output, worker, epoch, created_at)
         SELECT job_id, step_name, step_index, output, owner, epoch, ?2 FROM {INPUT}"
    )
}

const INSERT_LOGS: &str = "INSERT INTO logs (job_id, step, attempt, level, message, at)
    SELECT json_extract(value, '$.job_id'), json_extract(value, '$.step'),
        json_extract(value, '$.attempt'), json_extract(value, '$.level'),
        json_extract(value, '$.message'), json_extract(value, '$.at')
    FROM json_each(?1)";

/// The job rows: the next step's name, or succeeded when it was the last.
fn update_jobs() -> String {
    format!(
        "UPDATE jobs SET state = i.state, current_step = i.next_step, updated_at = ?2,
             status = CASE WHEN i.next_index IS NULL THEN 'succeeded' ELSE jobs.status END,
             error = CASE WHEN i.next_index IS NULL THEN NULL ELSE jobs.error END,
             error_code = CASE WHEN i.next_index IS NULL THEN NULL ELSE jobs.error_code END,
             failed_step = CASE WHEN i.next_index IS NULL THEN NULL ELSE jobs.failed_step END,
             lease_epoch = CASE WHEN i.next_index IS NULL THEN i.epoch ELSE jobs.lease_epoch END,
             finished_at = CASE WHEN i.next_index IS NULL THEN ?2 ELSE jobs.finished_at END
         FROM {INPUT} AS i WHERE jobs.id = i.job_id"
    )
}

#[async_trait]
impl CheckpointWriter for SqliteCheckpoints {
    async fn write_batch(&self, batch: &[&Checkpoint]) -> Result<HashMap<Uuid, bool>> {
        let now = super::sqlite::now_ms();
        let rows = Json(batch.iter().map(|c| row(c)).collect::<Vec<_>>());
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut held: HashMap<Uuid, bool> = HashMap::with_capacity(batch.len());
        for fence in [advance(), complete()] {
            let answers: Vec<(String, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(fence))
                .bind(&rows)
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
            for (job_id, cancel_requested) in answers {
                held.insert(super::sqlite::parse_uuid(&job_id)?, cancel_requested);
            }
        }
        let fenced: Vec<&Checkpoint> = batch
            .iter()
            .copied()
            .filter(|c| held.contains_key(&c.lease.job_id))
            .collect();
        if !fenced.is_empty() {
            let rows = Json(fenced.iter().map(|c| row(c)).collect::<Vec<_>>());
            for statement in [insert_attempts(), insert_checkpoints(), update_jobs()] {
                sqlx::query(sqlx::AssertSqlSafe(statement))
                    .bind(&rows)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            let logs: Vec<LogRow> = fenced.iter().flat_map(|c| log_rows(c)).collect();
            if !logs.is_empty() {
                sqlx::query(INSERT_LOGS)
                    .bind(Json(&logs))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(held)
    }
}

fn row(checkpoint: &Checkpoint) -> Row<'_> {
    let attempt = &checkpoint.attempt;
    Row {
        job_id: checkpoint.lease.job_id.to_string(),
        owner: &checkpoint.lease.owner,
        epoch: checkpoint.lease.epoch,
        step_index: attempt.step_index as i64,
        step_name: &attempt.step_name,
        attempt: i64::from(attempt.attempt),
        outcome: attempt.outcome.as_str(),
        started_at: super::sqlite::ms(attempt.started_at),
        finished_at: super::sqlite::ms(attempt.finished_at),
        output: checkpoint.output.to_string(),
        state: &checkpoint.state,
        next_index: checkpoint.next.as_ref().map(|(index, _)| *index as i64),
        next_step: checkpoint.next.as_ref().map(|(_, name)| name.as_str()),
    }
}

fn log_rows(checkpoint: &Checkpoint) -> impl Iterator<Item = LogRow<'_>> {
    checkpoint.logs.iter().map(|line| LogRow {
        job_id: checkpoint.lease.job_id.to_string(),
        step: line.step.as_deref(),
        attempt: line.attempt,
        level: line.level.as_str(),
        message: &line.message,
        at: super::sqlite::ms(line.at),
    })
}
