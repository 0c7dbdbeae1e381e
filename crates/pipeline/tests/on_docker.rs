//! The deploy workflow on a real Docker engine. Preflight: fixture apps of
//! each kind cloned, analysed, generated, built from their bundle as `make
//! up` would, started and probed on their health path; an app that crashes
//! or listens where nobody probes fails the step with a reason, before any
//! apply; every preflight project is torn down afterwards. The docker-host
//! target: deployed, health-checked, applied again without a second
//! container, destroyed without a trace.

mod common;

use std::time::Duration;

use engine::JobStatus;
use pipeline::build_network::BuildIsolation;
use pipeline::docker::PreflightMode;
use secrecy::SecretString;
use serde_json::{Value, json};
use test_support::docker_engine::{self, DockerEngine, REGISTRY};
use test_support::docker_tls::TlsEngine;
use test_support::git_fixture::{FixtureFile, GitFixture};

/// A cold build on vfs storage installs packages from the registries; a
/// Next.js build alone took 8 to 14 minutes there. Below nextest's limit
/// for these tests (`.config/nextest.toml`).
const WITHIN: Duration = Duration::from_secs(1200);

struct Outcome {
    job: engine::store::JobRecord,
    outputs: Value,
    project: String,
    engine: engine::Engine,
    id: uuid::Uuid,
    _db: test_support::database::TestSqlite,
    _data: tempfile::TempDir,
}

/// Deploys `files` in plan mode with preflight required on `docker`.
async fn deploy(docker: &DockerEngine, files: &[(&str, &str)]) -> Outcome {
    deploy_files(docker, &fixture_files(files)).await
}

fn fixture_files(files: &[(&str, &str)]) -> Vec<FixtureFile> {
    files
        .iter()
        .map(|(path, text)| FixtureFile::file(path, text))
        .collect()
}

async fn deploy_files(docker: &DockerEngine, files: &[FixtureFile]) -> Outcome {
    deploy_as(docker, files, "small web app on a single server").await
}

/// Deploys `files` for `description`: plan mode for the cloud targets, a
/// real deployment for docker-host.
async fn deploy_as(docker: &DockerEngine, files: &[FixtureFile], description: &str) -> Outcome {
    deploy_with_values(docker, files, description, &[]).await
}

/// Like [`deploy_as`], the job submitted with values for the app's variables.
async fn deploy_with_values(
    docker: &DockerEngine,
    files: &[FixtureFile],
    description: &str,
    values: &[(&str, &str)],
) -> Outcome {
    deploy_configured(docker, files, description, values, |_| {}).await
}

/// Like [`deploy_with_values`], the pipeline's settings changed by `configure`.
async fn deploy_configured(
    docker: &DockerEngine,
    files: &[FixtureFile],
    description: &str,
    values: &[(&str, &str)],
    configure: impl FnOnce(&mut pipeline::PipelineConfig),
) -> Outcome {
    let repo = GitFixture::create(files);
    let data = tempfile::tempdir().unwrap();
    let mut config = pipeline::PipelineConfig::new(data.path().join("checkouts"));
    config.url_policy.allow_local = true;
    config.bundle.base_image_registry = REGISTRY.to_owned();
    config.docker.isolation = Some(BuildIsolation::new(format!(
        "{REGISTRY}{}",
        docker_engine::DEBIAN_SLIM
    )));
    config.docker.mode = PreflightMode::Required;
    config.docker.start_deadline = Duration::from_secs(60);
    config.docker.env = [
        ("DOCKER_HOST", docker.host.clone()),
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("HOME", std::env::var("HOME").unwrap_or_default()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), SecretString::from(v)))
    .collect();
    config.docker.deployments_dir = data.path().join("docker-host");
    configure(&mut config);
    let (engine, db) = common::deploy_engine(config).await;
    let input = json!({"repo_url": repo.file_url(), "description": description});
    let values: std::collections::BTreeMap<&str, &str> = values.iter().copied().collect();
    let secrets = if values.is_empty() {
        Vec::new()
    } else {
        vec![(
            pipeline::APP_ENV_SECRET,
            serde_json::to_string(&values).unwrap(),
        )]
    };
    let secrets: Vec<(&str, &str)> = secrets.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let id = engine
        .submit_with_secrets("deploy", input, None, &secrets)
        .await
        .unwrap()
        .job
        .id;
    let job = common::run_to_end(&engine, common::worker("preflight"), id, WITHIN).await;
    let outputs = engine.store().load_outputs(id).await.unwrap();
    let outputs = serde_json::to_value(outputs).unwrap();
    let figures = &outputs["preflight"];
    // What the README's build table is made of (`--no-capture` shows it).
    eprintln!(
        "preflight figures: {} build {:.1}s, first answer {:.1}s after start, image {:.0} MB",
        outputs["analyse"]["analysis"]["framework"]
            .as_str()
            .or(outputs["analyse"]["analysis"]["language"].as_str())
            .unwrap_or("app"),
        figures["build_seconds"].as_f64().unwrap_or_default(),
        figures["start_seconds"].as_f64().unwrap_or_default(),
        figures["image_size_bytes"].as_f64().unwrap_or_default() / 1e6,
    );
    let project = format!("deployflow-preflight-{}", &id.simple().to_string()[..12]);
    let left = docker.project_leftovers(&project);
    assert!(
        left.is_empty(),
        "preflight left {left:?} behind; the job: {:?}",
        job.error
    );
    Outcome {
        job,
        outputs,
        project,
        engine,
        id,
        _db: db,
        _data: data,
    }
}

/// The job got past preflight (to Planned: no cloud here) with a healthy probe.
fn assert_answered(outcome: &Outcome, path: &str) {
    assert_eq!(
        outcome.job.status,
        JobStatus::Succeeded,
        "{:?}\n{:#}",
        outcome.job,
        outcome.outputs
    );
    let preflight = &outcome.outputs["preflight"];
    assert_eq!(preflight["skipped"], Value::Null, "{preflight:#}");
    let url = preflight["url"].as_str().unwrap();
    assert!(url.ends_with(path), "{url} probes {path}");
    let last = preflight["probes"].as_array().unwrap().last().unwrap();
    let status = last["status"].as_u64().unwrap();
    assert!((200..400).contains(&status), "{preflight:#}");
    assert!(preflight["build_seconds"].as_f64().unwrap() > 0.0);
    assert!(preflight["image_size_bytes"].as_u64().unwrap() > 1_000_000);
    assert!(
        preflight["image"]
            .as_str()
            .unwrap()
            .contains(&outcome.project),
        "{preflight:#}"
    );
}

/// The engine's containers but the build network's proxies, which the
/// first isolated build starts and which stay.
fn build_containers(docker: &DockerEngine) -> Vec<String> {
    let proxy = format!("{}-", pipeline::build_network::PROXY_NAME);
    docker
        .lines(&["ps", "-a", "--format", "{{.Names}}"])
        .into_iter()
        .filter(|name| !name.starts_with(&proxy))
        .collect()
}

