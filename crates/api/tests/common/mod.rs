//! The one test-app builder: a fresh database, the engine over it, the API served on a
//! loopback port and, when asked, an in-process worker with fast settings.
//!
//! It lives here rather than in `test-support` because it needs `engine` and `api`, and
//! `test-support` is a dev-dependency of `engine` (depending back on it would build two
//! incompatible copies of the engine's types).

#![allow(dead_code)]

/// Runs each listed test once on a fresh PostgreSQL database and once on a fresh SQLite file.
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await;
                }
            )*
        }
    };
}

use std::path::Path;
use std::time::{Duration, Instant};

use engine::{Catalog, Engine, Registry, Worker, WorkerConfig};
use serde_json::Value;
use test_support::database::{TestPostgres, TestSqlite};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Postgres,
    Sqlite,
}

pub enum Database {
    Postgres(TestPostgres),
    Sqlite(TestSqlite),
}

impl Database {
    pub fn url(&self) -> &str {
        match self {
            Database::Postgres(db) => &db.url,
            Database::Sqlite(db) => &db.url,
        }
    }
}

/// A running API (and maybe worker); everything stops when it is dropped.
pub struct TestApp {
    pub base: String,
    /// The secret of the admin token `client` sends.
    pub admin_token: String,
    pub client: reqwest::Client,
    pub engine: Engine,
    shutdown: CancellationToken,
    server: JoinHandle<()>,
    worker: Option<JoinHandle<()>>,
    pub db: Database,
    _checkouts: tempfile::TempDir,
}

/// GitHub plus loopback and file:// repositories, which the tests serve themselves.
pub fn api_config() -> api::ApiConfig {
    api::ApiConfig {
        url_policy: pipeline::UrlPolicy {
            allowed_hosts: vec!["github.com".into()],
            allow_local: true,
        },
        metrics: None,
        auth: api::auth::AuthConfig::default(),
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend, with_worker: bool) -> Self {
        Self::spawn_with(backend, with_worker, api_config()).await
    }

    /// Like [`TestApp::spawn`], with the API configured by `config`.
    pub async fn spawn_with(backend: Backend, with_worker: bool, config: api::ApiConfig) -> Self {
        let db = match backend {
            Backend::Postgres => Database::Postgres(TestPostgres::create().await),
            Backend::Sqlite => Database::Sqlite(TestSqlite::create()),
        };
        let store = engine::connect(db.url(), 8).await.expect("connect");
        store.migrate().await.expect("migrate");
        let mut registry = Registry::new();
        engine::demo::register(&mut registry, None);
        let checkouts = tempfile::tempdir().expect("checkouts dir");
        let mut pipeline = pipeline::PipelineConfig::new(checkouts.path().to_owned());
        pipeline.url_policy = api_config().url_policy;
        pipeline::register(&mut registry, std::sync::Arc::new(pipeline));
        let workflows = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows");
        let catalog = std::sync::Arc::new(Catalog::load(&workflows, registry).expect("catalog"));
        let secret_key = engine::SecretKey::from_hex(&engine::SecretKey::generate_hex()).ok();
        let engine =
            Engine::new(store.clone(), catalog.clone()).with_secret_key(secret_key.clone());

        let shutdown = CancellationToken::new();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let server = tokio::spawn({
            let engine = engine.clone();
            let shutdown = shutdown.clone();
            async move {
                api::serve(listener, engine, config, shutdown)
                    .await
                    .expect("serve");
            }
        });
        // Every request of `client` acts as an admin; the authorization
        // tests make their own tokens and clients.
        let admin = engine
            .create_token("test-admin", "admin", None)
            .await
            .expect("admin token");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", admin.secret).parse().unwrap(),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
        let worker = with_worker.then(|| {
            let mut config = WorkerConfig::new("test-worker");
            config.heartbeat = Duration::from_millis(100);
            config.poll_interval = Duration::from_millis(50);
            config.shutdown_grace = Duration::from_secs(1);
            config.secret_key = secret_key;
            let worker = Worker::new(store, catalog, config);
            tokio::spawn(worker.run(shutdown.clone()))
        });
        Self {
            base,
            admin_token: admin.secret.clone(),
            client,
            engine,
            shutdown,
            server,
            worker,
            db,
            _checkouts: checkouts,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).send().await.expect("GET");
        into_parts(response).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("POST");
        into_parts(response).await
    }

    pub async fn post_empty(&self, path: &str) -> (u16, Value) {
        let response = self.client.post(self.url(path)).send().await.expect("POST");
        into_parts(response).await
    }

    /// Submits a demo job and returns its id.
    pub async fn submit_demo(&self, input: Value) -> String {
        let (status, body) = self
            .post(
                "/workflows/demo/runs",
                serde_json::json!({ "input": input }),
            )
            .await;
        assert_eq!(status, 202, "{body}");
        body["id"].as_str().expect("id").to_owned()
    }

    /// Polls `GET /job/{id}` until the job is in `status`.
    pub async fn wait_for_status(&self, id: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (code, job) = self.get(&format!("/job/{id}")).await;
            assert_eq!(code, 200, "{job}");
            if job["status"] == status {
                return job;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} did not become {status}: {job:#}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every job on every page of `GET /list`.
    pub async fn job_count(&self) -> usize {
        let (code, page) = self.get("/list?limit=200").await;
        assert_eq!(code, 200, "{page}");
        page["jobs"].as_array().expect("jobs").len()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.server.abort();
        if let Some(worker) = &self.worker {
            worker.abort();
        }
    }
}

async fn into_parts(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}
