//! Request and response bodies: the API's JSON shapes, kept apart from the engine's
//! records so the wire format changes only on purpose.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use engine::JobDetails;
use engine::definition::WorkflowDefinition;
use engine::logs::StoredLogLine;
use engine::store::{AttemptRow, JobAction, JobRecord};
use engine::{Catalog, JobStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// Body of `POST /workflows/{name}/runs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The job's input: a JSON object the workflow checks (for `demo`:
    /// `{"sleep_ms": 10, "fail_step": "build", "fail_times": 1}`).
    #[schema(value_type = Object)]
    pub input: Value,
    /// Submitting twice with the same key returns the first job instead of a new one.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub idempotency_key: Option<String>,
}

/// Body of `POST /request`. Deliberately not `Debug`: it carries the token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployRequestBody {
    /// The repository to deploy: `https://github.com/<owner>/<repo>` (other hosts only
    /// if the server allows them).
    #[schema(example = "https://github.com/acme/shop", min_length = 1)]
    pub repo_url: String,
    /// One sentence of deployment requirements.
    #[schema(
        example = "public API, cheap, in Canada, with postgres",
        min_length = 1
    )]
    pub description: String,
    /// A fine-grained access token for a private repository. Stored encrypted, only to
    /// clone again when a job resumes; never returned or logged.
    #[serde(default)]
    pub github_token: Option<String>,
    /// Branch, tag or commit to deploy; the default branch when left out.
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// Submitting twice with the same key returns the first job instead of a new one.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub idempotency_key: Option<String>,
    /// Park the job after its plan (status `waiting`, state `AwaitingApproval`) until
    /// `POST /job/{id}/approve` or `/reject`.
    #[serde(default)]
    pub approve_before_apply: bool,
    /// Values of the app's environment variables (the analysis lists those it
    /// needs as `required_env`). Stored encrypted with the job, written to the
    /// deployment's environment; never returned or logged.
    #[serde(default)]
    #[schema(example = json!({"DATABASE_URL": "postgres://app:secret@db.example.com/app"}))]
    pub env: std::collections::BTreeMap<String, String>,
}

/// A file a job produced.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactView {
    pub path: String,
    /// The step that wrote it.
    pub step: String,
    pub size: u64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    /// Where to download it.
    pub href: String,
}

impl ArtifactView {
    pub fn new(job: Uuid, meta: engine::store::ArtifactMeta) -> Self {
        Self {
            href: format!("/job/{job}/artifacts/{}", meta.path),
            path: meta.path,
            step: meta.step,
            size: meta.size,
            sha256: meta.sha256,
            created_at: meta.created_at,
        }
    }
}

/// `GET /job/{id}/artifacts`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactList {
    pub artifacts: Vec<ArtifactView>,
}

/// Body of `POST /job/{id}/retry` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryRequest {
    /// Run this step and every later one again (their checkpoints are discarded).
    #[serde(default)]
    pub from_step: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Links {
    #[serde(rename = "self")]
    pub self_: String,
}

impl Links {
    pub fn job(id: Uuid) -> Self {
        Self {
            self_: format!("/job/{id}"),
        }
    }
}

/// A job in a listing, or as answered by submit, retry and cancel.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobSummary {
    pub id: Uuid,
    pub workflow: String,
    /// `queued`, `running`, `waiting` (parked until e.g. an approval), `succeeded`,
    /// `failed` or `cancelled`.
    #[schema(value_type = String, example = "queued")]
    pub status: JobStatus,
    /// The state entered by the last completed step, if any.
    pub state: Option<String>,
    /// The step running, due next, or (for a failed job) the one that failed.
    pub current_step: Option<String>,
    pub error: Option<String>,
    /// The stable name of the failure that ended the job, when it has one
    /// (`docs/failure-codes.md`).
    pub error_code: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub links: Links,
}

impl From<&JobRecord> for JobSummary {
    fn from(job: &JobRecord) -> Self {
        Self {
            id: job.id,
            workflow: job.workflow.clone(),
            status: job.status,
            state: job.state.clone(),
            current_step: job.current_step.clone(),
            error: job.error.clone(),
            error_code: job.error_code.clone(),
            created_at: job.created_at,
            updated_at: job.updated_at,
            finished_at: job.finished_at,
            links: Links::job(job.id),
        }
    }
}

/// Answer to `POST /job/{id}/cancel`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancelResponse {
    pub id: Uuid,
    /// The job's status after the request (`running` while a requested cancel takes effect).
    #[schema(value_type = String, example = "cancelled")]
    pub status: JobStatus,
    /// `cancelled`: the job was waiting and is cancelled now; `requested`: it is running
    /// and its step is told to stop.
    pub cancel: String,
    pub links: Links,
}

