//! The deployment workflow through the HTTP API: `POST /request` on a repository the
//! test serves itself (file:// and a smart-HTTP server with Basic auth), the job's
//! timeline and artifacts, a denied repository, refused requests, and a token that
//! never shows up anywhere.

#[macro_use]
mod common;

use common::{Backend, TestApp};
use serde_json::{Value, json};
use test_support::git_fixture::{FixtureFile, GitFixture};
use test_support::git_server::{BasicAuth, GitHttpServer};

api_tests!(
    request_runs_to_terraform_generated_with_artifacts,
    private_repository_token_never_leaks,
    non_server_repository_is_denied,
    bad_deployment_requests_create_nothing,
    the_destroy_workflow_checks_its_own_input,
    a_database_runs_beside_the_app_unless_the_user_gives_their_own,
);

const TOKEN: &str = "github_pat_11TESTTOKENabcdefghijklmnopqrstuvwxyz0123";
/// A variable value sent with a deployment: it must never be shown or stored in clear.
const ENV_VALUE: &str = "env-value-that-must-not-leak-4711";

fn flask_app() -> Vec<FixtureFile> {
    vec![
        FixtureFile::file("requirements.txt", "flask==3.0.3\ngunicorn==23.0.0\n"),
        FixtureFile::file(
            "app.py",
            "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route(\"/health\")\ndef health():\n    return {\"ok\": True}\n\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=int(os.environ.get(\"PORT\", 5000)))\n",
        ),
        FixtureFile::file(".env.example", "SECRET_KEY=\n"),
    ]
}

async fn request_runs_to_terraform_generated_with_artifacts(backend: Backend) {
    let app = TestApp::spawn(backend, true).await;
    let repo = GitFixture::create(&flask_app());
    let (code, job) = app
        .post(
            "/request",
            json!({"repo_url": repo.file_url(), "description": "a small public API, cheap, in Canada"}),
        )
        .await;
    assert_eq!(code, 202, "{job:#}");
    assert_eq!(job["workflow"], "deploy");
    let id = job["id"].as_str().unwrap().to_owned();
    let job = app.wait_for_status(&id, "succeeded").await;
    // No AWS credentials in tests: the job stops after generating, saying why.
    assert_eq!(job["state"], "Planned", "{job:#}");
    assert_eq!(job["repo"], repo.file_url());
    assert_eq!(job["description"], "a small public API, cheap, in Canada");
    let steps: Vec<&str> = job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "clone",
            "analyse",
            "choose",
            "generate",
            "preflight",
            "apply",
            "healthcheck"
        ]
    );
    // Without a Docker engine configured, preflight checkpoints why it was skipped.
    let preflight = &job["outputs"]["preflight"];
    assert!(
        preflight["skipped"].as_str().is_some_and(|s| !s.is_empty()),
        "{preflight:#}"
    );
    let apply = &job["steps"][5];
    assert_eq!(apply["status"], "skipped", "{apply:#}");
    let note = apply["attempts"][0]["error"].as_str().unwrap_or_default();
    assert!(note.starts_with("apply skipped: "), "{apply:#}");
    let outputs = &job["outputs"];
    assert_eq!(outputs["clone"]["commit"], repo.head(), "{outputs:#}");
    assert_eq!(outputs["analyse"]["analysis"]["framework"], "flask");
    assert_eq!(outputs["analyse"]["analysis"]["port"], 5000);
    assert!(outputs["choose"]["target"].is_string());

    let (code, list) = app.get(&format!("/job/{id}/artifacts")).await;
    assert_eq!(code, 200, "{list}");
    let paths: Vec<&str> = list["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    for expected in [
        "bundle/Dockerfile",
        "bundle/compose.yaml",
        "bundle/Makefile",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
    assert!(
        paths
            .iter()
            .any(|p| p.starts_with("terraform/") && p.ends_with(".tf"))
    );
    let compose = compose_of(&app, &id).await;
    assert!(
        compose.contains("${DEPLOYFLOW_HOST_PORT:-8080}:5000"),
        "{compose}"
    );
    let (code, missing) = app.get(&format!("/job/{id}/artifacts/nope.txt")).await;
    assert_eq!(code, 404, "{missing}");
}

