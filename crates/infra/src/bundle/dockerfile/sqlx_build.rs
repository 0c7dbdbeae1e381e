//! sqlx's query macros (`query!`, `query_as!`…) check every query against a
//! live database while the crate compiles. A repository without the offline
//! data `cargo sqlx prepare` writes (`.sqlx/`, or `sqlx-data.json` before
//! sqlx 0.7) builds only with `DATABASE_URL` pointing at a database that has
//! the app's schema. The build stage gets one of its own: Debian's server,
//! started for that one step, with the app's migrations applied.

use std::sync::LazyLock;

use regex::Regex;

use crate::bundle::app_files::{AppFiles, join};

/// The database a build step compiles the queries against.
pub(super) struct BuildDatabase {
    /// Run before the build (installs the server).
    pub install: String,
    /// Wraps the build command: starts the server, applies the migrations,
    /// builds with `DATABASE_URL` set, stops it.
    prefix: String,
    suffix: String,
    pub note: String,
}

impl BuildDatabase {
    pub fn around(&self, build: &str) -> String {
        format!("{}{build}{}", self.prefix, self.suffix)
    }
}

static QUERY_MACRO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bquery(?:_as|_scalar)?(?:_file(?:_as|_scalar)?)?(?:_unchecked)?!\s*\(")
        .expect("valid pattern")
});

static MIGRATE_MACRO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\bmigrate!\s*\(\s*"([^"]+)"\s*\)"#).expect("valid pattern"));

