//! `deployflow bench api`: the HTTP API served in this process on 127.0.0.1:0, with a
//! worker running jobs meanwhile, under a fixed request mix (`POST /request` for a small
//! repository the bench creates and serves as file://, `GET /job/{id}`, `GET /list`)
//! at a given concurrency;
//! compared with `GET /healthz` (no database) at the same concurrency, and checked
//! afterwards: every accepted submit is a job, once.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use engine::store::JobFilter;
use engine::{Database, Engine, Store, Worker};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::commands::worker::worker_config;
use crate::commands::{config_error, load_catalog, open_store};
use crate::config::Config;

/// The workflow `POST /request` starts (the repository's `workflows/deploy.toml`).
const WORKFLOW: &str = pipeline::WORKFLOW;
/// How long the bench waits for its jobs to finish after the load.
const FINISH_TIMEOUT: Duration = Duration::from_secs(60);
/// Jobs per page when scanning the store for the bench's jobs.
const SCAN_PAGE: u32 = 200;

#[derive(Args)]
pub struct ApiBench {
    /// Requests of the mix (and of the GET /healthz baseline).
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Route {
    Healthz,
    Submit,
    GetJob,
    List,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Healthz => "GET /healthz",
            Route::Submit => "POST /request",
            Route::GetJob => "GET /job/{id}",
            Route::List => "GET /list?limit=20",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Route::Healthz => "healthz",
            Route::Submit => "submit",
            Route::GetJob => "get_job",
            Route::List => "list",
        }
    }
}

/// One request's outcome.
struct Sample {
    route: Route,
    latency: Duration,
    ok: bool,
}

#[derive(Serialize, Default, Clone)]
struct RouteStats {
    requests: usize,
    errors: usize,
    p50_ms: f64,
    p99_ms: f64,
}

#[derive(Serialize)]
struct ApiBenchReport {
    backend: &'static str,
    requests: usize,
    concurrency: usize,
    elapsed_s: f64,
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
    baseline_requests_per_s: f64,
    baseline_p50_ms: f64,
    baseline_p99_ms: f64,
    /// requests_per_s / baseline_requests_per_s.
    ratio: f64,
    routes: BTreeMap<&'static str, RouteStats>,
    /// Submits answered 202 or 200.
    accepted: usize,
    /// Accepted job ids that GET /job/{id} does not find, or missing from the store.
    lost: usize,
    /// Repeated job ids among accepted submits, plus extra stored jobs with this run's keys.
    duplicates: usize,
    /// Jobs in the store with this run's idempotency key prefix.
    stored: usize,
    /// Of those, finished (succeeded, failed or cancelled) within the wait.
    finished: usize,
    idempotency_prefix: String,
    /// Resident memory of this process (API + worker) before the load and after
    /// its jobs finished, in MiB.
    rss_before_mib: Option<f64>,
    rss_after_mib: Option<f64>,
}

/// What the load needs shared between its tasks.
struct Load {
    http: reqwest::Client,
    base: String,
    prefix: String,
    /// The repository every deployment request names.
    repo_url: String,
    /// Ids of accepted submits, in the order they were answered.
    accepted: Mutex<Vec<Uuid>>,
}

