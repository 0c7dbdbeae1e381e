//! Group commit for the hot path: checkpoints of steps that completed at about the same
//! time in different jobs are written by one statement, one commit, whether the job
//! moves on to its next step or completes with it. Each row is still fenced by its own
//! lease (a job whose lease is gone gets `LeaseLost`, the others commit), so batching
//! changes the cost of a checkpoint, not its meaning.
//!
//! [`CHECKPOINT_BATCH`] is the PostgreSQL store's only definition of a checkpoint: a
//! lone request is a batch of one. Requests queue on a channel; a few lanes each take
//! whatever is waiting (up to `MAX_BATCH`) and write it, so batches form by themselves
//! while the previous commit is in flight and a lone checkpoint is written at once. If
//! a batch fails as a whole (say one row breaks a constraint), its rows are written one
//! by one so the error reaches only the job that caused it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::postgres::PgPool;
use sqlx::types::Json;
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::types::{AttemptRecord, Heartbeat, Lease};
use crate::error::{EngineError, Result};
use crate::logs::LogLine;

const MAX_BATCH: usize = 64;
const LANES: usize = 2;

/// One completed step to checkpoint, with where the job goes next.
pub(super) struct Checkpoint {
    pub lease: Lease,
    pub attempt: AttemptRecord,
    pub output: Value,
    pub state: String,
    /// The next step's index and name; `None` when this was the last: the job succeeds.
    pub next: Option<(usize, String)>,
    pub logs: Vec<LogLine>,
}

struct Request {
    checkpoint: Checkpoint,
    reply: oneshot::Sender<Result<Heartbeat>>,
}

/// How many statements the batcher ran and how many checkpoints they wrote.
#[derive(Debug, Default)]
pub(super) struct BatchStats {
    statements: AtomicU64,
    checkpoints: AtomicU64,
}

impl BatchStats {
    /// (statements, checkpoints) so far.
    pub fn read(&self) -> (u64, u64) {
        (
            self.statements.load(Ordering::Relaxed),
            self.checkpoints.load(Ordering::Relaxed),
        )
    }
}

pub(super) struct Batcher {
    requests: mpsc::Sender<Request>,
    pub stats: Arc<BatchStats>,
}

impl Batcher {
    pub fn spawn(pool: PgPool) -> Self {
        let (requests, receiver) = mpsc::channel::<Request>(1024);
        let receiver = Arc::new(Mutex::new(receiver));
        let stats = Arc::new(BatchStats::default());
        for _ in 0..LANES {
            tokio::spawn(lane(pool.clone(), receiver.clone(), stats.clone()));
        }
        Self { requests, stats }
    }

    pub async fn write(&self, checkpoint: Checkpoint) -> Result<Heartbeat> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { checkpoint, reply })
            .await
            .map_err(|_| EngineError::Database(sqlx::Error::PoolClosed))?;
        answer
            .await
            .map_err(|_| EngineError::Database(sqlx::Error::PoolClosed))?
    }
}

async fn lane(pool: PgPool, receiver: Arc<Mutex<mpsc::Receiver<Request>>>, stats: Arc<BatchStats>) {
    loop {
        let batch = {
            let mut receiver = receiver.lock().await;
            let Some(first) = receiver.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            batch
        };
        let checkpoints: Vec<&Checkpoint> = batch.iter().map(|r| &r.checkpoint).collect();
        let written = write_batch(&pool, &checkpoints, &stats).await;
        match written {
            Ok(answers) => {
                for request in batch {
                    let answer = fenced_answer(&answers, &request.checkpoint.lease);
                    let _ = request.reply.send(answer);
                }
            }
            Err(e) if batch.len() == 1 => {
                let request = batch.into_iter().next().expect("one request");
                let _ = request.reply.send(Err(e));
            }
            Err(e) => {
                tracing::debug!(error = %e, rows = batch.len(), "batched checkpoint failed; writing rows one by one");
                for request in batch {
                    let answer = write_batch(&pool, &[&request.checkpoint], &stats)
                        .await
                        .and_then(|answers| fenced_answer(&answers, &request.checkpoint.lease));
                    let _ = request.reply.send(answer);
                }
            }
        }
    }
}

/// The job's answer from a batch: its `cancel_requested`, or `LeaseLost` when its
/// fenced write matched no row.
fn fenced_answer(answers: &HashMap<Uuid, bool>, lease: &Lease) -> Result<Heartbeat> {
    match answers.get(&lease.job_id) {
        Some(&cancel_requested) => Ok(Heartbeat { cancel_requested }),
        None => Err(EngineError::LeaseLost {
            job_id: lease.job_id,
        }),
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

async fn write_batch(
    pool: &PgPool,
    batch: &[&Checkpoint],
    stats: &BatchStats,
) -> Result<HashMap<Uuid, bool>> {
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
    stats.statements.fetch_add(1, Ordering::Relaxed);
    stats
        .checkpoints
        .fetch_add(batch.len() as u64, Ordering::Relaxed);
    Ok(answers.into_iter().collect())
}
