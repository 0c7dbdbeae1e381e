//! `deployflow run <workflow>` submits a job of any workflow to a running API;
//! `deployflow submit <repo_url>` requests a deployment (`POST /request`).

use anyhow::Context;
use clap::Args;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::commands::ConfigError;
use crate::commands::client::ApiClient;
use crate::commands::output::{JobSummary, OutputArgs, emit, emit_json};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Workflow name (`GET /workflows` on the API lists them), e.g. `demo`.
    workflow: String,
    /// The job's input, a JSON object, e.g. '{"sleep_ms": 10}'.
    #[arg(long, default_value = "{}")]
    input: String,
    /// Submitting again with the same key returns the first job instead of a new one.
    #[arg(long)]
    idempotency_key: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn run(config: &Config, args: RunArgs) -> anyhow::Result<()> {
    let input: Value = serde_json::from_str(&args.input).map_err(|e| {
        ConfigError(format!(
            "--input must be a JSON object such as '{{\"sleep_ms\": 10}}': {e}"
        ))
    })?;
    if !input.is_object() {
        return Err(ConfigError(format!(
            "--input must be a JSON object such as '{{\"sleep_ms\": 10}}', got {input}"
        ))
        .into());
    }
    let mut body = json!({ "input": input });
    if let Some(key) = &args.idempotency_key {
        body["idempotency_key"] = json!(key);
    }
    let client = ApiClient::new(&config.api_url, config.token.as_deref())?;
    let url = client.url(&["workflows", &args.workflow, "runs"], &[]);
    let response = client.post(url, Some(&body)).await?;
    if args.output.json {
        return emit_json(&response.raw);
    }
    let job: JobSummary =
        serde_json::from_value(response.body).context("unexpected answer from the API")?;
    let what = if response.status == StatusCode::OK {
        "job already submitted with this idempotency key:"
    } else {
        "submitted job"
    };
    emit(&format!(
        "{what} {} ({}, {})\nfollow it with: deployflow status {}\n",
        job.id, job.workflow, job.status, job.id
    ))
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The repository to deploy, e.g. https://github.com/acme/shop.
    repo_url: String,
    /// The deployment requirements, in a sentence.
    #[arg(long, short)]
    description: String,
    /// Branch, tag or commit (default: the default branch).
    #[arg(long = "ref")]
    git_ref: Option<String>,
    /// Access token for a private repository. Set it in GITHUB_TOKEN rather than on the
    /// command line, where `ps` shows it. Sent once; the server keeps it encrypted.
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    github_token: Option<String>,
    /// Submitting again with the same key returns the first job instead of a new one.
    #[arg(long)]
    idempotency_key: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn submit(config: &Config, args: SubmitArgs) -> anyhow::Result<()> {
    let mut body = json!({ "repo_url": args.repo_url, "description": args.description });
    if let Some(git_ref) = &args.git_ref {
        body["ref"] = json!(git_ref);
    }
    if let Some(token) = args.github_token.as_deref().filter(|t| !t.is_empty()) {
        body["github_token"] = json!(token);
    }
    if let Some(key) = &args.idempotency_key {
        body["idempotency_key"] = json!(key);
    }
    let client = ApiClient::new(&config.api_url, config.token.as_deref())?;
    let response = client
        .post(client.url(&["request"], &[]), Some(&body))
        .await?;
    if args.output.json {
        return emit_json(&response.raw);
    }
    let job: JobSummary =
        serde_json::from_value(response.body).context("unexpected answer from the API")?;
    let what = if response.status == StatusCode::OK {
        "deployment already requested with this idempotency key:"
    } else {
        "deployment requested:"
    };
    emit(&format!(
        "{what} job {} ({})\nfollow it with: deployflow status {}\n",
        job.id, job.status, job.id
    ))
}
