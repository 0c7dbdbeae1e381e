//! The policy gate as apply meets it: on the files `init` will read, and (in
//! the Terraform session) on each plan's changes.

use std::path::Path;

use engine::StepError;
use infra::choose::Choice;
use infra::policy::{Policy, PolicyReport};

use crate::failures;
use crate::terraform::{StateBackend, workdir};

/// The policy gate, again, on exactly the files `init` will read: they come from
/// the database, and `init`/`plan` already run provider code.
pub(super) fn gate(
    dir: &Path,
    choice: &Choice,
    job_id: &str,
    state: &StateBackend,
) -> Result<(), StepError> {
    let files = workdir::read_tf_files(dir)?;
    refused(
        "the Terraform fails the policy gate",
        &infra::policy::check(&files, &gate_policy(choice, job_id, state)),
    )
}

/// The policy the files and the plans of `choice` for the job `job_id` are
/// held to.
pub(super) fn gate_policy(choice: &Choice, job_id: &str, state: &StateBackend) -> Policy {
    let mut policy = Policy::for_job(choice, job_id);
    policy.allowed_backend = Some(workdir::backend_type(state).to_owned());
    policy
}

/// A permanent failure naming every violation, when the gate refused.
pub(in crate::steps) fn refused(what: &str, report: &PolicyReport) -> Result<(), StepError> {
    if report.passed {
        return Ok(());
    }
    let reasons: Vec<String> = report.violations.iter().map(ToString::to_string).collect();
    Err(
        StepError::permanent(format!("{what}: {}", reasons.join("; ")))
            .with_code(failures::POLICY_REFUSED),
    )
}
