//! A bind mount of a file the repository does not hold
//! (`./vendor/laravel/sail/database/pgsql/create-testing-database.sql`,
//! installed by Composer on a developer's machine; a `config.json` each
//! developer writes): Docker creates an empty directory in its place, and
//! whatever reads the file there fails (PostgreSQL's first start runs
//! every script of `docker-entrypoint-initdb.d`, and stops at a directory).
//! Such a mount is dropped. Folders are left: an empty one is what a data
//! directory starts as.

use super::bind_mounts::{bind_mount, repository_dir};
use super::{AdjustmentKind, existing_compose::Note};
use analysis::Snapshot;
use serde_yaml_ng::{Mapping, Value};

/// Drops the service's bind mounts of absent repository files.
pub(super) fn drop_missing_files(
    service: &mut Mapping,
    name: &str,
    compose_dir: &str,
    repo: &Snapshot,
    note: &mut Note,
) {
    let Some(Value::Sequence(volumes)) = service.get_mut("volumes") else {
        return;
    };
    let mut dropped = Vec::new();
    volumes.retain(|volume| {
        let Some(path) = absent_file(volume, compose_dir, repo) else {
            return true;
        };
        dropped.push(path);
        false
    });
    if volumes.is_empty() {
        service.shift_remove("volumes");
    }
    if !dropped.is_empty() {
        note(
            AdjustmentKind::Rewritten,
            format!(
                "Service `{name}` no longer mounts {}, which the repository does not hold: Docker would mount an empty directory in the file's place.",
                dropped.join(", ")
            ),
        );
    }
}

/// The repository path a volume mounts, when it names a file (it has an
/// extension) that neither the repository nor `make up` provides.
fn absent_file(volume: &Value, compose_dir: &str, repo: &Snapshot) -> Option<String> {
    let (source, _) = bind_mount(volume)?;
    let path = repository_dir(compose_dir, &source)?;
    let file_name = path.rsplit('/').next().unwrap_or(&path);
    // `.env` is written by `make up`.
    let names_a_file = file_name.contains('.') && !file_name.starts_with(".env");
    let held = repo.get(&path).is_some()
        || repo
            .files
            .iter()
            .any(|f| f.path.starts_with(&format!("{path}/")));
    (names_a_file && !held).then_some(source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::yaml::scalar_text;

    fn kept(volumes: &str, files: &[(&str, &str)]) -> Vec<String> {
        let mut service: Mapping =
            serde_yaml_ng::from_str(&format!("volumes: {volumes}")).expect("yaml");
        let repo = Snapshot::from_texts(files.iter().copied());
        drop_missing_files(&mut service, "pgsql", "", &repo, &mut |_, _| {});
        service
            .get("volumes")
            .and_then(Value::as_sequence)
            .map(|v| v.iter().map(scalar_text).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_mount_of_an_absent_file_goes_and_the_rest_stay() {
        assert_eq!(
            kept(
                "[\"./vendor/laravel/sail/database/pgsql/create-testing-database.sql:/docker-entrypoint-initdb.d/10.sql\", \"sail-pgsql:/var/lib/postgresql/data\", \"./db/init.sql:/docker-entrypoint-initdb.d/20.sql\", \"./data:/data\", \"./.env:/app/.env\", \"/etc/hosts.allow:/etc/hosts.allow\"]",
                &[("db/init.sql", "")]
            ),
            [
                "sail-pgsql:/var/lib/postgresql/data",
                "./db/init.sql:/docker-entrypoint-initdb.d/20.sql",
                "./data:/data",
                "./.env:/app/.env",
                "/etc/hosts.allow:/etc/hosts.allow"
            ]
        );
        assert!(kept("[\"./config.json:/app/config.json\"]", &[]).is_empty());
    }
}
