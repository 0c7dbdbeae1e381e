//! One claimed job, run step by step under its lease.
//!
//! A heartbeat task extends the lease while a step runs and notices cancellation
//! requests; every result is written through [`Store::finish_attempt`], fenced by the
//! lease, and retried while the database is unreachable, until the lease would have
//! expired. A worker that lost its lease stops the step and writes nothing.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use chrono::Utc;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::codes;
use crate::definition::{StepDefinition, WorkflowDefinition};
use crate::error::EngineError;
use crate::job_log_layer;
use crate::logs::LogSink;
use crate::slots::Slot;
use crate::step::{ErrorKind, JobData, StepContext, StepError, StepOutcome};
use crate::store::{
    AttemptRecord, ClaimedJob, Heartbeat, JobStatus, Outcome, Protocol, Transition,
};
use crate::worker::WorkerConfig;

pub(crate) struct Shared {
    pub store: Arc<dyn Protocol>,
    pub catalog: Arc<Catalog>,
    pub config: WorkerConfig,
    /// Fired when the shutdown grace period is over: running jobs are handed back.
    pub release: CancellationToken,
    /// The cancel token of each job running here, for prompt cancellation hints.
    pub running: Mutex<HashMap<Uuid, CancellationToken>>,
}

impl Shared {
    /// Tells the job's running step to stop, if the job runs here.
    pub fn cancel_running(&self, job_id: Uuid) {
        if let Some(token) = self.running.lock().expect("running jobs").get(&job_id) {
            tracing::info!(job.id = %job_id, "cancellation requested: telling the running step to stop");
            token.cancel();
        }
    }
}

pub(crate) struct JobRun {
    shared: Arc<Shared>,
    job: ClaimedJob,
    input: Arc<Value>,
    log: LogSink,
    /// Fired by the heartbeat when the lease is gone.
    lost: CancellationToken,
    /// Fired by the heartbeat when a user asked to cancel.
    cancel: CancellationToken,
    /// Held while steps run here; given back before the job's last write.
    slot: Slot,
}

/// Why a job run stops before its steps are done, with nothing more to write.
struct Stop;

/// The end of one attempt, before it is written.
pub(crate) enum AttemptEnd {
    Completed(Value),
    /// The step parks the job in `state` until a signal resumes it.
    Waiting {
        state: String,
        message: String,
    },
    /// The step ends the job succeeded in `state`, skipping the later steps.
    Finished {
        state: String,
        message: String,
    },
    Failed {
        outcome: Outcome,
        error: StepError,
    },
    Cancelled,
    Released,
    LeaseLost,
}

/// Longest time a running step's log lines wait in memory before they are written.
const LOG_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Time a step gets to wind down after it is told to stop, before it is aborted.
const STOP_GRACE: Duration = Duration::from_secs(5);

impl JobRun {
    pub fn new(shared: Arc<Shared>, job: ClaimedJob, slot: Slot) -> Self {
        Self {
            shared,
            input: Arc::new(job.input.clone()),
            job,
            log: LogSink::default(),
            lost: CancellationToken::new(),
            cancel: CancellationToken::new(),
            slot,
        }
    }

    pub async fn run(self) {
        // Events inside this span (and the step spans under it) also go to the job's
        // log: see job_log_layer.rs, which knows these span and field names.
        let job_id = self.job.lease.job_id;
        self.shared
            .running
            .lock()
            .expect("running jobs")
            .insert(job_id, self.cancel.clone());
        let _log_route = job_log_layer::register(
            self.job.lease.job_id,
            self.job.lease.epoch,
            self.log.clone(),
        );
        let span = tracing::info_span!("job", job.id = %self.job.lease.job_id,
            workflow = %self.job.workflow, epoch = self.job.lease.epoch);
        crate::trace_context::continue_job_trace(&span, self.job.trace_context.as_deref());
        async move {
            let heartbeat = tokio::spawn(heartbeat_loop(
                self.shared.clone(),
                self.job.lease.clone(),
                self.log.clone(),
                self.lost.clone(),
                self.cancel.clone(),
            ));
            let _ = self.run_steps().await;
            heartbeat.abort();
            self.shared
                .running
                .lock()
                .expect("running jobs")
                .remove(&job_id);
        }
        .instrument(span)
        .await
    }

