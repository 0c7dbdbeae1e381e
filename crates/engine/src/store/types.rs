//! The records the store reads and writes.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    /// Parked by its step until a signal (e.g. an approval) resumes it; holds no worker.
    Waiting,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Waiting,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Waiting => "waiting",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                format!("unknown status {s:?}; expected one of queued, running, waiting, succeeded, failed, cancelled")
            })
    }
}

/// A job to create.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: Uuid,
    pub workflow: String,
    pub workflow_version: String,
    pub steps: Vec<String>,
    pub first_step: String,
    pub input: Value,
    pub idempotency_key: Option<String>,
    /// Stored with the job only when it is created (not when the key already existed).
    pub secrets: Vec<crate::secrets::SealedSecret>,
    /// W3C `traceparent` every run of the job continues (see `trace_context.rs`).
    pub trace_context: Option<String>,
    /// Who submitted it: the name of an API token.
    pub created_by: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Submitted {
    pub job: JobRecord,
    /// False when the idempotency key already named a job, which is returned instead.
    pub created: bool,
}

/// The proof of ownership every write on behalf of a running job must present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub job_id: Uuid,
    pub owner: String,
    pub epoch: i64,
    /// How long each extension (claim, heartbeat, checkpoint) holds it for.
    pub duration: Duration,
}

/// A job a worker has just claimed.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub lease: Lease,
    pub workflow: String,
    pub workflow_version: String,
    pub steps: Vec<String>,
    pub input: Value,
    pub step_index: usize,
    pub attempt: u32,
    pub failures: u32,
    pub recoveries: u32,
    pub cancel_requested: bool,
    /// Set when the job was taken from a worker whose lease had expired.
    pub rescued_from: Option<Rescue>,
    /// The W3C `traceparent` stored at submit: the parent of this run's spans.
    pub trace_context: Option<String>,
}

/// What is known of the attempt a dead worker left unfinished.
#[derive(Debug, Clone)]
pub struct Rescue {
    pub previous_owner: String,
    pub attempt: u32,
    pub started_at: Option<DateTime<Utc>>,
}

/// Answer to a heartbeat or a fenced write.
#[derive(Debug, Clone, Copy, Default)]
pub struct Heartbeat {
    pub cancel_requested: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Succeeded,
    /// Failed; retried if attempts remain.
    Failed,
    TimedOut,
    /// The worker running it died or lost its lease.
    Interrupted,
    /// The worker shut down and handed the job back.
    Released,
    Cancelled,
    /// The step parked the job until a signal resumes it.
    Waiting,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed_out",
            Outcome::Interrupted => "interrupted",
            Outcome::Released => "released",
            Outcome::Cancelled => "cancelled",
            Outcome::Waiting => "waiting",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "succeeded" => Outcome::Succeeded,
            "timed_out" => Outcome::TimedOut,
            "interrupted" => Outcome::Interrupted,
            "released" => Outcome::Released,
            "cancelled" => Outcome::Cancelled,
            "waiting" => Outcome::Waiting,
            _ => Outcome::Failed,
        }
    }
}

/// One attempt of one step, as the timeline shows it.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub step_index: usize,
    pub step_name: String,
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: Outcome,
    pub error: Option<String>,
    /// The failure's stable name ([`crate::StepError::code`]); a job this attempt
    /// ends failed carries it too.
    pub error_code: Option<String>,
}

/// Where the job goes after an attempt.
#[derive(Debug, Clone)]
pub enum Transition {
    /// The step completed: checkpoint its output, enter its state, start the next step.
    Advance {
        output: Value,
        state: String,
        next_index: usize,
        next_step: String,
    },
    /// The last step completed: checkpoint, enter its state, the job succeeded.
    Complete { output: Value, state: String },
    /// The step failed and has attempts left: run it again after `delay`.
    RetryAfter { delay: Duration },
    /// Hand the job back for another worker to take at once (the step runs again).
    Release,
    /// Record the attempt only; the same worker carries on.
    Stay,
    /// The job ends failed or cancelled.
    End {
        status: JobStatus,
        error: Option<String>,
        /// Replaces the job's state when set (a step that ended the job with a verdict).
        state: Option<String>,
    },
}

