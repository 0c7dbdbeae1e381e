//! `deployflow bench engine`: no-op jobs through the real engine on the configured
//! database, against a baseline measured in the same run on the same database with the
//! same number of connections (the single-row commit ceiling).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use anyhow::{Result, anyhow};
use engine::Database;
use engine::store::{JobFilter, JobStatus, Store};
use engine::{
    Catalog, Engine, Registry, StepContext, StepError, Worker, WorkerConfig, WorkerStats, typed,
};

const WORKFLOW: &str = "bench";
const HANDLER: &str = "bench.noop";

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub jobs: usize,
    pub steps: usize,
    pub concurrency: usize,
    /// Jobs submitted one by one to idle workers to measure pickup latency.
    pub latency_samples: usize,
    /// How long the commit-ceiling baseline runs.
    pub ceiling_duration: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub backend: String,
    pub jobs: usize,
    pub steps: usize,
    pub concurrency: usize,
    pub elapsed_s: f64,
    pub jobs_per_s: f64,
    pub steps_per_s: f64,
    pub pickup_p50_ms: f64,
    pub pickup_p99_ms: f64,
    pub commit_ceiling_per_s: f64,
    pub ratio: f64,
    /// Jobs each claim statement brought back, on average.
    pub jobs_per_claim: f64,
    /// Share of the jobs that waited for a slot in the claimed-ahead buffer.
    pub claimed_ahead_share: f64,
    /// Checkpoints each group-commit statement wrote, on average (PostgreSQL).
    pub checkpoints_per_statement: Option<f64>,
    pub time: TimeSpent,
    pub unfinished: usize,
}

/// Where the run's time went, as the worker saw it.
#[derive(Debug, Clone, Serialize)]
pub struct TimeSpent {
    /// Mean wait for one claim statement.
    pub claim_ms: f64,
    /// Share of the run the claim loop spent waiting for claims (1.0: always).
    pub claim_share: f64,
    /// Mean time of one group-commit statement.
    pub checkpoint_ms: Option<f64>,
    /// How many group-commit statements were in flight on average.
    pub checkpoint_lanes_busy: Option<f64>,
}

fn bench_catalog(steps: usize) -> Result<Catalog> {
    let mut registry = Registry::new();
    registry.register(
        HANDLER,
        typed(|_ctx: StepContext, _input: serde_json::Value| async {
            Ok::<_, StepError>(json!({}))
        }),
    );
    let mut catalog = Catalog::empty(registry);
    let mut text =
        format!("name = \"{WORKFLOW}\"\n[defaults]\nmax_attempts = 3\ntimeout = \"60s\"\n");
    for i in 0..steps.max(1) {
        text.push_str(&format!(
            "[[steps]]\nname = \"s{i}\"\nhandler = \"{HANDLER}\"\n"
        ));
    }
    catalog.add_toml("<bench>", &text)?;
    Ok(catalog)
}

