//! PostgreSQL restarted in the middle of a run: the API and the workers reconnect
//! by themselves, nothing is lost, no job is stuck. It restarts the machine's
//! PostgreSQL, so it is ignored by the suite and run alone by `.ci/run`:
//! `cargo nextest run -p deployflow-cli --test pg_restart --run-ignored only`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use test_support::database::TestPostgres;
use test_support::worker_process::{WorkerProcess, wait_until_polling};

const JOBS: usize = 200;
const DEPLOYFLOW: &str = env!("CARGO_BIN_EXE_deployflow");

fn deployflow(db: &TestPostgres, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(DEPLOYFLOW);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env(
            "WORKFLOWS_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows"),
        )
        .env("DATA_DIR", dir.join("data"))
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("AUTH", "off")
        .env("LEASE_SECONDS", "5")
        .env("HEARTBEAT_SECONDS", "1")
        .env("POLL_INTERVAL_MS", "200")
        .env("MAX_CONCURRENT_JOBS", "8")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info,sqlx=warn");
    command
}

fn restart_postgres() {
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("/etc/postgresql")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
        .expect("a PostgreSQL cluster");
    let status = Command::new("pg_ctlcluster")
        .args([
            "--skip-systemctl-redirect",
            &version,
            "main",
            "restart",
            "-m",
            "fast",
        ])
        .status()
        .expect("pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster restart failed: {status}");
}

async fn counts(http: &reqwest::Client, api: &str) -> Option<(usize, usize)> {
    let mut finished = 0;
    let mut succeeded = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{api}/list?workflow=demo&limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = http.get(url).send().await.ok()?.json().await.ok()?;
        for job in page["jobs"].as_array()? {
            let status = job["status"].as_str().unwrap_or_default();
            finished += usize::from(matches!(status, "succeeded" | "failed" | "cancelled"));
            succeeded += usize::from(status == "succeeded");
        }
        match page["next_cursor"].as_i64() {
            Some(next) => cursor = Some(next.to_string()),
            None => return Some((finished, succeeded)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the machine's PostgreSQL: .ci/run runs it alone after the suite"]
async fn api_and_workers_recover_from_a_database_restart() {
    let db = TestPostgres::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut api = WorkerProcess::spawn(
        "api",
        deployflow(&db, dir.path(), &["serve", "--no-worker"]),
        dir.path(),
    );
    let api_url = api.api_url(Duration::from_secs(30)).await;
    let _workers: Vec<WorkerProcess> = (1..=2)
        .map(|n| {
            WorkerProcess::spawn(
                &format!("worker-{n}"),
                deployflow(&db, dir.path(), &["worker"]),
                dir.path(),
            )
        })
        .collect();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut accepted = Vec::new();
    for n in 0..JOBS {
        let response = http
            .post(format!("{api_url}/workflows/demo/runs"))
            .json(&json!({"input": {"sleep_ms": 100}, "idempotency_key": format!("restart-{n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202);
        let job: Value = response.json().await.unwrap();
        accepted.push(job["id"].as_str().unwrap().to_owned());
    }
    wait_until_polling(
        "a quarter of the jobs to finish",
        Duration::from_secs(60),
        Duration::from_millis(200),
        async || {
            counts(&http, &api_url)
                .await
                .filter(|(f, _)| *f >= JOBS / 4)
        },
    )
    .await;
    let (finished_before, _) = counts(&http, &api_url).await.unwrap();

    let restarted = Instant::now();
    restart_postgres();
    let restart_took = restarted.elapsed();
    let api_back = wait_until_polling(
        "the API to be ready again",
        Duration::from_secs(60),
        Duration::from_millis(100),
        async || {
            let ready = http.get(format!("{api_url}/readyz")).send().await.ok()?;
            ready.status().is_success().then(|| restarted.elapsed())
        },
    )
    .await;
    let workers_back = wait_until_polling(
        "workers to finish jobs again",
        Duration::from_secs(60),
        Duration::from_millis(100),
        async || {
            let (finished, _) = counts(&http, &api_url).await?;
            (finished > finished_before + 8).then(|| restarted.elapsed())
        },
    )
    .await;
    let (finished, succeeded) = wait_until_polling(
        "every job to finish",
        Duration::from_secs(120),
        Duration::from_millis(500),
        async || counts(&http, &api_url).await.filter(|(f, _)| *f == JOBS),
    )
    .await;
    println!(
        "pg restart: {JOBS} jobs, {finished_before} finished before the restart; restart took {:.1} s; \
         API ready {:.1} s and workers finishing jobs {:.1} s after it began; {succeeded} of {finished} succeeded",
        restart_took.as_secs_f64(),
        api_back.as_secs_f64(),
        workers_back.as_secs_f64()
    );
    assert_eq!(
        succeeded, JOBS,
        "every job succeeded: none lost, none stuck"
    );
    // Every accepted job is there once, with its four checkpoints.
    for id in &accepted {
        let job: Value = http
            .get(format!("{api_url}/job/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(job["status"], "succeeded", "{job:#}");
        assert_eq!(
            job["outputs"].as_object().map(|o| o.len()),
            Some(4),
            "{job:#}"
        );
    }
}
