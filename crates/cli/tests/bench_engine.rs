//! `deployflow bench engine` as a process on PostgreSQL and on SQLite: at full
//! load, slots free up while the worker is busy and one claim fills several,
//! and checkpoints of different jobs (advances and completions alike) share a
//! commit — the report's counters show both batches forming.

use std::process::Command;

use serde_json::Value;
use test_support::database::{TestPostgres, TestSqlite};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_load_claims_and_checkpoints_batch_on_postgres() {
    let db = TestPostgres::create().await;
    claims_and_checkpoints_batch(&db.url);
}

#[test]
fn under_load_claims_and_checkpoints_batch_on_sqlite() {
    let db = TestSqlite::create();
    claims_and_checkpoints_batch(&db.url);
}

fn claims_and_checkpoints_batch(database_url: &str) {
    for steps in ["1", "3"] {
        let output = Command::new(env!("CARGO_BIN_EXE_deployflow"))
            .args([
                "bench",
                "engine",
                "--jobs",
                "400",
                "--steps",
                steps,
                "--concurrency",
                "8",
                "--latency-samples",
                "2",
                "--ceiling-seconds",
                "0.5",
                "--json",
            ])
            .env("DATABASE_URL", database_url)
            .output()
            .expect("run deployflow bench engine");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stdout}\n{stderr}");
        let report: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("one JSON object on stdout ({e}):\n{stdout}"));
        assert_eq!(report["unfinished"], 0, "{report:#}");
        assert!(
            report["jobs_per_claim"].as_f64().unwrap() >= 1.5,
            "{report:#}"
        );
        assert!(
            report["checkpoints_per_statement"].as_f64().unwrap() >= 1.5,
            "{report:#}"
        );
    }
}
