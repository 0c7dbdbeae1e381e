//! `preflight` → Preflighted: the bundle built and started on a Docker
//! engine as `make up` would, its health path probed, then torn down; or
//! skipped, with the reason, when no engine answers.

use std::sync::Arc;

use engine::{StepContext, StepError};
use serde_json::Value;

use super::{Shared, bundle_dir};
use crate::analyse::Analysed;
use crate::plan::GenerateOutput;
use crate::preflight::{self, PreflightOutput, Subject};

pub(super) async fn run(
    shared: Arc<Shared>,
    ctx: StepContext,
    _input: Value,
) -> Result<PreflightOutput, StepError> {
    let config = &shared.config.docker;
    let generated: GenerateOutput = ctx.output_of("generate")?;
    let analysed: Analysed = ctx.output_of("analyse")?;
    let engine = match preflight::engine(config).await {
        Ok(engine) => engine,
        Err(outcome) => {
            if let Ok(skipped) = &outcome {
                ctx.info(format!(
                    "preflight skipped: {}",
                    skipped.skipped.as_deref().unwrap_or_default()
                ));
            }
            return outcome;
        }
    };
    let values = super::app_env::given(&ctx).await?;
    let scratch = config.work_dir.join(ctx.job_id.to_string());
    let source = bundle_dir::materialise(&shared, &ctx, &scratch).await?;
    let name = bundle_dir::project_name("preflight", ctx.job_id);
    // Managed stores are the cloud's: preflight runs them beside the app.
    let (compose_file, generated_secrets) = match &generated.local_stores {
        Some(local) => {
            ctx.info(format!(
                "preflight runs {}: the stores the deployment gets managed run beside the app",
                local.compose_file
            ));
            let mut secrets = generated.generated_secrets.clone();
            secrets.extend(local.generated_secrets.iter().cloned());
            (local.compose_file.clone(), secrets)
        }
        None => (
            generated.compose_file.clone(),
            generated.generated_secrets.clone(),
        ),
    };
    let result = preflight::run(
        config,
        engine,
        &ctx,
        &name,
        &Subject {
            source: &source,
            compose_file: &compose_file,
            app_service: &generated.app_service,
            container_port: generated.container_port,
            health_path: analysed.analysis.health_path.as_deref(),
            required_variables: &generated.required_variables,
            values: &values,
            generated_secrets: &generated_secrets,
            wrapped: generated.wrapped,
        },
    )
    .await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}
