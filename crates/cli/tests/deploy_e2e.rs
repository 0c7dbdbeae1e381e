//! The whole deployment job end to end, with real processes and local stand-ins:
//! `deployflow serve --no-worker` and `deployflow worker` on a throwaway
//! PostgreSQL database, repositories served by a loopback smart-HTTP git server,
//! the fake `terraform` (real state in PostgreSQL through the `pg` backend, its
//! lock, every invocation recorded) and the real HTTP app it starts.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use test_support::database::TestPostgres;
use test_support::fake_container_tools::{FAKE_REGISTRY_PASSWORD, FakeContainerTools, ToolCall};
use test_support::fake_terraform::FakeTerraform;
use test_support::git_fixture::{FixtureFile, GitFixture};
use test_support::git_server::{BasicAuth, GitHttpServer};
use test_support::worker_process::{WorkerProcess, wait_until};

const DEPLOYFLOW: &str = env!("CARGO_BIN_EXE_deployflow");
const JOB_TIMEOUT: Duration = Duration::from_secs(90);
const AWS_KEY_ID: &str = "AKIAE2EFAKEKEYID0000";
const AWS_SECRET: &str = "e2eFakeAwsSecretAccessKey/0123456789abcdef";
const TOKEN: &str = "github_pat_11E2ETOKENabcdefghijklmnopqrstuvwxyz0123";

fn flask_app() -> Vec<FixtureFile> {
    vec![
        FixtureFile::file("requirements.txt", "flask==3.0.3\ngunicorn==23.0.0\n"),
        FixtureFile::file(
            "app.py",
            "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route(\"/health\")\ndef health():\n    return {\"ok\": True}\n\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=int(os.environ.get(\"PORT\", 5000)))\n",
        ),
    ]
}

fn command_line_tool() -> Vec<FixtureFile> {
    vec![
        FixtureFile::file(
            "pyproject.toml",
            "[project]\nname = \"csvtool\"\nversion = \"1.0\"\n\n[project.scripts]\ncsvtool = \"csvtool.cli:main\"\n",
        ),
        FixtureFile::file(
            "csvtool/cli.py",
            "import argparse\n\n\ndef main():\n    parser = argparse.ArgumentParser(description=\"Convert CSV files\")\n    parser.add_argument(\"path\")\n    args = parser.parse_args()\n    print(open(args.path).read())\n",
        ),
        FixtureFile::file("csvtool/__init__.py", ""),
    ]
}

/// One installation: database, git server, fake Terraform, API and workers.
struct Stack {
    dir: tempfile::TempDir,
    db: TestPostgres,
    terraform: FakeTerraform,
    tools: FakeContainerTools,
    git: GitHttpServer,
    api: Option<WorkerProcess>,
    api_url: String,
    workers: Vec<WorkerProcess>,
    http: reqwest::Client,
}

impl Stack {
    async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A stack whose git server asks for `auth` (private repositories).
    async fn start_with(auth: Option<BasicAuth>) -> Self {
        let mut stack = Self::without_worker(auth).await;
        stack.start_worker();
        stack
    }

    /// The database, git server, fakes and the API; no worker yet.
    async fn without_worker(auth: Option<BasicAuth>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = TestPostgres::create().await;
        let terraform = FakeTerraform::install(&dir.path().join("tf"));
        let tools = FakeContainerTools::install(&dir.path().join("tools"));
        std::fs::create_dir_all(dir.path().join("repos")).unwrap();
        let git = GitHttpServer::start(&dir.path().join("repos"), auth).await;
        let mut stack = Self {
            dir,
            db,
            terraform,
            tools,
            git,
            api: None,
            api_url: String::new(),
            workers: Vec::new(),
            http: reqwest::Client::new(),
        };
        stack.start_api().await;
        stack
    }

    fn repo(&self, name: &str, files: &[FixtureFile]) -> String {
        GitFixture::create_in(&self.dir.path().join("repos"), name, files);
        self.git.url_for(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(DEPLOYFLOW);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("DATABASE_URL", &self.db.url)
            .env("DATA_DIR", self.dir.path().join("data"))
            .env(
                "WORKFLOWS_DIR",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows"),
            )
            .env("ALLOW_LOCAL_REPOS", "true")
            .env("APPLY_MODE", "apply")
            .env("TERRAFORM_BIN", self.terraform.bin())
            .env("DOCKER_BIN", self.tools.docker())
            // The fake docker is no engine: preflight has its own tests on a real one.
            .env("PREFLIGHT", "off")
            .env("AWS_BIN", self.tools.aws())
            .env("TERRAFORM_LOCK_TIMEOUT_SECONDS", "30")
            .env("TERRAFORM_STOP_GRACE_SECONDS", "2")
            .env("HEALTHCHECK_DEADLINE_SECONDS", "2")
            .env("HEALTHCHECK_INTERVAL_MS", "100")
            // The fake's app answers on loopback.
            .env("HEALTHCHECK_ALLOW_PRIVATE", "true")
            .env("AWS_ACCESS_KEY_ID", AWS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
            .env("SECRETS_KEY", "7f".repeat(32))
            .env("LEASE_SECONDS", "3")
            .env("HEARTBEAT_SECONDS", "1")
            .env("POLL_INTERVAL_MS", "100")
            .env("SHUTDOWN_GRACE_SECONDS", "2")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info,sqlx=warn");
        command
    }

    async fn start_api(&mut self) {
        let mut command = self.command(&["serve", "--no-worker"]);
        command.env("LISTEN_ADDR", "127.0.0.1:0").env("AUTH", "off");
        let mut api = WorkerProcess::spawn("api", command, self.dir.path());
        self.api_url = api.api_url(Duration::from_secs(30)).await;
        self.api = Some(api);
    }

    fn start_worker(&mut self) {
        let command = self.command(&["worker"]);
        self.spawn_worker(command);
    }

    /// A worker whose Docker is the real engine `docker_host`, with the
    /// tests' stand-in base images.
    fn start_docker_worker(&mut self, docker_host: &str) {
        let mut command = self.command(&["worker"]);
        command
            .env("DOCKER_BIN", "docker")
            .env("DOCKER_HOST", docker_host)
            .env("BASE_IMAGE_REGISTRY", test_support::docker_engine::REGISTRY)
            .env("HEALTHCHECK_DEADLINE_SECONDS", "60");
        self.spawn_worker(command);
    }

    fn spawn_worker(&mut self, command: Command) {
        let name = format!("worker-{}", self.workers.len() + 1);
        self.workers
            .push(WorkerProcess::spawn(&name, command, self.dir.path()));
    }

    /// SIGKILLs every process: the API and all workers.
    fn kill_everything(&mut self) {
        if let Some(mut api) = self.api.take() {
            api.kill();
        }
        for worker in &mut self.workers {
            worker.kill();
        }
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.api_url))
            .json(&body)
            .send()
            .await
            .expect("POST");
        let code = response.status().as_u16();
        (code, response.json().await.unwrap_or(Value::Null))
    }

