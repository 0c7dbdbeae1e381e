//! `analyse` → Analysed, or the job ends `Denied` when the repository is not an HTTP
//! server.

use std::sync::Arc;

use engine::{StepContext, StepError};

use super::Shared;
use super::clone::checkout;
use crate::analyse::{Analysed, analyse_snapshot, log_summary};
use crate::error::PipelineError;
use crate::failures;
use crate::intake::DeployInput;
use crate::memo::StepMemo;

/// The state a job ends in when its repository is not something deployflow deploys.
pub const DENIED: &str = "Denied";

pub(super) async fn run(
    shared: Arc<Shared>,
    ctx: StepContext,
    input: DeployInput,
) -> Result<Analysed, StepError> {
    let path = checkout(&shared, &ctx).await?;
    let snapshot = repo::read_snapshot(&path, &shared.config.snapshot_limits)
        .await
        .map_err(PipelineError::from)?;
    let memo = StepMemo(&ctx);
    let analysed = tokio::select! {
        analysed = analyse_snapshot(&snapshot, &input.description, shared.model.as_deref(), &memo)
            => analysed?,
        _ = ctx.cancellation.cancelled() => return Err(StepError::retryable("analysis interrupted")),
    };
    log_summary(&analysed.analysis);
    if !analysed.analysis.http {
        let reason = analysed
            .analysis
            .deny_reason
            .clone()
            .unwrap_or_else(|| "no HTTP server was found in the repository".to_owned());
        tracing::warn!(%reason, "denied: not an HTTP server");
        return Err(StepError::ending_in(DENIED, format!("denied: {reason}"))
            .with_code(failures::ANALYSE_NOT_HTTP));
    }
    Ok(analysed)
}