    async fn run_steps(&self) -> Result<(), Stop> {
        let def = self.definition().await?;
        let start = self.job.step_index;
        if start >= def.steps.len() {
            return self
                .end_before_start(
                    JobStatus::Failed,
                    Some(codes::NO_STEP_LEFT),
                    "the job has no step left to run",
                )
                .await;
        }
        self.handle_rescue(&def).await?;
        if self.job.cancel_requested {
            return self
                .end_before_start(JobStatus::Cancelled, None, "cancelled by request")
                .await;
        }
        let mut outputs = Arc::new(if start > 0 {
            self.shared.store.load_outputs(self.job.lease.job_id).await.map_err(|e| {
                tracing::warn!(error = %e, "could not load checkpoints; the job will be picked up again");
                Stop
            })?
        } else {
            BTreeMap::new()
        });
        let (mut attempt, mut failures) = (self.job.attempt, self.job.failures);
        for index in start..def.steps.len() {
            let step = &def.steps[index];
            let started_at = Utc::now();
            let end = self
                .run_attempt(&def, step, attempt, failures, &outputs)
                .await;
            crate::metrics::attempt_ended(&def.name, &step.name, &end, started_at);
            let record =
                |outcome, error: Option<String>, error_code: Option<String>| AttemptRecord {
                    step_index: index,
                    step_name: step.name.clone(),
                    attempt,
                    started_at,
                    finished_at: Utc::now(),
                    outcome,
                    error,
                    error_code,
                };
            match end {
                AttemptEnd::Completed(output) => {
                    let last = index + 1 == def.steps.len();
                    let transition = if last {
                        Transition::Complete {
                            output: output.clone(),
                            state: step.state.clone(),
                        }
                    } else {
                        Transition::Advance {
                            output: output.clone(),
                            state: step.state.clone(),
                            next_index: index + 1,
                            next_step: def.steps[index + 1].name.clone(),
                        }
                    };
                    let answer = self
                        .write(&record(Outcome::Succeeded, None, None), &transition)
                        .await?;
                    if last {
                        tracing::info!(state = %step.state, "job succeeded");
                        return Ok(());
                    }
                    // The step's context is gone by now, so this does not copy the map.
                    Arc::make_mut(&mut outputs).insert(step.name.clone(), output);
                    if answer.cancel_requested || self.cancel.is_cancelled() {
                        return self
                            .end_at(
                                index + 1,
                                1,
                                JobStatus::Cancelled,
                                None,
                                "cancelled by request",
                            )
                            .await;
                    }
                    (attempt, failures) = (1, 0);
                }
                AttemptEnd::Waiting { state, message } => {
                    tracing::info!(step = %step.name, %state, "job waits: {message}");
                    let transition = Transition::End {
                        status: JobStatus::Waiting,
                        error: None,
                        state: Some(state),
                    };
                    self.write(&record(Outcome::Waiting, Some(message), None), &transition)
                        .await?;
                    return Ok(());
                }
                AttemptEnd::Finished { state, message } => {
                    tracing::info!(step = %step.name, %state, "job finished early: {message}");
                    let transition = Transition::End {
                        status: JobStatus::Succeeded,
                        error: None,
                        state: Some(state),
                    };
                    self.write(
                        &record(Outcome::Succeeded, Some(message), None),
                        &transition,
                    )
                    .await?;
                    return Ok(());
                }
                AttemptEnd::Failed { outcome, error } => {
                    let transition = self.after_failure(step, failures + 1, &error);
                    let code = error.code.clone();
                    self.write(
                        &record(outcome, Some(error.message.clone()), code),
                        &transition,
                    )
                    .await?;
                    return Ok(());
                }
                AttemptEnd::Cancelled => {
                    let transition = Transition::End {
                        status: JobStatus::Cancelled,
                        error: Some(format!("cancelled by request during step {:?}", step.name)),
                        state: None,
                    };
                    self.write(
                        &record(
                            Outcome::Cancelled,
                            Some("cancelled by request".into()),
                            None,
                        ),
                        &transition,
                    )
                    .await?;
                    return Ok(());
                }
                AttemptEnd::Released => {
                    let note = "worker shutting down: handed back to be run again";
                    self.write(
                        &record(Outcome::Released, Some(note.into()), None),
                        &Transition::Release,
                    )
                    .await?;
                    return Ok(());
                }
                AttemptEnd::LeaseLost => {
                    tracing::warn!(step = %step.name, "lease lost while the step ran: its result is discarded");
                    return Err(Stop);
                }
            }
        }
        Ok(())
    }

