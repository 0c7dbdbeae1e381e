//! `deployflow deploy <repo_url> --description …`: one deployment job run in this
//! process on the configured store (SQLite in DATA_DIR by default), with a live view
//! of its steps and log, then the generated files written to --out.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use engine::JobStatus;

use crate::commands::config_error;
use crate::commands::in_process::{Here, advice};
use crate::config::Config;

#[derive(Args)]
pub struct DeployArgs {
    /// The repository, e.g. https://github.com/acme/shop (file:// with ALLOW_LOCAL_REPOS=true).
    repo_url: String,
    /// The deployment requirements, in a sentence.
    #[arg(long, short)]
    description: String,
    /// Branch, tag or commit (default: the default branch).
    #[arg(long = "ref")]
    git_ref: Option<String>,
    /// Access token for a private repository; set it in GITHUB_TOKEN rather than here.
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    github_token: Option<String>,
    /// A value for one of the app's environment variables, `NAME=VALUE`
    /// (repeatable); sealed with the job, written to the deployment's
    /// environment. Prefer --env-file for secrets.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    env: Vec<String>,
    /// A dotenv file of the app's variables (`NAME=VALUE` lines); --env
    /// values win over it.
    #[arg(long, value_name = "FILE")]
    env_file: Option<PathBuf>,
    /// Directory the job's generated files are written to.
    #[arg(long, default_value = "deployflow-plan")]
    out: PathBuf,
}

