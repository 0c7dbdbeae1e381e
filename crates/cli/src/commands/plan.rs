//! `deployflow plan <path-or-url> --description … --out DIR`: clone → analyse →
//! choose → generate without a database or cloud, writing the Docker bundle and the
//! Terraform to DIR.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::commands::analyse::LocalAnalysis;
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// A directory, or a repository URL (https://github.com/<owner>/<repo>).
    pub source: String,
    /// The deployment requirements, in a sentence.
    #[arg(long, short)]
    pub description: String,
    /// Directory to write the plan to (created; existing files are overwritten).
    #[arg(long, default_value = "plan")]
    pub out: PathBuf,
    /// Branch, tag or commit to clone (default: the default branch).
    #[arg(long = "ref")]
    pub git_ref: Option<String>,
}

pub async fn run(config: &Config, args: PlanArgs) -> anyhow::Result<()> {
    let LocalAnalysis {
        pipeline,
        source,
        snapshot,
        model,
        memo,
        analysed,
    } = LocalAnalysis::run(
        config,
        &args.source,
        args.git_ref.as_deref(),
        &args.description,
    )
    .await?;
    let a = &analysed.analysis;
    if !a.http {
        anyhow::bail!(
            "denied: {}",
            a.deny_reason
                .as_deref()
                .unwrap_or("no HTTP server was found")
        );
    }
    let choice = pipeline::plan::choose(&analysed, model.as_ref(), &memo).await?;
    let plan_id = format!(
        "plan-{}",
        source
            .commit
            .as_deref()
            .map(|c| &c[..12])
            .unwrap_or("local")
    );
    let generation = pipeline::plan::generate(
        &plan_id,
        &analysed,
        &choice,
        &snapshot,
        model.as_ref(),
        &memo,
        &pipeline.generate_settings(),
    )
    .await?;
    let files = generation.files();
    for (path, content) in &files {
        write_file(&args.out, path, content)?;
    }
    let summary = serde_json::json!({
        "analysis": analysed.analysis,
        "requirements": analysed.requirements,
        "choice": choice,
        "generate": generation.output(),
        "commit": source.commit,
    });
    write_file(
        &args.out,
        "plan.json",
        &serde_json::to_string_pretty(&summary)?,
    )?;

    println!(
        "{} app ({}) on port {} in {}",
        a.framework.as_deref().unwrap_or("unknown"),
        a.language.as_deref().unwrap_or("unknown"),
        a.port.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
        a.subdir
    );
    println!(
        "target: {} in {} ({}), about ${:.2}/month",
        choice.target, choice.region, choice.instance_type, choice.monthly_cost_usd
    );
    for reason in &choice.reasons {
        println!("  why: {reason}");
    }
    for store in &choice.services.provisioned {
        let wired: Vec<&str> = store.wiring.iter().map(|w| w.name.as_str()).collect();
        println!(
            "beside it: {} (wired to {}): {}",
            store.kind.label(),
            wired.join(", "),
            store.reasons.join(" ")
        );
    }
    for need in &choice.services.not_provisioned {
        println!("not provisioned: {}", need.reason);
    }
    println!("changes to the repository:");
    for adjustment in &generation.bundle.adjustments {
        println!("  {adjustment}");
    }
    let report = &generation.terraform.report;
    println!(
        "terraform: {:?}, policy gate {}",
        generation.terraform.source,
        if report.passed { "passed" } else { "FAILED" }
    );
    println!("wrote {} files to {}:", files.len() + 1, args.out.display());
    for path in files.keys() {
        println!("  {path}");
    }
    println!("  plan.json");
    Ok(())
}

fn write_file(out: &Path, relative: &str, content: &str) -> anyhow::Result<()> {
    let path = out.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))
}
