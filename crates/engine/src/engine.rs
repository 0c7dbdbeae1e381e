//! The operations users ask of the engine: submit, read, list, cancel, retry, signal.
//! The worker (`worker.rs`) is the other half: it runs what is submitted here.

use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::catalog::Catalog;
use crate::error::{EngineError, Result};
use crate::logs::{LogLevel, LogLine, StoredLogLine};
use crate::secrets::SecretKey;
use crate::step::signal_memo_key;
use crate::store::{
    Artifact, ArtifactMeta, AttemptRow, CancelOutcome, CheckpointRow, Database, JobAction,
    JobFilter, JobPage, JobRecord, JobStatus, NewJob, Protocol, RequeuePlan, Submitted,
};

/// Longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Protocol>,
    catalog: Arc<Catalog>,
    secret_key: Option<SecretKey>,
}

/// A job with its timeline and checkpoints.
#[derive(Debug, Clone, Serialize)]
pub struct JobDetails {
    pub job: JobRecord,
    pub attempts: Vec<AttemptRow>,
    pub checkpoints: Vec<CheckpointRow>,
    /// What people did to the job (approve, cancel...), oldest first.
    pub actions: Vec<JobAction>,
}

impl Engine {
    pub fn new(database: Database, catalog: Arc<Catalog>) -> Self {
        Self {
            store: database.queue().clone(),
            catalog,
            secret_key: None,
        }
    }

    /// The key job secrets are sealed with; without one, jobs cannot carry secrets.
    pub fn with_secret_key(mut self, key: Option<SecretKey>) -> Self {
        self.secret_key = key;
        self
    }

    /// Whether this engine can accept jobs with secrets.
    pub fn accepts_secrets(&self) -> bool {
        self.secret_key.is_some()
    }

    /// The database this engine is on: to make workers of, and to read as a
    /// [`Store`] (never to claim or write a job: the protocol is the engine's).
    /// Clients of jobs (the API, the CLI's commands) use the methods below.
    pub fn store(&self) -> Database {
        Database::from_queue(self.store.clone())
    }

    /// The queue protocol, for the engine's own modules.
    pub(crate) fn queue(&self) -> &Arc<dyn Protocol> {
        &self.store
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.store.ping().await
    }

