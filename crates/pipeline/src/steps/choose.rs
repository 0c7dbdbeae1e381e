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
    let choice = match docker_host_default(&shared, &analysed).await {
        Some(choice) => choice,
        None => crate::plan::choose(&analysed, shared.model.as_deref(), &memo).await?,
    };
    let given = super::app_env::given(&ctx).await?;
    let given: Vec<&str> = given.keys().map(String::as_str).collect();
    let choice = choice.with_given_values(&given);
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

/// The Docker host, when this process deploys there by default (no cloud
/// credentials, embedded mode), the description names no target and an
/// engine answers.
async fn docker_host_default(shared: &Shared, analysed: &Analysed) -> Option<Choice> {
    let config = &shared.config.docker;
    if !config.docker_host_by_default || analysed.requirements.target.is_some() {
        return None;
    }
    let version = crate::docker::engine_version(config).await.ok()?;
    Some(infra::choose::on_docker_host(
        &analysed.analysis,
        &analysed.requirements,
        format!(
            "No cloud credentials are configured and a Docker engine answers ({}, Docker {version}): the app runs there. Name a target in the description (\"on AWS with a VM\", \"serverless\"...) to plan a cloud deployment instead.",
            config.docker_host().unwrap_or("the local engine")
        ),
    ))
}
