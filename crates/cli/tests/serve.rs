//! `deployflow serve` as a process: it serves the API on LISTEN_ADDR, runs the submitted
//! job with its in-process worker, and exits cleanly on SIGTERM.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use test_support::worker_process::WorkerProcess;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_submitted_jobs_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_deployflow"));
    command
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("DATA_DIR", dir.path().join("data"))
        .env(
            "WORKFLOWS_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows"),
        )
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info,sqlx=warn")
        .env("POLL_INTERVAL_MS", "100")
        .env("SHUTDOWN_GRACE_SECONDS", "2");
    let mut server = WorkerProcess::spawn("serve", command, dir.path());
    server
        .wait_for_log("HTTP API listening", Duration::from_secs(20))
        .await;
    let listen = server
        .log()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|v| v["message"] == "HTTP API listening")
        .and_then(|v| v["listen"].as_str().map(str::to_owned))
        .expect("the listening address is logged");
    let base = format!("http://{listen}");
    let client = reqwest::Client::new();

    let submitted: Value = client
        .post(format!("{base}/workflows/demo/runs"))
        .json(&json!({"input": {"sleep_ms": 10}}))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("submit body");
    let id = submitted["id"].as_str().expect("job id").to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let job: Value = client
            .get(format!("{base}/job/{id}"))
            .send()
            .await
            .expect("get job")
            .json()
            .await
            .expect("job body");
        if job["status"] == "succeeded" {
            break;
        }
        assert!(Instant::now() < deadline, "job did not succeed: {job:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    server.terminate();
    let status = server
        .wait_exit(Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("serve did not stop on SIGTERM:\n{}", server.log()));
    assert!(status.success(), "{status}:\n{}", server.log());
}
