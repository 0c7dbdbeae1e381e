//! `deployflow approve|reject <id>` answer a deployment waiting for approval;
//! `deployflow destroy <id>` starts the destroy job of a deployment. All through a
//! running API.

use anyhow::Context;
use clap::Args;
use serde_json::json;
use uuid::Uuid;

use crate::commands::client::ApiClient;
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
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn destroy(config: &Config, args: DestroyArgs) -> anyhow::Result<()> {
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
