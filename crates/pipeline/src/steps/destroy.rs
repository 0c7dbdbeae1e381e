//! The destroy workflow's one step: `terraform destroy` of a deployment, on the
//! same state (the deployment's `pg` workspace or state file), in a working
//! directory rebuilt from the deployment's artifacts.

use std::sync::Arc;

use engine::{StepContext, StepError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Shared;
use super::apply::Session;
use crate::terraform::workdir;

/// The destroy workflow's name, as in `workflows/destroy.toml`.
pub const DESTROY_WORKFLOW: &str = "destroy";

/// The destroy workflow's input.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestroyInput {
    /// The deployment job whose infrastructure goes.
    pub deployment: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DestroyOutput {
    pub deployment: Uuid,
    pub resources_in_plan: usize,
}

pub(super) async fn run(
    shared: Arc<Shared>,
    ctx: StepContext,
    input: DestroyInput,
) -> Result<DestroyOutput, StepError> {
    let tf = &shared.config.terraform;
    if let crate::terraform::ApplyMode::PlanOnly { reason } = &tf.mode {
        return Err(StepError::permanent(format!(
            "this worker does not run Terraform against the cloud: {reason}"
        )));
    }
    let files = ctx.artifacts_under(input.deployment, "terraform/").await?;
    if files.is_empty() {
        return Err(StepError::permanent(format!(
            "job {} has no generated Terraform: nothing to destroy",
            input.deployment
        )));
    }
    let dir = workdir::prepare(&tf.work_dir, ctx.job_id, &files, &tf.state)?;
    // Destroy reads the bundle variable but uploads nothing: an empty archive serves.
    let bundle = workdir::write_bundle(&dir, None, &[])?;
    let session = Session::new(tf, &ctx, dir, input.deployment, &bundle);
    session.init().await?;
    session.destroy().await?;
    session.keep_local_state().await?;
    ctx.info(format!(
        "destroyed the infrastructure of job {}",
        input.deployment
    ));
    Ok(DestroyOutput {
        deployment: input.deployment,
        resources_in_plan: files.len(),
    })
}