/// Destroys the docker-host deployment of `outcome`: no container, network
/// or volume of its compose project is left.
async fn destroy_leaves_nothing(docker: &DockerEngine, outcome: &Outcome, project: &str) {
    let engine = &outcome.engine;
    let destroy = engine
        .submit(
            pipeline::DESTROY_WORKFLOW,
            json!({"deployment": outcome.id}),
            None,
        )
        .await
        .unwrap()
        .job
        .id;
    let job = common::run_to_end(engine, common::worker("destroy"), destroy, WITHIN).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let left = docker.project_leftovers(project);
    assert!(left.is_empty(), "destroy left {left:?}");
}

fn failure(outcome: &Outcome) -> String {
    assert_eq!(outcome.job.status, JobStatus::Failed, "{:?}", outcome.job);
    assert_eq!(outcome.job.current_step.as_deref(), Some("preflight"));
    outcome.job.error.clone().unwrap_or_default()
}

const PYTHON: &str = "python:3.12.8-slim-bookworm";
const NODE: &str = "node:22.12.0-bookworm-slim";
const NGINX: &str = "nginxinc/nginx-unprivileged:1.27.3-alpine";
const GO: &str = "golang:1.23.4-bookworm";
const PHP: &str = "php:8.3.14-cli-bookworm";
const ALPINE: &str = "alpine:3.20.3";
const UV: &str = "ghcr.io/astral-sh/uv:0.5.11";
const RUST: &str = "rust:1.85.0-slim-bookworm";
const DEBIAN: &str = "debian:12.8-slim";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flask_app_that_binds_loopback_answers_on_its_health_path() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    // `app.run()` without a host listens on 127.0.0.1: the bind fix must
    // make it reachable from outside its container. The app makes its
    // instance folder beside its code at import, as Flask-SQLAlchemy does:
    // the directory must be the app user's.
    let outcome = deploy(
        &docker,
        &[
            ("requirements.txt", "flask==3.0.3\n"),
            (
                "app.py",
                "import os\nfrom flask import Flask\nos.makedirs(\"instance\", exist_ok=True)\napp = Flask(__name__)\n\n@app.route(\"/healthz\")\ndef health():\n    return \"ok\"\n\n@app.route(\"/\")\ndef index():\n    return \"hello\"\n\nif __name__ == \"__main__\":\n    app.run(port=5000)\n",
            ),
        ],
    )
    .await;
    assert_answered(&outcome, "/healthz");
}

/// A Procfile's worker runs beside the app from the same image: the app's
/// health path answers only once it reaches the worker over the compose
/// network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_procfile_worker_runs_beside_the_app() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    let outcome = deploy(
        &docker,
        &[
            ("requirements.txt", "flask==3.0.3\n"),
            (
                "app.py",
                "import socket\nfrom flask import Flask\napp = Flask(__name__)\n\n@app.route(\"/healthz\")\ndef health():\n    with socket.create_connection((\"worker\", 9000), timeout=2) as conn:\n        return conn.recv(16).decode()\n\nif __name__ == \"__main__\":\n    app.run(port=5000)\n",
            ),
            (
                "worker.py",
                "import socket\nserver = socket.create_server((\"0.0.0.0\", 9000))\nwhile True:\n    conn, _ = server.accept()\n    conn.sendall(b\"working\")\n    conn.close()\n",
            ),
            ("Procfile", "web: python app.py\nworker: python worker.py\n"),
        ],
    )
    .await;
    assert_answered(&outcome, "/healthz");
    let compose = outcome
        .engine
        .artifact(outcome.id, "bundle/compose.yaml")
        .await
        .unwrap();
    let compose = String::from_utf8_lossy(&compose.content);
    assert!(compose.contains("python worker.py"), "{compose}");
}

/// A Flask app made by its factory in a package, on a Flask from before
/// `--app` (2.2): started as `flask run` with `FLASK_APP='flaskr:create_app()'`
/// (unquoted, `sh -c` stopped at the `(`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flask_app_factory_is_started_through_the_shell() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    let outcome = deploy(
        &docker,
        &[
            ("requirements.txt", "flask==2.1.3\nwerkzeug==2.1.2\n"),
            (
                "flaskr/__init__.py",
                "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n\n    @app.route(\"/healthz\")\n    def health():\n        return \"ok\"\n\n    return app\n",
            ),
        ],
    )
    .await;
    assert_answered(&outcome, "/healthz");
}

