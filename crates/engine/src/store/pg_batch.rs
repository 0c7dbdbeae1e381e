//! PostgreSQL's checkpoint: [`CHECKPOINT_BATCH`] is the store's only definition of
//! one, a single statement for a whole batch of the group commit (`batch.rs`), each
//! row fenced by its lease.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgPool;
use sqlx::types::Json;
use uuid::Uuid;

use super::batch::{Checkpoint, CheckpointWriter};
use crate::error::Result;
use crate::logs::LogLine;

/// Writes checkpoints on PostgreSQL.
pub(super) struct PgCheckpoints {
    pub pool: PgPool,
}

#[async_trait]
impl CheckpointWriter for PgCheckpoints {
    async fn write_batch(&self, batch: &[&Checkpoint]) -> Result<HashMap<Uuid, bool>> {
        write_batch(&self.pool, batch).await
    }
}

#[derive(Serialize)]
struct BatchLogLine<'a> {
    job_id: Uuid,
    #[serde(flatten)]
    line: &'a LogLine,
}

/// Advances (`next_index` set: the queue row moves on) and completions (`next_index`
/// NULL: the queue row goes, the job succeeds), each row fenced by its lease.
const CHECKPOINT_BATCH: &str = "
    WITH input AS (
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::int[],
                             $7::int[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[],
                             $11::text[], $12::text[])
            AS t(job_id, owner, epoch, step_index, step_name, attempt, next_index,
                 started_at, finished_at, output, state, next_step)
    ),
    advanced AS (
        UPDATE engine.queue q SET step_index = i.next_index, attempt = 1, failures = 0,
            recoveries = 0, attempt_started_at = now()
        FROM input i
        WHERE i.next_index IS NOT NULL
          AND q.job_id = i.job_id AND q.lease_owner = i.owner AND q.lease_epoch = i.epoch
        RETURNING q.job_id, q.cancel_requested
    ),
    completed AS (
        DELETE FROM engine.queue q USING input i
        WHERE i.next_index IS NULL
          AND q.job_id = i.job_id AND q.lease_owner = i.owner AND q.lease_epoch = i.epoch
        RETURNING q.job_id, q.cancel_requested
    ),
    lease AS (SELECT * FROM advanced UNION ALL SELECT * FROM completed),
    fenced AS (SELECT i.*, i.next_index IS NULL AS last FROM input i JOIN lease USING (job_id)),
    attempt_row AS (
        INSERT INTO engine.attempts
            (job_id, step_index, step_name, attempt, worker, epoch, started_at, finished_at, outcome)
        SELECT job_id, step_index, step_name, attempt, owner, epoch, started_at, finished_at, 'succeeded'
        FROM fenced
    ),
    checkpoint AS (
        INSERT INTO engine.checkpoints (job_id, step_name, step_index, output, worker, epoch)
        SELECT job_id, step_name, step_index, output, owner, epoch FROM fenced
    ),
    job AS (
        UPDATE engine.jobs j SET state = f.state, current_step = f.next_step, updated_at = now(),
            status = CASE WHEN f.last THEN 'succeeded' ELSE j.status END,
            error = CASE WHEN f.last THEN NULL ELSE j.error END,
            failed_step = CASE WHEN f.last THEN NULL ELSE j.failed_step END,
            error_code = CASE WHEN f.last THEN NULL ELSE j.error_code END,
            lease_epoch = CASE WHEN f.last THEN f.epoch ELSE j.lease_epoch END,
            finished_at = CASE WHEN f.last THEN now() ELSE j.finished_at END
        FROM fenced f WHERE j.id = f.job_id
    ),
    log_rows AS (
        INSERT INTO engine.logs (job_id, step, attempt, level, message, at)
        SELECT l.job_id, l.step, l.attempt, l.level, l.message, l.at
        FROM jsonb_to_recordset($13::jsonb)
            AS l(job_id UUID, step TEXT, attempt INT, level TEXT, message TEXT, at TIMESTAMPTZ)
        JOIN lease USING (job_id)
    )
    SELECT job_id, cancel_requested FROM lease";

async fn write_batch(pool: &PgPool, batch: &[&Checkpoint]) -> Result<HashMap<Uuid, bool>> {
    let rows = batch.iter().copied();
    let column = |f: fn(&Checkpoint) -> i32| rows.clone().map(f).collect::<Vec<i32>>();
    let started: Vec<DateTime<Utc>> = rows.clone().map(|c| c.attempt.started_at).collect();
    let finished: Vec<DateTime<Utc>> = rows.clone().map(|c| c.attempt.finished_at).collect();
    let logs: Vec<BatchLogLine> = rows
        .clone()
        .flat_map(|c| {
            c.logs.iter().map(|line| BatchLogLine {
                job_id: c.lease.job_id,
                line,
            })
        })
        .collect();
    let answers: Vec<(Uuid, bool)> = sqlx::query_as(CHECKPOINT_BATCH)
        .bind(rows.clone().map(|c| c.lease.job_id).collect::<Vec<_>>())
        .bind(
            rows.clone()
                .map(|c| c.lease.owner.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.clone().map(|c| c.lease.epoch).collect::<Vec<_>>())
        .bind(column(|c| c.attempt.step_index as i32))
        .bind(
            rows.clone()
                .map(|c| c.attempt.step_name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(column(|c| c.attempt.attempt as i32))
        .bind(
            rows.clone()
                .map(|c| c.next.as_ref().map(|(index, _)| *index as i32))
                .collect::<Vec<_>>(),
        )
        .bind(started)
        .bind(finished)
        .bind(rows.clone().map(|c| c.output.clone()).collect::<Vec<_>>())
        .bind(rows.clone().map(|c| c.state.as_str()).collect::<Vec<_>>())
        .bind(
            rows.clone()
                .map(|c| c.next.as_ref().map(|(_, name)| name.as_str()))
                .collect::<Vec<_>>(),
        )
        .bind(Json(logs))
        .fetch_all(pool)
        .await?;
    Ok(answers.into_iter().collect())
}
