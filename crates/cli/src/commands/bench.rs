use std::time::Duration;

use anyhow::bail;
use clap::{Args, Subcommand};

use crate::config::Config;

mod analyse;
mod api;
mod corpus;
mod engine_bench;

use engine_bench::{BenchOptions, BenchReport};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// No-op jobs through the engine, compared with the database's single-row commit ceiling.
    Engine(EngineBench),
    /// A request mix against the HTTP API served in this process, with a worker running,
    /// compared with GET /healthz; checks that no accepted job was lost or duplicated.
    Api(api::ApiBench),
    /// The analysis detectors over the fixture repositories: repos/s and p50/p99 per
    /// repository, against a plain line count of the same files.
    Analyse(analyse::AnalyseBench),
}

#[derive(Args)]
pub struct EngineBench {
    /// Jobs to run.
    #[arg(long, default_value_t = 2000)]
    jobs: usize,
    /// Steps per job.
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Jobs run at once (and connections of the commit-ceiling baseline).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Jobs submitted one at a time to idle workers to measure pickup latency.
    #[arg(long, default_value_t = 100)]
    latency_samples: usize,
    /// Seconds the commit-ceiling baseline runs (half before the engine run, half after).
    #[arg(long, default_value_t = 4.0)]
    ceiling_seconds: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

pub async fn run(config: &Config, command: BenchCommand) -> anyhow::Result<()> {
    let args = match command {
        BenchCommand::Engine(args) => args,
        BenchCommand::Api(args) => return api::run(config, args).await,
        BenchCommand::Analyse(args) => return analyse::run(args).await,
    };
    if args.jobs == 0 || args.steps == 0 || args.concurrency == 0 {
        bail!("--jobs, --steps and --concurrency must be at least 1");
    }
    let url = config.database_url()?;
    let store = engine::connect(&url, args.concurrency as u32 + 4).await?;
    let options = BenchOptions {
        jobs: args.jobs,
        steps: args.steps,
        concurrency: args.concurrency,
        latency_samples: args.latency_samples,
        ceiling_duration: Duration::from_secs_f64(args.ceiling_seconds.max(0.5)),
    };
    let report = engine_bench::run(store, &options).await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    if report.unfinished > 0 {
        bail!(
            "{} of {} jobs did not finish",
            report.unfinished,
            report.jobs
        );
    }
    Ok(())
}

fn print_table(r: &BenchReport) {
    println!(
        "deployflow bench engine ({}; {} jobs x {} steps, concurrency {})",
        r.backend, r.jobs, r.steps, r.concurrency
    );
    println!("  elapsed              {:>10.2} s", r.elapsed_s);
    println!("  jobs/s               {:>10.1}", r.jobs_per_s);
    println!("  steps/s              {:>10.1}", r.steps_per_s);
    println!("  pickup p50           {:>10.2} ms", r.pickup_p50_ms);
    println!("  pickup p99           {:>10.2} ms", r.pickup_p99_ms);
    println!(
        "  commit ceiling       {:>10.1} commits/s (single-row UPDATE, {} connections)",
        r.commit_ceiling_per_s, r.concurrency
    );
    println!(
        "  ratio                {:>10.2} (steps/s / ceiling)",
        r.ratio
    );
    println!("  jobs per claim       {:>10.2}", r.jobs_per_claim);
    println!(
        "  claimed ahead        {:>10.2} (share of jobs that waited for a slot, claimed ahead)",
        r.claimed_ahead_share
    );
    if let Some(per_statement) = r.checkpoints_per_statement {
        println!("  checkpoints per stmt {per_statement:>10.2} (group commit)");
    }
    println!(
        "  claim statement      {:>10.2} ms mean, the claim loop waiting {:.0}% of the run",
        r.time.claim_ms,
        r.time.claim_share * 100.0
    );
    if let (Some(ms), Some(busy)) = (r.time.checkpoint_ms, r.time.checkpoint_lanes_busy) {
        println!("  checkpoint statement {ms:>10.2} ms mean, {busy:.2} in flight on average");
    }
}
