//! Group commit for the hot path: checkpoints of steps that completed at about the same
//! time in different jobs are written together, in one commit, whether the job moves
//! on to its next step or completes with it. Each row is still fenced by its own lease
//! (a job whose lease is gone gets `LeaseLost`, the others commit), so batching changes
//! the cost of a checkpoint, not its meaning.
//!
//! Both stores write checkpoints only through a [`Batcher`]: a lone request is a batch
//! of one. Requests queue on a channel; a few lanes (one for SQLite, whose writes are
//! serial anyway) each take whatever is waiting (up to [`MAX_BATCH`]) and hand it to
//! the store's [`CheckpointWriter`], so batches form by themselves while the previous
//! commit is in flight and a lone checkpoint is written at once. If a batch fails as a
//! whole (say one row breaks a constraint), its rows are written one by one so the
//! error reaches only the job that caused it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::types::{AttemptRecord, CheckpointBatches, Heartbeat, Lease, Transition};
use crate::error::{EngineError, Result};
use crate::logs::LogLine;

/// The most checkpoints one commit writes.
pub(super) const MAX_BATCH: usize = 64;

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

/// A store's one definition of a checkpoint: writes a batch in one commit, each row
/// fenced by its lease, and answers `cancel_requested` for every job whose lease held
/// (a job missing from the answer lost its lease).
#[async_trait]
pub(super) trait CheckpointWriter: Send + Sync + 'static {
    async fn write_batch(&self, batch: &[&Checkpoint]) -> Result<HashMap<Uuid, bool>>;
}

impl Checkpoint {
    /// The checkpoint an attempt's end writes, when it completed its step
    /// (`Advance`, `Complete`); `None` for the ends that checkpoint nothing.
    pub fn of(
        lease: &Lease,
        attempt: &AttemptRecord,
        transition: &Transition,
        logs: &[LogLine],
    ) -> Option<Checkpoint> {
        let (output, state, next) = match transition {
            Transition::Advance {
                output,
                state,
                next_index,
                next_step,
            } => (output, state, Some((*next_index, next_step.clone()))),
            Transition::Complete { output, state } => (output, state, None),
            _ => return None,
        };
        Some(Checkpoint {
            lease: lease.clone(),
            attempt: attempt.clone(),
            output: output.clone(),
            state: state.clone(),
            next,
            logs: logs.to_vec(),
        })
    }
}

struct Request {
    checkpoint: Checkpoint,
    reply: oneshot::Sender<Result<Heartbeat>>,
}

/// How many commits the batcher made, how many checkpoints they wrote, and how long
/// they took.
#[derive(Debug, Default)]
pub(super) struct BatchStats {
    statements: AtomicU64,
    checkpoints: AtomicU64,
    busy_micros: AtomicU64,
}

impl BatchStats {
    pub fn read(&self) -> CheckpointBatches {
        CheckpointBatches {
            statements: self.statements.load(Ordering::Relaxed),
            checkpoints: self.checkpoints.load(Ordering::Relaxed),
            busy: Duration::from_micros(self.busy_micros.load(Ordering::Relaxed)),
        }
    }
}

pub(super) struct Batcher {
    requests: mpsc::Sender<Request>,
    pub stats: Arc<BatchStats>,
}

impl Batcher {
    /// Starts `lanes` writers of `writer`'s batches; must be called within a Tokio runtime.
    pub fn spawn(writer: Arc<dyn CheckpointWriter>, lanes: usize) -> Self {
        let (requests, receiver) = mpsc::channel::<Request>(1024);
        let receiver = Arc::new(Mutex::new(receiver));
        let stats = Arc::new(BatchStats::default());
        for _ in 0..lanes.max(1) {
            tokio::spawn(lane(writer.clone(), receiver.clone(), stats.clone()));
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

async fn lane(
    writer: Arc<dyn CheckpointWriter>,
    receiver: Arc<Mutex<mpsc::Receiver<Request>>>,
    stats: Arc<BatchStats>,
) {
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
        let written = write_counted(writer.as_ref(), &checkpoints, &stats).await;
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
                    let answer = write_counted(writer.as_ref(), &[&request.checkpoint], &stats)
                        .await
                        .and_then(|answers| fenced_answer(&answers, &request.checkpoint.lease));
                    let _ = request.reply.send(answer);
                }
            }
        }
    }
}

async fn write_counted(
    writer: &dyn CheckpointWriter,
    batch: &[&Checkpoint],
    stats: &BatchStats,
) -> Result<HashMap<Uuid, bool>> {
    let started = Instant::now();
    let answers = writer.write_batch(batch).await?;
    stats
        .busy_micros
        .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    stats.statements.fetch_add(1, Ordering::Relaxed);
    stats
        .checkpoints
        .fetch_add(batch.len() as u64, Ordering::Relaxed);
    Ok(answers)
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