pub async fn run(config: &Config, args: ApiBench) -> anyhow::Result<()> {
    if args.requests == 0 || args.concurrency == 0 {
        bail!("--requests and --concurrency must be at least 1");
    }
    // The bench serves its own repository over file://, so this run allows local URLs.
    let mut config = config.clone();
    config.allow_local_repos = true;
    let config = &config;
    let repo = bench_repository()?;
    let worker_config = worker_config(config).map_err(config_error)?;
    let catalog = load_catalog(config)?;
    if catalog.workflow(WORKFLOW).is_none() {
        return Err(config_error(anyhow::anyhow!(
            "the bench submits to the {WORKFLOW:?} workflow, which WORKFLOWS_DIR {} does not define",
            config
                .workflows_dir
                .as_deref()
                .unwrap_or(std::path::Path::new("(built in)"))
                .display()
        )));
    }
    let url = config.database_url()?;
    let backend = if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let store = open_store(config).await?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on 127.0.0.1:0")?;
    let address = listener.local_addr().context("listening address")?;
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(api::serve(
        listener,
        Engine::new(store.clone(), catalog.clone()),
        api::ApiConfig {
            url_policy: config.url_policy(),
            metrics: None,
            // A loopback server the benchmark alone talks to.
            auth: api::auth::AuthConfig {
                disabled: true,
                ..Default::default()
            },
        },
        shutdown.clone(),
    ));
    let worker = tokio::spawn(
        Worker::new(store.clone(), catalog.clone(), worker_config).run(shutdown.clone()),
    );

    let repo_url = format!("file://{}", repo.path().display());
    let rss_before_mib = resident_mib();
    let outcome = measure(
        &args,
        backend,
        &store,
        format!("http://{address}"),
        repo_url,
    )
    .await;
    shutdown.cancel();
    let _ = worker.await;
    let _ = server.await;
    let mut report = outcome?;
    report.rss_before_mib = rss_before_mib;
    report.rss_after_mib = resident_mib();

    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&report);
    }
    if report.lost > 0 || report.duplicates > 0 || report.errors > 0 {
        bail!(
            "{} errors, {} lost and {} duplicated jobs",
            report.errors,
            report.lost,
            report.duplicates
        );
    }
    Ok(())
}

async fn measure(
    args: &ApiBench,
    backend: &'static str,
    store: &Database,
    base: String,
    repo_url: String,
) -> anyhow::Result<ApiBenchReport> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .context("HTTP client")?;
    let run_id = Uuid::new_v4().simple().to_string();
    let load = Arc::new(Load {
        http,
        base,
        prefix: format!("bench-{}-", &run_id[..12]),
        repo_url,
        accepted: Mutex::new(Vec::new()),
    });
    // Jobs newer than this sequence number are candidates when scanning for ours.
    let seq_floor = newest_seq(&**store).await?;

    let (baseline, baseline_elapsed) =
        run_load(&load, args.requests, args.concurrency, |_| Route::Healthz).await;
    let (samples, elapsed) = run_load(&load, args.requests, args.concurrency, mix).await;

    let baseline_stats = stats(baseline.iter());
    let baseline_requests_per_s = args.requests as f64 / baseline_elapsed.as_secs_f64();
    let overall = stats(samples.iter());
    let requests_per_s = args.requests as f64 / elapsed.as_secs_f64();
    let mut routes = BTreeMap::new();
    for route in [Route::Submit, Route::GetJob, Route::List] {
        let of_route = stats(samples.iter().filter(|s| s.route == route));
        routes.insert(route.key(), of_route);
    }

    // Nothing lost, nothing twice: by the submits' answers, by the API, by the store.
    let accepted = load.accepted.lock().expect("accepted ids").clone();
    let unique: HashSet<Uuid> = accepted.iter().copied().collect();
    let missing = count_missing(&load, &unique, args.concurrency).await;
    let deadline = Instant::now() + FINISH_TIMEOUT;
    let (stored, finished) = loop {
        let (stored, finished) = scan(&**store, seq_floor, &load.prefix).await?;
        if finished >= stored || Instant::now() >= deadline {
            break (stored, finished);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let lost = missing.max(unique.len().saturating_sub(stored));
    let duplicates = (accepted.len() - unique.len()) + stored.saturating_sub(unique.len());

    Ok(ApiBenchReport {
        backend,
        requests: args.requests,
        concurrency: args.concurrency,
        elapsed_s: elapsed.as_secs_f64(),
        requests_per_s,
        p50_ms: overall.p50_ms,
        p99_ms: overall.p99_ms,
        errors: overall.errors,
        baseline_requests_per_s,
        baseline_p50_ms: baseline_stats.p50_ms,
        baseline_p99_ms: baseline_stats.p99_ms,
        ratio: requests_per_s / baseline_requests_per_s,
        routes,
        accepted: accepted.len(),
        lost,
        duplicates,
        stored,
        finished,
        idempotency_prefix: load.prefix.clone(),
        rss_before_mib: None,
        rss_after_mib: None,
    })
}

/// The fixed mix: of every 10 requests, 5 submits, 3 job reads, 2 list pages.
fn mix(n: usize) -> Route {
    match n % 10 {
        0 | 2 | 4 | 6 | 8 => Route::Submit,
        1 | 5 | 9 => Route::GetJob,
        _ => Route::List,
    }
}

/// Sends requests `0..requests` (route chosen by `route_of`) from `concurrency` tasks;
/// returns every request's outcome and the wall time of the whole load.
async fn run_load(
    load: &Arc<Load>,
    requests: usize,
    concurrency: usize,
    route_of: fn(usize) -> Route,
) -> (Vec<Sample>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency.min(requests))
        .map(|_| {
            let load = load.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= requests {
                        break samples;
                    }
                    samples.push(one_request(&load, n, route_of(n)).await);
                }
            })
        })
        .collect();
    let mut samples = Vec::with_capacity(requests);
    for task in tasks {
        // A panicking task loses its samples; the counts below then show it as errors.
        samples.extend(task.await.unwrap_or_default());
    }
    let elapsed = started.elapsed();
    let missing = requests.saturating_sub(samples.len());
    samples.extend((0..missing).map(|_| Sample {
        route: Route::Healthz,
        latency: Duration::ZERO,
        ok: false,
    }));
    (samples, elapsed)
}

