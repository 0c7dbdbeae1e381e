//! `deployflow analyse <path-or-url>`: clone (for a URL) and analyse, without a
//! database, and print the facts (`--json`: one object, the `Analysis` fields plus
//! `requirements`, `commit` and `llm_calls`).

use anyhow::Context;
use serde::Serialize;

use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct AnalyseArgs {
    /// A directory, or a repository URL (https://github.com/<owner>/<repo>).
    pub source: String,
    /// The deployment requirements, in a sentence (also names the app in a monorepo).
    #[arg(long, short, default_value = "")]
    pub description: String,
    /// Branch, tag or commit to clone (default: the default branch).
    #[arg(long = "ref")]
    pub git_ref: Option<String>,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    analysis: &'a analysis::Analysis,
    requirements: &'a analysis::Requirements,
    commit: Option<&'a str>,
    llm_calls: &'a [llm::CallRecord],
}

/// A repository read and analysed on this machine: what `analyse` prints and `plan`
/// goes on from.
pub struct LocalAnalysis {
    pub pipeline: pipeline::PipelineConfig,
    pub source: pipeline::LocalSource,
    pub snapshot: analysis::Snapshot,
    pub model: Option<llm::Client>,
    pub memo: llm::MemoryMemo,
    pub analysed: pipeline::Analysed,
}

impl LocalAnalysis {
    pub async fn run(
        config: &Config,
        source: &str,
        git_ref: Option<&str>,
        description: &str,
    ) -> anyhow::Result<Self> {
        let pipeline = config.local_pipeline()?;
        let source = pipeline::LocalSource::open(source, git_ref, None, &pipeline)
            .await
            .with_context(|| format!("cannot read {source}"))?;
        let snapshot = source.snapshot(&pipeline).await?;
        let model = pipeline.llm.clone().map(llm::Client::new);
        let memo = llm::MemoryMemo::new();
        let analysed =
            pipeline::analyse_snapshot(&snapshot, description, model.as_ref(), &memo).await?;
        Ok(Self {
            pipeline,
            source,
            snapshot,
            model,
            memo,
            analysed,
        })
    }
}

pub async fn run(config: &Config, args: AnalyseArgs) -> anyhow::Result<()> {
    let local = LocalAnalysis::run(
        config,
        &args.source,
        args.git_ref.as_deref(),
        &args.description,
    )
    .await?;
    let (analysed, source) = (&local.analysed, &local.source);
    let report = Report {
        analysis: &analysed.analysis,
        requirements: &analysed.requirements,
        commit: source.commit.as_deref(),
        llm_calls: &analysed.llm_calls,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&report);
    }
    Ok(())
}

fn print_summary(report: &Report<'_>) {
    let a = report.analysis;
    let or_unknown = |value: Option<&str>| value.unwrap_or("unknown").to_owned();
    if a.http {
        println!("HTTP server: yes");
    } else {
        println!(
            "HTTP server: no — {}",
            a.deny_reason.as_deref().unwrap_or("no server found")
        );
    }
    println!("language:      {}", or_unknown(a.language.as_deref()));
    println!("runtime:       {}", a.runtime());
    println!("framework:     {}", or_unknown(a.framework.as_deref()));
    println!("app directory: {}", a.subdir);
    let port = a.port.map(|p| p.to_string());
    println!(
        "port:          {}{}",
        or_unknown(port.as_deref()),
        a.port_env
            .as_deref()
            .map(|env| format!(" (env {env})"))
            .unwrap_or_default()
    );
    if a.bind.loopback_only {
        println!(
            "bind:          loopback only; fix: {}",
            a.bind.fix.as_deref().unwrap_or("listen on 0.0.0.0")
        );
    }
    println!("start command: {}", or_unknown(a.start_command.as_deref()));
    let required: Vec<String> = a
        .required_env
        .iter()
        .map(|name| {
            let kind = a
                .env
                .iter()
                .find(|v| &v.name == name)
                .map(|v| v.kind)
                .unwrap_or_else(|| analysis::variable_kind(name));
            format!("{name} ({})", kind_label(kind))
        })
        .collect();
    println!("required env:  {}", list(&required));
    if !a.datastores.is_empty() {
        println!("datastores:    {}", list(&a.datastores));
    }
    println!(
        "docker:        {}",
        if a.dockerized {
            list(&a.docker_files)
        } else {
            "none (a Dockerfile will be generated)".to_owned()
        }
    );
    for note in &a.notes {
        println!("note: {note}");
    }
    println!("evidence:");
    for e in &a.evidence {
        let at = e.line.map(|l| format!(":{l}")).unwrap_or_default();
        println!("  {:<14} {}{at} {}", e.fact, e.file, e.detail);
    }
}

/// How `deployflow analyse` names a variable's kind.
fn kind_label(kind: analysis::VariableKind) -> &'static str {
    use analysis::VariableKind::*;
    match kind {
        Datastore => "datastore",
        AppSecret => "app secret",
        Credential => "credential",
        ServiceUrl => "service URL",
        OwnAddress => "the app's own address",
        Port => "port",
        Setting => "setting",
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}