pub async fn run(store: Database, options: &BenchOptions) -> Result<BenchReport> {
    store.migrate().await?;
    let catalog = Arc::new(bench_catalog(options.steps)?);
    let engine = Engine::new(store.clone(), catalog.clone());
    store.delete_workflow_jobs(WORKFLOW).await?;

    // The baseline runs half before and half after the engine, so drift in a noisy
    // machine's load affects both sides alike.
    let half = options.ceiling_duration / 2;
    let ceiling_before = store.commit_ceiling(options.concurrency, half).await?;

    submit_many(&engine, options.jobs).await?;
    let shutdown = CancellationToken::new();
    let mut config = WorkerConfig::new(format!("bench-{}", Uuid::new_v4()));
    config.max_concurrent_jobs = options.concurrency;
    config.poll_interval = Duration::from_millis(200);
    config.retention = None;
    let worker = Worker::new(store.clone(), catalog, config);
    let stats = worker.stats();
    let worker = tokio::spawn(worker.run(shutdown.clone()));

    let batches_before = store.checkpoint_batches();
    let started = Instant::now();
    let unfinished =
        wait_until_done(&*store, &stats, options.jobs, Duration::from_secs(600)).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let jobs_per_claim = stats.claimed() as f64 / stats.claims().max(1) as f64;
    let claimed_ahead_share = stats.claimed_ahead() as f64 / stats.claimed().max(1) as f64;
    let written = batches_before
        .zip(store.checkpoint_batches())
        .map(|(before, after)| after.since(&before));
    let checkpoints_per_statement =
        written.map(|w| w.checkpoints as f64 / w.statements.max(1) as f64);
    let time = TimeSpent {
        claim_ms: ms(stats.claim_busy()) / stats.claim_statements().max(1) as f64,
        claim_share: stats.claim_busy().as_secs_f64() / elapsed,
        checkpoint_ms: written.map(|w| ms(w.busy) / w.statements.max(1) as f64),
        checkpoint_lanes_busy: written.map(|w| w.busy.as_secs_f64() / elapsed),
    };

    let pickups = measure_pickup(&engine, options.latency_samples).await?;
    shutdown.cancel();
    let _ = worker.await;
    store.delete_workflow_jobs(WORKFLOW).await?;
    let ceiling_after = store.commit_ceiling(options.concurrency, half).await?;
    let ceiling = (ceiling_before + ceiling_after) / 2.0;

    let steps_per_s = (options.jobs * options.steps) as f64 / elapsed;
    Ok(BenchReport {
        backend: store.backend().into(),
        jobs: options.jobs,
        steps: options.steps,
        concurrency: options.concurrency,
        elapsed_s: elapsed,
        jobs_per_s: options.jobs as f64 / elapsed,
        steps_per_s,
        pickup_p50_ms: percentile(&pickups, 0.50),
        pickup_p99_ms: percentile(&pickups, 0.99),
        commit_ceiling_per_s: ceiling,
        ratio: if ceiling > 0.0 {
            steps_per_s / ceiling
        } else {
            0.0
        },
        jobs_per_claim,
        claimed_ahead_share,
        checkpoints_per_statement,
        time,
        unfinished,
    })
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn submit_many(engine: &Engine, jobs: usize) -> Result<Vec<Uuid>> {
    stream::iter(0..jobs)
        .map(|_| async {
            engine
                .submit(WORKFLOW, json!({}), None)
                .await
                .map(|s| s.job.id)
        })
        .buffer_unordered(8)
        .try_collect()
        .await
        .map_err(Into::into)
}

/// Waits until no bench job is queued or running; returns how many still are. The
/// database is asked only once the worker has ended as many runs as there are jobs: a
/// count polled all along would compete with the engine for it.
async fn wait_until_done(
    store: &dyn Store,
    stats: &WorkerStats,
    jobs: usize,
    limit: Duration,
) -> Result<usize> {
    let deadline = Instant::now() + limit;
    while stats.runs_ended() < jobs as u64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let active = JobFilter {
        created_by: None,
        statuses: vec![JobStatus::Queued, JobStatus::Running],
        workflow: Some(WORKFLOW.into()),
        before: None,
        limit: jobs as u32,
    };
    loop {
        let left = store.count_jobs(&active).await? as usize;
        if left == 0 || Instant::now() >= deadline {
            return Ok(left);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Submits jobs one at a time to idle workers; pickup = first attempt start - creation.
async fn measure_pickup(engine: &Engine, samples: usize) -> Result<Vec<f64>> {
    let mut ids = Vec::with_capacity(samples);
    for _ in 0..samples {
        let id = engine.submit(WORKFLOW, json!({}), None).await?.job.id;
        ids.push(id);
        // Let the job finish so every sample meets idle workers.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !engine.job(id).await?.status.is_terminal() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let mut pickups = Vec::with_capacity(samples);
    for id in ids {
        let details = engine.details(id).await?;
        let first = details
            .attempts
            .first()
            .ok_or_else(|| anyhow!("bench job {id} never started"))?;
        let ms = (first.started_at - details.job.created_at)
            .num_microseconds()
            .unwrap_or(0) as f64
            / 1000.0;
        pickups.push(ms.max(0.0));
    }
    Ok(pickups)
}

fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank]
}