    /// The job's definition, checked against the step names the job was submitted with.
    async fn definition(&self) -> Result<WorkflowDefinition, Stop> {
        let Some(def) = self.shared.catalog.workflow(&self.job.workflow) else {
            let message = format!(
                "workflow {:?} is not defined on this worker",
                self.job.workflow
            );
            return Err(self.end_unstarted(codes::UNKNOWN_WORKFLOW, &message).await);
        };
        if def.step_names() != self.job.steps {
            let message = format!(
                "workflow {:?} changed since this job was submitted (version {}, steps {:?}; now \
                 version {}, steps {:?}): retry with from_step to move the job onto the new definition",
                def.name,
                self.job.workflow_version,
                self.job.steps,
                def.version,
                def.step_names()
            );
            return Err(self.end_unstarted(codes::WORKFLOW_CHANGED, &message).await);
        }
        Ok(def.clone())
    }

    /// A job taken from a dead worker (its interrupted attempt was recorded by the
    /// claim): park the job if workers keep dying on this step.
    async fn handle_rescue(&self, def: &WorkflowDefinition) -> Result<(), Stop> {
        let Some(rescue) = &self.job.rescued_from else {
            return Ok(());
        };
        let step = &def.steps[self.job.step_index];
        tracing::warn!(
            recoveries = self.job.recoveries,
            "rescued from worker {} (lease expired): attempt {} of step {:?} was interrupted",
            rescue.previous_owner,
            rescue.attempt,
            step.name
        );
        let max = self.shared.config.max_recoveries;
        if self.job.recoveries <= max {
            return Ok(());
        }
        let message = format!(
            "workers died {} times while running step {:?} (MAX_RECOVERIES={max}): \
             the job is parked instead of being tried again; retry it once the cause is fixed",
            self.job.recoveries, step.name
        );
        // The attempt this worker would have made, refused.
        let record = AttemptRecord {
            step_index: self.job.step_index,
            step_name: step.name.clone(),
            attempt: self.job.attempt,
            started_at: Utc::now(),
            finished_at: Utc::now(),
            outcome: Outcome::Failed,
            error: Some(message.clone()),
            error_code: Some(codes::WORKERS_DIED.into()),
        };
        let transition = Transition::End {
            status: JobStatus::Failed,
            error: Some(message),
            state: None,
        };
        self.write(&record, &transition).await?;
        Err(Stop)
    }

    fn after_failure(&self, step: &StepDefinition, failures: u32, error: &StepError) -> Transition {
        let end = |message: String| Transition::End {
            status: JobStatus::Failed,
            error: Some(message),
            state: error.state.clone(),
        };
        if error.kind == ErrorKind::Permanent {
            tracing::warn!(step = %step.name, error = %error, "step failed permanently");
            return end(format!("step {:?} failed: {}", step.name, error.message));
        }
        if failures >= step.max_attempts {
            tracing::warn!(step = %step.name, failures, error = %error, "step failed; no attempts left");
            return end(format!(
                "step {:?} failed after {failures} attempts: {}",
                step.name, error.message
            ));
        }
        let delay = step.backoff.delay(failures, &mut rand::rng());
        let message = format!(
            "step {:?} failed (attempt {failures} of {}): {}; retrying in {}",
            step.name,
            step.max_attempts,
            error.message,
            humantime::format_duration(Duration::from_millis(delay.as_millis() as u64))
        );
        tracing::warn!("{message}");
        Transition::RetryAfter { delay }
    }

