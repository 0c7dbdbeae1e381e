//! `deployflow status <id>` and `deployflow list`: read jobs from a running API.

use anyhow::Context;
use clap::Args;
use uuid::Uuid;

use crate::commands::client::ApiClient;
use crate::commands::output::{
    self, AttemptView, JobList, JobView, OutputArgs, Table, cell, duration_ms, emit, emit_json,
    opt_time, or_dash, time,
};
use crate::config::Config;

/// Characters of an error shown in a table cell (`--json` has all of it).
const ERROR_CELL_CHARS: usize = 80;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The job's id.
    #[arg(value_parser = output::job_id)]
    id: Uuid,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn status(config: &Config, args: StatusArgs) -> anyhow::Result<()> {
    let client = ApiClient::new(&config.api_url, config.token.as_deref())?;
    let response = client
        .get(client.url(&["job", &args.id.to_string()], &[]))
        .await?;
    if args.output.json {
        return emit_json(&response.raw);
    }
    let job: JobView =
        serde_json::from_value(response.body).context("unexpected answer from the API")?;
    emit(&render_job(&job))
}

/// The job's fields, then its step timeline: one row per attempt, oldest first, then one
/// per step still to run.
fn render_job(job: &JobView) -> String {
    let version: String = job.workflow_version.chars().take(12).collect();
    let mut fields = vec![
        ("job", job.id.to_string()),
        ("workflow", format!("{} (version {version})", job.workflow)),
        ("status", job.status.clone()),
        ("state", or_dash(job.state.as_deref())),
        ("current step", or_dash(job.current_step.as_deref())),
    ];
    if let Some(step) = &job.failed_step {
        fields.push(("failed step", step.clone()));
    }
    if let Some(error) = &job.error {
        fields.push(("error", error.clone()));
    }
    if let Some(code) = &job.error_code {
        fields.push(("error code", code.clone()));
    }
    if let Some(suggestion) = &job.suggestion {
        fields.push(("what to do", suggestion.clone()));
    }
    if let Some(key) = &job.idempotency_key {
        fields.push(("idempotency key", key.clone()));
    }
    fields.push(("created", time(job.created_at)));
    fields.push(("started", opt_time(job.started_at)));
    let finished = match (job.started_at, job.finished_at) {
        (Some(start), Some(end)) => format!(
            "{} (took {})",
            time(end),
            duration_ms((end - start).num_milliseconds())
        ),
        (_, end) => opt_time(end),
    };
    fields.push(("finished", finished));
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in &fields {
        out.push_str(&format!("{key:<width$}  {value}\n"));
    }

    // Attempts in the order they ran: a job retried from a step runs it (and the later
    // ones) again, numbering the new attempts from 1.
    let mut attempts: Vec<(&str, &AttemptView)> = job
        .steps
        .iter()
        .flat_map(|step| step.attempts.iter().map(|a| (step.name.as_str(), a)))
        .collect();
    attempts.sort_by_key(|(_, a)| a.started_at);
    let mut timeline = Table::new(&["step", "attempt", "outcome", "duration", "error"]);
    for (step, attempt) in attempts {
        timeline.row(vec![
            step.to_owned(),
            attempt.attempt.to_string(),
            attempt.outcome.clone(),
            duration_ms(attempt.duration_ms),
            cell(attempt.error.as_deref(), ERROR_CELL_CHARS),
        ]);
    }
    // Then what is still to come: the step running or waiting to retry, and later steps.
    for step in &job.steps {
        if matches!(step.status.as_str(), "pending" | "running" | "retrying") {
            timeline.row(vec![
                step.name.clone(),
                "-".into(),
                format!("({})", step.status),
                "-".into(),
                String::new(),
            ]);
        }
    }
    out.push('\n');
    out.push_str(&timeline.to_string());
    out
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only jobs in these statuses, comma-separated: queued, running, waiting, succeeded, failed,
    /// cancelled.
    #[arg(long)]
    status: Option<String>,
    /// Only jobs of this workflow.
    #[arg(long)]
    workflow: Option<String>,
    /// Jobs per page, 1 to 200 (the API's default: 50).
    #[arg(long)]
    limit: Option<u32>,
    /// The next page: the cursor a previous `list` printed.
    #[arg(long)]
    cursor: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

pub async fn list(config: &Config, args: ListArgs) -> anyhow::Result<()> {
    let client = ApiClient::new(&config.api_url, config.token.as_deref())?;
    let mut query = Vec::new();
    if let Some(status) = args.status {
        query.push(("status", status));
    }
    if let Some(workflow) = args.workflow {
        query.push(("workflow", workflow));
    }
    if let Some(limit) = args.limit {
        query.push(("limit", limit.to_string()));
    }
    if let Some(cursor) = args.cursor {
        query.push(("cursor", cursor));
    }
    let response = client.get(client.url(&["list"], &query)).await?;
    if args.output.json {
        return emit_json(&response.raw);
    }
    let page: JobList =
        serde_json::from_value(response.body).context("unexpected answer from the API")?;
    emit(&render_list(&page))
}

fn render_list(page: &JobList) -> String {
    if page.jobs.is_empty() {
        return "no jobs\n".to_owned();
    }
    let mut table = Table::new(&[
        "id", "workflow", "status", "state", "step", "created", "finished", "error",
    ]);
    for job in &page.jobs {
        table.row(vec![
            job.id.to_string(),
            job.workflow.clone(),
            job.status.clone(),
            or_dash(job.state.as_deref()),
            or_dash(job.current_step.as_deref()),
            time(job.created_at),
            opt_time(job.finished_at),
            cell(job.error.as_deref(), ERROR_CELL_CHARS),
        ]);
    }
    let mut out = table.to_string();
    if let Some(cursor) = page.next_cursor {
        out.push_str(&format!("\nmore jobs: deployflow list --cursor {cursor}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_fields_and_a_timeline_with_retries_and_pending_steps() {
        let job: JobView = serde_json::from_value(json!({
            "id": "0190f3a2-7c1e-7d3b-9a4e-2f1c0b5d6e7f",
            "workflow": "demo",
            "workflow_version": "0123456789abcdef0123",
            "status": "queued",
            "state": "Prepared",
            "current_step": "build",
            "failed_step": null,
            "error": null,
            "input": {},
            "idempotency_key": null,
            "created_at": "2025-01-02T03:04:05Z",
            "updated_at": "2025-01-02T03:04:06Z",
            "started_at": "2025-01-02T03:04:05.500Z",
            "finished_at": null,
            "steps": [
                {"name": "prepare", "state": "Prepared", "status": "completed", "attempts": [
                    {"attempt": 1, "worker": "w", "started_at": "2025-01-02T03:04:05Z",
                     "finished_at": "2025-01-02T03:04:05Z", "duration_ms": 12,
                     "outcome": "succeeded", "error": null}]},
                {"name": "build", "state": "Built", "status": "retrying", "attempts": [
                    {"attempt": 1, "worker": "w", "started_at": "2025-01-02T03:04:05Z",
                     "finished_at": "2025-01-02T03:04:06Z", "duration_ms": 1500,
                     "outcome": "failed", "error": "demo failure\nsecond line"}]},
                {"name": "publish", "state": "Published", "status": "pending", "attempts": []}
            ],
            "outputs": {},
            "logs": [],
            "logs_cursor": null,
            "links": {"self": "/job/0190f3a2-7c1e-7d3b-9a4e-2f1c0b5d6e7f"}
        }))
        .unwrap();
        let text = render_job(&job);
        assert!(text.contains("status        queued\n"), "{text}");
        assert!(
            text.contains("workflow      demo (version 0123456789ab)\n"),
            "{text}"
        );
        assert!(text.contains("finished      -\n"), "{text}");
        let timeline: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("STEP"))
            .collect();
        assert_eq!(
            timeline,
            [
                "STEP     ATTEMPT  OUTCOME     DURATION  ERROR",
                "prepare  1        succeeded   12ms",
                "build    1        failed      1.5s      demo failure…",
                "build    -        (retrying)  -",
                "publish  -        (pending)   -",
            ],
            "{text}"
        );
    }

    #[test]
    fn renders_a_page_of_jobs_and_the_next_cursor() {
        let page: JobList = serde_json::from_value(json!({
            "jobs": [{
                "id": "0190f3a2-7c1e-7d3b-9a4e-2f1c0b5d6e7f", "workflow": "demo",
                "status": "succeeded", "state": "Verified", "current_step": null,
                "error": null, "created_at": "2025-01-02T03:04:05Z",
                "updated_at": "2025-01-02T03:04:06Z", "finished_at": "2025-01-02T03:04:06Z",
                "links": {"self": "/job/0190f3a2-7c1e-7d3b-9a4e-2f1c0b5d6e7f"}
            }],
            "next_cursor": 41
        }))
        .unwrap();
        let text = render_list(&page);
        assert!(text.starts_with("ID "), "{text}");
        assert!(
            text.contains("0190f3a2-7c1e-7d3b-9a4e-2f1c0b5d6e7f  demo      succeeded  Verified  -"),
            "{text}"
        );
        assert!(
            text.ends_with("more jobs: deployflow list --cursor 41\n"),
            "{text}"
        );
        let empty = JobList {
            jobs: Vec::new(),
            next_cursor: None,
        };
        assert_eq!(render_list(&empty), "no jobs\n");
    }
}
