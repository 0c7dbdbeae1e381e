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

/// Every row of every table of the database at `url` (PostgreSQL: every schema
/// but the system ones; SQLite: every table), as `(table, text)`: what a scan
/// for leaked secrets reads.
pub async fn every_stored_row(url: &str) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert!(tables.len() >= 7, "{tables:?}");
        for table in tables {
            let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT t::text FROM {table} t"
            )))
            .fetch_all(&pool)
            .await
            .unwrap();
            rows.extend(texts.into_iter().map(|text| (table.clone(), text)));
        }
    } else {
        use sqlx::Row;
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&pool)
                .await
                .unwrap();
        for table in tables {
            let found = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM \"{table}\"")))
                .fetch_all(&pool)
                .await
                .unwrap();
            for row in found {
                // Every column as its raw bytes, text and blobs alike.
                let text: Vec<String> = (0..row.len())
                    .map(|i| {
                        let bytes: Option<Vec<u8>> = row.try_get_unchecked(i).unwrap_or_default();
                        String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned()
                    })
                    .collect();
                rows.push((table.clone(), text.join(" ")));
            }
        }
    }
    assert!(!rows.is_empty());
    rows
}
