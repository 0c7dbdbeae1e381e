//! The fake Terraform as production drives it: real processes, real state
//! files and PostgreSQL rows, a real HTTP app.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use test_support::database::TestPostgres;
use test_support::fake_terraform::FakeTerraform;

const MAIN_TF: &str = r#"
variable "region" {
  type    = string
  default = "eu-west-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_instance" "app" {
  ami = "ami-123"
}

output "bucket" {
  value = "x"
}
"#;

struct Setup {
    tf: FakeTerraform,
    work: PathBuf,
    _dir: tempfile::TempDir,
}

fn setup(main_tf: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let tf = FakeTerraform::install(dir.path());
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("main.tf"), main_tf).unwrap();
    Setup {
        tf,
        work,
        _dir: dir,
    }
}

fn command(setup: &Setup, args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(setup.tf.bin());
    command
        .args(args)
        .current_dir(&setup.work)
        .env_remove("PG_CONN_STR")
        .env_remove("TF_WORKSPACE");
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("AWS_")) {
        command.env_remove(name);
    }
    command.envs(envs.iter().copied());
    command
}

fn run(setup: &Setup, args: &[&str], envs: &[(&str, &str)]) -> Output {
    command(setup, args, envs).output().unwrap()
}

/// Runs and asserts the exit code, returning stdout.
fn expect(setup: &Setup, code: i32, args: &[&str], envs: &[(&str, &str)]) -> String {
    let output = run(setup, args, envs);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(code),
        "terraform {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

fn app_url(setup: &Setup, envs: &[(&str, &str)]) -> String {
    let outputs: Value =
        serde_json::from_str(&expect(setup, 0, &["output", "-json"], envs)).unwrap();
    outputs["app_url"]["value"].as_str().unwrap().to_owned()
}

/// The HTTP status of GET `url`, `None` when nothing listens.
fn http_status(url: &str) -> Option<u16> {
    let authority = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split(' ').nth(1)?.parse().ok()
}

fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn addresses(events: &[test_support::fake_terraform::ResourceEvent]) -> Vec<String> {
    let mut addresses: Vec<String> = events.iter().map(|e| e.address.clone()).collect();
    addresses.sort();
    addresses
}

#[test]
fn local_state_lifecycle_with_workspace_outputs_and_app() {
    let s = setup(MAIN_TF);
    let env = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
    ];
    let init = expect(&s, 0, &["init", "-input=false", "-no-color"], &env);
    assert!(init.contains("Terraform has been successfully initialized!"));
    let select = ["workspace", "select", "-or-create=true", "staging"];
    expect(&s, 0, &select, &env);

    let plan = [
        "plan",
        "-input=false",
        "-json",
        "-detailed-exitcode",
        "-out=tfplan",
    ];
    let lines = json_lines(&expect(&s, 2, &plan, &env));
    let planned: Vec<&str> = lines
        .iter()
        .filter(|l| l["type"] == "planned_change")
        .map(|l| l["change"]["resource"]["addr"].as_str().unwrap())
        .collect();
    assert_eq!(planned, ["aws_vpc.main", "aws_instance.app"]);
    let summary = lines
        .iter()
        .find(|l| l["type"] == "change_summary")
        .unwrap();
    assert_eq!(summary["changes"]["add"], 2);
    assert_eq!(summary["changes"]["operation"], "plan");

    let show: Value =
        serde_json::from_str(&expect(&s, 0, &["show", "-json", "tfplan"], &env)).unwrap();
    assert!(show["format_version"].is_string());
    let actions: Vec<(&str, &str)> = show["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let action = c["change"]["actions"][0].as_str().unwrap();
            (c["address"].as_str().unwrap(), action)
        })
        .collect();
    assert_eq!(
        actions,
        [("aws_vpc.main", "create"), ("aws_instance.app", "create")]
    );

    let applied = json_lines(&expect(&s, 0, &["apply", "-json", "tfplan"], &env));
    let completed = applied
        .iter()
        .filter(|l| l["type"] == "apply_complete")
        .count();
    assert_eq!(completed, 2);
    let state_file = s.work.join("terraform.tfstate.d/staging/terraform.tfstate");
    let state: Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    assert_eq!(state["resources"].as_array().unwrap().len(), 2);
    assert!(!s.work.join("terraform.tfstate").exists());

    let outputs: Value = serde_json::from_str(&expect(&s, 0, &["output", "-json"], &env)).unwrap();
    assert_eq!(outputs["bucket"]["value"], "fake-bucket");
    assert_eq!(outputs["app_url"]["type"], "string");
    let url = app_url(&s, &env);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(http_status(&url), Some(200));
    s.tf.set_app_healthy(false);
    assert_eq!(http_status(&url), Some(503));
    s.tf.set_app_healthy(true);

    // Nothing left to do: no changes, and a second apply reuses the live app.
    expect(&s, 0, &["plan", "-detailed-exitcode"], &env);
    expect(&s, 0, &["apply", "-auto-approve", "-input=false"], &env);
    assert_eq!(app_url(&s, &env), url);
    assert_eq!(s.tf.creates().len(), 2);
    assert_eq!(s.tf.live_app_pids().len(), 1);

    let destroyed = expect(&s, 0, &["destroy", "-auto-approve", "-no-color"], &env);
    assert!(destroyed.contains("Destroy complete! Resources: 2 destroyed."));
    assert_eq!(addresses(&s.tf.destroys()), addresses(&s.tf.creates()));
    assert!(s.tf.destroys().iter().all(|e| e.workspace == "staging"));
    assert_eq!(expect(&s, 0, &["output", "-json"], &env).trim(), "{}");
    wait_until("the app to stop", Duration::from_secs(5), || {
        http_status(&url).is_none()
    });

    let invocations = s.tf.invocations();
    assert_eq!(invocations.len(), 12);
    assert!(invocations.iter().all(|i| i.exit_code.is_some()));
    assert_eq!(invocations[2].command(), Some("plan"));
    assert_eq!(invocations[2].exit_code, Some(2));
    assert_eq!(
        invocations[0].aws_env,
        ["AWS_REGION", "AWS_SECRET_ACCESS_KEY"]
    );
    assert!(!invocations[0].pg_conn_str_set);
    assert_eq!(invocations[0].cwd, s.work);
    let recorded = std::fs::read_to_string(s.tf.control_dir().join("invocations.jsonl")).unwrap();
    assert!(!recorded.contains("s3cr3t"));
}