/// The build's own database when the app's queries need one, for a build
/// whose sources sit at `src_dir` (relative to the build's working
/// directory, `""` when they are it).
pub(super) fn plan(files: &AppFiles, src_dir: &str) -> Option<BuildDatabase> {
    let manifest = files.text("Cargo.toml")?;
    let sqlx_line = manifest
        .lines()
        .find(|line| line.trim_start().starts_with("sqlx"))?;
    let offline = [".sqlx", "sqlx-data.json"]
        .iter()
        .any(|p| files.exists(p) || files.dir_exists(p))
        || files
            .repo()
            .files
            .iter()
            .any(|f| f.path.starts_with(".sqlx/"));
    if offline {
        return None;
    }
    let sources: Vec<&str> = files
        .with_suffix(".rs")
        .into_iter()
        .filter_map(|path| files.text(path))
        .collect();
    if !sources.iter().any(|text| QUERY_MACRO.is_match(text)) {
        return None;
    }
    let migrations = sources
        .iter()
        .find_map(|text| MIGRATE_MACRO.captures(text))
        .map(|c| {
            c[1].trim_start_matches("./")
                .trim_end_matches('/')
                .to_owned()
        })
        .unwrap_or_else(|| "migrations".to_owned());
    let has_migrations = files.dir_exists(&migrations);
    let dir = join(src_dir, &migrations);
    let features = format!("{sqlx_line}\n{manifest}");
    let mysql = features.contains("\"mysql\"") && !features.contains("\"postgres\"");
    let (install, start, apply, url, stop, server) = if mysql {
        (
            "mariadb-server mariadb-client",
            "service mariadb start && mariadb -e \"CREATE DATABASE build; CREATE USER 'build'@'127.0.0.1' IDENTIFIED BY 'build'; GRANT ALL ON build.* TO 'build'@'127.0.0.1';\"",
            "mariadb -h 127.0.0.1 -u build -pbuild build < \"$f\"",
            "mysql://build:build@127.0.0.1:3306/build",
            "service mariadb stop",
            "MariaDB",
        )
    } else {
        (
            "postgresql",
            "pg_ctlcluster \"$(ls /etc/postgresql)\" main start && su postgres -c \"psql -q -c \\\"ALTER USER postgres PASSWORD 'build'\\\"\"",
            "PGPASSWORD=build psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d postgres -f \"$f\"",
            "postgres://postgres:build@127.0.0.1:5432/postgres",
            "pg_ctlcluster \"$(ls /etc/postgresql)\" main stop",
            "PostgreSQL",
        )
    };
    // sqlx runs a migration folder's files in version order; a reversible
    // migration's `.down.sql` undoes its `.up.sql`.
    let apply_all = if has_migrations {
        format!(
            "for f in $(ls {dir}/*.sql | grep -v '\\.down\\.sql$' | sort); do {apply} || exit 1; done && "
        )
    } else {
        String::new()
    };
    let note = if has_migrations {
        format!(
            "The app's sqlx query macros check their queries against a database as it compiles, and the repository has no offline data (`cargo sqlx prepare` writes .sqlx/): the build step starts a {server} of its own, applies {migrations}/ to it and compiles against it. Committing .sqlx/ makes the build faster."
        )
    } else {
        format!(
            "The app's sqlx query macros check their queries against a database as it compiles, and the repository has neither offline data (.sqlx/) nor a {migrations}/ folder to make the schema from: the build step compiles against an empty {server} of its own, which fails for a query on a table. Run `cargo sqlx prepare` and commit .sqlx/."
        )
    };
    Some(BuildDatabase {
        install: format!(
            "RUN apt-get update && apt-get install -y --no-install-recommends {install} && rm -rf /var/lib/apt/lists/*"
        ),
        // A committed `.env` may say `SQLX_OFFLINE=true`, which sqlx reads
        // unless the environment sets it.
        prefix: format!("{start} && {apply_all}SQLX_OFFLINE=false DATABASE_URL={url} "),
        suffix: format!(" && {stop}"),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::plan;
    use crate::bundle::app_files::AppFiles;
    use analysis::Snapshot;

    const MANIFEST: &str = "[package]\nname = \"api\"\n\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"runtime-tokio\", \"postgres\"] }\n";
    const QUERY: &str =
        "async fn users(pool: &PgPool) { sqlx::query_as!(User, \"SELECT * FROM users\"); }\n";

    #[test]
    fn checked_queries_without_offline_data_build_against_the_migrated_schema() {
        let repo = Snapshot::from_texts([
            ("Cargo.toml", MANIFEST),
            ("src/main.rs", QUERY),
            (
                "migrations/0001_users.up.sql",
                "CREATE TABLE users (id int);",
            ),
            ("migrations/0001_users.down.sql", "DROP TABLE users;"),
        ]);
        let db = plan(&AppFiles::new(&repo, ""), "").expect("a build database");
        assert!(db.install.contains("postgresql"));
        let build = db.around("cargo build --release");
        assert!(
            build.contains("ls migrations/*.sql | grep -v '\\.down\\.sql$' | sort")
                && build.contains(
                    "DATABASE_URL=postgres://postgres:build@127.0.0.1:5432/postgres cargo build --release && pg_ctlcluster"
                ),
            "{build}"
        );
        assert!(db.note.contains("applies migrations/"), "{}", db.note);
    }

    #[test]
    fn offline_data_unchecked_queries_or_a_named_folder_are_read() {
        let with = |extra: (&'static str, &'static str)| {
            Snapshot::from_texts([("Cargo.toml", MANIFEST), ("src/main.rs", QUERY), extra])
        };
        let offline = with((".sqlx/query-abc.json", "{}"));
        assert!(plan(&AppFiles::new(&offline, ""), "").is_none());

        let unchecked = Snapshot::from_texts([
            ("Cargo.toml", MANIFEST),
            ("src/main.rs", "sqlx::query(\"SELECT 1\").execute(&pool);\n"),
        ]);
        assert!(plan(&AppFiles::new(&unchecked, ""), "").is_none());

        let named = Snapshot::from_texts([
            ("Cargo.toml", MANIFEST.replace("postgres", "mysql").as_str()),
            (
                "src/main.rs",
                "sqlx::migrate!(\"./db/migrations\").run(&pool);\nsqlx::query!(\"SELECT 1\");\n",
            ),
            (
                "db/migrations/20240101_init.sql",
                "CREATE TABLE t (id int);",
            ),
        ]);
        let db = plan(&AppFiles::new(&named, ""), "api").expect("a build database");
        assert!(db.install.contains("mariadb-server"));
        let build = db.around("cargo build");
        assert!(build.contains("ls api/db/migrations/*.sql"), "{build}");
        assert!(
            build.contains("DATABASE_URL=mysql://build:build@127.0.0.1:3306/build cargo build")
        );
    }
}
