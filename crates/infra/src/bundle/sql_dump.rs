//! The schema an app without migrations ships as a SQL file (`db/db.sql`,
//! `schema.sql`, `init.sql`): loaded into the database compose runs beside
//! it on its first start, through the image's `/docker-entrypoint-initdb.d`,
//! so the app finds its tables.

use super::app_files::AppFiles;
use crate::choose::StoreKind;

/// Folders a schema file is looked for in, below the app's directory.
const FOLDERS: &[&str] = &[
    "", "db", "database", "sql", "schema", "init", "docker", "data", "scripts", "mysql", "postgres",
];

/// Name stems that say a file makes the schema, best first.
const SCHEMA_NAMES: &[&str] = &[
    "schema",
    "init",
    "structure",
    "database",
    "db",
    "dump",
    "create",
    "tables",
    "setup",
];

/// The app-relative path of the SQL file that makes the app's tables in a
/// `kind` database, when there is exactly one best candidate.
pub(super) fn find(files: &AppFiles, kind: StoreKind) -> Option<String> {
    let mut candidates: Vec<(usize, usize, &str)> = files
        .with_suffix(".sql")
        .into_iter()
        .filter(|path| {
            let folder = path.rsplit_once('/').map_or("", |(dir, _)| dir);
            FOLDERS.contains(&folder)
        })
        .filter_map(|path| {
            let stem = path
                .rsplit('/')
                .next()
                .and_then(|name| name.strip_suffix(".sql"))?
                .to_ascii_lowercase();
            let rank = SCHEMA_NAMES.iter().position(|name| {
                stem == *name
                    || stem.starts_with(&format!("{name}_"))
                    || stem.starts_with(&format!("{name}-"))
            })?;
            let text = files.text(path)?;
            fits(text, kind).then_some((rank, path.matches('/').count(), path))
        })
        .collect();
    candidates.sort();
    let best = candidates.first()?;
    // Two files of the same rank and depth: which one the app wants is a guess.
    let tied = candidates
        .iter()
        .filter(|c| (c.0, c.1) == (best.0, best.1))
        .count();
    (tied == 1).then(|| best.2.to_owned())
}

/// Whether `text` makes tables in the database it runs in, in `kind`'s
/// dialect: not in another database it creates or switches to, and not
/// written for the other engine.
fn fits(text: &str, kind: StoreKind) -> bool {
    let upper = text.to_ascii_uppercase();
    if !upper.contains("CREATE TABLE") {
        return false;
    }
    let elsewhere = upper.contains("CREATE DATABASE")
        || upper.lines().any(|line| {
            let line = line.trim_start();
            line.starts_with("USE ") || line.starts_with("\\C ") || line.starts_with("\\CONNECT")
        });
    let mysql = upper.contains("ENGINE=") || upper.contains("AUTO_INCREMENT") || text.contains('`');
    let postgres = upper.contains("SERIAL")
        || upper.contains("CREATE EXTENSION")
        || upper.contains("::")
        || upper.contains("BYTEA");
    !elsewhere
        && match kind {
            StoreKind::Postgres => !mysql,
            StoreKind::Mysql => !postgres,
            StoreKind::Redis => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::Snapshot;

    fn found(files: &[(&str, &str)], kind: StoreKind) -> Option<String> {
        let repo = Snapshot::from_texts(files.iter().copied());
        find(&AppFiles::new(&repo, ""), kind)
    }

    const TABLE: &str = "CREATE TABLE users (id integer PRIMARY KEY, name text);\n";

    #[test]
    fn the_schema_file_of_the_apps_dialect_is_found() {
        assert_eq!(
            found(
                &[("db/db.sql", TABLE), ("index.js", "")],
                StoreKind::Postgres
            )
            .as_deref(),
            Some("db/db.sql")
        );
        // A schema beats a dump; seeds and tests are not schemas.
        assert_eq!(
            found(
                &[
                    ("schema.sql", TABLE),
                    ("db/dump.sql", TABLE),
                    ("seed.sql", TABLE),
                    ("tests/init.sql", TABLE)
                ],
                StoreKind::Postgres
            )
            .as_deref(),
            Some("schema.sql")
        );
        let mysql = "CREATE TABLE `users` (`id` int NOT NULL AUTO_INCREMENT) ENGINE=InnoDB;\n";
        assert_eq!(found(&[("init.sql", mysql)], StoreKind::Postgres), None);
        assert_eq!(
            found(&[("init.sql", mysql)], StoreKind::Mysql).as_deref(),
            Some("init.sql")
        );
        let serial = "CREATE TABLE users (id SERIAL PRIMARY KEY);\n";
        assert_eq!(found(&[("init.sql", serial)], StoreKind::Mysql), None);
    }

    #[test]
    fn a_file_that_makes_its_tables_elsewhere_or_none_is_not_loaded() {
        let other = format!("CREATE DATABASE shop;\nUSE shop;\n{TABLE}");
        assert_eq!(found(&[("init.sql", &other)], StoreKind::Mysql), None);
        assert_eq!(
            found(
                &[("init.sql", "INSERT INTO users VALUES (1);\n")],
                StoreKind::Postgres
            ),
            None
        );
        // Two equally good files: which one is meant is a guess.
        assert_eq!(
            found(
                &[("db/init.sql", TABLE), ("sql/init.sql", TABLE)],
                StoreKind::Postgres
            ),
            None
        );
    }
}
