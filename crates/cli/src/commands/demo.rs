//! `deployflow demo`: submits a demo job and runs a worker in this process until the job
//! ends, then prints its timeline. The quickest way to watch the engine work.

use std::time::Duration;

use anyhow::bail;
use clap::Args;
use engine::Engine;
use engine::follow::{Follow, JobEvent};
use futures::StreamExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::commands::worker::worker_config;
use crate::commands::{config_error, load_catalog, open_store};
use crate::config::Config;

#[derive(Args)]
pub struct DemoArgs {
    /// Milliseconds each step sleeps.
    #[arg(long, default_value_t = 300)]
    sleep_ms: u64,
    /// A step that should fail (retryably) on its first attempts: prepare, build, publish or verify.
    #[arg(long)]
    fail_step: Option<String>,
    /// How many attempts of --fail-step fail.
    #[arg(long, default_value_t = 1)]
    fail_times: u32,
}

pub async fn run(config: &Config, args: DemoArgs) -> anyhow::Result<()> {
    let worker_config = worker_config(config).map_err(config_error)?;
    let catalog = load_catalog(config)?;
    let store = open_store(config).await?;
    let engine = Engine::new(store.clone(), catalog.clone());
    let mut input = json!({"sleep_ms": args.sleep_ms});
    if let Some(step) = &args.fail_step {
        input["fail_step"] = json!(step);
        input["fail_times"] = json!(args.fail_times);
    }
    let job = engine
        .submit(engine::demo::WORKFLOW, input, None)
        .await?
        .job;
    println!("submitted demo job {} ({} steps)", job.id, job.steps.len());

    let shutdown = CancellationToken::new();
    let worker =
        tokio::spawn(engine::Worker::new(store, catalog, worker_config).run(shutdown.clone()));
    let mut last_state = None;
    let mut events =
        std::pin::pin!(engine.follow(job.id, Follow::default().every(Duration::from_millis(50))));
    while let Some(event) = events.next().await {
        if let JobEvent::Status(now) = event?
            && now.state != last_state
        {
            if let Some(state) = &now.state {
                println!("  -> {state}");
            }
            last_state = now.state.clone();
        }
    }
    let job = engine.job(job.id).await?;
    shutdown.cancel();
    let _ = worker.await;

    let details = engine.details(job.id).await?;
    println!("\njob {} {}", job.id, job.status);
    println!(
        "{:<10} {:>7} {:<12} {:>9}  error",
        "step", "attempt", "outcome", "ms"
    );
    for a in &details.attempts {
        let ms = (a.finished_at - a.started_at).num_milliseconds();
        println!(
            "{:<10} {:>7} {:<12} {:>9}  {}",
            a.step_name,
            a.attempt,
            a.outcome.as_str(),
            ms,
            a.error.as_deref().unwrap_or("")
        );
    }
    if job.status != engine::JobStatus::Succeeded {
        bail!(
            "the demo job ended {}: {}",
            job.status,
            job.error.unwrap_or_default()
        );
    }
    Ok(())
}
