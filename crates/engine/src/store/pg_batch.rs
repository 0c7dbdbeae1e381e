//! Group commit for the hot path: checkpoints of steps that completed at about the same
//! time in different jobs are written by one statement, one commit. Each row is still
//! fenced by its own lease (a job whose lease is gone gets `LeaseLost`, the others
//! commit), so batching changes the cost of a checkpoint, not its meaning.
//!
//! Requests queue on a channel; a few lanes each take whatever is waiting (up to
//! `MAX_BATCH`) and write it, so batches form by themselves while the previous commit
//! is in flight and a lone checkpoint is written at once. If a batch fails as a whole
//! (say one row breaks a constraint), its rows are written one by one so the error
//! reaches only the job that caused it.

use std::collections::HashMap;
use std::sync::Arc;

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
pub(super) struct Advance {
    pub lease: Lease,
    pub attempt: AttemptRecord,
    pub output: Value,
    pub state: String,
    pub next_index: usize,
    pub next_step: String,
    pub logs: Vec<LogLine>,
}

struct Request {
    advance: Advance,
    reply: oneshot::Sender<Result<Heartbeat>>,
}

/// Writes one advance by itself (the unbatched statement); used for lone requests
/// and to isolate a failed batch's rows.
pub(super) type WriteOne =
    Arc<dyn Fn(Advance) -> futures::future::BoxFuture<'static, Result<Heartbeat>> + Send + Sync>;

pub(super) struct Batcher {
    requests: mpsc::Sender<Request>,
}

impl Batcher {
    pub fn spawn(pool: PgPool, write_one: WriteOne) -> Self {
        let (requests, receiver) = mpsc::channel::<Request>(1024);
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..LANES {
            tokio::spawn(lane(pool.clone(), receiver.clone(), write_one.clone()));
        }
        Self { requests }
    }

    pub async fn advance(&self, advance: Advance) -> Result<Heartbeat> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request { advance, reply })
            .await
            .map_err(|_| EngineError::Database(sqlx::Error::PoolClosed))?;
        answer
            .await
            .map_err(|_| EngineError::Database(sqlx::Error::PoolClosed))?
    }
}

async fn lane(pool: PgPool, receiver: Arc<Mutex<mpsc::Receiver<Request>>>, write_one: WriteOne) {
    loop {
        let mut batch = {
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
        if batch.len() == 1 {
            let request = batch.pop().expect("one request");
            let _ = request.reply.send(write_one(request.advance).await);
            continue;
        }
        match write_batch(&pool, &batch).await {
            Ok(answers) => {
                for request in batch {
                    let job_id = request.advance.lease.job_id;
                    let answer = match answers.get(&job_id) {
                        Some(&cancel_requested) => Ok(Heartbeat { cancel_requested }),
                        None => Err(EngineError::LeaseLost { job_id }),
                    };
                    let _ = request.reply.send(answer);
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, rows = batch.len(), "batched checkpoint failed; writing rows one by one");
                for request in batch {
                    let _ = request.reply.send(write_one(request.advance).await);
                }
            }
        }
    }
}

#[derive(Serialize)]
struct BatchLogLine<'a> {
    job_id: Uuid,
    #[serde(flatten)]
    line: &'a LogLine,
}

const ADVANCE_BATCH: &str = "
    WITH input AS (
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::int[],
                             $7::int[], $8::timestamptz[], $9::timestamptz[], $10::jsonb[],
                             $11::text[], $12::text[])
            AS t(job_id, owner, epoch, step_index, step_name, attempt, next_index,
                 started_at, finished_at, output, state, next_step)
    ),
    lease AS (
        UPDATE engine.queue q SET step_index = i.next_index, attempt = 1, failures = 0,
            recoveries = 0, attempt_started_at = now()
        FROM input i
        WHERE q.job_id = i.job_id AND q.lease_owner = i.owner AND q.lease_epoch = i.epoch
        RETURNING q.job_id, q.cancel_requested
    ),
    fenced AS (SELECT i.* FROM input i JOIN lease USING (job_id)),
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
        UPDATE engine.jobs j SET state = f.state, current_step = f.next_step, updated_at = now()
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

async fn write_batch(pool: &PgPool, batch: &[Request]) -> Result<HashMap<Uuid, bool>> {
    let rows = batch.iter().map(|r| &r.advance);
    let column = |f: fn(&Advance) -> i32| rows.clone().map(f).collect::<Vec<i32>>();
    let started: Vec<DateTime<Utc>> = rows.clone().map(|a| a.attempt.started_at).collect();
    let finished: Vec<DateTime<Utc>> = rows.clone().map(|a| a.attempt.finished_at).collect();
    let logs: Vec<BatchLogLine> = rows
        .clone()
        .flat_map(|a| {
            a.logs.iter().map(|line| BatchLogLine {
                job_id: a.lease.job_id,
                line,
            })
        })
        .collect();
    let answers: Vec<(Uuid, bool)> = sqlx::query_as(ADVANCE_BATCH)
        .bind(rows.clone().map(|a| a.lease.job_id).collect::<Vec<_>>())
        .bind(
            rows.clone()
                .map(|a| a.lease.owner.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(rows.clone().map(|a| a.lease.epoch).collect::<Vec<_>>())
        .bind(column(|a| a.attempt.step_index as i32))
        .bind(
            rows.clone()
                .map(|a| a.attempt.step_name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(column(|a| a.attempt.attempt as i32))
        .bind(column(|a| a.next_index as i32))
        .bind(started)
        .bind(finished)
        .bind(rows.clone().map(|a| a.output.clone()).collect::<Vec<_>>())
        .bind(rows.clone().map(|a| a.state.as_str()).collect::<Vec<_>>())
        .bind(
            rows.clone()
                .map(|a| a.next_step.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(Json(logs))
        .fetch_all(pool)
        .await?;
    Ok(answers.into_iter().collect())
}