    async fn run_attempt(
        &self,
        def: &WorkflowDefinition,
        step: &StepDefinition,
        attempt: u32,
        failures: u32,
        outputs: &Arc<BTreeMap<String, Value>>,
    ) -> AttemptEnd {
        let Some(handler) = self.shared.catalog.handler(&step.handler) else {
            return AttemptEnd::Failed {
                outcome: Outcome::Failed,
                error: StepError::permanent(format!(
                    "no handler {:?} on this worker",
                    step.handler
                ))
                .with_code(codes::NO_HANDLER),
            };
        };
        // At shutdown a job that was waiting for a slot goes back without starting its step.
        if self.shared.release.is_cancelled() {
            return AttemptEnd::Released;
        }
        let token = CancellationToken::new();
        let ctx = StepContext {
            job_id: self.job.lease.job_id,
            workflow: def.name.clone(),
            step: step.name.clone(),
            attempt,
            failures,
            worker_id: self.shared.config.worker_id.clone(),
            input: self.input.clone(),
            outputs: outputs.clone(),
            cancellation: token.clone(),
            log: self.log.clone(),
            data: JobData {
                store: self.shared.store.clone(),
                lease: self.job.lease.clone(),
                secret_key: self.shared.config.secret_key.clone(),
            },
        };
        let span = tracing::info_span!("step", step = %step.name, attempt);
        // Spawned so a panic in the handler ends this attempt, not the worker.
        let mut task = tokio::spawn(async move { handler.run(ctx).await }.instrument(span));
        let interrupted_by = tokio::select! {
            joined = &mut task => return match joined {
                Ok(Ok(StepOutcome::Completed(output))) => AttemptEnd::Completed(output),
                Ok(Ok(StepOutcome::Wait { state, message })) => AttemptEnd::Waiting { state, message },
                Ok(Ok(StepOutcome::Finish { state, message })) => AttemptEnd::Finished { state, message },
                Ok(Err(_)) if self.cancel.is_cancelled() => AttemptEnd::Cancelled,
                Ok(Err(error)) => AttemptEnd::Failed { outcome: Outcome::Failed, error },
                Err(e) => AttemptEnd::Failed {
                    outcome: Outcome::Failed,
                    error: StepError::retryable(panic_message(e)).with_code(codes::PANICKED),
                },
            },
            _ = tokio::time::sleep(step.timeout) => AttemptEnd::Failed {
                outcome: Outcome::TimedOut,
                error: StepError::retryable(format!(
                    "timed out after {}", humantime::format_duration(step.timeout)
                ))
                .with_code(codes::TIMED_OUT),
            },
            _ = self.lost.cancelled() => AttemptEnd::LeaseLost,
            _ = self.shared.release.cancelled() => AttemptEnd::Released,
            _ = self.cancel.cancelled() => AttemptEnd::Cancelled,
        };
        token.cancel();
        // A worker without its lease must not linger; otherwise the step gets a moment to stop.
        let lease_lost = matches!(interrupted_by, AttemptEnd::LeaseLost);
        if lease_lost || tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
            task.abort();
        }
        interrupted_by
    }

    /// Ends the job at the step it was about to run, recording why it never ran.
    async fn end_before_start(
        &self,
        status: JobStatus,
        code: Option<&str>,
        why: &str,
    ) -> Result<(), Stop> {
        let index = self
            .job
            .step_index
            .min(self.job.steps.len().saturating_sub(1));
        self.end_at(index, self.job.attempt, status, code, why)
            .await
    }

    /// Ends a job whose definition cannot be used, at the step it was on.
    async fn end_unstarted(&self, code: &str, why: &str) -> Stop {
        tracing::warn!("{why}");
        let _ = self
            .end_before_start(JobStatus::Failed, Some(code), why)
            .await;
        Stop
    }

    /// Ends the job before step `index` (of the job's pinned step list) ran.
    async fn end_at(
        &self,
        index: usize,
        attempt: u32,
        status: JobStatus,
        code: Option<&str>,
        why: &str,
    ) -> Result<(), Stop> {
        let now = Utc::now();
        let record = AttemptRecord {
            step_index: index,
            step_name: self.job.steps.get(index).cloned().unwrap_or_default(),
            attempt,
            started_at: now,
            finished_at: now,
            outcome: if status == JobStatus::Cancelled {
                Outcome::Cancelled
            } else {
                Outcome::Failed
            },
            error: Some(why.to_owned()),
            error_code: code.map(str::to_owned),
        };
        let transition = Transition::End {
            status,
            error: Some(why.to_owned()),
            state: None,
        };
        self.write(&record, &transition).await.map(|_| ())
    }

    /// Waits for the slot the job lent while its checkpoint committed. The lease stays
    /// renewed meanwhile; at shutdown the wait ends without one, and the next attempt
    /// hands the job back.
    async fn take_slot_back(&self) -> Result<(), Stop> {
        tokio::select! {
            () = self.slot.take_back() => Ok(()),
            () = self.lost.cancelled() => Err(Stop),
            () = self.shared.release.cancelled() => Ok(()),
        }
    }

    /// Writes an attempt's result, retrying while the database is unreachable for as
    /// long as the lease would last; gives up (writing nothing) once the lease is gone.
    async fn write(
        &self,
        record: &AttemptRecord,
        transition: &Transition,
    ) -> Result<Heartbeat, Stop> {
        if transition.runs_on() {
            self.slot.lend();
        } else {
            self.slot.give_back();
        }
        let lease = &self.job.lease;
        let logs = self.log.drain();
        let store = &self.shared.store;
        let result = (|| async { store.finish_attempt(lease, record, transition, &logs).await })
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(50))
                    .with_max_delay(Duration::from_secs(2))
                    .without_max_times()
                    .with_total_delay(Some(lease.duration))
                    .with_jitter(),
            )
            .when(|e: &EngineError| e.is_transient() && !self.lost.is_cancelled())
            .notify(|e, delay| {
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "checkpoint write failed; retrying");
            })
            .await;
        match result {
            Ok(answer) => {
                crate::metrics::written(&self.job.workflow, record, transition);
                if transition.runs_on() {
                    self.take_slot_back().await?;
                }
                Ok(answer)
            }
            Err(EngineError::LeaseLost { .. }) => {
                tracing::warn!(step = %record.step_name, "lease lost: another worker owns this job; nothing written");
                Err(Stop)
            }
            Err(e) => {
                tracing::error!(error = %e, step = %record.step_name,
                    "could not record the attempt; the job will be picked up again when its lease expires");
                Err(Stop)
            }
        }
    }
}

