//! The pg backend as Terraform implements it: one row per workspace in
//! `<schema>.states`, the state JSON in `data`, and a session-level advisory
//! lock on the row's id, held on a dedicated connection so it ends with the
//! process however it ends.

use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection};

use crate::backend::Backend;
use crate::diag::{Diag, Res};
use crate::state::State;

const DEFAULT_SCHEMA: &str = "terraform_remote_state";
/// Serialises concurrent table creation, which PostgreSQL does not do by itself.
const DDL_LOCK_KEY: i64 = 0x7466_6461_6b65;

pub struct PgStore {
    conn: PgConnection,
    lock_conn: Option<PgConnection>,
    url: String,
    schema: String,
    workspace: String,
}

impl PgStore {
    /// Connects (`conn_str` from the backend config, else `PG_CONN_STR`) and
    /// creates the schema and table if missing, as Terraform does on every run.
    pub async fn connect(backend: &Backend, workspace: &str) -> Res<Self> {
        let url = backend
            .config
            .get("conn_str")
            .cloned()
            .or_else(|| std::env::var("PG_CONN_STR").ok())
            .ok_or_else(|| {
                Diag::new("Failed to configure the pg backend")
                    .detail("No conn_str: set PG_CONN_STR or -backend-config=conn_str=...")
            })?;
        let schema = backend
            .config
            .get("schema_name")
            .cloned()
            .unwrap_or_else(|| DEFAULT_SCHEMA.into());
        let mut conn = PgConnection::connect(&url)
            .await
            .map_err(|e| Diag::new("Failed to configure the pg backend").detail(e.to_string()))?;
        create_table(&mut conn, &schema).await?;
        Ok(Self {
            conn,
            lock_conn: None,
            url,
            schema,
            workspace: workspace.to_owned(),
        })
    }

    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn table(&self) -> String {
        format!("{}.states", quote_ident(&self.schema))
    }

    pub async fn try_lock(&mut self) -> Res<bool> {
        if self.lock_conn.is_none() {
            self.lock_conn = Some(PgConnection::connect(&self.url).await?);
        }
        let table = self.table();
        let conn = self.lock_conn.as_mut().expect("lock connection");
        // The row is the lock's key, so it must exist before the first write.
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} (name) VALUES ($1) ON CONFLICT (name) DO NOTHING"
        )))
        .bind(&self.workspace)
        .execute(&mut *conn)
        .await?;
        let id: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT id FROM {table} WHERE name = $1"
        )))
        .bind(&self.workspace)
        .fetch_one(&mut *conn)
        .await?;
        let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        Ok(taken)
    }

    pub async fn read(&mut self) -> Res<Option<State>> {
        let data: Option<Option<String>> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT data FROM {} WHERE name = $1",
            self.table()
        )))
        .bind(&self.workspace)
        .fetch_optional(&mut self.conn)
        .await?;
        match data.flatten() {
            Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                Diag::new("Failed to load state").detail(format!("{}: {e}", self.workspace))
            }),
            None => Ok(None),
        }
    }

    pub async fn write(&mut self, state: &State) -> Res<()> {
        let text = serde_json::to_string(state).expect("state serialises");
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {} (name, data) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data",
            self.table()
        )))
        .bind(&self.workspace)
        .bind(text)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    pub async fn workspaces(&mut self) -> Res<Vec<String>> {
        let mut names: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT name FROM {} WHERE data IS NOT NULL",
            self.table()
        )))
        .fetch_all(&mut self.conn)
        .await?;
        names.push("default".into());
        names.sort();
        names.dedup();
        Ok(names)
    }
}

async fn create_table(conn: &mut PgConnection, schema: &str) -> Res<()> {
    let schema = quote_ident(schema);
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(DDL_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}"
    )))
    .execute(&mut *tx)
    .await?;
    sqlx::query(AssertSqlSafe(format!(
        "CREATE TABLE IF NOT EXISTS {schema}.states \
         (id bigserial PRIMARY KEY, name text UNIQUE NOT NULL, data text)"
    )))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