    /// A job's log lines after the cursor `after`, oldest first, at most `limit`.
    pub async fn logs(
        &self,
        id: Uuid,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredLogLine>> {
        self.store.logs(id, after, limit).await
    }

    /// The last `limit` lines of a job's log, oldest first.
    pub async fn tail_logs(&self, id: Uuid, limit: i64) -> Result<Vec<StoredLogLine>> {
        self.store.tail_logs(id, limit).await
    }

    /// Jobs waiting or running.
    pub async fn queue_depth(&self) -> Result<i64> {
        self.store.queue_depth().await
    }

    /// How long the longest-waiting claimable job has been due, in seconds.
    pub async fn oldest_due_age_seconds(&self) -> Result<f64> {
        self.store.oldest_due_age_seconds().await
    }

    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// Creates a job of `workflow`, or returns the one `idempotency_key` already names.
    pub async fn submit(
        &self,
        workflow: &str,
        input: Value,
        idempotency_key: Option<String>,
    ) -> Result<Submitted> {
        self.submit_with_secrets(workflow, input, idempotency_key, &[])
            .await
    }

    /// Like [`Engine::submit`], storing `secrets` (name, value) sealed with the job, for
    /// its steps to read with [`crate::StepContext::secret`]. They are never shown again.
    pub async fn submit_with_secrets(
        &self,
        workflow: &str,
        input: Value,
        idempotency_key: Option<String>,
        secrets: &[(&str, &str)],
    ) -> Result<Submitted> {
        self.submit_as(workflow, input, idempotency_key, secrets, None)
            .await
    }

    /// Like [`Engine::submit_with_secrets`], recording who submitted the job
    /// (the name of an API token).
    pub async fn submit_as(
        &self,
        workflow: &str,
        input: Value,
        idempotency_key: Option<String>,
        secrets: &[(&str, &str)],
        created_by: Option<&str>,
    ) -> Result<Submitted> {
        let def = self
            .catalog
            .workflow(workflow)
            .ok_or_else(|| EngineError::UnknownWorkflow(workflow.to_owned()))?;
        if !input.is_object() {
            return Err(EngineError::InvalidInput(
                "the job input must be a JSON object".into(),
            ));
        }
        self.catalog
            .check_input(workflow, &input)
            .map_err(|problem| {
                EngineError::InvalidInput(format!("input for workflow {workflow:?}: {problem}"))
            })?;
        if let Some(key) = &idempotency_key
            && (key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN)
        {
            return Err(EngineError::InvalidInput(format!(
                "idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters"
            )));
        }
        let id = Uuid::now_v7();
        let sealed = match (&self.secret_key, secrets.is_empty()) {
            (_, true) => Vec::new(),
            (Some(key), false) => secrets
                .iter()
                .map(|(name, value)| key.seal(id, name, value))
                .collect(),
            (None, false) => {
                return Err(EngineError::SecretsUnavailable);
            }
        };
        let trace_context = Some(crate::trace_context::for_new_job(id, &def.name));
        self.store
            .submit(NewJob {
                id,
                workflow: def.name.clone(),
                workflow_version: def.version.clone(),
                steps: def.step_names(),
                first_step: def.steps[0].name.clone(),
                input,
                idempotency_key,
                secrets: sealed,
                trace_context,
                created_by: created_by.map(str::to_owned),
            })
            .await
    }

    /// The files a job produced, without content.
    pub async fn artifacts(&self, id: Uuid) -> Result<Vec<ArtifactMeta>> {
        self.job(id).await?;
        self.store.list_artifacts(id).await
    }

    /// Adds lines to a job's log (an action someone took on it, say).
    pub async fn append_logs(&self, id: Uuid, lines: &[LogLine]) -> Result<()> {
        self.store.append_logs(id, lines).await
    }

    /// Records what a person did to the job, on its timeline and in its log.
    pub async fn record_action(&self, id: Uuid, action: &JobAction) -> Result<()> {
        self.store.record_action(id, action).await
    }

    /// What people did to the job, oldest first.
    pub async fn actions(&self, id: Uuid) -> Result<Vec<JobAction>> {
        self.store.actions(id).await
    }

    /// One file a job produced.
    pub async fn artifact(&self, id: Uuid, path: &str) -> Result<Artifact> {
        self.job(id).await?;
        self.store
            .get_artifact(id, path)
            .await?
            .ok_or_else(|| EngineError::ArtifactNotFound {
                job_id: id,
                path: path.to_owned(),
            })
    }

    pub async fn job(&self, id: Uuid) -> Result<JobRecord> {
        self.store
            .get_job(id)
            .await?
            .ok_or(EngineError::JobNotFound(id))
    }

    pub async fn details(&self, id: Uuid) -> Result<JobDetails> {
        let job = self.job(id).await?;
        let attempts = self.store.attempts(id).await?;
        let checkpoints = self.store.checkpoints(id).await?;
        let actions = self.store.actions(id).await?;
        Ok(JobDetails {
            job,
            attempts,
            checkpoints,
            actions,
        })
    }

    pub async fn list(&self, filter: &JobFilter) -> Result<JobPage> {
        self.store.list_jobs(filter).await
    }

    /// How many jobs match `filter` (its cursor and limit aside).
    pub async fn count(&self, filter: &JobFilter) -> Result<i64> {
        self.store.count_jobs(filter).await
    }

    /// Cancels a waiting job at once; a running one stops at its next heartbeat.
    pub async fn cancel(&self, id: Uuid) -> Result<CancelOutcome> {
        let outcome = self.store.cancel(id).await?;
        let message = match outcome {
            CancelOutcome::Cancelled => "cancelled by request",
            CancelOutcome::Requested => "cancellation requested: the running step is told to stop",
        };
        self.note(id, LogLevel::Warn, message).await;
        Ok(outcome)
    }

    /// Puts a failed or cancelled job back in the queue at the step that did not
    /// complete, with fresh attempts. With `from_step`, that step and every later one
    /// run again (their checkpoints are discarded), succeeded jobs may be re-run, and
    /// the job moves onto the current version of its workflow definition.
    pub async fn retry(&self, id: Uuid, from_step: Option<&str>) -> Result<JobRecord> {
        let job = self.job(id).await?;
        let def = self.catalog.workflow(&job.workflow).ok_or_else(|| {
            EngineError::Conflict(format!(
                "cannot retry job {id}: its workflow {:?} is no longer defined",
                job.workflow
            ))
        })?;
        let names = def.step_names();
        let (step_index, allowed, discard) = match from_step {
            None => {
                if names != job.steps {
                    return Err(EngineError::Conflict(format!(
                        "workflow {:?} changed since job {id} started (steps were {:?}, now {:?}); \
                         retry with from_step to move the job onto the current definition",
                        job.workflow, job.steps, names
                    )));
                }
                let resume = job.current_step.as_deref().unwrap_or(&names[0]);
                let index = def.step_index(resume).unwrap_or(0);
                (
                    index,
                    vec![JobStatus::Failed, JobStatus::Cancelled],
                    names[index..].to_vec(),
                )
            }
            Some(from) => {
                let index = def.step_index(from).ok_or_else(|| {
                    EngineError::InvalidInput(format!(
                        "from_step {from:?} is not a step of workflow {:?}; its steps are {names:?}",
                        job.workflow
                    ))
                })?;
                let done: Vec<String> = self
                    .store
                    .checkpoints(id)
                    .await?
                    .into_iter()
                    .map(|c| c.step_name)
                    .collect();
                if let Some(missing) = names[..index].iter().find(|n| !done.contains(n)) {
                    return Err(EngineError::Conflict(format!(
                        "cannot retry job {id} from {from:?}: the earlier step {missing:?} has not \
                         completed; retry from {missing:?} or earlier"
                    )));
                }
                let mut discard = names[index..].to_vec();
                discard.extend(done.into_iter().filter(|n| !names.contains(n)));
                let allowed = vec![
                    JobStatus::Failed,
                    JobStatus::Cancelled,
                    JobStatus::Succeeded,
                ];
                (index, allowed, discard)
            }
        };
        let plan = RequeuePlan {
            allowed,
            step_index,
            step_name: names[step_index].clone(),
            steps: names,
            workflow_version: def.version.clone(),
            state: step_index
                .checked_sub(1)
                .map(|i| def.steps[i].state.clone()),
            discard,
            memo: None,
        };
        self.store.requeue(id, &plan).await?;
        self.note(
            id,
            LogLevel::Info,
            &format!("retry requested from step {:?}", plan.step_name),
        )
        .await;
        self.job(id).await
    }

    /// Delivers signal `name` (e.g. `approval`) to a waiting job: the step that parked
    /// it runs again at once and reads `value` with `StepContext::signal`.
    pub async fn signal(&self, id: Uuid, name: &str, value: Value) -> Result<JobRecord> {
        let job = self.job(id).await?;
        if job.status != JobStatus::Waiting {
            return Err(EngineError::Conflict(format!(
                "job {id} is {}, not waiting for a signal such as {name:?}",
                job.status
            )));
        }
        let def = self.catalog.workflow(&job.workflow).ok_or_else(|| {
            EngineError::Conflict(format!(
                "job {id}'s workflow {:?} is no longer defined",
                job.workflow
            ))
        })?;
        let step_name = job.current_step.clone().unwrap_or_default();
        let step_index = job
            .steps
            .iter()
            .position(|s| *s == step_name)
            .ok_or_else(|| {
                EngineError::Conflict(format!("job {id} waits on an unknown step {step_name:?}"))
            })?;
        let plan = RequeuePlan {
            allowed: vec![JobStatus::Waiting],
            step_index,
            step_name: step_name.clone(),
            steps: job.steps.clone(),
            workflow_version: job.workflow_version.clone(),
            state: step_index
                .checked_sub(1)
                .and_then(|i| def.steps.get(i))
                .map(|s| s.state.clone()),
            discard: Vec::new(),
            memo: Some((signal_memo_key(name), value)),
        };
        self.store.requeue(id, &plan).await?;
        self.note(
            id,
            LogLevel::Info,
            &format!("signal {name:?} received: step {step_name:?} resumes"),
        )
        .await;
        self.job(id).await
    }

    /// Best effort: a note that cannot be written must not fail the operation it describes.
    async fn note(&self, id: Uuid, level: LogLevel, message: &str) {
        let line = LogLine {
            step: None,
            attempt: None,
            level,
            message: message.to_owned(),
            at: Utc::now(),
        };
        if let Err(e) = self.store.append_logs(id, &[line]).await {
            tracing::warn!(job.id = %id, error = %e, "could not write a job log note");
        }
    }
}
