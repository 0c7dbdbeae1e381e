//! What the engine records about its own work, through the `metrics` facade.
//!
//! The engine installs no recorder: the binary does (and serves the exposition), so
//! in a process without one these calls cost a lookup and record nothing. Labels are
//! workflow and step names, which come from the definitions this process loaded, and
//! fixed words, so the number of series stays bounded.

use chrono::{DateTime, Utc};

use crate::job_run::AttemptEnd;
use crate::step::ErrorKind;
use crate::store::{AttemptRecord, ClaimedJob, Outcome, Transition};

/// Jobs taken by a claim, by workflow.
pub const CLAIMS: &str = "deployflow_job_claims_total";
/// Claims of a job whose previous worker's lease had expired, by workflow.
pub const RESCUES: &str = "deployflow_job_rescues_total";
/// Leases this process lost while a step ran (its result was discarded).
pub const LEASES_LOST: &str = "deployflow_leases_lost_total";
/// Step attempts by workflow, step and outcome, in seconds.
pub const STEP_DURATION: &str = "deployflow_step_attempt_duration_seconds";
/// Failed attempts that will be tried again after a backoff.
pub const RETRIES: &str = "deployflow_step_retries_total";
/// Failed attempts by workflow, step and kind (retryable, permanent, timeout).
pub const FAILURES: &str = "deployflow_step_failures_total";
/// Jobs that reached a final status here, by workflow and status.
pub const FINISHED: &str = "deployflow_jobs_finished_total";

/// Attaches help texts to the engine's metric names; call once the recorder is installed.
pub fn describe() {
    metrics::describe_counter!(CLAIMS, "Jobs claimed by this process's worker");
    metrics::describe_counter!(
        RESCUES,
        "Jobs claimed after their previous worker's lease expired"
    );
    metrics::describe_counter!(
        LEASES_LOST,
        "Leases lost while a step ran; the step's result was discarded"
    );
    metrics::describe_histogram!(
        STEP_DURATION,
        metrics::Unit::Seconds,
        "Duration of step attempts run by this process"
    );
    metrics::describe_counter!(RETRIES, "Failed step attempts scheduled to run again");
    metrics::describe_counter!(FAILURES, "Failed step attempts by kind of error");
    metrics::describe_counter!(FINISHED, "Jobs that reached a final status in this process");
}

/// A batch of jobs this worker just claimed.
pub(crate) fn claimed(jobs: &[ClaimedJob]) {
    for job in jobs {
        let workflow = job.workflow.clone();
        metrics::counter!(CLAIMS, "workflow" => workflow.clone()).increment(1);
        if job.rescued_from.is_some() {
            metrics::counter!(RESCUES, "workflow" => workflow).increment(1);
        }
    }
}

/// One attempt's end as the worker saw it, before it is written.
pub(crate) fn attempt_ended(workflow: &str, step: &str, end: &AttemptEnd, started: DateTime<Utc>) {
    let outcome = match end {
        AttemptEnd::Completed(_) => "succeeded",
        AttemptEnd::Waiting { .. } => "waiting",
        AttemptEnd::Finished { .. } => "succeeded",
        AttemptEnd::Failed { outcome, error } => {
            failed(workflow, step, *outcome, error.kind);
            outcome.as_str()
        }
        AttemptEnd::Cancelled => "cancelled",
        AttemptEnd::Released => "released",
        AttemptEnd::LeaseLost => {
            let labels = [("workflow", workflow.to_owned()), ("step", step.to_owned())];
            metrics::counter!(LEASES_LOST, &labels).increment(1);
            "lease_lost"
        }
    };
    let seconds = (Utc::now() - started).num_microseconds().unwrap_or(0) as f64 / 1e6;
    let labels = [
        ("workflow", workflow.to_owned()),
        ("step", step.to_owned()),
        ("outcome", outcome.to_owned()),
    ];
    metrics::histogram!(STEP_DURATION, &labels).record(seconds.max(0.0));
}

fn failed(workflow: &str, step: &str, outcome: Outcome, kind: ErrorKind) {
    let kind = match (outcome, kind) {
        (Outcome::TimedOut, _) => "timeout",
        (_, ErrorKind::Permanent) => "permanent",
        _ => "retryable",
    };
    let labels = [
        ("workflow", workflow.to_owned()),
        ("step", step.to_owned()),
        ("kind", kind.to_owned()),
    ];
    metrics::counter!(FAILURES, &labels).increment(1);
}

/// An attempt's result that was just written: counts retries and finished jobs, which
/// are only true once the store accepted them.
pub(crate) fn written(workflow: &str, record: &AttemptRecord, transition: &Transition) {
    let status = match transition {
        Transition::RetryAfter { .. } => {
            let labels = [
                ("workflow", workflow.to_owned()),
                ("step", record.step_name.clone()),
            ];
            metrics::counter!(RETRIES, &labels).increment(1);
            return;
        }
        Transition::Complete { .. } => "succeeded",
        Transition::End { status, .. } if status.is_terminal() => status.as_str(),
        _ => return,
    };
    let labels = [
        ("workflow", workflow.to_owned()),
        ("status", status.to_owned()),
    ];
    metrics::counter!(FINISHED, &labels).increment(1);
}