/// `GET /list`.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    /// Newest first.
    pub jobs: Vec<JobSummary>,
    /// Pass as `cursor` to get the next (older) page; null on the last page.
    pub next_cursor: Option<i64>,
}

/// One attempt of a step.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: u32,
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// `succeeded`, `failed`, `timed_out`, `interrupted`, `released` or `cancelled`.
    pub outcome: String,
    pub error: Option<String>,
    /// The failure's stable name (see `docs/failure-codes.md`).
    #[schema(example = "clone.not_found")]
    pub error_code: Option<String>,
}

impl From<&AttemptRow> for AttemptView {
    fn from(a: &AttemptRow) -> Self {
        Self {
            attempt: a.attempt,
            worker: a.worker.clone(),
            started_at: a.started_at,
            finished_at: a.finished_at,
            duration_ms: (a.finished_at - a.started_at).num_milliseconds(),
            outcome: a.outcome.as_str().to_owned(),
            error: a.error.clone(),
            error_code: a.error_code.clone(),
        }
    }
}

/// One step of a job, with its timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    pub name: String,
    /// The state the job enters when this step completes (null if the step is no longer defined).
    pub state: Option<String>,
    /// `pending`, `running`, `retrying` (waiting for its next attempt), `waiting`
    /// (parked, e.g. for approval), `completed`, `skipped` (the job finished before
    /// it, e.g. plan only), `failed` or `cancelled`.
    pub status: String,
    pub attempts: Vec<AttemptView>,
}

/// Something a person did to a job, on its timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionView {
    /// `approved`, `rejected`, `cancel requested`, `retried` or
    /// `destroy requested`.
    #[schema(example = "approved")]
    pub action: String,
    /// The name of the API token that did it.
    pub actor: String,
    /// The token's role then.
    pub role: String,
    pub at: DateTime<Utc>,
}

impl From<&JobAction> for ActionView {
    fn from(a: &JobAction) -> Self {
        Self {
            action: a.action.clone(),
            actor: a.actor.clone(),
            role: a.role.clone(),
            at: a.at,
        }
    }
}

/// A stored job log line.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogView {
    /// Cursor: pass as `after` to read the lines that follow.
    pub id: i64,
    pub step: Option<String>,
    pub attempt: Option<i32>,
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    pub message: String,
    pub at: DateTime<Utc>,
}

impl From<&StoredLogLine> for LogView {
    fn from(l: &StoredLogLine) -> Self {
        Self {
            id: l.id,
            step: l.line.step.clone(),
            attempt: l.line.attempt,
            level: l.line.level.as_str().to_owned(),
            message: l.line.message.clone(),
            at: l.line.at,
        }
    }
}

/// `GET /job/{id}/logs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogPage {
    pub logs: Vec<LogView>,
    /// Pass as `after` to read newer lines (also when this page is short: more may come).
    pub next_cursor: Option<i64>,
}

/// `GET /job/{id}`: everything known about a job.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobView {
    pub id: Uuid,
    pub workflow: String,
    /// Content hash of the workflow definition the job is pinned to.
    pub workflow_version: String,
    #[schema(value_type = String, example = "running")]
    pub status: JobStatus,
    /// The state entered by the last completed step, if any.
    pub state: Option<String>,
    pub current_step: Option<String>,
    pub failed_step: Option<String>,
    pub error: Option<String>,
    /// For a failed job, the stable name of what failed (see `docs/failure-codes.md`).
    #[schema(example = "clone.not_found")]
    pub error_code: Option<String>,
    /// For a failed job with a known code, what to do about it.
    pub suggestion: Option<String>,
    #[schema(value_type = Object)]
    pub input: Value,
    /// The repository, for a deployment job (from its input).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The deployment requirements, for a deployment job (from its input).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The OpenTelemetry trace holding every span of the job, across workers: search
    /// for it in the trace viewer (Jaeger). Absent for jobs older than tracing.
    #[schema(example = "4bf92f3577b34da6a3ce929d0e0e4736")]
    pub trace_id: Option<String>,
    /// One entry per step of the job, in order.
    pub steps: Vec<StepView>,
    /// What people did to the job (approve, reject, cancel, retry,
    /// destroy) and who, oldest first.
    pub actions: Vec<ActionView>,
    /// Checkpointed output of each completed step, by step name.
    #[schema(value_type = Object)]
    pub outputs: BTreeMap<String, Value>,
    /// The most recent log lines (at most 200), oldest first.
    pub logs: Vec<LogView>,
    /// Pass as `after` to `GET /job/{id}/logs` for the lines after these.
    pub logs_cursor: Option<i64>,
    pub links: Links,
}