pub async fn run(config: &Config, args: DeployArgs) -> anyhow::Result<()> {
    let here = Here::open(config).await?;
    let engine = &here.engine;
    let env = app_env(&args).map_err(config_error)?;
    let accepted = pipeline::DeployRequest {
        repo_url: args.repo_url.clone(),
        description: args.description.clone(),
        git_ref: args.git_ref.clone(),
        github_token: args.github_token.clone(),
        approve_before_apply: false,
        env,
    }
    .validate(&config.url_policy())
    .map_err(|e| config_error(anyhow::anyhow!("{e}")))?;
    let input = &accepted.input;
    let job = engine
        .submit_with_secrets(
            pipeline::WORKFLOW,
            serde_json::to_value(input)?,
            None,
            &accepted.secret_pairs(),
        )
        .await?
        .job;
    println!("deployment job {} for {}", job.id, input.repo_url);
    let job = here.run_to_end(job.id).await?;

    println!(
        "\njob {} {} in state {}",
        job.id,
        job.status,
        job.state.as_deref().unwrap_or("-")
    );
    if !matches!(job.status, JobStatus::Succeeded | JobStatus::Waiting) {
        anyhow::bail!(
            "the deployment ended {}: {}{}",
            job.status,
            job.error.clone().unwrap_or_default(),
            advice(&job)
        );
    }
    let artifacts = engine.artifacts(job.id).await?;
    for meta in &artifacts {
        let artifact = engine.artifact(job.id, &meta.path).await?;
        let path = args.out.join(&meta.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, &artifact.content)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if job.status == JobStatus::Waiting {
        println!(
            "wrote {} generated files to {}; the plan waits for approval{}.\n\
             Review {}/terraform and the plan in the job's log, then approve it with \
             `deployflow approve {}` (or reject it) against `deployflow serve` on the same \
             database: its worker applies the saved plan.",
            artifacts.len(),
            args.out.display(),
            job.error
                .as_deref()
                .map(|why| format!(" ({why})"))
                .unwrap_or_default(),
            args.out.display(),
            job.id
        );
        return Ok(());
    }
    let checkpoints = engine.details(job.id).await?.checkpoints;
    if let Some(preflight) = checkpoints.iter().find(|c| c.step_name == "preflight") {
        println!("{}", preflight_summary(&preflight.output));
    }
    let health = checkpoints
        .into_iter()
        .find(|c| c.step_name == "healthcheck");
    match health.as_ref().and_then(|c| c.output["url"].as_str()) {
        Some(url) => println!(
            "wrote {} generated files to {}; the app answers at {url}\n\
             take it down with `deployflow destroy --here {}` (same DATA_DIR or DATABASE_URL)",
            artifacts.len(),
            args.out.display(),
            job.id
        ),
        None => println!(
            "wrote {} generated files to {}; nothing was applied: review the Terraform in \
             {}/terraform",
            artifacts.len(),
            args.out.display(),
            args.out.display()
        ),
    }
    Ok(())
}

/// One line on what the preflight step found.
fn preflight_summary(output: &serde_json::Value) -> String {
    if let Some(reason) = output["skipped"].as_str() {
        return format!("preflight skipped: {reason}");
    }
    let size = output["image_size_bytes"]
        .as_u64()
        .map(|b| format!(", image {:.0} MB", b as f64 / 1e6))
        .unwrap_or_default();
    let status = output["probes"]
        .as_array()
        .and_then(|p| p.last())
        .and_then(|p| p["status"].as_u64())
        .map(|s| format!("HTTP {s}"))
        .unwrap_or_else(|| "an answer".to_owned());
    let placeholders = match output["placeholders"].as_array() {
        Some(names) if !names.is_empty() => format!(
            " (with placeholder values for {})",
            names
                .iter()
                .filter_map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => String::new(),
    };
    format!(
        "preflight: built in {:.0}s{size}; {status} from {} {:.1}s after start{placeholders}",
        output["build_seconds"].as_f64().unwrap_or_default(),
        output["url"].as_str().unwrap_or("the app"),
        output["start_seconds"].as_f64().unwrap_or_default(),
    )
}

/// The app's variable values: --env-file, then each --env over it.
fn app_env(args: &DeployArgs) -> anyhow::Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    if let Some(file) = &args.env_file {
        let entries = dotenvy::from_path_iter(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        for entry in entries {
            let (name, value) = entry.with_context(|| format!("in {}", file.display()))?;
            env.insert(name, value);
        }
    }
    for pair in &args.env {
        let Some((name, value)) = pair.split_once('=') else {
            anyhow::bail!("--env {pair:?}: expected NAME=VALUE");
        };
        env.insert(name.trim().to_owned(), value.to_owned());
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::{DeployArgs, app_env, preflight_summary};

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: DeployArgs,
    }

    #[test]
    fn variable_values_come_from_the_env_file_then_each_env_flag() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.env");
        std::fs::write(
            &file,
            "# the app's settings\nDATABASE_URL=postgres://db/app\nexport GREETING=\"hello there\"\n",
        )
        .unwrap();
        let cli = Cli::try_parse_from([
            "deploy",
            "https://github.com/acme/shop",
            "-d",
            "cheap",
            "--env-file",
            file.to_str().unwrap(),
            "--env",
            "GREETING=hi=again",
        ])
        .unwrap();
        let env = app_env(&cli.args).unwrap();
        assert_eq!(env["DATABASE_URL"], "postgres://db/app");
        assert_eq!(
            env["GREETING"], "hi=again",
            "--env wins, split at the first ="
        );
        let bad = Cli::try_parse_from(["deploy", "u", "-d", "x", "--env", "NOVALUE"]).unwrap();
        assert!(
            app_env(&bad.args)
                .unwrap_err()
                .to_string()
                .contains("NAME=VALUE")
        );
    }

    #[test]
    fn the_preflight_line_says_what_was_measured_or_why_not() {
        assert_eq!(
            preflight_summary(&json!({"skipped": "no Docker engine answers"})),
            "preflight skipped: no Docker engine answers"
        );
        let line = preflight_summary(&json!({
            "build_seconds": 41.2, "image_size_bytes": 180_000_000u64,
            "url": "http://127.0.0.1:41234/healthz", "start_seconds": 2.25,
            "probes": [{"status": null}, {"status": 200}], "placeholders": ["SECRET_KEY"]
        }));
        assert_eq!(
            line,
            "preflight: built in 41s, image 180 MB; HTTP 200 from http://127.0.0.1:41234/healthz 2.2s after start (with placeholder values for SECRET_KEY)"
        );
    }
}