async fn one_request(load: &Load, n: usize, route: Route) -> Sample {
    let base = &load.base;
    let mut route = route;
    let request = match route {
        Route::Healthz => load.http.get(format!("{base}/healthz")),
        Route::Submit => load.http.post(format!("{base}/request")).json(&json!({
            "repo_url": load.repo_url,
            "description": "a small public API, cheap",
            "idempotency_key": format!("{}{n}", load.prefix),
        })),
        Route::GetJob => {
            // A job accepted earlier in the run, spread over all of them.
            let id = {
                let accepted = load.accepted.lock().expect("accepted ids");
                (!accepted.is_empty()).then(|| accepted[n.wrapping_mul(7919) % accepted.len()])
            };
            match id {
                Some(id) => load.http.get(format!("{base}/job/{id}")),
                None => {
                    // Nothing accepted yet (the first requests): a list page instead.
                    route = Route::List;
                    load.http.get(format!("{base}/list?limit=20"))
                }
            }
        }
        Route::List => load.http.get(format!("{base}/list?limit=20")),
    };
    let started = Instant::now();
    let answer = match request.send().await {
        Ok(response) => {
            let status = response.status();
            response.bytes().await.ok().map(|body| (status, body))
        }
        Err(_) => None,
    };
    let latency = started.elapsed();
    let ok = match answer {
        Some((status, body)) if status.is_success() => {
            if route == Route::Submit {
                match serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v["id"].as_str().and_then(|id| id.parse::<Uuid>().ok()))
                {
                    Some(id) => {
                        load.accepted.lock().expect("accepted ids").push(id);
                        true
                    }
                    None => false,
                }
            } else {
                true
            }
        }
        _ => false,
    };
    Sample { route, latency, ok }
}

/// A one-commit git repository of a small Flask app, in a directory removed on drop.
fn bench_repository() -> anyhow::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("deployflow-bench-repo-")
        .tempdir()
        .context("cannot create the bench repository")?;
    std::fs::write(dir.path().join("requirements.txt"), "flask==3.0.3\n")?;
    std::fs::write(
        dir.path().join("app.py"),
        "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route(\"/\")\n\
         def index():\n    return \"ok\"\n\n\nif __name__ == \"__main__\":\n    \
         app.run(host=\"0.0.0.0\", port=int(os.environ.get(\"PORT\", 5000)))\n",
    )?;
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@localhost",
            "commit",
            "-qm",
            "app",
        ],
    ] {
        let status = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .status()
            .context("the bench needs the git command to create its repository")?;
        if !status.success() {
            bail!("git {} failed in the bench repository", args.join(" "));
        }
    }
    Ok(dir)
}

