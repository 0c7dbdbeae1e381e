//! The approval phase: whether the plan needs an approver (asked for, required
//! by the settings, or beyond the cost and instance limits), and what the
//! approval signal said.

use engine::{StepContext, StepError};
use infra::choose::{Choice, Target};

use super::{APPROVAL_SIGNAL, Approval, REJECTED};
use crate::failures;
use crate::terraform::TerraformConfig;
use crate::terraform::plan::PlanSummary;

/// What the approval phase decided.
pub(super) enum Decision {
    /// Go on to the image and the apply.
    Approved,
    /// Park the job in `AwaitingApproval` until an approver answers;
    /// the message says what is waited for and how to answer.
    Wait(String),
}

/// Approves `plan` at once when nobody needs to, else reads the approval
/// signal: waits while there is none, ends the job when it says no.
pub(super) async fn decide(
    ctx: &StepContext,
    choice: &Choice,
    tf: &TerraformConfig,
    asked: bool,
    plan: &PlanSummary,
) -> Result<Decision, StepError> {
    let over_limit = beyond_limits(choice, tf);
    if !(asked || tf.require_approval || over_limit.is_some()) {
        return Ok(Decision::Approved);
    }
    let Some(answer) = ctx.signal(APPROVAL_SIGNAL).await? else {
        let why = over_limit.map(|why| format!("{why}; ")).unwrap_or_default();
        return Ok(Decision::Wait(format!(
            "{why}plan: {}; approve with POST /job/{id}/approve or reject with \
             POST /job/{id}/reject",
            plan.describe(),
            id = ctx.job_id
        )));
    };
    let answer: Approval = serde_json::from_value(answer).map_err(|e| {
        StepError::permanent(format!("unreadable approval signal: {e}"))
            .with_code(failures::WORKER_RECORD_UNREADABLE)
    })?;
    if !answer.approved {
        let why = answer.comment.unwrap_or_else(|| "no reason given".into());
        return Err(
            StepError::ending_in(REJECTED, format!("the plan was rejected: {why}"))
                .with_code(failures::APPROVAL_REJECTED),
        );
    }
    ctx.info("plan approved");
    Ok(Decision::Approved)
}

/// Why a deployment needs an approver whatever the settings: its estimated
/// cost above the ceiling, or an instance type outside the allow-list.
fn beyond_limits(choice: &Choice, tf: &TerraformConfig) -> Option<String> {
    if let Some(ceiling) = tf.max_monthly_cost_usd
        && choice.monthly_cost_usd > ceiling
    {
        return Some(format!(
            "the estimate, ${:.2} a month, is above MAX_MONTHLY_COST_USD (${ceiling:.2}): an approver must agree",
            choice.monthly_cost_usd
        ));
    }
    let allowed = &tf.instance_types_without_approval;
    if !allowed.is_empty()
        && !choice.instance_type.is_empty()
        && matches!(choice.target, Target::Vm | Target::Kubernetes)
        && !allowed.contains(&choice.instance_type)
    {
        return Some(format!(
            "instance type {} is not among INSTANCE_TYPES_WITHOUT_APPROVAL ({}): an approver must agree",
            choice.instance_type,
            allowed.join(", ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn vm(instance_type: &str, monthly_cost_usd: f64) -> Choice {
        Choice {
            target: Target::Vm,
            reasons: Vec::new(),
            region: "us-east-1".into(),
            instance_type: instance_type.into(),
            memory_mib: None,
            cpu_units: None,
            replicas: 1,
            disk_gb: 20,
            monthly_cost_usd,
            cost_breakdown: Vec::new(),
            decided_by: "rules".into(),
            services: Default::default(),
        }
    }

    #[test]
    fn cost_above_the_ceiling_or_an_unlisted_instance_type_needs_an_approver() {
        let mut tf = TerraformConfig::plan_only(PathBuf::from("/tmp"), "test");
        assert_eq!(
            beyond_limits(&vm("m5.24xlarge", 3000.0), &tf),
            None,
            "no limits set"
        );
        tf.max_monthly_cost_usd = Some(50.0);
        assert_eq!(beyond_limits(&vm("t3.small", 15.0), &tf), None);
        let why = beyond_limits(&vm("t3.small", 75.5), &tf).unwrap();
        assert!(why.contains("$75.50") && why.contains("$50.00"), "{why}");
        tf.instance_types_without_approval = vec!["t3.small".into(), "t3.medium".into()];
        assert_eq!(beyond_limits(&vm("t3.medium", 30.0), &tf), None);
        let why = beyond_limits(&vm("c5.large", 40.0), &tf).unwrap();
        assert!(why.contains("c5.large"), "{why}");
    }
}