async fn private_repository_token_never_leaks(backend: Backend) {
    let app = TestApp::spawn(backend, true).await;
    let root = tempfile::tempdir().unwrap();
    let repo = GitFixture::create_in(root.path(), "shop.git", &flask_app());
    let server =
        GitHttpServer::start(root.path(), Some(BasicAuth::new("x-access-token", TOKEN))).await;

    // Without the token the server refuses: a permanent failure that says why.
    let (code, job) = app
        .post(
            "/request",
            json!({"repo_url": server.url_for("shop.git"), "description": "public API"}),
        )
        .await;
    assert_eq!(code, 202, "{job:#}");
    let refused = app
        .wait_for_status(job["id"].as_str().unwrap(), "failed")
        .await;
    assert!(
        refused["error"].as_str().unwrap().contains("credentials"),
        "{refused:#}"
    );
    assert_eq!(refused["error_code"], "clone.auth", "{refused:#}");
    let suggestion = refused["suggestion"].as_str().unwrap_or_default();
    assert!(suggestion.contains("read access"), "{refused:#}");
    assert_eq!(
        refused["steps"][0]["attempts"][0]["error_code"], "clone.auth",
        "{refused:#}"
    );

    let (code, job) = app
        .post(
            "/request",
            json!({"repo_url": server.url_for("shop.git"), "description": "public API",
                   "github_token": TOKEN, "env": {"PAYMENT_KEY": ENV_VALUE}}),
        )
        .await;
    assert_eq!(code, 202, "{job:#}");
    let id = job["id"].as_str().unwrap().to_owned();
    let done = app.wait_for_status(&id, "succeeded").await;
    assert_eq!(done["outputs"]["clone"]["commit"], repo.head());
    assert!(
        server.requests().iter().any(|r| r.authorization.is_some()),
        "the clone authenticated"
    );

    let mut seen = vec![job.to_string(), done.to_string()];
    for path in [
        format!("/job/{id}"),
        format!("/job/{id}/logs"),
        format!("/job/{id}/artifacts"),
        "/list".to_owned(),
    ] {
        let (code, body) = app.get(&path).await;
        assert_eq!(code, 200, "{path}: {body}");
        seen.push(body.to_string());
    }
    let (_, artifacts) = app.get(&format!("/job/{id}/artifacts")).await;
    for artifact in artifacts["artifacts"].as_array().unwrap() {
        let href = artifact["href"].as_str().unwrap();
        seen.push(
            app.client
                .get(app.url(href))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    for text in &seen {
        assert!(
            !text.contains(TOKEN) && !text.contains(ENV_VALUE),
            "a secret leaked into a response: {text}"
        );
    }
    for (table, text) in every_stored_row(&app).await {
        assert!(
            !text.contains(TOKEN) && !text.contains(ENV_VALUE),
            "a secret is stored in clear in {table}: {text}"
        );
    }
}

/// Every row of every table, as text (`job_secrets` holds only ciphertext).
async fn every_stored_row(app: &TestApp) -> Vec<(String, String)> {
    test_support::database::every_stored_row(app.db.url()).await
}

async fn non_server_repository_is_denied(backend: Backend) {
    let app = TestApp::spawn(backend, true).await;
    let repo = GitFixture::create(&[
        FixtureFile::file("requirements.txt", "click==8.1.7\n"),
        FixtureFile::file(
            "cli.py",
            "import click\n\n\n@click.command()\n@click.argument(\"name\")\ndef hello(name):\n    click.echo(f\"Hello {name}\")\n\n\nif __name__ == \"__main__\":\n    hello()\n",
        ),
    ]);
    let (code, job) = app
        .post(
            "/request",
            json!({"repo_url": repo.file_url(), "description": "deploy it"}),
        )
        .await;
    assert_eq!(code, 202, "{job:#}");
    let job = app
        .wait_for_status(job["id"].as_str().unwrap(), "failed")
        .await;
    assert_eq!(job["state"], "Denied", "{job:#}");
    assert!(job["error"].as_str().unwrap().contains("denied"), "{job:#}");
    assert_eq!(job["error_code"], "analyse.not_http", "{job:#}");
    let analyse = &job["steps"][1];
    assert_eq!(analyse["name"], "analyse");
    assert_eq!(
        analyse["attempts"].as_array().unwrap().len(),
        1,
        "a denial is not retried: {job:#}"
    );
}

async fn bad_deployment_requests_create_nothing(backend: Backend) {
    let app = TestApp::spawn(backend, false).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"description": "x"}), "missing field `repo_url`"),
        (
            json!({"repo_url": "https://github.com/a/b"}),
            "missing field `description`",
        ),
        (
            json!({"repo_url": "https://github.com/a/b", "description": "  "}),
            "description",
        ),
        (
            json!({"repo_url": "https://gitlab.com/a/b", "description": "x"}),
            "not allowed",
        ),
        (
            json!({"repo_url": "ssh://git@github.com/a/b", "description": "x"}),
            "https://",
        ),
        (
            json!({"repo_url": "git@github.com:a/b.git", "description": "x"}),
            "https://",
        ),
        (
            json!({"repo_url": "https://user:pw@github.com/a/b", "description": "x"}),
            "repo_url",
        ),
        (
            json!({"repo_url": "not a url", "description": "x"}),
            "repo_url",
        ),
        (json!({"repo_url": 5, "description": "x"}), "invalid type"),
        (
            json!({"repo_url": "https://github.com/a/b", "description": "x", "region": "eu"}),
            "unknown field `region`",
        ),
        (
            json!({"repo_url": "https://github.com/a/b", "description": "x", "ref": "a..b"}),
            "ref",
        ),
        (
            json!({"repo_url": "https://github.com/a/b", "description": "x", "github_token": "a b"}),
            "github_token",
        ),
        (
            json!({"repo_url": "https://github.com/a/b", "description": "x", "env": {"9LIVES": "x"}}),
            "env: \"9LIVES\" is not a variable name",
        ),
        (
            json!({"repo_url": "https://github.com/a/b", "description": "x", "env": {"KEY": 5}}),
            "invalid type",
        ),
    ];
    for (body, detail) in cases {
        let (code, problem) = app.post("/request", body.clone()).await;
        assert_eq!(code, 422, "{body}: {problem:#}");
        assert_eq!(problem["status"], 422);
        let text = problem["detail"].as_str().unwrap_or_default();
        assert!(
            text.contains(detail),
            "{body}: {text:?} should mention {detail:?}"
        );
        assert!(!problem.to_string().contains("pw@"), "{problem}");
    }
    // The deployment workflow's own run route applies the same checks.
    let (code, problem) = app
        .post(
            "/workflows/deploy/runs",
            json!({"input": {"repo_url": "https://gitlab.com/a/b", "description": "x"}}),
        )
        .await;
    assert_eq!(code, 422, "{problem:#}");
    assert_eq!(app.job_count().await, 0);
}