/// An API with no health route and nothing on `/`: the 404 it answers
/// there shows it serves HTTP, so preflight passes, and says so; a crash
/// (no answer) still fails, as the other tests show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_without_a_health_path_passes_on_any_answer_of_its_root() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    let outcome = deploy(
        &docker,
        &[
            ("requirements.txt", "fastapi==0.115.6\nuvicorn==0.34.0\n"),
            (
                "main.py",
                "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/pokemon\")\ndef pokemon():\n    return [\"bulbasaur\"]\n",
            ),
        ],
    )
    .await;
    assert_eq!(
        outcome.job.status,
        JobStatus::Succeeded,
        "{:?}\n{:#}",
        outcome.job,
        outcome.outputs
    );
    let preflight = &outcome.outputs["preflight"];
    assert!(
        preflight["url"].as_str().unwrap().ends_with('/'),
        "{preflight:#}"
    );
    let last = preflight["probes"].as_array().unwrap().last().unwrap();
    assert_eq!(last["status"], 404, "{preflight:#}");
    let logs = outcome.engine.logs(outcome.id, None, 10_000).await.unwrap();
    assert!(
        logs.iter()
            .any(|l| l.line.message.contains("no health path was found")),
        "the log says why a 404 passed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fastapi_app_without_its_server_in_the_requirements_gets_it_installed() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    // `uvicorn main:app` is the start command, but only FastAPI is listed.
    let outcome = deploy(
        &docker,
        &[
            ("requirements.txt", "fastapi==0.115.6\n"),
            (
                "main.py",
                "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/health\")\ndef health():\n    return {\"ok\": True}\n",
            ),
        ],
    )
    .await;
    assert_answered(&outcome, "/health");
    let adjustments = outcome.outputs["generate"]["adjustments"].to_string();
    assert!(
        adjustments.contains("installs `uvicorn` too"),
        "{adjustments}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requirements_saved_as_utf16_and_a_crlf_script_still_build_and_start() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    // As a Windows editor saves them: UTF-16LE with a byte-order mark, and a
    // start script with CRLF line ends.
    let mut requirements = vec![0xFF, 0xFE];
    for unit in "flask==3.0.3\r\n".encode_utf16() {
        requirements.extend_from_slice(&unit.to_le_bytes());
    }
    let outcome = deploy_files(
        &docker,
        &[
            FixtureFile::file("requirements.txt", requirements),
            FixtureFile::file(
                "start.sh",
                "#!/bin/sh\r\nexec python app.py\r\n",
            ),
            FixtureFile::file(
                "Procfile",
                "web: sh start.sh\n",
            ),
            FixtureFile::file(
                "app.py",
                "from flask import Flask\napp = Flask(__name__)\n\n@app.route(\"/\")\ndef index():\n    return \"hello\"\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=5000)\n",
            ),
        ],
    )
    .await;
    assert_answered(&outcome, "/");
    let adjustments = outcome.outputs["generate"]["adjustments"].to_string();
    assert!(adjustments.contains("utf-16le"), "{adjustments}");
    assert!(adjustments.contains("CRLF"), "{adjustments}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_express_app_answers() {
    let Some(docker) = docker_engine::engine_with(&[NODE]) else {
        return;
    };
    // The app writes a file beside its code at start.
    let outcome = deploy(
        &docker,
        &[
            (
                "package.json",
                r#"{"name":"shop","version":"1.0.0","main":"server.js","scripts":{"start":"node server.js"},"dependencies":{"express":"4.21.2"}}"#,
            ),
            (
                "server.js",
                "const express = require('express');\nrequire('fs').writeFileSync('started.txt', 'yes');\nconst app = express();\napp.get('/', (req, res) => res.send('hello'));\nconst port = process.env.PORT || 3000;\napp.listen(port, () => console.log(`listening on ${port}`));\n",
            ),
        ],
    )
    .await;
    assert_answered(&outcome, "/");
}

/// `next build` loads every route's module, and one that makes its client
/// as it loads (`new OpenAI()`) throws without the key: the build gets a
/// placeholder, the app the value given with the deployment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_app_whose_routes_need_a_key_when_loaded_builds_and_answers() {
    let Some(docker) = docker_engine::engine_with(&[NODE]) else {
        return;
    };
    let outcome = deploy_with_values(
        &docker,
        &fixture_files(&[
            (
                "package.json",
                r#"{"name":"chat","private":true,"scripts":{"dev":"next dev","build":"next build","start":"next start"},"dependencies":{"next":"15.1.6","react":"19.0.0","react-dom":"19.0.0","openai":"4.80.0"}}"#,
            ),
            (
                "app/layout.js",
                "export default function RootLayout({ children }) {\n  return <html><body>{children}</body></html>;\n}\n",
            ),
            (
                "app/page.js",
                "export default function Home() {\n  return <main>chat</main>;\n}\n",
            ),
            (
                "app/api/chat/route.js",
                "import OpenAI from 'openai';\n\nconst openai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });\n\nexport async function POST(request) {\n  const { prompt } = await request.json();\n  const answer = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });\n  return Response.json(answer);\n}\n",
            ),
        ]),
        "small web app on a single server",
        &[("OPENAI_API_KEY", "sk-given-with-the-deployment")],
    )
    .await;
    assert_answered(&outcome, "/");
}

/// The server sends the frontend `client/` builds, and nothing at the
/// root builds it: unbuilt, `/` is a 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frontend_the_server_sends_is_built_in_the_image() {
    let Some(docker) = docker_engine::engine_with(&[NODE]) else {
        return;
    };
    let outcome = deploy(
        &docker,
        &[
            (
                "package.json",
                r#"{"name":"shop","version":"1.0.0","scripts":{"start":"node server.js"},"dependencies":{"express":"4.21.2"}}"#,
            ),
            (
                "server.js",
                "const express = require('express');\nconst path = require('path');\nconst app = express();\napp.use(express.static(path.join(__dirname, 'client', 'build')));\napp.get('*', (req, res) => res.sendFile(path.join(__dirname, 'client', 'build', 'index.html')));\napp.listen(process.env.PORT || 5000);\n",
            ),
            (
                "client/package.json",
                r#"{"name":"client","private":true,"scripts":{"build":"node build.js"}}"#,
            ),
            (
                "client/build.js",
                "const fs = require('fs');\nfs.mkdirSync('build', { recursive: true });\nfs.writeFileSync('build/index.html', '<h1>shop</h1>');\n",
            ),
        ],
    )
    .await;
    assert_answered(&outcome, "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_site_is_served_by_nginx() {
    let Some(docker) = docker_engine::engine_with(&[NGINX]) else {
        return;
    };
    let outcome = deploy(
        &docker,
        &[
            (
                "index.html",
                "<!doctype html><html><head><title>Docs</title></head><body><h1>Docs</h1></body></html>\n",
            ),
            ("style.css", "body { font-family: sans-serif; }\n"),
        ],
    )
    .await;
    assert_answered(&outcome, "/");
}

/// The engine as a remote one is reached: `tcp://` with mutual TLS.
fn over_tls(
    tls: &TlsEngine,
    cert_path: &std::path::Path,
) -> impl FnOnce(&mut pipeline::PipelineConfig) {
    let settings = [
        ("DOCKER_HOST", tls.host.clone()),
        ("DOCKER_TLS_VERIFY", "1".to_owned()),
        ("DOCKER_CERT_PATH", cert_path.display().to_string()),
    ];
    move |config| {
        config.docker.env.retain(|(name, _)| name != "DOCKER_HOST");
        config.docker.env.extend(
            settings
                .into_iter()
                .map(|(k, v)| (k.to_owned(), SecretString::from(v))),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_engine_over_tls_is_deployed_to_and_refuses_a_client_it_does_not_trust() {
    let Some(docker) = docker_engine::engine_with(&[NGINX]) else {
        return;
    };
    let tls = TlsEngine::start(&docker).expect("the engine's TLS endpoint starts");
    let site = [FixtureFile::file(
        "index.html",
        "<!doctype html><html><head><title>Remote</title></head><body><h1>Remote</h1></body></html>\n",
    )];
    let outcome = deploy_configured(
        &docker,
        &site,
        "deploy it on my server",
        &[],
        over_tls(&tls, &tls.cert_path),
    )
    .await;
    assert_health_checked(&outcome);
    assert!(outcome.outputs["preflight"]["engine"].is_string());
    let url = outcome.outputs["apply"]["app_url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(outcome.outputs["healthcheck"]["status"], 200);
    let project = outcome.outputs["apply"]["outputs"]["compose_project"]
        .as_str()
        .unwrap()
        .to_owned();
    destroy_leaves_nothing(&docker, &outcome, &project).await;

    // A client certificate the engine's authority never issued: nothing is
    // built or started, and the step says the engine cannot be reached.
    assert!(!tls.answers(&tls.untrusted_cert_path));
    let refused = deploy_configured(
        &docker,
        &site,
        "deploy it on my server",
        &[],
        over_tls(&tls, &tls.untrusted_cert_path),
    )
    .await;
    assert_eq!(refused.job.status, JobStatus::Failed, "{:?}", refused.job);
    assert_eq!(
        refused.job.error_code.as_deref(),
        Some(pipeline::failures::PREFLIGHT_UNAVAILABLE),
        "{:?}",
        refused.job
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_go_stdlib_server_answers() {
    let Some(docker) = docker_engine::engine_with(&[GO, ALPINE]) else {
        return;
    };
    let outcome = deploy(
        &docker,
        &[
            ("go.mod", "module example.com/hello\n\ngo 1.21\n"),
            (
                "main.go",
                "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc main() {\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, \"hello\") })\n\thttp.ListenAndServe(\":8080\", nil)\n}\n",
            ),
        ],
    )
    .await;
    assert_answered(&outcome, "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axum_server_is_built_from_its_lock_file_and_answers_on_its_port() {
    let Some(docker) = docker_engine::engine_with(&[RUST, DEBIAN]) else {
        return;
    };
    // Its crates come from crates.io through the build network's proxy;
    // it listens on PORT, 3000 unless set.
    let outcome = deploy_files(&docker, &app("axum-rust")).await;
    assert_answered(&outcome, "/healthz");
    let analysis = &outcome.outputs["analyse"]["analysis"];
    assert_eq!(analysis["framework"], "axum", "{analysis:#}");
    let dockerfile = outcome
        .engine
        .artifact(outcome.id, "bundle/Dockerfile")
        .await
        .unwrap();
    let dockerfile = String::from_utf8_lossy(&dockerfile.content);
    assert!(
        dockerfile.contains("cargo build --release --locked"),
        "{dockerfile}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_that_crashes_at_start_fails_preflight_with_its_last_lines() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    let outcome = deploy(
        &docker,
        &[
            ("requirements.txt", "flask==3.0.3\n"),
            (
                "app.py",
                "from flask import Flask\napp = Flask(__name__)\nraise RuntimeError(\"the settings module is missing\")\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=5000)\n",
            ),
        ],
    )
    .await;
    let error = failure(&outcome);
    assert!(error.contains("exit"), "{error}");
    assert!(
        error.contains("the settings module is missing"),
        "the app's own last lines: {error}"
    );
    assert!(
        outcome.outputs.get("apply").is_none(),
        "nothing applied after a failed preflight"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_that_does_not_build_names_the_failing_step() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    let containers_before = build_containers(&docker);
    let outcome = deploy(
        &docker,
        &[
            ("requirements.txt", "flask==3.0.3\n"),
            (
                "Dockerfile",
                &format!(
                    "FROM {REGISTRY}{PYTHON}\nWORKDIR /app\nCOPY . .\nRUN echo 'compiling assets' && exit 3\nEXPOSE 5000\nCMD [\"python\", \"app.py\"]\n"
                ),
            ),
            (
                "app.py",
                "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=5000)\n",
            ),
        ],
    )
    .await;
    let error = failure(&outcome);
    assert!(error.contains("did not build"), "{error}");
    assert!(
        error.contains("RUN echo 'compiling assets' && exit 3"),
        "{error}"
    );
    assert!(error.contains("exit code 3"), "{error}");
    assert_eq!(
        build_containers(&docker),
        containers_before,
        "the failed step's build container was removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_my_server_deploys_to_the_docker_host_and_destroy_leaves_nothing() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    let files = [
        FixtureFile::file("requirements.txt", "flask==3.0.3\n"),
        // Two variables the app cannot start without: the job carries the
        // value of GREETING; SECRET_KEY, a key the app signs with, nobody
        // gives, so the deployment generates it once and keeps it.
        FixtureFile::file(
            "app.py",
            "import hashlib, os\nfrom flask import Flask\napp = Flask(__name__)\nGREETING = os.environ[\"GREETING\"]\napp.secret_key = os.environ[\"SECRET_KEY\"]\n\n@app.route(\"/healthz\")\ndef health():\n    return GREETING\n\n@app.route(\"/key\")\ndef key():\n    return f\"{len(app.secret_key)} {hashlib.sha256(app.secret_key.encode()).hexdigest()}\"\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=5000)\n",
        ),
    ];
    let outcome = deploy_with_values(
        &docker,
        &files,
        "deploy it on my server",
        &[("GREETING", "hello from the job's values")],
    )
    .await;
    assert_eq!(
        outcome.job.status,
        JobStatus::Succeeded,
        "{:?}",
        outcome.job
    );
    assert_eq!(
        outcome.job.state.as_deref(),
        Some("HealthChecked"),
        "{:#}",
        outcome.outputs
    );
    assert_eq!(outcome.outputs["choose"]["target"], "docker-host");
    assert_eq!(outcome.outputs["choose"]["monthly_cost_usd"], 0.0);
    let url = outcome.outputs["apply"]["app_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let project = outcome.outputs["apply"]["outputs"]["compose_project"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(outcome.outputs["healthcheck"]["status"], 200);
    let answer = reqwest::get(format!("{url}healthz")).await.unwrap();
    assert_eq!(answer.status(), 200, "the app answers after the job ended");
    assert_eq!(
        answer.text().await.unwrap(),
        "hello from the job's values",
        "the app runs with the value the job was given"
    );
    assert_eq!(
        outcome.outputs["analyse"]["analysis"]["required_env"],
        json!(["GREETING", "SECRET_KEY"])
    );
    assert_eq!(
        outcome.outputs["generate"]["required_variables"],
        json!(["GREETING"])
    );
    assert_eq!(
        outcome.outputs["generate"]["generated_secrets"],
        json!(["SECRET_KEY"])
    );
    assert_eq!(outcome.outputs["preflight"]["placeholders"], json!([]));
    let key = reqwest::get(format!("{url}key"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(key.starts_with("48 "), "a generated 24-byte hex key: {key}");
    let running = docker.lines(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    assert_eq!(running.len(), 1, "{running:?}");

    // Applied again (as a worker resuming an interrupted apply would): the
    // same project on the same port, still one container.
    let engine = &outcome.engine;
    engine.retry(outcome.id, Some("apply")).await.unwrap();
    let job = common::run_to_end(engine, common::worker("again"), outcome.id, WITHIN).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let outputs =
        serde_json::to_value(engine.store().load_outputs(outcome.id).await.unwrap()).unwrap();
    assert_eq!(outputs["apply"]["app_url"], url.as_str(), "same port");
    // What the README's cold and warm columns are made of.
    eprintln!(
        "docker-host figures: compose up --build {}s on the first apply, {}s again from the engine's cache",
        outcome.outputs["apply"]["outputs"]["up_seconds"],
        outputs["apply"]["outputs"]["up_seconds"],
    );
    let again = docker.lines(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    assert_eq!(again, running, "the same container, not a second one");
    let key_again = reqwest::get(format!("{url}key"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(key_again, key, "the key the app signs with is kept");

    destroy_leaves_nothing(&docker, &outcome, &project).await;
    let images = docker.lines(&[
        "image",
        "ls",
        "-q",
        "--filter",
        &format!("reference={project}*"),
    ]);
    assert!(
        images.is_empty(),
        "destroy left the built image: {images:?}"
    );
    assert!(
        reqwest::get(format!("{url}healthz")).await.is_err(),
        "nothing answers after destroy"
    );
}

const POSTGRES: &str = "postgres:17.6-bookworm";
const MARIADB: &str = "mariadb:11.4.7";
const REDIS: &str = "redis:7.4.5-bookworm";

/// A Django project that needs PostgreSQL (`DATABASE_URL`) and Redis
/// (`REDIS_URL`): `/visits` counts a visit in a table of its own and in
/// Redis, and says how many migrations ran.
fn django_with_stores() -> Vec<FixtureFile> {
    [
        (
            "requirements.txt",
            "django==5.1.4\npsycopg2-binary==2.9.10\nredis==5.2.1\ngunicorn==23.0.0\n",
        ),
        (
            "manage.py",
            "import os\nimport sys\n\nif __name__ == \"__main__\":\n    os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"shop.settings\")\n    from django.core.management import execute_from_command_line\n    execute_from_command_line(sys.argv)\n",
        ),
        ("shop/__init__.py", ""),
        (
            "shop/wsgi.py",
            "import os\nfrom django.core.wsgi import get_wsgi_application\n\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"shop.settings\")\napplication = get_wsgi_application()\n",
        ),
        (
            "shop/settings.py",
            "import os\nfrom urllib.parse import urlparse\n\nSECRET_KEY = \"not-a-secret\"\nDEBUG = False\nALLOWED_HOSTS = [\"*\"]\nROOT_URLCONF = \"shop.urls\"\nINSTALLED_APPS = [\"django.contrib.contenttypes\", \"django.contrib.auth\"]\nMIDDLEWARE = []\n_db = urlparse(os.environ[\"DATABASE_URL\"])\nDATABASES = {\n    \"default\": {\n        \"ENGINE\": \"django.db.backends.postgresql\",\n        \"NAME\": _db.path.lstrip(\"/\"),\n        \"USER\": _db.username,\n        \"PASSWORD\": _db.password,\n        \"HOST\": _db.hostname,\n        \"PORT\": _db.port or 5432,\n    }\n}\nREDIS_URL = os.environ[\"REDIS_URL\"]\n",
        ),
        (
            "shop/urls.py",
            "import redis\nfrom django.conf import settings\nfrom django.db import connection\nfrom django.http import HttpResponse, JsonResponse\nfrom django.urls import path\n\ncache = redis.Redis.from_url(settings.REDIS_URL)\n\n\ndef visits(request):\n    with connection.cursor() as cursor:\n        cursor.execute(\"CREATE TABLE IF NOT EXISTS visits (id serial PRIMARY KEY)\")\n        cursor.execute(\"INSERT INTO visits DEFAULT VALUES\")\n        cursor.execute(\"SELECT count(*) FROM visits\")\n        count = cursor.fetchone()[0]\n        cursor.execute(\"SELECT count(*) FROM django_migrations\")\n        migrations = cursor.fetchone()[0]\n    return JsonResponse({\"visits\": count, \"hits\": cache.incr(\"hits\"), \"migrations\": migrations})\n\n\nurlpatterns = [\n    path(\"\", lambda request: HttpResponse(\"ok\")),\n    path(\"visits\", visits),\n]\n",
        ),
    ]
    .into_iter()
    .map(|(path, text)| FixtureFile::file(path, text))
    .collect()
}

async fn visits(url: &str) -> Value {
    let answer = reqwest::get(format!("{url}visits")).await.unwrap();
    let status = answer.status();
    let body = answer.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The job went all the way: deployed and health-checked.
fn assert_health_checked(outcome: &Outcome) {
    assert_eq!(
        outcome.job.state.as_deref(),
        Some("HealthChecked"),
        "{:?}\n{:#}",
        outcome.job,
        outcome.outputs
    );
}

/// The kinds of store the choice provisioned beside the app.
fn provisioned(outcome: &Outcome) -> Vec<&str> {
    outcome.outputs["choose"]["services"]["provisioned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect()
}

/// The containers of one service of a compose project, stopped ones too.
fn service_containers(docker: &DockerEngine, project: &str, service: &str) -> Vec<String> {
    docker.lines(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        &format!("label=com.docker.compose.service={service}"),
    ])
}

/// The deployed app's address and its compose project on the docker host.
fn deployed(outcome: &Outcome) -> (String, String) {
    let text = |pointer: &str| {
        outcome.outputs["apply"]
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no {pointer} in {:#}", outcome.outputs["apply"]))
            .to_owned()
    };
    (text("/app_url"), text("/outputs/compose_project"))
}

/// The first `/visits` of `django_with_stores`: migrated before it
/// started, one row, one hit.
fn assert_first_visit(first: &Value) {
    assert!(
        first["migrations"].as_u64().unwrap() > 0,
        "the migration ran before the app started: {first}"
    );
    assert_eq!(first["visits"], 1, "{first}");
    assert_eq!(first["hits"], 1, "{first}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_that_needs_postgres_and_redis_gets_them_migrated_and_keeps_its_data() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON, POSTGRES, REDIS]) else {
        return;
    };
    let outcome = deploy_as(&docker, &django_with_stores(), "deploy it on my server").await;
    assert_health_checked(&outcome);
    let provisioned = provisioned(&outcome);
    assert_eq!(provisioned, ["postgres", "redis"]);
    assert_eq!(
        outcome.outputs["generate"]["required_variables"],
        json!([]),
        "the stores' variables are wired, not asked of the user"
    );
    assert_eq!(outcome.outputs["preflight"]["placeholders"], json!([]));
    let (url, project) = deployed(&outcome);
    let first = visits(&url).await;
    assert_first_visit(&first);

    // The database's container goes; a re-apply brings it back on the same
    // volume with the same (sealed, remembered) password: the data is there.
    let container = |service: &str| service_containers(&docker, &project, service);
    let postgres = container("postgres");
    assert_eq!(postgres.len(), 1, "{postgres:?}");
    docker.lines(&["rm", "-f", &postgres[0]]);
    docker.lines(&["restart", &container("redis")[0]]);
    let engine = &outcome.engine;
    engine.retry(outcome.id, Some("apply")).await.unwrap();
    let job = common::run_to_end(engine, common::worker("again"), outcome.id, WITHIN).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let again = visits(&url).await;
    assert_eq!(again["visits"], 2, "the rows survived: {again}");
    assert_eq!(again["hits"], 2, "Redis kept its data: {again}");

    destroy_leaves_nothing(&docker, &outcome, &project).await;
}

/// On a VM the same app's stores are RDS and ElastiCache, which its compose
/// file leaves to Terraform; preflight starts it from the bundle's
/// local-stores file, with both beside it and its migration run, and
/// nothing is asked of the user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vm_apps_managed_stores_run_beside_it_in_preflight() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON, POSTGRES, REDIS]) else {
        return;
    };
    let outcome = deploy_files(&docker, &django_with_stores()).await;
    assert_answered(&outcome, "/");
    let choice = &outcome.outputs["choose"];
    assert_eq!(choice["target"], "vm", "{choice:#}");
    assert_eq!(choice["services"]["managed_on_vm"], true, "{choice:#}");
    let generate = &outcome.outputs["generate"];
    assert_eq!(generate["required_variables"], json!([]));
    assert_eq!(
        generate["local_stores"]["compose_file"], "compose.local-stores.yaml",
        "{generate:#}"
    );
    assert_eq!(outcome.outputs["preflight"]["placeholders"], json!([]));
    let logs = outcome.engine.logs(outcome.id, None, 10_000).await.unwrap();
    assert!(
        logs.iter().any(|l| l
            .line
            .message
            .starts_with("preflight runs compose.local-stores.yaml")),
        "the log says which file preflight ran"
    );
}

/// An app without migrations that ships its schema as `db/schema.sql`
/// finds its table (and the row the file inserts) in the PostgreSQL
/// deployflow runs beside it: the file was loaded on the database's first
/// start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_without_migrations_finds_the_tables_its_schema_file_makes() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON, POSTGRES]) else {
        return;
    };
    let files = fixture_files(&[
        (
            "requirements.txt",
            "flask==3.1.0\npsycopg2-binary==2.9.10\ngunicorn==23.0.0\n",
        ),
        (
            "app.py",
            "import os\n\nimport psycopg2\nfrom flask import Flask\n\napp = Flask(__name__)\nDATABASE_URL = os.environ[\"DATABASE_URL\"]\n\n\n@app.route(\"/healthz\")\ndef health():\n    with psycopg2.connect(DATABASE_URL) as conn, conn.cursor() as cur:\n        cur.execute(\"SELECT words FROM greetings\")\n        return cur.fetchone()[0]\n",
        ),
        (
            "db/schema.sql",
            "CREATE TABLE greetings (words text NOT NULL);\nINSERT INTO greetings VALUES ('made by the schema file');\n",
        ),
    ]);
    let outcome = deploy_as(&docker, &files, "deploy it on my server").await;
    assert_health_checked(&outcome);
    let (url, project) = deployed(&outcome);
    let answer = reqwest::get(format!("{url}healthz")).await.unwrap();
    assert_eq!(answer.text().await.unwrap(), "made by the schema file");
    destroy_leaves_nothing(&docker, &outcome, &project).await;
}

/// A Flask app on SQLAlchemy and PyMySQL, whose `DATABASE_URL` defaults to
/// a `mysql+pymysql://` URL and whose tables come from `db/schema.sql`:
/// deployflow runs MySQL's protocol beside it (MariaDB, since PyMySQL
/// without `cryptography` cannot log in to MySQL 8.4), loads the schema on
/// its first start, wires the URL with the app's own scheme, and the rows
/// outlive the database's container.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_on_mysql_gets_its_schema_and_keeps_its_rows() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON, MARIADB]) else {
        return;
    };
    let files = fixture_files(&[
        (
            "requirements.txt",
            "flask==3.1.0\nsqlalchemy==2.0.36\npymysql==1.1.1\ngunicorn==23.0.0\n",
        ),
        (
            "app.py",
            "import os\n\nfrom flask import Flask, jsonify\nfrom sqlalchemy import create_engine, text\n\napp = Flask(__name__)\nengine = create_engine(os.environ.get(\"DATABASE_URL\", \"mysql+pymysql://root@localhost/notes\"), pool_pre_ping=True)\n\n\n@app.route(\"/healthz\")\ndef health():\n    return \"ok\"\n\n\n@app.route(\"/visits\")\ndef visits():\n    with engine.begin() as conn:\n        conn.execute(text(\"INSERT INTO visits () VALUES ()\"))\n        count = conn.execute(text(\"SELECT COUNT(*) FROM visits\")).scalar()\n        words = conn.execute(text(\"SELECT words FROM greetings\")).scalar()\n    return jsonify(visits=count, words=words)\n",
        ),
        (
            "db/schema.sql",
            "CREATE TABLE `visits` (`id` INT NOT NULL AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB;\nCREATE TABLE `greetings` (`words` VARCHAR(100) NOT NULL) ENGINE=InnoDB;\nINSERT INTO `greetings` VALUES ('made by the schema file');\n",
        ),
    ]);
    let outcome = deploy_as(&docker, &files, "deploy it on my server").await;
    assert_health_checked(&outcome);
    let provisioned = provisioned(&outcome);
    assert_eq!(provisioned, ["mysql"]);
    let (url, project) = deployed(&outcome);
    let first = visits(&url).await;
    assert_eq!(first["visits"], 1, "{first}");
    assert_eq!(first["words"], "made by the schema file", "{first}");

    let mysql = service_containers(&docker, &project, "mysql");
    assert_eq!(mysql.len(), 1, "{mysql:?}");
    let image = docker.lines(&["inspect", "--format", "{{.Config.Image}}", &mysql[0]]);
    assert_eq!(image, [format!("{REGISTRY}{MARIADB}")]);
    docker.lines(&["rm", "-f", &mysql[0]]);
    let engine = &outcome.engine;
    engine.retry(outcome.id, Some("apply")).await.unwrap();
    let job = common::run_to_end(engine, common::worker("again"), outcome.id, WITHIN).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let again = visits(&url).await;
    assert_eq!(again["visits"], 2, "the rows survived: {again}");

    destroy_leaves_nothing(&docker, &outcome, &project).await;
}

/// The repository's compose file runs its own PostgreSQL (under a fixed
/// container name) but no Redis, and the app reads `DATABASE_URL` and
/// `REDIS_URL` from a `.env` the repository does not hold: on the docker
/// host the app reaches the file's own database, with the credentials it
/// starts with, migrated first, and a Redis deployflow adds to the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_is_wired_to_the_database_its_own_compose_file_runs() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON, POSTGRES, REDIS]) else {
        return;
    };
    let compose = format!(
        "services:\n  web:\n    build: .\n    env_file: .env\n    ports:\n      - \"8000:8000\"\n  db:\n    image: {REGISTRY}{POSTGRES}\n    container_name: shop-db\n    environment:\n      POSTGRES_USER: shop\n      POSTGRES_PASSWORD: ${{SHOP_DB_PASSWORD:-shop-password}}\n      POSTGRES_DB: shop\n    volumes:\n      - shop-data:/var/lib/postgresql/data\nvolumes:\n  shop-data: {{}}\n"
    );
    let mut files = django_with_stores();
    files.push(FixtureFile::file("docker-compose.yml", &compose));
    let outcome = deploy_as(&docker, &files, "deploy it on my server").await;
    assert_health_checked(&outcome);
    assert_eq!(
        outcome.outputs["generate"]["required_variables"],
        json!([]),
        "the variables reach the file's own stores: {:#}",
        outcome.outputs["generate"]
    );
    let (url, project) = deployed(&outcome);
    let first = visits(&url).await;
    assert_first_visit(&first);
    // No second database beside the file's own; the cache it lacks is
    // deployflow's own, added to it.
    let services = docker.lines(&[
        "ps",
        "--format",
        "{{.Label \"com.docker.compose.service\"}}",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
    ]);
    let mut services: Vec<&str> = services.iter().map(String::as_str).collect();
    services.sort_unstable();
    assert_eq!(services, ["db", "redis", "web"]);

    destroy_leaves_nothing(&docker, &outcome, &project).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compose_file_that_reaches_the_host_is_neither_preflighted_nor_started() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    let files = [
        FixtureFile::file("requirements.txt", "flask==3.0.3\n"),
        FixtureFile::file(
            "Dockerfile",
            format!(
                "FROM {REGISTRY}{PYTHON}\nCOPY . /app\nEXPOSE 5000\nCMD [\"python\", \"/app/app.py\"]\n"
            ),
        ),
        FixtureFile::file(
            "compose.yaml",
            "services:\n  web:\n    build: .\n    ports: ['5000:5000']\n    volumes:\n      - /etc:/host-etc:ro\n",
        ),
        FixtureFile::file(
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=5000)\n",
        ),
    ];
    let containers_before = build_containers(&docker);
    let outcome = deploy_as(&docker, &files, "run it on my server").await;
    let skipped = outcome.outputs["preflight"]["skipped"]
        .as_str()
        .unwrap_or_default();
    assert!(
        skipped.contains("mounts the host's /etc"),
        "{:#}",
        outcome.outputs
    );
    assert_eq!(outcome.job.status, JobStatus::Failed, "{:?}", outcome.job);
    let error = outcome.job.error.clone().unwrap_or_default();
    assert!(error.contains("access to the host"), "{error}");
    assert_eq!(
        build_containers(&docker),
        containers_before,
        "nothing was started"
    );
}

/// A Django project on WhiteNoise whose page names a static file, with
/// `extra` files beside it.
fn django_shop<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut files = vec![
        ("requirements.txt", "django==5.1.4\nwhitenoise==6.8.2\n"),
        (
            "manage.py",
            "import os\nimport sys\n\nif __name__ == \"__main__\":\n    os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"shop.settings\")\n    from django.core.management import execute_from_command_line\n    execute_from_command_line(sys.argv)\n",
        ),
        ("shop/__init__.py", ""),
        (
            "shop/settings.py",
            "from pathlib import Path\nBASE_DIR = Path(__file__).resolve().parent.parent\nSECRET_KEY = \"not-a-secret\"\nDEBUG = False\nALLOWED_HOSTS = [\"*\"]\nROOT_URLCONF = \"shop.urls\"\nINSTALLED_APPS = [\"django.contrib.staticfiles\"]\nMIDDLEWARE = [\"whitenoise.middleware.WhiteNoiseMiddleware\"]\nSTATIC_URL = \"/static/\"\nSTATIC_ROOT = BASE_DIR / \"staticfiles\"\nSTATICFILES_DIRS = [BASE_DIR / \"assets\"]\nSTORAGES = {\"default\": {\"BACKEND\": \"django.core.files.storage.FileSystemStorage\"}, \"staticfiles\": {\"BACKEND\": \"whitenoise.storage.CompressedManifestStaticFilesStorage\"}}\n",
        ),
        ("assets/app.css", "body { color: #222; }\n"),
        (
            "shop/urls.py",
            "from django.http import HttpResponse\nfrom django.templatetags.static import static\nfrom django.urls import path\n\nurlpatterns = [path(\"\", lambda request: HttpResponse(static(\"app.css\")))]\n",
        ),
    ];
    files.extend_from_slice(extra);
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_django_project_answers_with_its_collected_static_files() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    // WhiteNoise's manifest storage fails every page that names a static
    // file until `collectstatic` has run: the page answers only if the
    // image collected them.
    let outcome = deploy(&docker, &django_shop(&[])).await;
    assert_answered(&outcome, "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_django_project_without_gunicorn_in_its_requirements_runs_on_gunicorn() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    // A project with its `wsgi.py` whose requirements leave gunicorn out:
    // the image installs it and starts the app on it, not on `runserver`.
    let outcome = deploy(
        &docker,
        &django_shop(&[(
            "shop/wsgi.py",
            "import os\nfrom django.core.wsgi import get_wsgi_application\nos.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"shop.settings\")\napplication = get_wsgi_application()\n",
        )]),
    )
    .await;
    assert_answered(&outcome, "/");
    let start = outcome.outputs["analyse"]["analysis"]["start_command"].to_string();
    assert!(start.contains("gunicorn shop.wsgi"), "{start}");
    let adjustments = outcome.outputs["generate"]["adjustments"].to_string();
    assert!(adjustments.contains("gunicorn"), "{adjustments}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_django_project_below_the_folder_of_its_requirements_installs_them_and_answers() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    // `requirements.txt` at the root, the project in `backend/`: the
    // image installs the root's requirements and starts the project in
    // its folder (WhiteNoise, which only the requirements name, must be
    // there for the page to answer).
    let moved: Vec<(String, &str)> = django_shop(&[])
        .into_iter()
        .map(|(path, text)| match path {
            "requirements.txt" => (path.to_owned(), text),
            _ => (format!("backend/{path}"), text),
        })
        .collect();
    let files: Vec<(&str, &str)> = moved.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    let outcome = deploy(&docker, &files).await;
    assert_answered(&outcome, "/");
    let adjustments = outcome.outputs["generate"]["adjustments"].to_string();
    assert!(
        adjustments.contains("declares no dependencies"),
        "{adjustments}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_php_app_answers() {
    let Some(docker) = docker_engine::engine_with(&[PHP]) else {
        return;
    };
    let outcome = deploy(
        &docker,
        &[(
            "index.php",
            "<?php\nheader('Content-Type: text/plain');\necho \"hello from php\\n\";\n",
        )],
    )
    .await;
    assert_answered(&outcome, "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_js_server_build_answers() {
    let Some(docker) = docker_engine::engine_with(&[NODE]) else {
        return;
    };
    let outcome = deploy(
        &docker,
        &[
            (
                "package.json",
                r#"{"name":"storefront","version":"1.0.0","private":true,"scripts":{"dev":"next dev","build":"next build","start":"next start"},"dependencies":{"next":"14.2.20","react":"18.3.1","react-dom":"18.3.1"}}"#,
            ),
            (
                "pages/index.js",
                "export default function Home() {\n  return <h1>Storefront</h1>;\n}\n",
            ),
        ],
    )
    .await;
    assert_answered(&outcome, "/");
}

/// A fixture app of `tests/fixtures/apps`.
fn app(name: &str) -> Vec<FixtureFile> {
    FixtureFile::tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/apps")
            .join(name),
    )
}

/// The plan's note on how dependencies are installed.
fn install_note(outcome: &Outcome) -> String {
    let adjustments = outcome.outputs["generate"]["adjustments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    adjustments
        .iter()
        .filter_map(|a| a["reason"].as_str())
        .find(|reason| reason.contains("dependencies:"))
        .unwrap_or_else(|| panic!("no install note in {adjustments:#?}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pnpm_lock_file_is_installed_with_pnpm() {
    let Some(docker) = docker_engine::engine_with(&[NODE]) else {
        return;
    };
    let outcome = deploy_files(&docker, &app("pnpm-http")).await;
    assert_answered(&outcome, "/");
    let note = install_note(&outcome);
    assert!(
        note.contains("pnpm 9.15.0 installs exactly what pnpm-lock.yaml pins"),
        "{note}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sveltekit_app_on_a_platform_adapter_is_built_with_the_node_adapter_and_answers() {
    let Some(docker) = docker_engine::engine_with(&[NODE]) else {
        return;
    };
    // adapter-auto builds nothing a container can run: the image build
    // swaps in adapter-node, and `node build` serves the page.
    let outcome = deploy_files(&docker, &app("sveltekit-adapter-auto")).await;
    assert_answered(&outcome, "/");
    assert_eq!(
        outcome.outputs["analyse"]["analysis"]["framework"].as_str(),
        Some("sveltekit")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_of_a_pnpm_workspace_is_built_from_the_root_and_answers() {
    let Some(docker) = docker_engine::engine_with(&[NODE]) else {
        return;
    };
    // `@wsp/greet: workspace:*` resolves only from the workspace root.
    let outcome = deploy_as(
        &docker,
        &app("pnpm-workspace-api"),
        "deploy the API in apps/api",
    )
    .await;
    assert_answered(&outcome, "/");
    assert_eq!(
        outcome.outputs["analyse"]["analysis"]["subdir"].as_str(),
        Some("apps/api")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yarn_4_plug_n_play_app_resolves_its_packages_at_run_time() {
    let Some(docker) = docker_engine::engine_with(&[NODE]) else {
        return;
    };
    // No node_modules: `require('ms')` answers only through .pnp.cjs.
    let outcome = deploy_files(&docker, &app("yarn-pnp-http")).await;
    assert_answered(&outcome, "/");
    let note = install_note(&outcome);
    assert!(note.contains("Yarn 4.5.3 (Plug'n'Play)"), "{note}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poetry_project_is_installed_from_its_lock_file() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    let outcome = deploy_files(&docker, &app("poetry-flask")).await;
    assert_answered(&outcome, "/healthz");
    let note = install_note(&outcome);
    assert!(
        note.contains("Poetry installs exactly what poetry.lock pins"),
        "{note}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uv_project_is_installed_from_its_lock_file() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON, UV]) else {
        return;
    };
    let outcome = deploy_files(&docker, &app("uv-fastapi")).await;
    assert_answered(&outcome, "/health");
    let note = install_note(&outcome);
    assert!(
        note.contains("uv installs exactly what uv.lock pins"),
        "{note}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_variable_the_build_reads_reaches_the_build_and_ignored_sources_are_copied() {
    let Some(docker) = docker_engine::engine_with(&[NODE]) else {
        return;
    };
    // build.js exits without NEXT_PUBLIC_GREETING; the repository's
    // .dockerignore keeps server.js, the start command's file, out.
    let outcome = deploy_files(&docker, &app("build-time-variable")).await;
    assert_answered(&outcome, "/");
    let reasons: Vec<String> = outcome.outputs["generate"]["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["reason"].as_str().map(str::to_owned))
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("NEXT_PUBLIC_GREETING is read when the app is built")),
        "{reasons:#?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("excludes server.js, which the generated Dockerfile needs")),
        "{reasons:#?}"
    );
    // The build stage (`FROM node AS build`) is not left on the engine.
    let logs = outcome.engine.logs(outcome.id, None, 10_000).await.unwrap();
    assert!(
        logs.iter()
            .any(|l| l.line.message.contains("removed 1 build-stage image(s)")),
        "no build-stage image was removed"
    );
}

/// A stand-in for the control plane: an HTTP server on every address of
/// this host, counting who connects.
struct ControlPlane {
    port: u16,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ControlPlane {
    fn start() -> Self {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = connections.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nsecrets",
                );
            }
        });
        Self { port, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A repository whose Dockerfile `RUN`s a script that tries the control
/// plane (on the engine's bridge gateway and on this host's own address),
/// the cloud's instance metadata service, both directly and through the
/// build's proxy, and looks for the worker's credentials; it fails the
/// build when anything answers. The app runs the same check as it starts
/// (preflight starts it next to the control plane too) and prints what it
/// reached. The app itself needs Flask from PyPI.
fn hostile_build(docker: &DockerEngine, control_plane: &ControlPlane) -> Vec<FixtureFile> {
    // The default bridge's gateway is its subnet's first address.
    let subnet = docker
        .lines(&[
            "network",
            "inspect",
            "bridge",
            "--format",
            "{{(index .IPAM.Config 0).Subnet}}",
        ])
        .first()
        .cloned()
        .expect("the engine's bridge has a subnet");
    let network: std::net::Ipv4Addr = subnet.split('/').next().unwrap().parse().unwrap();
    let gateway = std::net::Ipv4Addr::from(u32::from(network) + 1).to_string();
    let host_address = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| gateway.clone());
    let port = control_plane.port;
    let probe = format!(
        r#"import os, socket, sys, urllib.request
direct = [("the control plane on the bridge gateway", "{gateway}", {port}),
          ("the control plane on the host's address", "{host_address}", {port}),
          ("the instance metadata service", "169.254.169.254", 80)]
via_proxy = [("the instance metadata service through the proxy", "http://169.254.169.254/latest/meta-data/"),
             ("the control plane through the proxy", "http://{gateway}:{port}/")]
reached = []
for name, host, port in direct:
    try:
        socket.create_connection((host, port), timeout=3).close()
        reached.append(name)
    except OSError as error:
        print(f"blocked: {{name}} ({{error}})")
for name, url in via_proxy:
    try:
        urllib.request.urlopen(url, timeout=5)
        reached.append(name)
    except Exception as error:
        print(f"blocked: {{name}} ({{error}})")
leaked = [k for k in os.environ if k.startswith(("AWS_", "DATABASE_URL", "OPENAI_", "DEPLOYFLOW_"))]
if reached or leaked:
    print(f"REACHED {{reached}} LEAKED {{leaked}}")
    sys.exit(1)
print("isolated: the build reached nothing but the registries")
"#
    );
    vec![
        FixtureFile::file("requirements.txt", "flask==3.0.3\n"),
        FixtureFile::file(
            "Dockerfile",
            format!(
                "FROM {REGISTRY}{PYTHON}\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nRUN python probe_build.py\nEXPOSE 5000\nCMD [\"python\", \"app.py\"]\n"
            ),
        ),
        FixtureFile::file("probe_build.py", probe),
        FixtureFile::file(
            "app.py",
            "import subprocess, sys\nfrom flask import Flask\nchecked = subprocess.run([sys.executable, \"probe_build.py\"], capture_output=True, text=True)\nprint(\"run check:\", checked.stdout.replace(\"\\n\", \" | \"), flush=True)\napp = Flask(__name__)\n\n@app.get(\"/healthz\")\ndef health():\n    return \"ok\"\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=5000)\n",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_reaches_the_registries_but_not_the_control_plane_or_the_metadata_service() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    let control_plane = ControlPlane::start();
    let files = hostile_build(&docker, &control_plane);

    let isolated = deploy_files(&docker, &files).await;
    assert_answered(&isolated, "/healthz");
    let log = isolated.outputs["preflight"]["build_log_tail"].to_string();
    assert!(
        log.contains("isolated: the build reached nothing but the registries"),
        "{log}"
    );
    // The app's own run reached nothing either, and was probed from inside.
    let ran = isolated.outputs["preflight"]["container_log_tail"].to_string();
    assert!(ran.contains("run check:"), "{ran}");
    assert!(ran.contains("isolated: the build reached nothing"), "{ran}");
    assert!(!ran.contains("REACHED"), "{ran}");
    assert!(
        isolated.outputs["preflight"]["url"]
            .as_str()
            .is_some_and(|url| !url.starts_with("http://127.0.0.1")),
        "probed from inside the project's network: {:#}",
        isolated.outputs["preflight"]
    );
    assert_eq!(control_plane.connections(), 0, "{log}\n{ran}");

    // The same build on the engine's default network reaches the host: the
    // probe tells a reachable control plane from an isolated one.
    let open = deploy_configured(
        &docker,
        &files,
        "small web app on a single server",
        &[],
        |config| config.docker.isolation = None,
    )
    .await;
    let error = failure(&open);
    assert!(error.contains("REACHED"), "{error}");
    assert!(
        error.contains("the control plane on the bridge gateway"),
        "{error}"
    );
    assert!(control_plane.connections() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dockerfile_that_has_the_engine_fetch_the_metadata_service_is_not_built() {
    let Some(docker) = docker_engine::engine_with(&[PYTHON]) else {
        return;
    };
    let outcome = deploy(
        &docker,
        &[
            ("requirements.txt", "flask==3.0.3\n"),
            (
                "Dockerfile",
                &format!(
                    "FROM {REGISTRY}{PYTHON}\nWORKDIR /app\nADD http://169.254.169.254/latest/meta-data/iam/security-credentials/ /app/credentials\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
                ),
            ),
            (
                "app.py",
                "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=5000)\n",
            ),
        ],
    )
    .await;
    let error = failure(&outcome);
    assert!(
        error.contains("http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
        "{error}"
    );
    assert!(error.contains("allow-list"), "{error}");
    assert_eq!(
        outcome.outputs["preflight"],
        Value::Null,
        "nothing was built"
    );
}
