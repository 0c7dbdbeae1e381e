//! `deployflow retry <id>` and `deployflow cancel <id>`: change a job through a running API.

use anyhow::Context;
use clap::Args;
use serde_json::json;
use uuid::Uuid;

use crate::commands::client::ApiClient;
use crate::commands::output::{self, CancelResponse, JobSummary, OutputArgs, emit, emit_json};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The job's id (a failed or cancelled job, or any job with --from-step).
    #[arg(value_parser = output::job_id)]
    id: Uuid,
    /// Run this step and every later one again (their checkpoints are discarded).
    #[arg(long)]
    from_step: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn retry(config: &Config, args: RetryArgs) -> anyhow::Result<()> {
    let client = ApiClient::new(&config.api_url, config.token.as_deref())?;
    let body = args
        .from_step
        .as_ref()
        .map(|step| json!({ "from_step": step }));
    let url = client.url(&["job", &args.id.to_string(), "retry"], &[]);
    let response = client.post(url, body.as_ref()).await?;
    if args.output.json {
        return emit_json(&response.raw);
    }
    let job: JobSummary =
        serde_json::from_value(response.body).context("unexpected answer from the API")?;
    let from = job
        .current_step
        .as_deref()
        .map(|step| format!(", from step {step}"))
        .unwrap_or_default();
    emit(&format!("job {} {}{from}\n", job.id, job.status))
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The job's id.
    #[arg(value_parser = output::job_id)]
    id: Uuid,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn cancel(config: &Config, args: CancelArgs) -> anyhow::Result<()> {
    let client = ApiClient::new(&config.api_url, config.token.as_deref())?;
    let url = client.url(&["job", &args.id.to_string(), "cancel"], &[]);
    let response = client.post(url, None).await?;
    if args.output.json {
        return emit_json(&response.raw);
    }
    let answer: CancelResponse =
        serde_json::from_value(response.body).context("unexpected answer from the API")?;
    let note = if answer.cancel == "requested" {
        ": cancellation requested, its step stops at its next heartbeat"
    } else {
        ""
    };
    emit(&format!("job {} {}{note}\n", answer.id, answer.status))
}
