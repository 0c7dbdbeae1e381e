//! `choose` → DeploymentChosen: the target, why, sizing and a cost estimate.

use std::sync::Arc;

use engine::{StepContext, StepError};
use infra::choose::Choice;
use serde_json::Value;

use super::Shared;
use crate::analyse::Analysed;
use crate::memo::StepMemo;

pub(super) async fn run(
    shared: Arc<Shared>,
    ctx: StepContext,
    _input: Value,
) -> Result<Choice, StepError> {
    let analysed: Analysed = ctx.output_of("analyse")?;
    let memo = StepMemo(&ctx);
    let choice = crate::plan::choose(&analysed, shared.model.as_deref(), &memo).await?;
    tracing::info!(
        target = %choice.target, region = %choice.region, instance_type = %choice.instance_type,
        monthly_cost_usd = choice.monthly_cost_usd, decided_by = %choice.decided_by,
        "chose {} in {} (about ${:.2}/month)", choice.target, choice.region, choice.monthly_cost_usd
    );
    for reason in &choice.reasons {
        tracing::info!("why: {reason}");
    }
    Ok(choice)
}