/// What a store's group commit has written so far: how well checkpoints batch under
/// load, and how long its commits took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckpointBatches {
    pub statements: u64,
    pub checkpoints: u64,
    /// Time spent in those statements, summed over the lanes that ran them.
    pub busy: Duration,
}

impl CheckpointBatches {
    /// What was written between `earlier` and this reading.
    pub fn since(&self, earlier: &CheckpointBatches) -> CheckpointBatches {
        CheckpointBatches {
            statements: self.statements - earlier.statements,
            checkpoints: self.checkpoints - earlier.checkpoints,
            busy: self.busy.saturating_sub(earlier.busy),
        }
    }
}

impl Transition {
    /// Whether the job's run goes on here after this write (its next step, or the
    /// same step again).
    pub fn runs_on(&self) -> bool {
        matches!(self, Transition::Advance { .. } | Transition::Stay)
    }
}

/// A job as stored.
#[derive(Debug, Clone, Serialize)]
pub struct JobRecord {
    pub id: Uuid,
    pub seq: i64,
    pub workflow: String,
    pub workflow_version: String,
    pub steps: Vec<String>,
    pub input: Value,
    pub status: JobStatus,
    /// The state entered by the last completed step, if any.
    pub state: Option<String>,
    /// The step running, due next, or (for a failed job) the one that failed.
    pub current_step: Option<String>,
    pub idempotency_key: Option<String>,
    pub error: Option<String>,
    /// The stable name of the failure that ended the job, when it has one.
    pub error_code: Option<String>,
    pub failed_step: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The id of the trace all the job's spans belong to (none for jobs older than it).
    pub trace_id: Option<String>,
    /// Who submitted it: the name of an API token (none when the binary did).
    pub created_by: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttemptRow {
    pub step_index: usize,
    pub step_name: String,
    pub attempt: u32,
    pub worker: String,
    pub epoch: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub error_code: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckpointRow {
    pub step_name: String,
    pub step_index: usize,
    pub output: Value,
    pub worker: String,
    pub epoch: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was waiting: it is cancelled now.
    Cancelled,
    /// It is running: its worker was asked to stop it.
    Requested,
}

/// How to put a finished job back in the queue, decided by the engine from the definition.
#[derive(Debug, Clone)]
pub struct RequeuePlan {
    /// Statuses the job may be in for the requeue to apply.
    pub allowed: Vec<JobStatus>,
    pub step_index: usize,
    pub step_name: String,
    /// The (possibly new) definition the job moves onto.
    pub steps: Vec<String>,
    pub workflow_version: String,
    /// The state the job shows again: that of the last step kept.
    pub state: Option<String>,
    /// Checkpoints to delete: the restarted step, those after it, and names no longer defined.
    pub discard: Vec<String>,
    /// A memo of the restarted step written in the same transaction: `(key, value)`.
    /// A signal that resumes a waiting job is delivered this way.
    pub memo: Option<(String, Value)>,
}

/// A file a job produced, without its content.
#[derive(Debug, Clone, Serialize)]
pub struct ArtifactMeta {
    pub path: String,
    pub step: String,
    pub size: u64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

/// A file a job produced.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub meta: ArtifactMeta,
    pub content: Vec<u8>,
}

/// An API token as stored: its name, role and the digest of its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub name: String,
    pub role: String,
    #[serde(skip)]
    pub digest: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Something a person did to a job (approve, reject, cancel, retry,
/// destroy), and who: shown on the job's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobAction {
    pub action: String,
    /// The API token's name.
    pub actor: String,
    pub role: String,
    pub at: DateTime<Utc>,
}

impl JobAction {
    /// The job log's line for it.
    pub fn log_message(&self) -> String {
        format!("{} by {} ({})", self.action, self.actor, self.role)
    }
}
