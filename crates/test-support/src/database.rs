//! Throwaway databases: a fresh PostgreSQL database per test on the local server, or a
//! SQLite file in a temporary directory.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The server tests use; `TEST_POSTGRES_URL` overrides it (it must name an existing database
/// the user may run CREATE DATABASE from).
pub fn admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new, empty PostgreSQL database, dropped when the value is dropped (best effort).
pub struct TestPostgres {
    pub url: String,
    name: String,
}

impl TestPostgres {
    pub async fn create() -> Self {
        let admin = admin_url();
        let name = format!("deployflow_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL must be running for this test ({admin}): {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let base = admin
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(&admin);
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let admin = admin_url();
        let name = self.name.clone();
        // Drop runs outside any runtime guarantee: use a private thread and runtime.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

/// A SQLite database file in its own temporary directory, removed on drop.
pub struct TestSqlite {
    pub url: String,
    _dir: tempfile::TempDir,
}

impl TestSqlite {
    pub fn create() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/test.db", dir.path().display());
        Self { url, _dir: dir }
    }
}
