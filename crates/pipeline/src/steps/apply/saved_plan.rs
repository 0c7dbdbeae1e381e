//! Making the plan, keeping it where a later attempt finds it, and applying
//! exactly it: an attempt that finds the saved plan stale (an earlier attempt
//! applied part of it and died) plans again and applies only if the new plan
//! stays within the approved one.

use engine::StepError;

use super::Attempt;
use super::progress::SavedPlan;
use crate::failures;
use crate::steps::terraform_session::command_error;
use crate::terraform::runner::CommandError;
use crate::terraform::workdir::PLAN_FILE;

const PLAN_ARTIFACT: &str = "plan/deployflow.tfplan";
const PLAN_JSON_ARTIFACT: &str = "plan/plan.json";
/// The image tag the plan was made with: the destroy plans with it too, so
/// an expression of it that the template's default would fail is evaluated
/// as it was at apply.
pub(crate) const IMAGE_TAG_ARTIFACT: &str = "plan/image_tag";
const RESUME_PLAN_FILE: &str = "deployflow-resume.tfplan";

/// Plans, and keeps the plan file and its summary in the job's artifacts.
pub(super) async fn make(attempt: &Attempt<'_>, image_tag: String) -> Result<SavedPlan, StepError> {
    let ctx = attempt.ctx;
    let summary = attempt.session.plan(PLAN_FILE, None).await?;
    let plan = std::fs::read(attempt.dir.join(PLAN_FILE)).map_err(|e| {
        StepError::retryable(format!("reading the saved plan: {e}")).with_code(failures::WORKER_IO)
    })?;
    ctx.put_artifact(PLAN_ARTIFACT, &plan).await?;
    let described = serde_json::to_string_pretty(&summary).expect("a plan summary serialises");
    ctx.put_artifact(PLAN_JSON_ARTIFACT, described.as_bytes())
        .await?;
    ctx.put_artifact(IMAGE_TAG_ARTIFACT, image_tag.as_bytes())
        .await?;
    Ok(SavedPlan { summary, image_tag })
}

/// Applies the saved plan; returns whether it had to plan again.
pub(super) async fn apply(
    attempt: &Attempt<'_>,
    plan: &SavedPlan,
    interrupted: bool,
) -> Result<bool, StepError> {
    let Attempt { ctx, session, .. } = attempt;
    if interrupted {
        ctx.warn("an earlier attempt started applying: the saved plan may be stale");
    }
    restore(attempt).await?;
    match session.apply(PLAN_FILE).await {
        Ok(()) => Ok(false),
        Err(CommandError::Failed { message, .. }) if is_stale_plan(&message) => {
            ctx.warn(
                "the saved plan is stale (an earlier attempt applied part of it): planning \
                 again against the current state",
            );
            let again = session.plan(RESUME_PLAN_FILE, None).await?;
            again.within(&plan.summary).map_err(|why| {
                StepError::permanent(format!(
                    "the infrastructure changed since the approved plan: {why}; \
                     retry the job from the apply step to plan afresh"
                ))
                .with_code(failures::APPLY_PLAN_STALE)
            })?;
            ctx.info(format!(
                "re-planned within the approved plan: {}",
                again.describe()
            ));
            session
                .apply(RESUME_PLAN_FILE)
                .await
                .map_err(|e| command_error(ctx, e))?;
            Ok(true)
        }
        Err(error) => {
            session.keep_local_state().await?;
            Err(command_error(ctx, error))
        }
    }
}

/// Writes the saved plan into the working directory: an earlier attempt, on
/// this worker or another, made it.
async fn restore(attempt: &Attempt<'_>) -> Result<(), StepError> {
    let ctx = attempt.ctx;
    let saved = ctx.artifacts_under(ctx.job_id, PLAN_ARTIFACT).await?;
    let Some((_, content)) = saved.into_iter().find(|(p, _)| p == PLAN_ARTIFACT) else {
        return Err(StepError::permanent(
            "the saved plan is missing from the job's artifacts; retry the job from the apply step",
        )
        .with_code(failures::APPLY_PLAN_MISSING));
    };
    std::fs::write(attempt.dir.join(PLAN_FILE), content).map_err(|e| {
        StepError::retryable(format!("restoring the saved plan: {e}"))
            .with_code(failures::WORKER_IO)
    })
}

fn is_stale_plan(message: &str) -> bool {
    message.to_ascii_lowercase().contains("saved plan is stale")
}
