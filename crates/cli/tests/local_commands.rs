//! `deployflow analyse`, `plan` and `deploy` as a user runs them: real processes on
//! repositories the test creates, no server.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use test_support::git_fixture::{FixtureFile, GitFixture};

const DEPLOYFLOW: &str = env!("CARGO_BIN_EXE_deployflow");

fn express_app() -> Vec<FixtureFile> {
    vec![
        FixtureFile::file(
            "package.json",
            r#"{"name": "shop", "version": "1.0.0", "main": "server.js",
  "scripts": {"start": "node server.js"}, "dependencies": {"express": "^4.19.2"}}"#,
        ),
        FixtureFile::file(
            "server.js",
            "const express = require('express');\nconst app = express();\napp.get('/healthz', (req, res) => res.send('ok'));\nconst port = process.env.PORT || 3000;\napp.listen(port, () => console.log(`listening on ${port}`));\n",
        ),
        FixtureFile::file(".env.example", "STRIPE_API_KEY=\n"),
    ]
}

fn deployflow(dir: &Path, args: &[&str]) -> Output {
    Command::new(DEPLOYFLOW)
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env("DATA_DIR", dir.join("data"))
        .env(
            "WORKFLOWS_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows"),
        )
        .output()
        .expect("run deployflow")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `deployflow demo` follows its job state by state to the end and prints
/// the timeline, the failed attempt it asked for included.
#[test]
fn demo_follows_its_job_to_the_end_and_prints_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let out = deployflow(
        dir.path(),
        &[
            "demo",
            "--sleep-ms",
            "10",
            "--fail-step",
            "build",
            "--fail-times",
            "1",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let states: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.trim().strip_prefix("-> "))
        .collect();
    assert_eq!(states.first(), Some(&"Prepared"), "{stdout}");
    assert_eq!(states.last(), Some(&"Verified"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with("build") && line.contains("failed")),
        "{stdout}"
    );
    assert!(stdout.contains("succeeded"), "{stdout}");
}

/// `deployflow analyse … | head -0`: the reader is gone before the report
/// is printed; the command ends as SIGPIPE would end it, without a panic.
#[test]
fn a_report_into_a_closed_pipe_ends_quietly() {
    let repo = GitFixture::create(&express_app());
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(DEPLOYFLOW)
        .args(["analyse", &repo.file_url()])
        .current_dir(dir.path())
        .env_remove("OPENAI_API_KEY")
        .env("DATA_DIR", dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn analyse_json_prints_the_contract_fields() {
    let repo = GitFixture::create(&express_app());
    let dir = tempfile::tempdir().unwrap();
    let out = deployflow(dir.path(), &["analyse", &repo.file_url(), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let facts: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    for field in [
        "http",
        "deny_reason",
        "language",
        "framework",
        "subdir",
        "port",
        "port_env",
        "start_command",
        "required_env",
        "dockerized",
        "docker_files",
        "evidence",
    ] {
        assert!(facts.get(field).is_some(), "{field} missing: {facts:#}");
    }
    assert_eq!(facts["http"], true);
    assert_eq!(facts["framework"], "express");
    assert_eq!(facts["port"], 3000);
    assert_eq!(facts["port_env"], "PORT");
    assert_eq!(facts["commit"], repo.head());
    assert!(
        facts["required_env"]
            .as_array()
            .unwrap()
            .contains(&"STRIPE_API_KEY".into())
    );
    let evidence = facts["evidence"].as_array().unwrap();
    assert!(
        evidence
            .iter()
            .any(|e| e["fact"] == "port" && e["file"] == "server.js")
    );

    // A local directory works too, and a missing one is a clear error.
    let out = deployflow(
        dir.path(),
        &["analyse", repo.path().to_str().unwrap(), "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = deployflow(dir.path(), &["analyse", repo.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(summary.contains("runtime:       node"), "{summary}");
    let out = deployflow(dir.path(), &["analyse", "/nonexistent/repo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("neither a directory nor a repository URL"));
}

#[test]
fn plan_writes_the_bundle_and_terraform() {
    let repo = GitFixture::create(&express_app());
    let dir = tempfile::tempdir().unwrap();
    let out = deployflow(
        dir.path(),
        &[
            "plan",
            repo.path().to_str().unwrap(),
            "--description",
            "one small VM in us-east-1",
            "--out",
            "plan",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan = dir.path().join("plan");
    let compose = std::fs::read_to_string(plan.join("bundle/compose.yaml")).unwrap();
    assert!(
        compose.contains("${DEPLOYFLOW_HOST_PORT:-8080}:3000"),
        "{compose}"
    );
    assert!(!compose.contains("sk_live"), "{compose}");
    assert!(plan.join("bundle/Dockerfile").exists());
    assert!(
        std::fs::read_to_string(plan.join("bundle/Makefile"))
            .unwrap()
            .contains("up:")
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(plan.join("plan.json")).unwrap()).unwrap();
    assert_eq!(summary["choice"]["target"], "vm");
    assert_eq!(summary["choice"]["region"], "us-east-1");
    assert_eq!(summary["generate"]["policy"]["passed"], true);
    let tf: Vec<_> = std::fs::read_dir(plan.join("terraform")).unwrap().collect();
    assert!(!tf.is_empty());
}

#[test]
fn deploy_runs_one_job_on_the_embedded_store() {
    let repo = GitFixture::create(&express_app());
    let dir = tempfile::tempdir().unwrap();
    let refused = deployflow(
        dir.path(),
        &["deploy", &repo.file_url(), "--description", "cheap"],
    );
    assert_eq!(
        refused.status.code(),
        Some(2),
        "file:// is refused by default"
    );
    assert!(
        text(&refused.stderr).contains("not allowed"),
        "{}",
        text(&refused.stderr)
    );

    let out = Command::new(DEPLOYFLOW)
        .args([
            "deploy",
            &repo.file_url(),
            "--description",
            "cheap",
            "--out",
            "out",
        ])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("OPENAI_API_KEY")
        .env("ALLOW_LOCAL_REPOS", "true")
        .env("DATA_DIR", dir.path().join("data"))
        // No Docker engine at hand (whatever the machine has): the job plans.
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no-docker.sock", dir.path().display()),
        )
        .env(
            "WORKFLOWS_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows"),
        )
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    for step in ["[clone]", "[analyse]", "[choose]", "[generate]"] {
        assert!(
            stdout.contains(step),
            "{step} missing from the live view:\n{stdout}"
        );
    }
    assert!(stdout.contains("Planned"), "{stdout}");
    assert!(dir.path().join("out/bundle/compose.yaml").exists());
    assert!(dir.path().join("data/deployflow.db").exists());
}
