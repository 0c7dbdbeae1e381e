//! A deployment step resumed on a machine without the checkout: it fetches exactly the
//! checkpointed commit again, even after the branch moved on.

mod common;

use std::time::Duration;

use engine::JobStatus;
use serde_json::json;
use test_support::git_fixture::{FixtureFile, GitFixture};
use test_support::git_server::GitHttpServer;

const WITHIN: Duration = Duration::from_secs(30);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_steps_read_the_checkpointed_commit_without_the_first_workers_disk() {
    let root = tempfile::tempdir().unwrap();
    let mut repo = GitFixture::create_in(root.path(), "app.git", &flask(5001));
    let server = GitHttpServer::start(root.path(), None).await;
    let checkouts = tempfile::tempdir().unwrap();

    let mut config = pipeline::PipelineConfig::new(checkouts.path().join("cache"));
    config.url_policy.allow_local = true;
    let (engine, _db) = common::deploy_engine(config).await;
    let store = engine.store().clone();

    let input = json!({"repo_url": server.url_for("app.git"), "description": "cheap"});
    let id = engine.submit("deploy", input, None).await.unwrap().job.id;
    let job = common::run_to_end(&engine, common::worker("first"), id, WITHIN).await;
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let first_commit = repo.head();

    // Another machine: no checkout cache; and the branch has moved on meanwhile.
    std::fs::remove_dir_all(checkouts.path().join("cache")).unwrap();
    repo.commit(&flask(7000), "move to port 7000");
    let requests_before = server.requests().len();

    engine.retry(id, Some("analyse")).await.unwrap();
    let job = common::run_to_end(&engine, common::worker("second"), id, WITHIN).await;
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
