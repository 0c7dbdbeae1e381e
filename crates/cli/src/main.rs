//! `deployflow`: parses arguments and configuration, then hands over to the libraries.

mod closed_stdout;
mod commands;
mod config;
mod telemetry;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

#[derive(Parser)]
#[command(
    name = "deployflow",
    version,
    about = "Durable deployments from a repository URL and one sentence",
    after_help = "\
Exit status: 0 success; 1 failure, including an error answer from the API (its
detail is printed on stderr); 2 usage or configuration error; 3 the API at
--api / DEPLOYFLOW_API could not be reached."
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply database migrations and exit.
    Migrate,
    /// Run a worker: claim jobs and run their steps until SIGTERM or Ctrl-C.
    Worker,
    /// Serve the HTTP API on LISTEN_ADDR, with a worker in the same process unless --no-worker.
    Serve(commands::serve::ServeArgs),
    /// Run one deployment job in this process (SQLite in DATA_DIR by default) with a live view.
    Deploy(commands::deploy::DeployArgs),
    /// Submit a demo job, run it in this process, print its timeline.
    Demo(commands::demo::DemoArgs),
    /// Analyse a repository (a directory or a URL) without a database; print the facts.
    Analyse(commands::analyse::AnalyseArgs),
    /// Clone, analyse, choose and generate without a database or cloud; write the plan to --out.
    Plan(commands::plan::PlanArgs),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
    /// Request a deployment of a repository from the API at --api.
    Submit(commands::run::SubmitArgs),
    /// Submit a job of a workflow to the API at --api.
    Run(commands::run::RunArgs),
    /// Show a job: status, state, error and its step timeline.
    Status(commands::inspect::StatusArgs),
    /// List jobs, newest first.
    List(commands::inspect::ListArgs),
    /// Re-queue a failed or cancelled job, or re-run it from a step.
    Retry(commands::control::RetryArgs),
    /// Cancel a job: a waiting one at once, a running one at its next heartbeat.
    Cancel(commands::control::CancelArgs),
    /// Approve the plan of a deployment waiting in AwaitingApproval: it applies.
    Approve(commands::lifecycle::ApprovalArgs),
    /// Reject the plan of a deployment waiting in AwaitingApproval: it ends Rejected.
    Reject(commands::lifecycle::ApprovalArgs),
    /// Destroy what a deployment applied (a durable destroy job).
    Destroy(commands::lifecycle::DestroyArgs),
    /// Run the Terraform policy gate on a directory of .tf files.
    #[command(subcommand)]
    Policy(commands::policy::PolicyCommand),
    /// Create, list and revoke the API's tokens (on the database directly).
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Commands that print their own report keep the log to warnings by
    // default, and end quietly when their reader stops reading.
    let prints_report = match cli.command {
        Command::Demo(_)
        | Command::Deploy(_)
        | Command::Analyse(_)
        | Command::Plan(_)
        | Command::Bench(_)
        | Command::Run(_)
        | Command::Submit(_)
        | Command::Status(_)
        | Command::List(_)
        | Command::Retry(_)
        | Command::Cancel(_)
        | Command::Approve(_)
        | Command::Reject(_)
        | Command::Destroy(_)
        | Command::Token(_)
        | Command::Policy(_) => true,
        Command::Migrate | Command::Worker | Command::Serve(_) => false,
    };
    let default_filter = if prints_report {
        closed_stdout::end_quietly_when_stdout_closes();
        "warn"
    } else {
        "info,sqlx=warn"
    };
    let _telemetry = telemetry::init(&cli.config.log_format, default_filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Migrate => commands::migrate::run(&cli.config).await,
            Command::Worker => commands::worker::run(&cli.config).await,
            Command::Serve(args) => commands::serve::run(&cli.config, args).await,
            Command::Demo(args) => commands::demo::run(&cli.config, args).await,
            Command::Deploy(args) => commands::deploy::run(&cli.config, args).await,
            Command::Analyse(args) => commands::analyse::run(&cli.config, args).await,
            Command::Plan(args) => commands::plan::run(&cli.config, args).await,
            Command::Bench(bench) => commands::bench::run(&cli.config, bench).await,
            Command::Run(args) => commands::run::run(&cli.config, args).await,
            Command::Submit(args) => commands::run::submit(&cli.config, args).await,
            Command::Status(args) => commands::inspect::status(&cli.config, args).await,
            Command::List(args) => commands::inspect::list(&cli.config, args).await,
            Command::Retry(args) => commands::control::retry(&cli.config, args).await,
            Command::Cancel(args) => commands::control::cancel(&cli.config, args).await,
            Command::Approve(args) => commands::lifecycle::approve(&cli.config, args).await,
            Command::Reject(args) => commands::lifecycle::reject(&cli.config, args).await,
            Command::Destroy(args) => commands::lifecycle::destroy(&cli.config, args).await,
            Command::Token(command) => commands::token::run(&cli.config, command).await,
            Command::Policy(command) => commands::policy::run(command),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(commands::exit_code(&e))
        }
    }
}