/// `POST /workflows/destroy/runs` skips the checks `POST /job/{id}/destroy`
/// makes; the destroy step makes them itself.
async fn the_destroy_workflow_checks_its_own_input(backend: Backend) {
    let app = TestApp::spawn(backend, true).await;
    let demo = app.submit_demo(json!({"sleep_ms": 10})).await;
    app.wait_for_status(&demo, "succeeded").await;
    for (deployment, reason, error_code) in [
        (demo.clone(), "not a deployment", "destroy.not_a_deployment"),
        (uuid_nil(), "there is no job", "destroy.no_such_job"),
    ] {
        let (status, body) = app
            .post(
                "/workflows/destroy/runs",
                json!({"input": {"deployment": deployment}}),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        let job = app.wait_for_status(&id, "failed").await;
        assert!(
            job["error"].as_str().unwrap_or_default().contains(reason),
            "{job:#}"
        );
        assert_eq!(job["error_code"], error_code, "{job:#}");
    }
}

/// The job's generated compose file, downloaded from its artifacts.
async fn compose_of(app: &TestApp, id: &str) -> String {
    artifact_of(app, id, "bundle/compose.yaml").await
}

async fn artifact_of(app: &TestApp, id: &str, path: &str) -> String {
    let answer = app
        .client
        .get(app.url(&format!("/job/{id}/artifacts/{path}")))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{path}");
    answer.text().await.unwrap()
}

fn uuid_nil() -> String {
    "00000000-0000-0000-0000-000000000000".to_owned()
}

/// A Flask app on PostgreSQL (`DATABASE_URL`, psycopg2): its plan runs a
/// PostgreSQL beside it, wired and left out of what the user must give; sent
/// with a `DATABASE_URL` of the user's own, that database is used instead.
async fn a_database_runs_beside_the_app_unless_the_user_gives_their_own(backend: Backend) {
    let app = TestApp::spawn(backend, true).await;
    let repo = GitFixture::create(&[
        FixtureFile::file(
            "requirements.txt",
            "flask==3.0.3\npsycopg2-binary==2.9.10\n",
        ),
        FixtureFile::file(
            "app.py",
            "import os\nimport psycopg2\nfrom flask import Flask\n\napp = Flask(__name__)\nDB = os.environ[\"DATABASE_URL\"]\n\n\n@app.route(\"/\")\ndef index():\n    return str(psycopg2.connect(DB).server_version)\n\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=5000)\n",
        ),
    ]);
    let mut jobs = Vec::new();
    for env in [json!({}), json!({"DATABASE_URL": ENV_VALUE})] {
        let (code, job) = app
            .post(
                "/request",
                json!({"repo_url": repo.file_url(), "description": "a small web app on a single server, its database on the same machine", "env": env}),
            )
            .await;
        assert_eq!(code, 202, "{job:#}");
        let id = job["id"].as_str().unwrap().to_owned();
        jobs.push((id.clone(), app.wait_for_status(&id, "succeeded").await));
    }

    let (id, ours) = &jobs[0];
    let services = &ours["outputs"]["choose"]["services"];
    assert_eq!(ours["outputs"]["choose"]["target"], "vm", "{ours:#}");
    assert_eq!(
        services["provisioned"][0]["kind"], "postgres",
        "{services:#}"
    );
    assert_eq!(
        ours["outputs"]["generate"]["required_variables"],
        json!([]),
        "DATABASE_URL is wired, not asked for"
    );
    let compose = compose_of(&app, id).await;
    assert!(compose.contains("postgres:"), "{compose}");
    assert!(compose.contains("@postgres:5432/app"), "{compose}");

    let (id, theirs) = &jobs[1];
    let services = &theirs["outputs"]["choose"]["services"];
    assert!(services.get("provisioned").is_none(), "{services:#}");
    assert!(
        services["not_provisioned"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("DATABASE_URL was given with the deployment"),
        "{services:#}"
    );
    assert_eq!(
        theirs["outputs"]["generate"]["required_variables"],
        json!(["DATABASE_URL"])
    );
    let compose = compose_of(&app, id).await;
    assert!(!compose.contains("@postgres:5432"), "{compose}");
    assert!(!compose.contains(ENV_VALUE), "{compose}");

    // On the container service the database is RDS, wired through a
    // Secrets Manager secret, priced, and applied with the rest.
    let (code, job) = app
        .post(
            "/request",
            json!({"repo_url": repo.file_url(), "description": "a small web app on fargate"}),
        )
        .await;
    assert_eq!(code, 202, "{job:#}");
    let id = job["id"].as_str().unwrap().to_owned();
    let managed = app.wait_for_status(&id, "succeeded").await;
    let choice = &managed["outputs"]["choose"];
    assert_eq!(choice["target"], "container-service", "{choice:#}");
    assert_eq!(choice["services"]["provisioned"][0]["kind"], "postgres");
    assert!(
        choice["cost_breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().starts_with("PostgreSQL db.t4g.micro")),
        "{choice:#}"
    );
    let database = artifact_of(&app, &id, "terraform/database.tf").await;
    assert!(
        database.contains("resource \"aws_db_instance\" \"database\""),
        "{database}"
    );
    assert!(
        database.contains(r#"{ "DATABASE_URL" = { "part" = "url", "scheme" = "postgresql" } }"#),
        "{database}"
    );

    // On a VM, unless asked otherwise, it is RDS too: the boot script reads
    // the app's connection from a secret, and compose runs no database.
    let (code, job) = app
        .post(
            "/request",
            json!({"repo_url": repo.file_url(), "description": "a small web app on a single server"}),
        )
        .await;
    assert_eq!(code, 202, "{job:#}");
    let id = job["id"].as_str().unwrap().to_owned();
    let on_vm = app.wait_for_status(&id, "succeeded").await;
    let choice = &on_vm["outputs"]["choose"];
    assert_eq!(choice["target"], "vm", "{choice:#}");
    assert_eq!(choice["services"]["managed_on_vm"], true, "{choice:#}");
    assert_eq!(
        on_vm["outputs"]["generate"]["required_variables"],
        json!([])
    );
    let database = artifact_of(&app, &id, "terraform/database.tf").await;
    assert!(
        database.contains("resource \"aws_db_instance\" \"database\""),
        "{database}"
    );
    let stores = artifact_of(&app, &id, "terraform/stores.tf").await;
    assert!(
        stores.contains("secretsmanager get-secret-value"),
        "{stores}"
    );
    let compose = compose_of(&app, &id).await;
    assert!(!compose.contains("postgres:"), "{compose}");
    assert!(
        compose
            .contains("DATABASE_URL: ${DATABASE_URL:?DATABASE_URL is set by the VM's boot script}"),
        "{compose}"
    );
}
