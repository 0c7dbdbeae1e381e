//! `deployflow bench api` as a process: on SQLite, with the repository's workflows, a
//! short run exits 0 having lost and duplicated no job.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[test]
fn bench_api_loses_and_duplicates_no_job() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_deployflow"))
        .args([
            "bench",
            "api",
            "--requests",
            "60",
            "--concurrency",
            "4",
            "--json",
        ])
        .env_remove("DATABASE_URL")
        .env("DATA_DIR", dir.path().join("data"))
        .env(
            "WORKFLOWS_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows"),
        )
        .env("POLL_INTERVAL_MS", "100")
        .output()
        .expect("run deployflow bench api");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("one JSON object on stdout ({e}):\n{stdout}"));
    assert_eq!(report["lost"], 0, "{report:#}");
    assert_eq!(report["duplicates"], 0, "{report:#}");
    assert_eq!(report["errors"], 0, "{report:#}");
    assert!(report["accepted"].as_u64().unwrap_or(0) > 0, "{report:#}");
    assert_eq!(report["stored"], report["accepted"], "{report:#}");
    for key in [
        "requests_per_s",
        "p50_ms",
        "p99_ms",
        "baseline_requests_per_s",
        "ratio",
    ] {
        assert!(
            report[key].as_f64().is_some_and(|v| v > 0.0),
            "{key}: {report:#}"
        );
    }
    for route in ["submit", "get_job", "list"] {
        assert!(
            report["routes"][route]["requests"].as_u64().unwrap_or(0) > 0,
            "{report:#}"
        );
    }
}
