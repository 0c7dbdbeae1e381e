//! Every migration can be undone: on each dialect the whole chain is applied,
//! reverted down to nothing, and applied again, and the schema in the end is
//! the one the first run made. The files are the ones the stores embed.

use std::path::Path;

use sqlx::migrate::Migrator;
use sqlx::{PgPool, SqlitePool};
use test_support::database::{TestPostgres, TestSqlite};

async fn migrator(dialect: &str) -> Migrator {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(dialect);
    let migrator = Migrator::new(dir).await.expect("the migrations read");
    assert!(
        migrator
            .iter()
            .filter(|m| m.migration_type.is_down_migration())
            .count()
            >= 6,
        "every migration has a down file"
    );
    migrator
}

/// Tables and their columns, in order, from PostgreSQL's catalogue.
async fn postgres_schema(pool: &PgPool) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT table_schema || '.' || table_name, column_name, data_type
         FROM information_schema.columns
         WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
           AND table_name <> '_sqlx_migrations'
         ORDER BY 1, ordinal_position",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Tables, indexes and triggers with their SQL, from SQLite's catalogue.
async fn sqlite_schema(pool: &SqlitePool) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT type, name, COALESCE(sql, '') FROM sqlite_master
         WHERE name NOT LIKE '_sqlx_migrations%' AND name NOT LIKE 'sqlite_%'
         ORDER BY type, name",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn postgres_migrations_go_down_to_nothing_and_up_again() {
    let db = TestPostgres::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    let migrator = migrator("postgres").await;
    migrator.run(&pool).await.unwrap();
    let first = postgres_schema(&pool).await;
    assert!(
        first.iter().any(|(table, _, _)| table == "engine.jobs"),
        "{first:?}"
    );
    migrator.undo(&pool, 0).await.unwrap();
    assert_eq!(postgres_schema(&pool).await, Vec::new(), "nothing is left");
    migrator.run(&pool).await.unwrap();
    assert_eq!(postgres_schema(&pool).await, first);
}

#[tokio::test]
async fn sqlite_migrations_go_down_to_nothing_and_up_again() {
    let db = TestSqlite::create();
    let pool = SqlitePool::connect(&format!("{}?mode=rwc", db.url))
        .await
        .unwrap();
    let migrator = migrator("sqlite").await;
    migrator.run(&pool).await.unwrap();
    let first = sqlite_schema(&pool).await;
    assert!(
        first
            .iter()
            .any(|(kind, name, _)| kind == "table" && name == "jobs"),
        "{first:?}"
    );
    migrator.undo(&pool, 0).await.unwrap();
    assert_eq!(sqlite_schema(&pool).await, Vec::new(), "nothing is left");
    migrator.run(&pool).await.unwrap();
    assert_eq!(sqlite_schema(&pool).await, first);
}