/// Extends the lease every `heartbeat` and flushes buffered log lines. Fires `lost` when
/// the lease is gone (or could not be renewed before it would expire) and `cancel` when
/// a user asked for the job to be cancelled.
async fn heartbeat_loop(
    shared: Arc<Shared>,
    lease: crate::store::Lease,
    log: LogSink,
    lost: CancellationToken,
    cancel: CancellationToken,
) {
    let heartbeat = shared.config.heartbeat;
    let mut last_renewed = Instant::now();
    // Ticks often enough to get a step's log lines out promptly; the lease itself is
    // renewed every `heartbeat`, or earlier when there are lines to write anyway.
    let mut ticker = tokio::time::interval(heartbeat.min(LOG_FLUSH_INTERVAL));
    ticker.tick().await;
    loop {
        ticker.tick().await;
        if log.is_empty() && last_renewed.elapsed() + LOG_FLUSH_INTERVAL / 2 < heartbeat {
            continue;
        }
        let lines = log.drain();
        match shared.store.heartbeat(&lease, lease.duration, &lines).await {
            Ok(answer) => {
                last_renewed = Instant::now();
                if answer.cancel_requested && !cancel.is_cancelled() {
                    tracing::info!("cancellation requested: telling the running step to stop");
                    cancel.cancel();
                }
            }
            Err(EngineError::LeaseLost { .. }) => {
                tracing::warn!("lease lost: another worker took this job over");
                lost.cancel();
                return;
            }
            Err(e) => {
                log.restore(lines);
                tracing::warn!(error = %e, "heartbeat failed");
                if last_renewed.elapsed() >= lease.duration {
                    tracing::warn!(
                        "lease could not be renewed before it expired: stopping the job here"
                    );
                    lost.cancel();
                    return;
                }
            }
        }
    }
}

fn panic_message(error: tokio::task::JoinError) -> String {
    if !error.is_panic() {
        return "the step was aborted".into();
    }
    let payload: Box<dyn Any + Send> = error.into_panic();
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("step panicked: {text}")
}
