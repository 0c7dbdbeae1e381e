//! The job-log tracing layer: events inside a job's span land in the job's log, with
//! step and attempt, secrets redacted. (One test binary: it installs the global subscriber.)

use std::sync::Arc;
use std::time::Duration;

use engine::{
    Catalog, Engine, JobLogLayer, JobStatus, Registry, StepContext, StepError, Worker,
    WorkerConfig, typed,
};
use serde_json::{Value, json};
use test_support::database::TestSqlite;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_inside_a_job_are_stored_with_step_and_attempt_and_redacted() {
    let subscriber =
        tracing_subscriber::registry().with(JobLogLayer.with_filter(LevelFilter::INFO));
    let _ = tracing::subscriber::set_global_default(subscriber);

    let mut registry = Registry::new();
    engine::demo::register(&mut registry, None);
    registry.register(
        "test.chatty",
        typed(|ctx: StepContext, _: Value| async move {
            tracing::info!("attempt {} says hello", ctx.attempt);
            if ctx.failures == 0 {
                return Err(StepError::retryable("first attempt fails"));
            }
            Ok::<_, StepError>(json!({}))
        }),
    );
    registry.register(
        "test.secretive",
        typed(|_ctx: StepContext, _: Value| async {
            tracing::info!(
                repo = "https://x-access-token:hunter2@github.com/a/b",
                "cloning with ghp_abcdefghijklmnopqrstuvwxyz0123456789"
            );
            tracing::debug!("below the job log's level");
            Ok::<_, StepError>(json!({}))
        }),
    );
    // The demo workflow only: the deployment workflow's handlers live in `pipeline`.
    let mut catalog = Catalog::empty(registry);
    catalog
        .add_toml("demo.toml", include_str!("../../../workflows/demo.toml"))
        .expect("the shipped demo workflow loads");
    catalog
        .add_toml(
            "secret.toml",
            "name = \"secret\"\n[[steps]]\nname = \"clone\"\nhandler = \"test.secretive\"\n",
        )
        .unwrap();
    catalog
        .add_toml(
            "chatty.toml",
            "name = \"chatty\"\n[defaults]\nbackoff = { initial = \"10ms\", max = \"10ms\" }\n\
             [[steps]]\nname = \"prepare\"\nhandler = \"demo.step\"\n\
             [[steps]]\nname = \"build\"\nhandler = \"test.chatty\"\n",
        )
        .unwrap();
    let db = TestSqlite::create();
    let store = engine::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let engine = Engine::new(store.clone(), Arc::new(catalog));

    let demo = engine
        .submit("chatty", json!({}), None)
        .await
        .unwrap()
        .job
        .id;
    let secret = engine
        .submit("secret", json!({}), None)
        .await
        .unwrap()
        .job
        .id;

    let mut config = WorkerConfig::new("w-logs");
    config.heartbeat = Duration::from_millis(100);
    config.poll_interval = Duration::from_millis(20);
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(
        Worker::new(store.clone(), engine.catalog().clone(), config).run(shutdown.clone()),
    );
    for id in [demo, secret] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !engine.job(id).await.unwrap().status.is_terminal() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "job {id} did not finish"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(engine.job(id).await.unwrap().status, JobStatus::Succeeded);
    }
    shutdown.cancel();
    worker.await.unwrap();

    let demo_logs = store.logs(demo, None, 100).await.unwrap();
    let sleeping = demo_logs
        .iter()
        .find(|l| l.line.message == "attempt 2 says hello")
        .expect("a handler's tracing event is in the job log");
    assert_eq!(sleeping.line.step.as_deref(), Some("build"));
    assert_eq!(sleeping.line.attempt, Some(2));
    assert!(
        demo_logs.iter().any(|l| l
            .line
            .message
            .contains("step \"build\" failed (attempt 1 of 3)")),
        "the engine's own events are in the job log: {demo_logs:?}"
    );

    let secret_logs = store.logs(secret, None, 100).await.unwrap();
    let messages: Vec<&str> = secret_logs
        .iter()
        .map(|l| l.line.message.as_str())
        .collect();
    assert!(
        messages.contains(
            &"cloning with [redacted] repo=https://x-access-token:[redacted]@github.com/a/b"
        ),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .all(|m| !m.contains("hunter2") && !m.contains("ghp_")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .all(|m| !m.contains("below the job log's level"))
    );
    assert!(
        store
            .logs(demo, None, 100)
            .await
            .unwrap()
            .iter()
            .all(|l| !l.line.message.contains("cloning")),
        "events of one job do not leak into another's log"
    );
}
