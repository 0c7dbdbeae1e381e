//! `deployflow serve` as a process: it serves the API on LISTEN_ADDR, runs the submitted
//! job with its in-process worker, and exits cleanly on SIGTERM.

mod common;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_submitted_jobs_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut server, base) = common::spawn_serve(dir.path()).await;
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
