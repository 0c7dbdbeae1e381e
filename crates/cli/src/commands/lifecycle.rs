//! `deployflow approve|reject <id>` answer a deployment waiting for approval;
//! `deployflow destroy <id>` starts the destroy job of a deployment. All through a
//! running API, except `destroy --here`, which runs the destroy job in this
//! process on the configured store (a deployment `deployflow deploy` ran).

use anyhow::Context;
use clap::Args;
use engine::JobStatus;
use serde_json::json;
use uuid::Uuid;

use crate::commands::client::ApiClient;
use crate::commands::in_process::{Here, advice};
use crate::commands::output::{self, JobSummary, OutputArgs, emit, emit_json};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct ApprovalArgs {
    /// The deployment job's id (waiting in state AwaitingApproval).
    #[arg(value_parser = output::job_id)]
    id: Uuid,
    /// Why, for the job's log.
    #[arg(long)]
    comment: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn approve(config: &Config, args: ApprovalArgs) -> anyhow::Result<()> {
    answer(config, args, "approve").await
}

pub async fn reject(config: &Config, args: ApprovalArgs) -> anyhow::Result<()> {
    answer(config, args, "reject").await
}

async fn answer(config: &Config, args: ApprovalArgs, verb: &str) -> anyhow::Result<()> {
    let client = ApiClient::new(&config.api_url, config.token.as_deref())?;
    let body = args.comment.as_ref().map(|c| json!({ "comment": c }));
    let url = client.url(&["job", &args.id.to_string(), verb], &[]);
    let response = client.post(url, body.as_ref()).await?;
    if args.output.json {
        return emit_json(&response.raw);
    }
    let job: JobSummary =
        serde_json::from_value(response.body).context("unexpected answer from the API")?;
    emit(&format!("job {} {} ({verb}d)\n", job.id, job.status))
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The deployment job whose infrastructure goes.
    #[arg(value_parser = output::job_id)]
    id: Uuid,
    /// Run the destroy job in this process on the configured store (DATA_DIR's
    /// SQLite, or DATABASE_URL), as `deployflow deploy` ran the deployment,
    /// instead of asking the API at DEPLOYFLOW_API.
    #[arg(long)]
    here: bool,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn destroy(config: &Config, args: DestroyArgs) -> anyhow::Result<()> {
    if args.here {
        return destroy_here(config, args).await;
    }
    let client = ApiClient::new(&config.api_url, config.token.as_deref())?;
    let url = client.url(&["job", &args.id.to_string(), "destroy"], &[]);
    let response = client.post(url, None).await?;
    if args.output.json {
        return emit_json(&response.raw);
    }
    let job: JobSummary =
        serde_json::from_value(response.body).context("unexpected answer from the API")?;
    emit(&format!(
        "destroy job {} {} (follow it with `deployflow status {}`)\n",
        job.id, job.status, job.id
    ))
}

/// The destroy job of a deployment in the configured store, run here: the
/// same checks and the same job (`destroy:<id>`) the API's route makes; a
/// destroy job that failed before is retried.
async fn destroy_here(config: &Config, args: DestroyArgs) -> anyhow::Result<()> {
    let here = Here::open(config).await?;
    let id = args.id;
    let deployment = here.engine.job(id).await?;
    if deployment.workflow != pipeline::WORKFLOW {
        anyhow::bail!(
            "job {id} is a {} job, not a deployment: there is nothing to destroy",
            deployment.workflow
        );
    }
    if !deployment.status.is_terminal() {
        anyhow::bail!(
            "job {id} is {}: cancel it or let it finish before destroying what it applied",
            deployment.status
        );
    }
    let input = serde_json::to_value(pipeline::DestroyInput { deployment: id })?;
    let mut job = here
        .engine
        .submit(
            pipeline::DESTROY_WORKFLOW,
            input,
            Some(format!("destroy:{id}")),
        )
        .await?
        .job;
    if matches!(job.status, JobStatus::Failed | JobStatus::Cancelled) {
        println!(
            "destroy job {} ended {} before: retrying it",
            job.id, job.status
        );
        job = here.engine.retry(job.id, None).await?;
    }
    if job.status != JobStatus::Succeeded {
        println!("destroy job {} for deployment {id}", job.id);
        job = here.run_to_end(job.id).await?;
    }
    if args.output.json {
        let summary = json!({
            "id": job.id, "workflow": job.workflow, "status": job.status.to_string(),
            "state": job.state, "error": job.error, "error_code": job.error_code,
            "deployment": id,
        });
        return emit_json(&summary.to_string());
    }
    if job.status != JobStatus::Succeeded {
        anyhow::bail!(
            "the destroy job {} ended {}: {}{}",
            job.id,
            job.status,
            job.error.clone().unwrap_or_default(),
            advice(&job)
        );
    }
    emit(&format!(
        "destroy job {} succeeded: what deployment {id} applied is gone\n",
        job.id
    ))
}
