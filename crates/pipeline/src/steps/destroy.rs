//! The destroy workflow's one step: `terraform destroy` of a deployment, on the
//! same state (the deployment's `pg` workspace or state file), in a working
//! directory rebuilt from the deployment's artifacts.

use std::sync::Arc;

use engine::{StepContext, StepError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Shared;
use super::terraform_session::Session;
use crate::failures;
use crate::terraform::workdir;

/// The destroy workflow's name, as in `workflows/destroy.toml`.
pub const DESTROY_WORKFLOW: &str = "destroy";

/// The destroy workflow checks what it is asked to destroy itself, whatever
/// route submitted it: a deployment job that has finished.
async fn check_deployment(ctx: &StepContext, deployment: Uuid) -> Result<(), StepError> {
    let Some(job) = ctx.other_job(deployment).await? else {
        return Err(
            StepError::permanent(format!("there is no job {deployment} to destroy"))
                .with_code(failures::DESTROY_NO_SUCH_JOB),
        );
    };
    if job.workflow != crate::WORKFLOW {
        return Err(StepError::permanent(format!(
            "job {deployment} is a {} job, not a deployment: there is nothing to destroy",
            job.workflow
        ))
        .with_code(failures::DESTROY_NOT_A_DEPLOYMENT));
    }
    if !job.status.is_terminal() {
        return Err(StepError::permanent(format!(
            "job {deployment} is {}: cancel it or let it finish before destroying what it applied",
            job.status
        ))
        .with_code(failures::DESTROY_JOB_ACTIVE));
    }
    Ok(())
}

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
    check_deployment(&ctx, input.deployment).await?;
    if let Some(project) = super::docker_host::deployment_of(&ctx, input.deployment).await? {
        let removed =
            super::docker_host::destroy(&shared, &ctx, input.deployment, &project).await?;
        return Ok(DestroyOutput {
            deployment: input.deployment,
            resources_in_plan: removed,
        });
    }
    let tf = &shared.config.terraform;
    if let crate::terraform::ApplyMode::PlanOnly { reason } = &tf.mode {
        return Err(StepError::permanent(format!(
            "this worker does not run Terraform against the cloud: {reason}"
        ))
        .with_code(failures::DESTROY_NOT_HERE));
    }
    let files = ctx.artifacts_under(input.deployment, "terraform/").await?;
    if files.is_empty() {
        return Err(StepError::permanent(format!(
            "job {} has no generated Terraform: nothing to destroy",
            input.deployment
        ))
        .with_code(failures::DESTROY_NOT_HERE));
    }
    let dir = workdir::prepare(&tf.work_dir, ctx.job_id, &files, &tf.state)?;
    // A VM's configuration reads the bundle variable; destroy uploads nothing, so
    // an empty archive serves. Read as Terraform reads the files: a comment
    // naming the variable, or a label written otherwise, must not decide.
    // The directory's files, not the stored ones: the backend file
    // deployflow writes replaces one of that name.
    let prepared = workdir::read_tf_files(&dir)?;
    let declares_bundle = infra::terraform::declares_variable(
        prepared
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_bytes())),
        infra::terraform::BUNDLE_PATH_VARIABLE,
    );
    let mut variables = if declares_bundle {
        let bundle = workdir::write_bundle(&dir, None, &[])?;
        vec![super::apply::bundle_variable(&bundle)]
    } else {
        Vec::new()
    };
    // The tag the apply planned with, where the configuration reads one.
    let tagged = infra::terraform::declares_variable(
        prepared
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_bytes())),
        infra::terraform::IMAGE_TAG_VARIABLE,
    );
    let tag = ctx
        .artifacts_under(input.deployment, super::apply::IMAGE_TAG_ARTIFACT)
        .await?
        .into_iter()
        .find(|(path, _)| path == super::apply::IMAGE_TAG_ARTIFACT)
        .and_then(|(_, tag)| String::from_utf8(tag).ok())
        .filter(|tag| !tag.is_empty());
    if let (true, Some(tag)) = (tagged, tag) {
        variables.push(format!(
            "-var={}={tag}",
            infra::terraform::IMAGE_TAG_VARIABLE
        ));
    }
    // The values the apply planned with: the destroy refreshes the same
    // configuration, and an expression of them (a setting's name, a count)
    // must evaluate as it did, or the destroy stops half way.
    let mut values = super::app_env::given_to(&ctx, input.deployment).await?;
    values.extend(
        super::app_env::kept_by(&ctx, input.deployment, super::apply::GENERATED_ARTIFACT).await?,
    );
    let session = Session::new(tf, &ctx, dir, input.deployment, variables).with_app_env(&values);
    session.init().await?;
    let tokens = infra::terraform::data_source_addresses(
        prepared
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_bytes())),
        infra::terraform::CLUSTER_TOKEN_DATA_SOURCE,
    );
    session.destroy(&tokens).await?;
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