/// How many of `ids` GET /job/{id} does not answer 200 for.
async fn count_missing(load: &Arc<Load>, ids: &HashSet<Uuid>, concurrency: usize) -> usize {
    let ids: Arc<Vec<Uuid>> = Arc::new(ids.iter().copied().collect());
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (load, ids, next) = (load.clone(), ids.clone(), next.clone());
            tokio::spawn(async move {
                let mut missing = 0;
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(id) = ids.get(n) else { break missing };
                    let found = load
                        .http
                        .get(format!("{}/job/{id}", load.base))
                        .send()
                        .await
                        .is_ok_and(|r| r.status() == reqwest::StatusCode::OK);
                    missing += usize::from(!found);
                }
            })
        })
        .collect();
    let mut missing = 0;
    for task in tasks {
        missing += task.await.unwrap_or(usize::MAX / 2);
    }
    missing.min(ids.len())
}

/// The newest job's sequence number before the run (0 on an empty store).
async fn newest_seq(store: &dyn Store) -> anyhow::Result<i64> {
    let page = store
        .list_jobs(&JobFilter {
            created_by: None,
            statuses: Vec::new(),
            workflow: None,
            before: None,
            limit: 1,
        })
        .await?;
    Ok(page.jobs.first().map_or(0, |j| j.seq))
}

/// Jobs of the demo workflow newer than `seq_floor` whose idempotency key starts with
/// `prefix`: how many, and how many of them have finished.
async fn scan(store: &dyn Store, seq_floor: i64, prefix: &str) -> anyhow::Result<(usize, usize)> {
    let (mut stored, mut finished) = (0, 0);
    let mut before = None;
    'pages: loop {
        let page = store
            .list_jobs(&JobFilter {
                created_by: None,
                statuses: Vec::new(),
                workflow: Some(WORKFLOW.to_owned()),
                before,
                limit: SCAN_PAGE,
            })
            .await?;
        for job in &page.jobs {
            if job.seq <= seq_floor {
                break 'pages;
            }
            if job
                .idempotency_key
                .as_deref()
                .is_some_and(|k| k.starts_with(prefix))
            {
                stored += 1;
                finished += usize::from(job.status.is_terminal());
            }
        }
        match page.next_cursor {
            Some(cursor) => before = Some(cursor),
            None => break,
        }
    }
    Ok((stored, finished))
}

fn stats<'a>(samples: impl Iterator<Item = &'a Sample>) -> RouteStats {
    let mut latencies = Vec::new();
    let mut errors = 0;
    for sample in samples {
        latencies.push(sample.latency);
        errors += usize::from(!sample.ok);
    }
    latencies.sort();
    let percentile = |q: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() - 1) as f64 * q).round() as usize;
        latencies[index].as_secs_f64() * 1000.0
    };
    RouteStats {
        requests: latencies.len(),
        errors,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
    }
}

fn print_table(r: &ApiBenchReport) {
    println!(
        "deployflow bench api ({}; {} requests, concurrency {}; 50% submit, 30% get job, \
         20% list)",
        r.backend, r.requests, r.concurrency
    );
    println!("  elapsed              {:>10.2} s", r.elapsed_s);
    println!("  requests/s           {:>10.1}", r.requests_per_s);
    println!(
        "  all routes           p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
        r.p50_ms, r.p99_ms, r.errors
    );
    for route in [Route::Submit, Route::GetJob, Route::List] {
        if let Some(s) = r.routes.get(route.key()) {
            println!(
                "  {:<25} p50 {:>7.2} ms  p99 {:>7.2} ms  errors {} of {}",
                route.name(),
                s.p50_ms,
                s.p99_ms,
                s.errors,
                s.requests
            );
        }
    }
    println!(
        "  baseline healthz     {:>10.1} requests/s (p50 {:.2} ms, p99 {:.2} ms)",
        r.baseline_requests_per_s, r.baseline_p50_ms, r.baseline_p99_ms
    );
    println!(
        "  ratio                {:>10.2} (requests/s / healthz requests/s)",
        r.ratio
    );
    println!(
        "  jobs                 {} accepted, {} lost, {} duplicated, {} finished of {} stored",
        r.accepted, r.lost, r.duplicates, r.finished, r.stored
    );
    if let (Some(before), Some(after)) = (r.rss_before_mib, r.rss_after_mib) {
        println!("  memory (RSS)         {before:.1} MiB before, {after:.1} MiB after");
    }
    println!(
        "  the bench's jobs stay in the store (idempotency keys {}*)",
        r.idempotency_prefix
    );
}

/// This process's resident set size (Linux `/proc`), in MiB.
fn resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}
