//! What the pipeline's integration tests share: the deploy workflow on an
//! in-process engine (SQLite), and running a job to its end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::{Catalog, Engine, Registry, Worker, WorkerConfig};
use test_support::database::TestSqlite;
use tokio_util::sync::CancellationToken;

/// The deploy workflow registered with `config`, on a fresh SQLite database
/// (kept alive by the returned handle).
pub async fn deploy_engine(config: pipeline::PipelineConfig) -> (Engine, TestSqlite) {
    let mut registry = Registry::new();
    pipeline::register(&mut registry, Arc::new(config));
    let mut catalog = Catalog::empty(registry);
    catalog
        .add_toml(
            "deploy.toml",
            include_str!("../../../../workflows/deploy.toml"),
        )
        .unwrap();
    catalog
        .add_toml(
            "destroy.toml",
            include_str!("../../../../workflows/destroy.toml"),
        )
        .unwrap();
    let db = TestSqlite::create();
    let store = engine::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    // Jobs may carry secrets (a clone token, the app's variable values).
    (
        Engine::new(store, Arc::new(catalog)).with_secret_key(Some(secret_key())),
        db,
    )
}

/// The key the test engines seal job secrets with.
pub fn secret_key() -> engine::SecretKey {
    engine::SecretKey::from_hex(&"5e".repeat(32)).expect("a 32-byte hex key")
}

/// A worker that can open the jobs' secrets.
pub fn worker(name: &str) -> WorkerConfig {
    let mut config = WorkerConfig::new(name);
    config.secret_key = Some(secret_key());
    config
}

/// Runs a worker until job `id` ends (or `within` passes: a failed test).
pub async fn run_to_end(
    engine: &Engine,
    config: WorkerConfig,
    id: uuid::Uuid,
    within: Duration,
) -> engine::store::JobRecord {
    let shutdown = CancellationToken::new();
    let worker = Worker::new(engine.store().clone(), engine.catalog().clone(), config);
    let handle = tokio::spawn(worker.run(shutdown.clone()));
    let deadline = Instant::now() + within;
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
