//! The client commands (`run`, `status`, `list`, `retry`, `cancel`) of the real binary
//! against a real `deployflow serve`: their output, and the exit statuses scripts rely
//! on (0 success, 1 error answer from the API, 2 usage error, 3 API unreachable).

mod common;

use std::time::Duration;

use serde_json::Value;
use test_support::worker_process::wait_until;

/// What a finished `deployflow` client command left behind.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout ---\n{}--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Outcome {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self}"))
    }
}

/// Runs `deployflow <args>` with DEPLOYFLOW_API set to `api`.
async fn deployflow(api: &str, args: &[&str]) -> Outcome {
    let output = tokio::process::Command::new(common::DEPLOYFLOW)
        .args(args)
        .env("DEPLOYFLOW_API", api)
        .env_remove("RUST_LOG")
        .env_remove("DATABASE_URL")
        .kill_on_drop(true)
        .output()
        .await
        .expect("run deployflow");
    Outcome {
        code: output
            .status
            .code()
            .expect("exited, not killed by a signal"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `deployflow <args>` and asserts it exits with `code`.
async fn expect(api: &str, args: &[&str], code: i32) -> Outcome {
    let outcome = deployflow(api, args).await;
    assert_eq!(outcome.code, code, "deployflow {args:?}: {outcome}");
    outcome
}

/// Polls `status <id>` until the job has `status`; returns that output.
async fn wait_for_status(api: &str, id: &str, status: &str) -> Outcome {
    wait_until(
        &format!("job {id} to be {status}"),
        Duration::from_secs(20),
        async || {
            let outcome = expect(api, &["status", id], 0).await;
            let line = outcome.stdout.lines().find(|l| l.starts_with("status "))?;
            (line.split_whitespace().nth(1) == Some(status)).then_some(outcome)
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_commands_drive_a_running_api() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_server, api) = common::spawn_serve(dir.path()).await;
    let api = api.as_str();

    // run --json: the API's answer, verbatim (fields in the API's order).
    let submitted = expect(
        api,
        &["run", "demo", "--input", r#"{"sleep_ms":10}"#, "--json"],
        0,
    )
    .await;
    assert!(submitted.stdout.starts_with("{\n  \"id\": "), "{submitted}");
    let job = submitted.json();
    assert_eq!(job["workflow"], "demo", "{submitted}");
    // The worker in the same process may claim the job before the API reads it
    // back for the answer.
    assert!(
        ["queued", "running", "succeeded"].contains(&job["status"].as_str().unwrap_or("")),
        "{submitted}"
    );
    let id = job["id"].as_str().expect("job id").to_owned();
    let id = id.as_str();

    // status: the job's fields, then one timeline row per attempt.
    let status = wait_for_status(api, id, "succeeded").await;
    assert!(
        status.stdout.starts_with(&format!("job           {id}\n")),
        "{status}"
    );
    assert!(status.stdout.contains(id), "{status}");
    assert!(status.stdout.contains("state         Verified"), "{status}");
    let timeline: Vec<Vec<&str>> = status
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("STEP"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        timeline[0],
        ["STEP", "ATTEMPT", "OUTCOME", "DURATION", "ERROR"],
        "{status}"
    );
    let steps: Vec<(&str, &str, &str)> = timeline[1..]
        .iter()
        .map(|row| (row[0], row[1], row[2]))
        .collect();
    assert_eq!(
        steps,
        [
            ("prepare", "1", "succeeded"),
            ("build", "1", "succeeded"),
            ("publish", "1", "succeeded"),
            ("verify", "1", "succeeded"),
        ],
        "{status}"
    );
    let view = expect(api, &["status", id, "--json"], 0).await.json();
    assert_eq!(view["id"], id);
    assert_eq!(view["steps"].as_array().map(Vec::len), Some(4));

    // A job that failed for good: status names the failure's code and what to do.
    let failing = expect(
        api,
        &[
            "run",
            "demo",
            "--input",
            r#"{"sleep_ms":10,"fail_step":"build","fail_times":10}"#,
            "--json",
        ],
        0,
    )
    .await
    .json();
    let failing = failing["id"].as_str().expect("job id").to_owned();
    let failed = wait_for_status(api, &failing, "failed").await;
    let field = |name: &str| {
        failed
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(field("error code "), "demo.requested_failure", "{failed}");
    assert_eq!(
        field("what to do "),
        engine::demo::FAILURES[0].suggestion,
        "{failed}"
    );

    // list: JSON and table.
    let list = expect(api, &["list", "--json"], 0).await.json();
    let ids: Vec<&str> = list["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["id"].as_str())
        .collect();
    assert!(ids.contains(&id), "{list:#}");
    let table = expect(
        api,
        &["list", "--workflow", "demo", "--status", "succeeded"],
        0,
    )
    .await;
    assert!(table.stdout.starts_with("ID "), "{table}");
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("no row for {id}: {table}"));
    assert_eq!(row.split_whitespace().nth(2), Some("succeeded"), "{table}");
    let bad_filter = expect(api, &["list", "--status", "bogus"], 1).await;
    assert!(bad_filter.stderr.contains("unknown status"), "{bad_filter}");

    // The API refuses: exit 1, its detail on stderr, nothing on stdout.
    let cancel = expect(api, &["cancel", id], 1).await;
    assert!(cancel.stdout.is_empty(), "{cancel}");
    assert!(cancel.stderr.starts_with("error: "), "{cancel}");
    assert!(cancel.stderr.contains("succeeded"), "{cancel}");
    assert!(cancel.stderr.contains("409"), "{cancel}");
    let missing = uuid::Uuid::new_v4().to_string();
    let not_found = expect(api, &["status", &missing], 1).await;
    assert!(
        not_found
            .stderr
            .contains(&format!("no job has id {missing}")),
        "{not_found}"
    );
    assert!(not_found.stderr.contains("Not found"), "{not_found}");
    let unknown = expect(api, &["run", "no-such-workflow"], 1).await;
    assert!(unknown.stderr.contains("unknown workflow"), "{unknown}");

    // Usage errors: exit 2, before any request.
    let bad_id = expect(api, &["status", "not-a-uuid"], 2).await;
    assert!(bad_id.stderr.contains("not a job id"), "{bad_id}");
    let bad_input = expect(api, &["run", "demo", "--input", "{oops"], 2).await;
    assert!(bad_input.stderr.contains("--input"), "{bad_input}");
    let bad_api = expect(api, &["list", "--api", "localhost:8080"], 2).await;
    assert!(bad_api.stderr.contains("DEPLOYFLOW_API"), "{bad_api}");

    // Nobody listening: exit 3, naming the URL.
    let unreachable = expect(api, &["--api", "http://127.0.0.1:1", "status", id], 3).await;
    assert!(
        unreachable.stderr.contains("http://127.0.0.1:1"),
        "{unreachable}"
    );

    // retry --from-step on a succeeded job queues it again; it succeeds again.
    let retried = expect(api, &["retry", id, "--from-step", "prepare", "--json"], 0)
        .await
        .json();
    assert_eq!(retried["id"], id);
    // The answer is the job as read after the retry: the in-process worker, woken at
    // once, may already have claimed (or even finished) it.
    assert!(
        ["queued", "running", "succeeded"].contains(&retried["status"].as_str().unwrap_or("")),
        "{retried:#}"
    );
    let again = wait_for_status(api, id, "succeeded").await;
    assert!(
        again
            .stdout
            .lines()
            .filter(|l| l.starts_with("prepare "))
            .count()
            == 2,
        "{again}"
    );

    // The same idempotency key answers the first job.
    let args = ["run", "demo", "--idempotency-key", "client-test"];
    let first = expect(api, &args, 0).await;
    assert!(first.stdout.starts_with("submitted job "), "{first}");
    let second = expect(api, &args, 0).await;
    assert!(
        second.stdout.starts_with("job already submitted"),
        "{second}"
    );
    let first_id = first.stdout.split_whitespace().nth(2).expect("job id");
    assert!(second.stdout.contains(first_id), "{first}{second}");
}

#[tokio::test]
async fn help_documents_the_exit_statuses() {
    let help = expect("http://127.0.0.1:1", &["--help"], 0).await;
    for needle in ["Exit status", "3 the API", "DEPLOYFLOW_API"] {
        assert!(help.stdout.contains(needle), "{needle}: {help}");
    }
}