    async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.api_url))
            .send()
            .await
            .expect("GET");
        let code = response.status().as_u16();
        (code, response.json().await.unwrap_or(Value::Null))
    }

    async fn job(&self, id: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/job/{id}", self.api_url))
            .send()
            .await
            .expect("GET /job");
        response.json().await.expect("job JSON")
    }

    async fn submit(&self, repo_url: &str, extra: Value) -> String {
        let mut body = json!({"repo_url": repo_url, "description": "a small public web app on one VM with docker compose"});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let (code, job) = self.post("/request", body).await;
        assert_eq!(code, 202, "{job:#}");
        job["id"].as_str().expect("job id").to_owned()
    }

    async fn wait_for(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        wait_until(what, JOB_TIMEOUT, async || {
            let job = self.job(id).await;
            done(&job).then_some(job)
        })
        .await
    }

    async fn wait_status(&self, id: &str, status: &str) -> Value {
        self.wait_for(id, &format!("job {id} {status}"), |job| {
            job["status"] == status
        })
        .await
    }

    /// Terraform subcommands run so far, in order.
    fn terraform_commands(&self) -> Vec<String> {
        self.terraform
            .invocations()
            .iter()
            .filter_map(|i| i.command().map(str::to_owned))
            .collect()
    }

    fn count(&self, command: &str) -> usize {
        self.terraform_commands()
            .iter()
            .filter(|c| *c == command)
            .count()
    }

    /// Every resource address was created at most once.
    fn assert_no_duplicate_creates(&self) {
        let creates = self.terraform.creates();
        let mut addresses: Vec<&str> = creates.iter().map(|c| c.address.as_str()).collect();
        let total = addresses.len();
        addresses.sort();
        addresses.dedup();
        assert_eq!(
            total,
            addresses.len(),
            "a resource was created twice: {creates:#?}"
        );
        assert!(total > 0, "nothing was created");
    }
}

fn step<'a>(job: &'a Value, name: &str) -> &'a Value {
    job["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no step {name} in {job:#}"))
}

