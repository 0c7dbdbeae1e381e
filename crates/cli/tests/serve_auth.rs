//! `deployflow serve` with its default authentication, as processes: a token
//! made with `deployflow token create`, the API refusing requests without it,
//! the client commands sending DEPLOYFLOW_TOKEN, revocation taking effect, and
//! a server without authentication refusing to listen beyond loopback.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use common::DEPLOYFLOW;
use test_support::worker_process::WorkerProcess;

/// `deployflow ARGS` on the SQLite database in `dir`.
fn deployflow(dir: &Path, args: &[&str], token: Option<&str>) -> Output {
    let mut command = Command::new(DEPLOYFLOW);
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DEPLOYFLOW_TOKEN")
        .env("DATA_DIR", dir.join("data"))
        .env("LOG_FORMAT", "json");
    if let Some(token) = token {
        command.env("DEPLOYFLOW_TOKEN", token);
    }
    command.output().expect("run deployflow")
}

fn serve(dir: &Path, listen: &str, auth: &str) -> Command {
    let mut command = Command::new(DEPLOYFLOW);
    command
        .args(["serve", "--no-worker"])
        .env_remove("DATABASE_URL")
        .env("DATA_DIR", dir.join("data"))
        .env("LISTEN_ADDR", listen)
        .env("AUTH", auth)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info,sqlx=warn");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_made_by_the_cli_open_the_api_and_revocation_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = WorkerProcess::spawn(
        "serve",
        serve(dir.path(), "127.0.0.1:0", "tokens"),
        dir.path(),
    );
    let base = server.api_url(Duration::from_secs(30)).await;
    assert!(
        server.log().contains("no API token exists yet"),
        "a first start says how to make a token:\n{}",
        server.log()
    );

    let created = deployflow(
        dir.path(),
        &["token", "create", "--role", "submitter", "--name", "ci"],
        None,
    );
    assert!(created.status.success(), "{created:?}");
    let stdout = String::from_utf8(created.stdout).unwrap();
    let secret = stdout.lines().last().unwrap().trim().to_owned();
    assert!(secret.starts_with("dfl_") && secret.len() > 60, "{stdout}");

    let http = reqwest::Client::new();
    let anonymous = http.get(format!("{base}/list")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let probe = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(probe.status(), 200, "probes stay open");
    let listed = http
        .get(format!("{base}/list"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);

    let api = ["--api", base.as_str()];
    let without = deployflow(dir.path(), &[&["list"][..], &api].concat(), None);
    assert!(!without.status.success());
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert!(stderr.contains("DEPLOYFLOW_TOKEN"), "{stderr}");
    let with = deployflow(dir.path(), &[&["list"][..], &api].concat(), Some(&secret));
    assert!(with.status.success(), "{with:?}");

    let tokens = deployflow(dir.path(), &["token", "list"], None);
    let listing = String::from_utf8(tokens.stdout).unwrap();
    assert!(listing.contains("ci") && listing.contains("submitter") && listing.contains("active"));
    assert!(!listing.contains(&secret), "secrets are never listed");

    let revoked = deployflow(dir.path(), &["token", "revoke", "ci"], None);
    assert!(revoked.status.success(), "{revoked:?}");
    let refused = http
        .get(format!("{base}/list"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "a revoked token is refused at once");
    let bad_role = deployflow(
        dir.path(),
        &["token", "create", "--role", "root", "--name", "x"],
        None,
    );
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role"));
    assert!(
        !server.log().contains(&secret),
        "the token never reaches the log"
    );
    server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_authentication_listens_only_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let output = serve(dir.path(), "0.0.0.0:0", "off").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AUTH=off") && stderr.contains("loopback"),
        "{stderr}"
    );
}
