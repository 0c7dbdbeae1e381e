//! A deployment step resumed on a machine without the checkout: it fetches exactly the
//! checkpointed commit again, even after the branch moved on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::{Catalog, Engine, JobStatus, Registry, Worker, WorkerConfig};
use serde_json::json;
use test_support::database::TestSqlite;
use test_support::git_fixture::{FixtureFile, GitFixture};
use test_support::git_server::GitHttpServer;
use tokio_util::sync::CancellationToken;

fn flask(port: u16) -> Vec<FixtureFile> {
    vec![
        FixtureFile::file("requirements.txt", "flask==3.0.3\n"),
        FixtureFile::file(
            "app.py",
            format!(
                "from flask import Flask\napp = Flask(__name__)\n\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port={port})\n"
            ),
        ),
    ]
}

async fn run_to_end(
    engine: &Engine,
    config: WorkerConfig,
    id: uuid::Uuid,
) -> engine::store::JobRecord {
    let shutdown = CancellationToken::new();
    let worker = Worker::new(engine.store().clone(), engine.catalog().clone(), config);
    let handle = tokio::spawn(worker.run(shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(30);
    let job = loop {
        let job = engine.job(id).await.unwrap();
        if job.status.is_terminal() {
            break job;
        }
        assert!(Instant::now() < deadline, "job stuck: {job:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    shutdown.cancel();
    handle.await.unwrap();
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_steps_read_the_checkpointed_commit_without_the_first_workers_disk() {
    let root = tempfile::tempdir().unwrap();
    let mut repo = GitFixture::create_in(root.path(), "app.git", &flask(5001));
    let server = GitHttpServer::start(root.path(), None).await;
    let checkouts = tempfile::tempdir().unwrap();

    let mut config = pipeline::PipelineConfig::new(checkouts.path().join("cache"));
    config.url_policy.allow_local = true;
    let mut registry = Registry::new();
    pipeline::register(&mut registry, Arc::new(config));
    let mut catalog = Catalog::empty(registry);
    catalog
        .add_toml(
            "deploy.toml",
            include_str!("../../../workflows/deploy.toml"),
        )
        .unwrap();
    let db = TestSqlite::create();
    let store = engine::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let engine = Engine::new(store.clone(), Arc::new(catalog));

    let input = json!({"repo_url": server.url_for("app.git"), "description": "cheap"});
    let id = engine.submit("deploy", input, None).await.unwrap().job.id;
    let job = run_to_end(&engine, WorkerConfig::new("first"), id).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let first_commit = repo.head();

    // Another machine: no checkout cache; and the branch has moved on meanwhile.
    std::fs::remove_dir_all(checkouts.path().join("cache")).unwrap();
    repo.commit(&flask(7000), "move to port 7000");
    let requests_before = server.requests().len();

    engine.retry(id, Some("analyse")).await.unwrap();
    let job = run_to_end(&engine, WorkerConfig::new("second"), id).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let outputs = store.load_outputs(id).await.unwrap();
    assert_eq!(outputs["clone"]["commit"], first_commit);
    assert_eq!(
        outputs["analyse"]["analysis"]["port"], 5001,
        "the resumed analysis read the checkpointed commit, not the branch tip"
    );
    assert!(
        server.requests().len() > requests_before,
        "the commit was fetched again"
    );
}