fn outcomes(job: &Value, name: &str) -> Vec<String> {
    step(job, name)["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_through_the_api_then_destroy() {
    let stack = Stack::start().await;
    let repo = stack.repo("shop", &flask_app());
    let id = stack.submit(&repo, json!({})).await;
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");

    // Every step completed once, in order, each after the one before.
    let names = [
        "clone",
        "analyse",
        "choose",
        "generate",
        "preflight",
        "apply",
        "healthcheck",
    ];
    let mut previous_end = String::new();
    for name in names {
        let step = step(&job, name);
        assert_eq!(step["status"], "completed", "{step:#}");
        let attempts = step["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1, "{step:#}");
        let started = attempts[0]["started_at"].as_str().unwrap().to_owned();
        assert!(
            started >= previous_end,
            "{name} started before the step before it ended"
        );
        previous_end = attempts[0]["finished_at"].as_str().unwrap().to_owned();
    }

    // The health check was real: the fake's app answered on loopback.
    let apply = &job["outputs"]["apply"];
    let health = &job["outputs"]["healthcheck"];
    let url = apply["app_url"].as_str().expect("app_url");
    assert!(url.starts_with("http://127.0.0.1:"), "{apply:#}");
    assert_eq!(health["status"], 200, "{health:#}");
    assert_eq!(health["url"], format!("{}health", url), "{health:#}");
    assert_eq!(apply["state"]["backend"], "pg");
    assert_eq!(apply["state"]["workspace"], format!("job-{id}"));
    assert_eq!(
        stack.terraform_commands(),
        ["init", "workspace", "plan", "show", "apply", "output"]
    );
    let apply_run = stack
        .terraform
        .invocations()
        .into_iter()
        .find(|i| i.command() == Some("apply"))
        .unwrap();
    assert!(
        apply_run.args.iter().any(|a| a == "deployflow.tfplan"),
        "apply must use the saved plan: {:?}",
        apply_run.args
    );
    assert!(apply_run.pg_conn_str_set);
    assert_eq!(
        apply_run.aws_env,
        ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    );
    stack.assert_no_duplicate_creates();
    assert_eq!(stack.terraform.live_app_pids().len(), 1);

    // Destroy: a durable job of its own, on the same state. Its first try
    // refreshes (a provider's token is read again) and fails here, as a
    // configuration that fails when evaluated again would: the second
    // destroys from the state alone.
    stack.terraform.fail_next(
        "destroy",
        1,
        "Error: Invalid index: the given key does not identify an element in this collection value.",
    );
    let (code, destroy) = stack.post(&format!("/job/{id}/destroy"), json!({})).await;
    assert_eq!(code, 202, "{destroy:#}");
    assert_eq!(destroy["workflow"], "destroy");
    let destroy_id = destroy["id"].as_str().unwrap().to_owned();
    let (again, same) = stack.post(&format!("/job/{id}/destroy"), json!({})).await;
    assert_eq!(
        (again, &same["id"]),
        (200, &destroy["id"]),
        "one destroy job per deployment"
    );
    let destroyed = stack.wait_status(&destroy_id, "succeeded").await;
    assert_eq!(destroyed["state"], "Destroyed", "{destroyed:#}");
    let destroy_runs: Vec<_> = stack
        .terraform
        .invocations()
        .into_iter()
        .filter(|i| i.command() == Some("destroy"))
        .collect();
    assert_eq!(destroy_runs.len(), 2, "{destroy_runs:?}");
    assert!(
        !destroy_runs[0].args.iter().any(|a| a == "-refresh=false"),
        "the first destroy refreshes: {:?}",
        destroy_runs[0].args
    );
    assert!(
        destroy_runs[1].args.iter().any(|a| a == "-refresh=false"),
        "the second evaluates no configuration again: {:?}",
        destroy_runs[1].args
    );
    assert_eq!(
        stack.terraform.destroys().len(),
        stack.terraform.creates().len(),
        "everything created was destroyed"
    );
    assert!(stack.terraform.live_app_pids().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_apply_failure_is_retried_after_backoff() {
    let stack = Stack::start().await;
    stack.terraform.fail_next(
        "apply",
        1,
        "Error: RequestError: send request failed: connection reset by peer",
    );
    let repo = stack.repo("shop", &flask_app());
    let id = stack.submit(&repo, json!({})).await;
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    assert_eq!(outcomes(&job, "apply"), ["failed", "succeeded"]);
    let first = &step(&job, "apply")["attempts"][0];
    assert!(
        first["error"]
            .as_str()
            .unwrap()
            .contains("connection reset by peer"),
        "{first:#}"
    );
    assert_eq!(first["error_code"], "terraform.command", "{first:#}");
    assert!(job["error_code"].is_null(), "{job:#}");
    // The second attempt applied the same saved plan: one plan, two applies.
    assert_eq!(stack.count("plan"), 1);
    assert_eq!(stack.count("apply"), 2);
    stack.assert_no_duplicate_creates();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_during_apply_is_succeeded_without_duplicate_infrastructure() {
    let mut stack = Stack::start().await;
    stack
        .terraform
        .set_resource_delay(Duration::from_millis(250));
    let repo = stack.repo("shop", &flask_app());
    let id = stack.submit(&repo, json!({})).await;
    wait_until("apply to create resources", JOB_TIMEOUT, async || {
        (stack.terraform.creates().len() >= 3).then_some(())
    })
    .await;
    stack.workers[0].kill();
    stack.start_worker();
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    let apply = outcomes(&job, "apply");
    assert_eq!(
        apply.first().map(String::as_str),
        Some("interrupted"),
        "{apply:?}"
    );
    assert_eq!(
        apply.last().map(String::as_str),
        Some("succeeded"),
        "{apply:?}"
    );
    // The successor applied again on the same state: every resource exactly once.
    stack.assert_no_duplicate_creates();
    let states: std::collections::BTreeSet<String> = stack
        .terraform
        .creates()
        .into_iter()
        .map(|c| c.workspace)
        .collect();
    assert_eq!(states.len(), 1, "one workspace: {states:?}");
    assert!(stack.count("apply") >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_health_check_is_retried_without_applying_again() {
    let stack = Stack::start().await;
    stack.terraform.set_app_healthy(false);
    let repo = stack.repo("shop", &flask_app());
    let id = stack.submit(&repo, json!({})).await;
    let job = stack.wait_status(&id, "failed").await;
    assert_eq!(job["state"], "Applied", "{job:#}");
    assert_eq!(job["failed_step"], "healthcheck", "{job:#}");
    let error = job["error"].as_str().unwrap_or_default();
    assert!(error.contains("HTTP 503"), "{error}");
    assert_eq!(job["error_code"], "healthcheck.unhealthy", "{job:#}");

    stack.terraform.set_app_healthy(true);
    let (code, retried) = stack.post(&format!("/job/{id}/retry"), json!({})).await;
    assert_eq!(code, 202, "{retried:#}");
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    assert_eq!(stack.count("apply"), 1, "the retry must not apply again");
    assert_eq!(outcomes(&job, "healthcheck").last().unwrap(), "succeeded");
}

/// Without a health path, `/` is a guess: an API that serves nothing there
/// answers 404, which shows it serves, as preflight takes it; a server
/// error does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_health_path_any_answer_below_500_on_the_root_is_healthy() {
    let stack = Stack::start().await;
    stack.terraform.set_app_status(404);
    let api = vec![
        FixtureFile::file("requirements.txt", "flask==3.0.3\ngunicorn==23.0.0\n"),
        FixtureFile::file(
            "app.py",
            "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.post(\"/orders\")\ndef orders():\n    return {\"ok\": True}\n",
        ),
    ];
    let repo = stack.repo("orders", &api);
    let id = stack.submit(&repo, json!({})).await;
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    assert_eq!(job["outputs"]["healthcheck"]["status"], 404, "{job:#}");

    stack.terraform.set_app_status(500);
    let id = stack.submit(&repo, json!({})).await;
    let job = stack.wait_status(&id, "failed").await;
    assert_eq!(job["error_code"], "healthcheck.unhealthy", "{job:#}");
}

/// A worker on its defaults probes a cloud deployment only on the internet:
/// Terraform printing a loopback (or metadata) URL fails the check unprobed,
/// at once and for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloud_deployment_on_a_private_address_is_not_probed() {
    let mut stack = Stack::without_worker(None).await;
    let mut worker = stack.command(&["worker"]);
    worker.env_remove("HEALTHCHECK_ALLOW_PRIVATE");
    stack.spawn_worker(worker);
    let repo = stack.repo("shop", &flask_app());
    let id = stack.submit(&repo, json!({})).await;
    let job = stack.wait_status(&id, "failed").await;
    assert_eq!(job["failed_step"], "healthcheck", "{job:#}");
    assert_eq!(job["error_code"], "healthcheck.not_public", "{job:#}");
    let error = job["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("127.0.0.1 is not an internet address"),
        "{error}"
    );
    assert_eq!(outcomes(&job, "healthcheck").len(), 1, "{job:#}");
    assert!(job["outputs"]["healthcheck"].is_null(), "{job:#}");
}

/// A change only the plan shows (a value the files compute) is held to the
/// policy gate before the plan is kept: no plan, no approval, no apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_that_fails_the_policy_gate_is_never_kept_or_applied() {
    let stack = Stack::start().await;
    stack.terraform.add_planned_change(json!({
        "address": "aws_security_group_rule.ssh",
        "mode": "managed",
        "type": "aws_security_group_rule",
        "name": "ssh",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": ["create"], "before": null, "after": {
            "type": "ingress", "protocol": "tcp", "from_port": 22, "to_port": 22,
            "cidr_blocks": ["0.0.0.0/0"]
        }},
    }));
    let repo = stack.repo("shop", &flask_app());
    let id = stack.submit(&repo, json!({})).await;
    let job = stack.wait_status(&id, "failed").await;
    assert_eq!(job["failed_step"], "apply", "{job:#}");
    let error = job["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("planned changes fail the policy gate")
            && error.contains("plan: [world-ingress] aws_security_group_rule.ssh"),
        "{error}"
    );
    assert_eq!(job["error_code"], "policy.refused", "{job:#}");
    assert_eq!(
        outcomes(&job, "apply"),
        ["failed"],
        "a refusal is not retried"
    );
    assert_eq!(stack.count("apply"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_that_is_not_a_server_is_denied_without_terraform() {
    let stack = Stack::start().await;
    let repo = stack.repo("csvtool", &command_line_tool());
    let id = stack.submit(&repo, json!({})).await;
    let job = stack.wait_status(&id, "failed").await;
    assert_eq!(job["state"], "Denied", "{job:#}");
    assert!(stack.terraform.invocations().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_apply_stops_terraform_and_retry_resumes() {
    let stack = Stack::start().await;
    stack.terraform.hang_on("apply", 2);
    let repo = stack.repo("shop", &flask_app());
    let id = stack.submit(&repo, json!({})).await;
    wait_until("apply to hang", JOB_TIMEOUT, async || {
        (stack.terraform.creates().len() >= 2).then_some(())
    })
    .await;
    let (code, cancel) = stack.post(&format!("/job/{id}/cancel"), json!({})).await;
    assert_eq!(code, 202, "{cancel:#}");
    let job = stack.wait_status(&id, "cancelled").await;
    assert_eq!(outcomes(&job, "apply").last().unwrap(), "cancelled");
    // The child was stopped: the hung apply ended.
    let hung = stack
        .terraform
        .invocations()
        .into_iter()
        .find(|i| i.command() == Some("apply"))
        .unwrap();
    wait_until(
        "the hung terraform to exit",
        Duration::from_secs(10),
        async || {
            let alive =
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(hung.pid as i32), None).is_ok();
            (!alive).then_some(())
        },
    )
    .await;

    let (code, _) = stack.post(&format!("/job/{id}/retry"), json!({})).await;
    assert_eq!(code, 202);
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    stack.assert_no_duplicate_creates();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_waits_through_a_restart_of_every_process_then_applies() {
    let mut stack = Stack::start().await;
    let repo = stack.repo("shop", &flask_app());
    let id = stack
        .submit(&repo, json!({"approve_before_apply": true}))
        .await;
    let job = stack.wait_status(&id, "waiting").await;
    assert_eq!(job["state"], "AwaitingApproval", "{job:#}");
    assert_eq!(step(&job, "apply")["status"], "waiting", "{job:#}");
    assert_eq!(stack.count("apply"), 0, "nothing applied before approval");
    let (code, early) = stack.post(&format!("/job/{id}/destroy"), json!({})).await;
    assert_eq!(code, 409, "{early:#}");

    stack.kill_everything();
    stack.start_api().await;
    stack.start_worker();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let job = stack.job(&id).await;
    assert_eq!(job["status"], "waiting", "{job:#}");

    // Approved from the command line, through the API.
    let approved = stack
        .command(&["approve", &id, "--comment", "looks right"])
        .env("DEPLOYFLOW_API", &stack.api_url)
        .output()
        .expect("deployflow approve");
    let said = String::from_utf8_lossy(&approved.stdout);
    assert!(
        approved.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&approved.stderr)
    );
    // Queued, or already claimed by the worker.
    assert!(said.contains(" (approved)"), "{said}");
    let (code, twice) = stack.post(&format!("/job/{id}/approve"), json!({})).await;
    assert_eq!(code, 409, "{twice:#}");
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    assert_eq!(
        stack.count("plan"),
        1,
        "the approved plan is the one applied"
    );
    assert_eq!(stack.count("apply"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_above_the_cost_ceiling_waits_for_an_approver() {
    let mut stack = Stack::without_worker(None).await;
    let mut worker = stack.command(&["worker"]);
    worker.env("MAX_MONTHLY_COST_USD", "1");
    stack.spawn_worker(worker);
    let repo = stack.repo("shop", &flask_app());
    // Approval was not asked for: the estimate above the ceiling asks for it.
    let id = stack.submit(&repo, json!({})).await;
    let job = stack.wait_status(&id, "waiting").await;
    assert_eq!(job["state"], "AwaitingApproval", "{job:#}");
    assert!(
        job.to_string()
            .contains("above MAX_MONTHLY_COST_USD ($1.00)"),
        "{job:#}"
    );
    assert_eq!(stack.count("apply"), 0, "nothing applied above the ceiling");
    let (code, _) = stack.post(&format!("/job/{id}/approve"), json!({})).await;
    assert_eq!(code, 202);
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    assert_eq!(stack.count("apply"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_responses_checkpoints_state_or_artifacts() {
    let mut stack = Stack::start_with(Some(BasicAuth::new("x-access-token", TOKEN))).await;
    let repo = stack.repo("private-shop", &flask_app());
    let id = stack.submit(&repo, json!({"github_token": TOKEN})).await;
    // A resume re-materialises the private commit with the sealed token.
    wait_until("the clone checkpoint", JOB_TIMEOUT, async || {
        let job = stack.job(&id).await;
        (step(&job, "clone")["status"] == "completed").then_some(())
    })
    .await;
    stack.workers[0].kill();
    stack.start_worker();
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    let (code, destroy) = stack.post(&format!("/job/{id}/destroy"), json!({})).await;
    assert_eq!(code, 202, "{destroy:#}");
    stack
        .wait_status(destroy["id"].as_str().unwrap(), "succeeded")
        .await;

    let secrets = [TOKEN, AWS_KEY_ID, AWS_SECRET];
    let mut scanned = Vec::new();
    // Every API answer about the job.
    for path in [
        format!("/job/{id}"),
        format!("/job/{id}/logs?limit=1000"),
        format!("/job/{id}/artifacts"),
        "/list".to_owned(),
    ] {
        let text = stack
            .http
            .get(format!("{}{path}", stack.api_url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        scanned.push((path, text));
    }
    let listed: Value = stack
        .http
        .get(format!("{}/job/{id}/artifacts", stack.api_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for artifact in listed["artifacts"].as_array().unwrap() {
        let path = artifact["path"].as_str().unwrap();
        let bytes = stack
            .http
            .get(format!("{}/job/{id}/artifacts/{path}", stack.api_url))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        scanned.push((
            path.to_owned(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    // Every row of every table: engine data and Terraform's state.
    scanned.extend(test_support::database::every_stored_row(&stack.db.url).await);
    // Every log line of every process.
    if let Some(api) = &stack.api {
        scanned.push(("api log".into(), api.log()));
    }
    for worker in &stack.workers {
        scanned.push((format!("{} log", worker.name()), worker.log()));
    }
    // What the Terraform child was given on its command line.
    for run in stack.terraform.invocations() {
        scanned.push(("terraform argv".into(), run.args.join(" ")));
    }
    assert!(
        scanned.len() > 20,
        "too little was scanned: {}",
        scanned.len()
    );
    for (place, text) in &scanned {
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "a secret leaked into {place}: {text}"
            );
        }
    }
    // The Terraform child did get the AWS credentials, by name, from its environment.
    let apply = stack
        .terraform
        .invocations()
        .into_iter()
        .find(|i| i.command() == Some("apply"))
        .unwrap();
    assert_eq!(
        apply.aws_env,
        ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_plan_ends_the_job_without_applying() {
    let stack = Stack::start().await;
    let repo = stack.repo("shop", &flask_app());
    let id = stack
        .submit(&repo, json!({"approve_before_apply": true}))
        .await;
    stack.wait_status(&id, "waiting").await;
    let rejected = stack
        .command(&["reject", &id, "--comment", "wrong region"])
        .env("DEPLOYFLOW_API", &stack.api_url)
        .output()
        .expect("deployflow reject");
    assert!(
        rejected.status.success(),
        "{}",
        String::from_utf8_lossy(&rejected.stderr)
    );
    let job = stack.wait_status(&id, "failed").await;
    assert_eq!(job["state"], "Rejected", "{job:#}");
    let error = job["error"].as_str().unwrap_or_default();
    assert!(error.contains("wrong region"), "{error}");
    assert_eq!(job["error_code"], "approval.rejected", "{job:#}");
    assert_eq!(stack.count("apply"), 0, "a rejected plan is never applied");
    assert!(stack.terraform.creates().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serverless_deployment_pushes_its_image_before_the_rest_is_applied() {
    let stack = Stack::start().await;
    let repo = stack.repo("api", &flask_app());
    let (code, job) = stack
        .post(
            "/request",
            json!({"repo_url": repo, "description": "a small public API, cheap, scale to zero"}),
        )
        .await;
    assert_eq!(code, 202, "{job:#}");
    let id = job["id"].as_str().unwrap().to_owned();
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    assert_eq!(job["outputs"]["choose"]["target"], "serverless", "{job:#}");

    // The repository was created alone first, then everything else, once each.
    let creates = stack.terraform.creates();
    assert_eq!(creates[0].address, "aws_ecr_repository.app", "{creates:#?}");
    stack.assert_no_duplicate_creates();

    // Login with the password on stdin, the isolated build network made
    // ready, build from the bundle on stdin on that network, push.
    let (setup, calls): (Vec<ToolCall>, Vec<ToolCall>) =
        stack.tools.calls().into_iter().partition(|c| {
            c.argv[0] == "docker"
                && ["image", "network", "container", "rm", "create", "start"]
                    .contains(&c.argv[1].as_str())
        });
    let proxy = setup.last().expect("the proxy is started").argv[2].clone();
    let start_proxy = format!("start {proxy}");
    let setup: Vec<String> = setup.iter().map(|c| c.argv[1..3].join(" ")).collect();
    assert_eq!(
        setup,
        [
            "image inspect",
            "network inspect",
            "network inspect",
            "container inspect",
            "rm -f",
            "create --name",
            "network connect",
            start_proxy.as_str()
        ],
        "{calls:#?}"
    );
    // The proxy is named by its recipe, as its image is tagged.
    let digest = proxy
        .strip_prefix("deployflow-egress-proxy-")
        .unwrap_or_else(|| panic!("{proxy}"));
    assert!(
        digest.len() == 12 && digest.chars().all(|c| c.is_ascii_hexdigit()),
        "{proxy}"
    );
    // The tag is looked up first: it is new, so it is not there yet.
    let (lookups, calls): (Vec<ToolCall>, Vec<ToolCall>) = calls
        .into_iter()
        .partition(|c| c.argv[1..3] == ["ecr", "describe-images"]);
    assert_eq!(lookups.len(), 1, "{lookups:#?}");
    let argv: Vec<Vec<&str>> = calls
        .iter()
        .map(|c| c.argv.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(argv.len(), 4, "{calls:#?}");
    assert_eq!(
        argv[0],
        [
            "aws",
            "ecr",
            "get-login-password",
            "--region",
            "ca-central-1"
        ]
    );
    assert_eq!(
        &argv[1][..5],
        ["docker", "login", "--username", "AWS", "--password-stdin"]
    );
    assert_eq!(calls[1].stdin_bytes, FAKE_REGISTRY_PASSWORD.len());
    assert_eq!(
        &argv[2][..5],
        ["docker", "build", "--platform", "linux/amd64", "--tag"]
    );
    assert!(
        calls[2].stdin_bytes > 100,
        "the bundle is the build context"
    );
    assert_eq!(argv[2].last(), Some(&"-"), "the context is read from stdin");
    let image = argv[2][5];
    assert!(image.starts_with("fake-ecr_repository_url:"), "{image}");
    // The deployment names the image it runs by the digest the push printed.
    assert_eq!(job["outputs"]["apply"]["image"]["image"], image, "{job:#}");
    assert_eq!(
        job["outputs"]["apply"]["image"]["digest"],
        FakeContainerTools::digest_of(image),
        "{job:#}"
    );
    let build = &argv[2];
    let https_proxy = format!("HTTPS_PROXY=http://{proxy}:3128");
    assert!(
        build
            .windows(2)
            .any(|w| w == ["--network", "deployflow-builds"]),
        "{build:?}"
    );
    assert!(
        build
            .windows(2)
            .any(|w| w == ["--build-arg", https_proxy.as_str()]),
        "{build:?}"
    );
    assert_eq!(argv[3], ["docker", "push", image]);

    // The registry password is nowhere in the logs.
    for worker in &stack.workers {
        assert!(!worker.log().contains(FAKE_REGISTRY_PASSWORD));
    }
    let (_, logs) = stack.get_json(&format!("/job/{id}/logs?limit=1000")).await;
    assert!(!logs.to_string().contains(FAKE_REGISTRY_PASSWORD));
}

/// A worker SIGKILLed right after its `docker push`, before it recorded the
/// push: its successor finds the tag in the registry and neither builds nor
/// pushes again (a second push of an immutable tag would fail every retry).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_after_its_image_push_is_resumed_without_pushing_again() {
    let mut stack = Stack::start().await;
    stack.tools.kill_caller_after_next_push();
    let repo = stack.repo("api", &flask_app());
    let (code, job) = stack
        .post(
            "/request",
            json!({"repo_url": repo, "description": "a small public API, cheap, scale to zero"}),
        )
        .await;
    assert_eq!(code, 202, "{job:#}");
    let id = job["id"].as_str().unwrap().to_owned();
    let pushes = |stack: &Stack| {
        stack
            .tools
            .calls()
            .into_iter()
            .filter(|c| c.argv.get(1).map(String::as_str) == Some("push"))
            .count()
    };
    wait_until("the image push", JOB_TIMEOUT, async || {
        (pushes(&stack) == 1).then_some(())
    })
    .await;
    stack.start_worker();
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    let apply = outcomes(&job, "apply");
    assert_eq!(
        apply.first().map(String::as_str),
        Some("interrupted"),
        "{apply:?}"
    );
    assert_eq!(pushes(&stack), 1, "{:#?}", stack.tools.calls());
    let builds = stack
        .tools
        .calls()
        .into_iter()
        .filter(|c| c.argv.get(1).map(String::as_str) == Some("build"))
        .count();
    assert_eq!(builds, 1, "the successor did not build the image again");
    stack.assert_no_duplicate_creates();
    // The successor took the digest from the registry.
    let image = job["outputs"]["apply"]["image"]["image"].as_str().unwrap();
    assert_eq!(
        job["outputs"]["apply"]["image"]["digest"],
        FakeContainerTools::digest_of(image),
        "{job:#}"
    );
}

/// An attempt that failed after `terraform apply` finished (here reading the
/// outputs) is followed by one that only reads them: the changes were made
/// and recorded as made, so nothing is applied or planned again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_failing_after_its_apply_is_retried_without_applying_again() {
    let stack = Stack::start().await;
    stack
        .terraform
        .fail_next("output", 1, "Error: connection reset by peer");
    let repo = stack.repo("shop", &flask_app());
    let id = stack.submit(&repo, json!({})).await;
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    assert_eq!(outcomes(&job, "apply"), ["failed", "succeeded"], "{job:#}");
    assert_eq!(stack.count("apply"), 1, "the retry must not apply again");
    assert_eq!(stack.count("plan"), 1, "nor plan again");
    assert_eq!(job["outputs"]["apply"]["replanned"], false, "{job:#}");
    stack.assert_no_duplicate_creates();
}

/// A variable the image's build reads (a bundler's public one) reaches
/// `docker build` as a build argument: its name on the command line, its
/// value only in the CLI's environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_time_variable_reaches_the_image_build_as_a_build_argument() {
    let stack = Stack::start().await;
    let repo = stack.repo(
        "site",
        &[
            FixtureFile::file(
                "package.json",
                r#"{"name":"site","scripts":{"build":"node build.js","start":"node server.js"},"dependencies":{"express":"^4.19.2"}}"#,
            ),
            FixtureFile::file(
                "build.js",
                "require('fs').writeFileSync('public.txt', process.env.NEXT_PUBLIC_API_URL || '');\n",
            ),
            FixtureFile::file(
                "server.js",
                "const app = require('express')();\nconst api = process.env.NEXT_PUBLIC_API_URL;\napp.get('/health', (req, res) => res.send(api || 'ok'));\napp.listen(process.env.PORT || 3000);\n",
            ),
        ],
    );
    let value = "https://api.example.test/v9-build-arg";
    let (code, job) = stack
        .post(
            "/request",
            json!({"repo_url": repo, "description": "a small public API, cheap, scale to zero",
                   "env": {"NEXT_PUBLIC_API_URL": value}}),
        )
        .await;
    assert_eq!(code, 202, "{job:#}");
    let id = job["id"].as_str().unwrap().to_owned();
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(job["outputs"]["choose"]["target"], "serverless", "{job:#}");
    let calls = stack.tools.calls();
    let build = calls
        .iter()
        .find(|c| c.argv.get(1).map(String::as_str) == Some("build"))
        .expect("a docker build");
    let argv: Vec<&str> = build.argv.iter().map(String::as_str).collect();
    assert!(
        argv.windows(2)
            .any(|w| w == ["--build-arg", "NEXT_PUBLIC_API_URL"]),
        "{argv:?}"
    );
    assert!(!argv.iter().any(|a| a.contains(value)), "{argv:?}");
}

/// `app_env` as the saved plan of job `id` carried it to Terraform (the
/// plan file is an admin's artifact: it holds the variables' values).
async fn planned_app_env(stack: &Stack, id: &str) -> Value {
    let (code, plan) = stack
        .get_json(&format!("/job/{id}/artifacts/plan/deployflow.tfplan"))
        .await;
    assert_eq!(code, 200, "{plan:#}");
    serde_json::from_str(plan["variables"]["app_env"].as_str().unwrap_or("{}")).unwrap()
}

/// A key the app signs with that nobody gave is generated for a cloud
/// target and reaches Terraform in `app_env`; a retry from apply plans
/// with the same value, and a credential the user gave passes as given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_the_app_signs_with_is_generated_for_the_container_service_and_kept() {
    let stack = Stack::start().await;
    let mut files = flask_app();
    files[1] = FixtureFile::file(
        "app.py",
        "import os\nfrom flask import Flask\n\napp = Flask(__name__)\napp.secret_key = os.environ[\"SECRET_KEY\"]\nPAYMENTS = os.environ[\"PAYMENTS_API_KEY\"]\n\n\n@app.route(\"/health\")\ndef health():\n    return {\"ok\": True}\n",
    );
    let repo = stack.repo("signed", &files);
    let id = stack
        .submit(
            &repo,
            json!({"description": "deploy the shop on a container service",
                   "env": {"PAYMENTS_API_KEY": "pk_given_by_the_user"}}),
        )
        .await;
    let job = stack.wait_status(&id, "succeeded").await;
    assert_eq!(
        job["outputs"]["choose"]["target"], "container-service",
        "{job:#}"
    );
    assert_eq!(
        job["outputs"]["generate"]["generated_secrets"],
        json!(["SECRET_KEY"]),
        "{job:#}"
    );
    let app_env = planned_app_env(&stack, &id).await;
    assert_eq!(app_env["PAYMENTS_API_KEY"], "pk_given_by_the_user");
    let key = app_env["SECRET_KEY"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 48, "{key}");
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()), "{key}");

    let (code, retried) = stack
        .post(&format!("/job/{id}/retry"), json!({"from_step": "apply"}))
        .await;
    assert_eq!(code, 202, "{retried:#}");
    stack.wait_status(&id, "succeeded").await;
    assert_eq!(
        planned_app_env(&stack, &id).await["SECRET_KEY"],
        key.as_str(),
        "the second plan carries the same key"
    );

    // The destroy plans with the image tag the last plan was made with, not
    // the template's default, which an expression of it might not take.
    let tag_of = |args: &[String]| {
        args.iter()
            .find(|a| a.starts_with("-var=image_tag="))
            .cloned()
    };
    let planned = stack
        .terraform
        .invocations()
        .into_iter()
        .filter(|i| i.command() == Some("plan"))
        .filter_map(|i| tag_of(&i.args))
        .next_back()
        .expect("the plan's image tag");
    let (code, destroy) = stack.post(&format!("/job/{id}/destroy"), json!({})).await;
    assert_eq!(code, 202, "{destroy:#}");
    let destroyed = stack
        .wait_status(destroy["id"].as_str().unwrap(), "succeeded")
        .await;
    assert_eq!(destroyed["state"], "Destroyed", "{destroyed:#}");
    let destroy_run = stack
        .terraform
        .invocations()
        .into_iter()
        .rfind(|i| i.command() == Some("destroy"))
        .expect("a destroy");
    assert_eq!(tag_of(&destroy_run.args), Some(planned), "{destroy_run:?}");
    assert_eq!(
        destroy_run.app_env_names,
        ["PAYMENTS_API_KEY", "SECRET_KEY"],
        "the destroy has the values the apply planned with, given and generated"
    );
}

/// A VM replaced by a new bundle keeps its data volume, so its stores'
/// passwords and the app's keys are generated once with the job and reach
/// the instance through `app_env`, the same on every plan: a fresh `.env`
/// would open the kept database with a new password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vm_gets_its_store_passwords_and_keys_generated_once_and_kept() {
    let stack = Stack::start().await;
    let mut files = flask_app();
    files[1] = FixtureFile::file(
        "app.py",
        "import os\nfrom flask import Flask\n\napp = Flask(__name__)\napp.secret_key = os.environ[\"SECRET_KEY\"]\nDATABASE_URL = os.environ[\"DATABASE_URL\"]\n\n\n@app.route(\"/health\")\ndef health():\n    return {\"ok\": True}\n",
    );
    let repo = stack.repo("vm-store", &files);
    let id = stack
        .submit(
            &repo,
            json!({"description": "a small shop on a single VM, with postgres on the same machine"}),
        )
        .await;
    let job = stack
        .wait_for(&id, "job ended", |job| {
            job["status"] == "succeeded" || job["status"] == "failed"
        })
        .await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert_eq!(job["outputs"]["choose"]["target"], "vm", "{job:#}");
    let generated = job["outputs"]["generate"]["generated_secrets"].clone();
    let names: Vec<&str> = generated
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(names.contains(&"SECRET_KEY"), "{job:#}");
    let password = names
        .iter()
        .find(|n| n.contains("POSTGRES_PASSWORD"))
        .copied()
        .unwrap_or_else(|| panic!("a generated store password: {job:#}"))
        .to_owned();
    let app_env = planned_app_env(&stack, &id).await;
    let planned = |env: &Value, name: &str| env[name].as_str().unwrap_or_default().to_owned();
    let first = (
        planned(&app_env, "SECRET_KEY"),
        planned(&app_env, &password),
    );
    assert_eq!(first.0.len(), 48, "{app_env:#}");
    assert_eq!(first.1.len(), 48, "{app_env:#}");

    let (code, retried) = stack
        .post(&format!("/job/{id}/retry"), json!({"from_step": "apply"}))
        .await;
    assert_eq!(code, 202, "{retried:#}");
    stack.wait_status(&id, "succeeded").await;
    let again = planned_app_env(&stack, &id).await;
    assert_eq!(
        (planned(&again, "SECRET_KEY"), planned(&again, &password)),
        first,
        "the second plan carries the same values"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_during_compose_up_on_a_docker_host_is_resumed_without_a_second_container()
{
    let Some(docker) = test_support::docker_engine::engine_with(&["python:3.12.8-slim-bookworm"])
    else {
        return;
    };
    let mut stack = Stack::without_worker(None).await;
    stack.start_docker_worker(&docker.host);
    // A requirements file of its own, so the dependency layer is built anew
    // (seconds of pip), not taken from an earlier run's cache.
    let mut files = flask_app();
    files[0] = FixtureFile::file(
        "requirements.txt",
        format!(
            "flask==3.0.3\ngunicorn==23.0.0\n# build {}\n",
            uuid::Uuid::new_v4()
        ),
    );
    let repo = stack.repo("shop", &files);
    let (code, job) = stack
        .post(
            "/request",
            json!({"repo_url": repo, "description": "run it on my server"}),
        )
        .await;
    assert_eq!(code, 202, "{job:#}");
    let id = job["id"].as_str().unwrap().to_owned();

    // SIGKILL the worker as compose up begins (it goes on in its own
    // process group, and the successor's `up` meets what it made).
    let worker = stack.workers.pop().unwrap();
    let job = wait_until("compose up to start", JOB_TIMEOUT * 4, async || {
        let job = stack.job(&id).await;
        let ended = ["succeeded", "failed"].contains(&job["status"].as_str().unwrap_or_default());
        let up = job["logs"].as_array().is_some_and(|lines| {
            lines.iter().any(|l| {
                l["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("starting compose project"))
            })
        });
        (ended || up).then_some(job)
    })
    .await;
    assert_eq!(job["status"], "running", "{job:#}\n{}", worker.log());
    let mut worker = worker;
    worker.kill();
    stack.start_docker_worker(&docker.host);

    let job = wait_until("the job to end", JOB_TIMEOUT * 4, async || {
        let job = stack.job(&id).await;
        ["succeeded", "failed"]
            .contains(&job["status"].as_str().unwrap_or_default())
            .then_some(job)
    })
    .await;
    assert_eq!(job["status"], "succeeded", "{job:#}");
    assert_eq!(job["state"], "HealthChecked", "{job:#}");
    assert!(
        outcomes(&job, "apply").contains(&"interrupted".to_owned()),
        "{:?}",
        outcomes(&job, "apply")
    );
    let project = job["outputs"]["apply"]["outputs"]["compose_project"]
        .as_str()
        .unwrap()
        .to_owned();
    let containers = docker.lines(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    assert_eq!(containers.len(), 1, "one app container: {containers:?}");
    let url = job["outputs"]["apply"]["app_url"].as_str().unwrap();
    let answer = reqwest::get(format!("{url}health")).await.unwrap();
    assert_eq!(answer.status(), 200);

    let (code, destroy) = stack.post(&format!("/job/{id}/destroy"), json!({})).await;
    assert_eq!(code, 202, "{destroy:#}");
    let destroyed = stack
        .wait_status(destroy["id"].as_str().unwrap(), "succeeded")
        .await;
    assert_eq!(destroyed["state"], "Destroyed", "{destroyed:#}");
    let left = docker.project_leftovers(&project);
    assert!(left.is_empty(), "destroy left {left:?}");
}

/// `deployflow deploy` runs the job in its own process: no API is left to
/// destroy through, and on a docker host the app holds the API's default
/// port. `destroy --here` takes it down from the same store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_docker_host_deployment_run_in_one_process_is_taken_down_with_destroy_here() {
    let Some(docker) = test_support::docker_engine::engine_with(&["python:3.12.8-slim-bookworm"])
    else {
        return;
    };
    let stack = Stack::without_worker(None).await;
    let repo = stack.repo("shop", &flask_app());
    let out = stack.dir.path().join("plan-out");
    let on_the_engine = |args: &[&str]| {
        let mut command = stack.command(args);
        command
            .env("DOCKER_BIN", "docker")
            .env("DOCKER_HOST", &docker.host)
            .env("BASE_IMAGE_REGISTRY", test_support::docker_engine::REGISTRY)
            .env("HEALTHCHECK_DEADLINE_SECONDS", "60");
        let output = command.output().expect("deployflow runs");
        let said = String::from_utf8_lossy(&output.stdout).into_owned();
        let logged = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.success(), said, logged)
    };
    let (ok, said, logged) = on_the_engine(&[
        "deploy",
        &repo,
        "--description",
        "run it on my server",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{said}\n{logged}");
    let id = said
        .lines()
        .find_map(|l| l.strip_prefix("deployment job "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the job's id is printed")
        .to_owned();
    assert!(said.contains("the app answers at http://"), "{said}");
    assert!(
        said.contains(&format!("deployflow destroy --here {id}")),
        "{said}"
    );
    let project = format!("deployflow-{}", &id.replace('-', "")[..12]);
    let running = docker.lines(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    assert_eq!(running.len(), 1, "the app runs: {running:?}");

    let (ok, said, logged) = on_the_engine(&["destroy", "--here", &id]);
    assert!(ok, "{said}\n{logged}");
    assert!(said.contains("succeeded"), "{said}");
    let left = docker.project_leftovers(&project);
    assert!(left.is_empty(), "destroy left {left:?}");

    // Asked again, it is the same destroy job, already done.
    let (ok, again, logged) = on_the_engine(&["destroy", "--here", &id, "--json"]);
    assert!(ok, "{again}\n{logged}");
    let again: Value = serde_json::from_str(again.trim()).expect("JSON");
    assert_eq!(again["status"], "succeeded", "{again:#}");
    assert_eq!(again["deployment"], id.as_str(), "{again:#}");

    let (ok, said, _) = on_the_engine(&["destroy", "--here", again["id"].as_str().unwrap()]);
    assert!(!ok, "a destroy job is no deployment: {said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_in_one_process_returns_when_its_plan_waits_for_approval() {
    let stack = Stack::without_worker(None).await;
    let repo = stack.repo("shop", &flask_app());
    let out = stack.dir.path().join("plan-out");
    let mut deploy = stack
        .command(&[
            "deploy",
            &repo,
            "--description",
            "small web app on a single server",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("REQUIRE_APPROVAL", "true")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("deployflow deploy");
    let deadline = std::time::Instant::now() + JOB_TIMEOUT;
    let status = loop {
        if let Some(status) = deploy.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = deploy.kill();
            panic!("deployflow deploy did not return while its job waited for approval");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut said = String::new();
    std::io::Read::read_to_string(&mut deploy.stdout.take().unwrap(), &mut said).unwrap();
    assert!(status.success(), "{said}");
    assert!(said.contains("the plan waits for approval"), "{said}");
    assert!(said.contains("deployflow approve "), "{said}");
    assert!(
        out.join("terraform").is_dir(),
        "the plan's files are written"
    );
    assert_eq!(stack.count("apply"), 0, "nothing applied before approval");
}