impl JobView {
    pub fn new(details: JobDetails, catalog: &Catalog, logs: Vec<LogView>) -> Self {
        let JobDetails {
            job,
            attempts,
            checkpoints,
            actions,
        } = details;
        let definition = catalog.workflow(&job.workflow);
        let completed: Vec<&str> = checkpoints.iter().map(|c| c.step_name.as_str()).collect();
        let steps = job
            .steps
            .iter()
            .map(|name| {
                let attempts: Vec<AttemptView> = attempts
                    .iter()
                    .filter(|a| &a.step_name == name)
                    .map(AttemptView::from)
                    .collect();
                StepView {
                    name: name.clone(),
                    state: step_state(definition, name),
                    status: step_status(&job, name, completed.contains(&name.as_str()), &attempts)
                        .to_owned(),
                    attempts,
                }
            })
            .collect();
        let outputs = checkpoints
            .into_iter()
            .map(|c| (c.step_name, c.output))
            .collect();
        Self {
            links: Links::job(job.id),
            logs_cursor: logs.last().map(|l| l.id),
            id: job.id,
            workflow: job.workflow,
            workflow_version: job.workflow_version,
            status: job.status,
            state: job.state,
            current_step: job.current_step,
            failed_step: job.failed_step,
            error: job.error,
            suggestion: job
                .error_code
                .as_deref()
                .and_then(pipeline::failures::describe)
                .map(|entry| entry.suggestion.to_owned()),
            error_code: job.error_code,
            repo: job.input["repo_url"].as_str().map(str::to_owned),
            description: job.input["description"].as_str().map(str::to_owned),
            input: job.input,
            idempotency_key: job.idempotency_key,
            created_at: job.created_at,
            updated_at: job.updated_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            trace_id: job.trace_id,
            steps,
            actions: actions.iter().map(ActionView::from).collect(),
            outputs,
            logs,
        }
    }
}

fn step_state(definition: Option<&WorkflowDefinition>, step: &str) -> Option<String> {
    definition?
        .steps
        .iter()
        .find(|s| s.name == step)
        .map(|s| s.state.clone())
}

fn step_status(
    job: &JobRecord,
    step: &str,
    completed: bool,
    attempts: &[AttemptView],
) -> &'static str {
    if completed {
        return "completed";
    }
    // A job that finished early (e.g. plan only) never ran its remaining steps.
    if job.status == JobStatus::Succeeded {
        return "skipped";
    }
    if job.current_step.as_deref() != Some(step) {
        return "pending";
    }
    match job.status {
        JobStatus::Running => "running",
        JobStatus::Queued if attempts.is_empty() => "pending",
        JobStatus::Queued => "retrying",
        JobStatus::Failed => "failed",
        JobStatus::Cancelled => "cancelled",
        JobStatus::Waiting => "waiting",
        JobStatus::Succeeded => "skipped",
    }
}

/// `GET /workflows`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowList {
    pub workflows: Vec<WorkflowView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowView {
    pub name: String,
    pub description: String,
    /// Content hash of the definition; new jobs are pinned to it.
    pub version: String,
    pub steps: Vec<WorkflowStepView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowStepView {
    pub name: String,
    /// The job's state once this step has completed.
    pub state: String,
    pub max_attempts: u32,
}

impl From<&WorkflowDefinition> for WorkflowView {
    fn from(def: &WorkflowDefinition) -> Self {
        Self {
            name: def.name.clone(),
            description: def.description.clone(),
            version: def.version.clone(),
            steps: def
                .steps
                .iter()
                .map(|s| WorkflowStepView {
                    name: s.name.clone(),
                    state: s.state.clone(),
                    max_attempts: s.max_attempts,
                })
                .collect(),
        }
    }
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

/// The data of an SSE `status` event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatusEvent {
    pub id: Uuid,
    #[schema(value_type = String, example = "running")]
    pub status: JobStatus,
    pub state: Option<String>,
    pub current_step: Option<String>,
    pub error: Option<String>,
    /// The stable name of the failure that ended the job, when it has one
    /// (`docs/failure-codes.md`).
    pub error_code: Option<String>,
}

impl From<&JobRecord> for StatusEvent {
    fn from(job: &JobRecord) -> Self {
        Self {
            id: job.id,
            status: job.status,
            state: job.state.clone(),
            current_step: job.current_step.clone(),
            error: job.error.clone(),
            error_code: job.error_code.clone(),
        }
    }
}
