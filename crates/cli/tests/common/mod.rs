//! Shared by the process tests of this crate: `deployflow serve` as a child process.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use test_support::worker_process::WorkerProcess;

/// The `deployflow` binary under test.
pub const DEPLOYFLOW: &str = env!("CARGO_BIN_EXE_deployflow");

/// Starts `deployflow serve` (API and in-process worker) on a free loopback port, with
/// SQLite in `dir` and the repository's workflows; its log goes to `dir/serve.log`.
/// Returns the process once it listens, and the API's base URL.
pub async fn spawn_serve(dir: &Path) -> (WorkerProcess, String) {
    let mut command = Command::new(DEPLOYFLOW);
    command
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("DATA_DIR", dir.join("data"))
        .env(
            "WORKFLOWS_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows"),
        )
        .env("LISTEN_ADDR", "127.0.0.1:0")
        // The single-user loopback mode; `serve_auth.rs` covers tokens.
        .env("AUTH", "off")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info,sqlx=warn")
        .env("POLL_INTERVAL_MS", "100")
        .env("SHUTDOWN_GRACE_SECONDS", "2");
    let mut server = WorkerProcess::spawn("serve", command, dir);
    let url = server.api_url(Duration::from_secs(20)).await;
    (server, url)
}
