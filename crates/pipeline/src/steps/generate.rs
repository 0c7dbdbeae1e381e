//! `generate` → TerraformGenerated: the Docker bundle and the Terraform that passed
//! the policy gate, stored as the job's artifacts.

use std::sync::Arc;

use engine::{StepContext, StepError};
use infra::choose::Choice;
use serde_json::Value;

use super::Shared;
use super::clone::checkout;
use crate::analyse::Analysed;
use crate::error::PipelineError;
use crate::memo::StepMemo;
use crate::plan::GenerateOutput;

pub(super) async fn run(
    shared: Arc<Shared>,
    ctx: StepContext,
    _input: Value,
) -> Result<GenerateOutput, StepError> {
    let analysed: Analysed = ctx.output_of("analyse")?;
    let choice: Choice = ctx.output_of("choose")?;
    let path = checkout(&shared, &ctx).await?;
    let snapshot = repo::read_snapshot(&path, &shared.config.snapshot_limits)
        .await
        .map_err(PipelineError::from)?;
    let memo = StepMemo(&ctx);
    let generation = crate::plan::generate(
        &ctx.job_id.to_string(),
        &analysed,
        &choice,
        &snapshot,
        shared.model.as_deref(),
        &memo,
        &shared.config.generate_settings(),
    )
    .await?;
    for (path, content) in generation.files() {
        ctx.put_artifact(&path, content.as_bytes()).await?;
    }
    Ok(generation.output())
}