#[test]
fn a_saved_plan_made_before_another_apply_is_stale() {
    let s = setup(MAIN_TF);
    expect(
        &s,
        0,
        &["init", "-backend-config=path=state/app.tfstate"],
        &[],
    );
    expect(&s, 0, &["plan", "-out=first"], &[]);
    expect(&s, 0, &["plan", "-out=second"], &[]);
    expect(&s, 0, &["apply", "first"], &[]);
    let output = run(&s, &["apply", "second"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Error: Saved plan is stale"));
    assert_eq!(s.tf.creates().len(), 2);
    assert!(s.work.join("state/app.tfstate").is_file());

    expect(&s, 0, &["workspace", "new", "other"], &[]);
    assert!(s.work.join("state/app.tfstate.other").is_file());
}

#[test]
fn scripted_failures_fail_the_next_runs_of_that_command_only() {
    let s = setup(MAIN_TF);
    s.tf.fail_next("apply", 2, "rate limited by the provider");
    expect(&s, 0, &["init"], &[]);
    for _ in 0..2 {
        let output = run(&s, &["apply", "-auto-approve", "-json"], &[]);
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("Error: rate limited by the provider"),
            "{stderr}"
        );
        let lines = json_lines(&String::from_utf8_lossy(&output.stdout));
        assert_eq!(lines[0]["type"], "diagnostic");
        assert_eq!(
            lines[0]["diagnostic"]["summary"],
            "rate limited by the provider"
        );
    }
    assert!(s.tf.creates().is_empty());
    expect(&s, 0, &["apply", "-auto-approve"], &[]);
    assert_eq!(s.tf.creates().len(), 2);
}

#[test]
fn misuse_fails_like_terraform() {
    let s = setup(MAIN_TF);
    let output = run(&s, &["plan"], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("please run \"terraform init\""));
    expect(&s, 0, &["init"], &[]);
    let output = run(&s, &["apply", "-bogus"], &[]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("flag provided but not defined"));
    let output = run(&s, &["apply", "-auto-approve", "-var", "nope=1"], &[]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("undeclared variable"));
    let output = run(&s, &["apply"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let version: Value = serde_json::from_str(&expect(&s, 0, &["version", "-json"], &[])).unwrap();
    assert_eq!(version["terraform_version"], "1.9.8-fake");
    let valid: Value = serde_json::from_str(&expect(&s, 0, &["validate", "-json"], &[])).unwrap();
    assert_eq!(valid["valid"], true);
    assert!(s.tf.creates().is_empty());
}

#[test]
fn dropping_the_handle_kills_the_app() {
    let s = setup(MAIN_TF);
    expect(&s, 0, &["init"], &[]);
    expect(&s, 0, &["apply", "-auto-approve"], &[]);
    let url = app_url(&s, &[]);
    assert_eq!(http_status(&url), Some(200));
    let Setup { tf, _dir, .. } = s;
    drop(tf);
    wait_until("the app to die", Duration::from_secs(5), || {
        http_status(&url).is_none()
    });
}

const FOUR_RESOURCES_PG: &str = r#"
terraform {
  backend "pg" {}
}

resource "aws_vpc" "main" {}
resource "aws_subnet" "a" {}
resource "aws_subnet" "b" {}
resource "aws_instance" "app" {}
"#;

fn spawn(setup: &Setup, args: &[&str], envs: &[(&str, &str)]) -> Child {
    command(setup, args, envs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn pg_state_lock_blocks_a_second_apply_until_the_holder_dies() {
    let db = TestPostgres::create().await;
    let s = setup(FOUR_RESOURCES_PG);
    let env = [("PG_CONN_STR", db.url.as_str())];
    let init = [
        "init",
        "-input=false",
        "-backend-config=schema_name=deploy_job",
    ];
    expect(&s, 0, &init, &env);
    expect(
        &s,
        0,
        &["workspace", "select", "-or-create=true", "job-1"],
        &env,
    );
    expect(&s, 0, &["plan", "-out=tfplan"], &env);

    s.tf.hang_on("apply", 2);
    let mut hung = spawn(&s, &["apply", "-input=false", "tfplan"], &env);
    wait_until("two resources created", Duration::from_secs(20), || {
        s.tf.creates().len() == 2
    });
    let started = Instant::now();
    let second = ["apply", "-auto-approve", "-lock-timeout=1s"];
    let output = run(&s, &second, &env);
    assert_eq!(output.status.code(), Some(1));
    assert!(started.elapsed() >= Duration::from_secs(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Error acquiring the state lock"),
        "{stderr}"
    );
    let output = run(&s, &["apply", "-auto-approve", "-lock-timeout=0s"], &env);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(s.tf.creates().len(), 2);

    hung.kill().unwrap();
    hung.wait().unwrap();
    // The state was persisted after each resource: a new plan has only the rest.
    let stale = run(&s, &["apply", "tfplan"], &env);
    assert!(String::from_utf8_lossy(&stale.stderr).contains("Saved plan is stale"));
    let plan = ["plan", "-json", "-lock-timeout=10s", "-out=tfplan2"];
    let lines = json_lines(&expect(&s, 0, &plan, &env));
    let summary = lines
        .iter()
        .find(|l| l["type"] == "change_summary")
        .unwrap();
    assert_eq!(summary["changes"]["add"], 2);
    expect(&s, 0, &["apply", "tfplan2"], &env);

    let creates = s.tf.creates();
    let unique: HashSet<&str> = creates.iter().map(|e| e.address.as_str()).collect();
    assert_eq!(creates.len(), 4, "{creates:?}");
    assert_eq!(unique.len(), 4);
    assert!(
        creates
            .iter()
            .all(|e| e.state == "pg:deploy_job" && e.workspace == "job-1")
    );

    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&db.url)
        .await
        .unwrap();
    let data: String =
        sqlx::query_scalar("SELECT data FROM deploy_job.states WHERE name = 'job-1'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let state: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(state["resources"].as_array().unwrap().len(), 4);
    assert!(s.tf.invocations().iter().all(|i| i.pg_conn_str_set));
    assert_eq!(http_status(&app_url(&s, &env)), Some(200));
}

#[test]
fn local_state_lock_is_released_when_its_holder_is_killed() {
    let s = setup(MAIN_TF);
    expect(&s, 0, &["init"], &[]);
    s.tf.hang_on("apply", 1);
    let mut hung = spawn(&s, &["apply", "-auto-approve"], &[]);
    wait_until("one resource created", Duration::from_secs(20), || {
        s.tf.creates().len() == 1
    });
    let output = run(&s, &["apply", "-auto-approve", "-lock-timeout=0s"], &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Error acquiring the state lock"),
        "{stderr}"
    );
    hung.kill().unwrap();
    hung.wait().unwrap();
    expect(&s, 0, &["apply", "-auto-approve", "-lock-timeout=5s"], &[]);
    let unique: HashSet<String> = s.tf.creates().into_iter().map(|e| e.address).collect();
    assert_eq!(s.tf.creates().len(), 2);
    assert_eq!(unique.len(), 2);
}
