//! The official PostgreSQL image keeps its data under `/var/lib/postgresql`
//! from version 18 (a folder per major version), and refuses to start when
//! something is mounted at the old `/var/lib/postgresql/data`, where every
//! compose file written before it mounts its volume. A repository's
//! `image: postgres` (no tag, `latest`, `alpine`) now pulls 18 or newer, so
//! its database never starts, and the app waiting for it never does either.
//! Such an unpinned image is pinned to 17, the newest that keeps that
//! layout; an image pinned to 18 or newer gets its volume moved to
//! `/var/lib/postgresql`.

use serde_yaml_ng::{Mapping, Value};

use super::AdjustmentKind;
use super::existing_compose::Note;
use super::yaml::{s, scalar_text};

const OLD_DATA_DIR: &str = "/var/lib/postgresql/data";
/// The newest major whose image keeps its data at [`OLD_DATA_DIR`].
const LAST_OLD_LAYOUT: u32 = 17;

/// Pins or remounts the official PostgreSQL image of service `name` when
/// its volume is at the old data folder and no `PGDATA` says otherwise.
pub(super) fn keep_data_layout(service: &mut Mapping, name: &str, note: &mut Note) {
    let Some(image) = service.get("image").map(scalar_text) else {
        return;
    };
    let Some(tag) = official_postgres_tag(&image) else {
        return;
    };
    if service_sets_pgdata(service) || !mounts_old_data_dir(service) {
        return;
    }
    match major(tag) {
        Some(version) if version <= LAST_OLD_LAYOUT => {}
        Some(_) => {
            move_mount(service);
            note(
                AdjustmentKind::Rewritten,
                format!(
                    "Service `{name}` runs {image}, which keeps its data under /var/lib/postgresql and refuses a volume at {OLD_DATA_DIR}: the volume is mounted at /var/lib/postgresql instead."
                ),
            );
        }
        None => {
            // A tag without a version names a variant: `alpine`, `bookworm`.
            let variant = match tag {
                "" | "latest" => String::new(),
                variant => format!("-{variant}"),
            };
            let repository = image.split(':').next().unwrap_or(&image);
            let pinned = format!("{repository}:{LAST_OLD_LAYOUT}{variant}");
            service.insert(s("image"), s(pinned.clone()));
            note(
                AdjustmentKind::Rewritten,
                format!(
                    "Service `{name}` ran `{image}` unpinned, which now pulls PostgreSQL 18 or newer: those keep their data under /var/lib/postgresql and refuse the volume the file mounts at {OLD_DATA_DIR}, so the database would never start. It runs {pinned}, the newest with the file's layout."
                ),
            );
        }
    }
}

/// The tag of the official image (`postgres`, `library/postgres`,
/// `docker.io/library/postgres`): `""` when it has none.
fn official_postgres_tag(image: &str) -> Option<&str> {
    let image = image.split('@').next().unwrap_or(image);
    let (repository, tag) = image.split_once(':').unwrap_or((image, ""));
    let official = matches!(
        repository,
        "postgres" | "library/postgres" | "docker.io/postgres" | "docker.io/library/postgres"
    );
    official.then_some(tag)
}

/// The major version a tag names (`18`, `18.1-alpine`, `16-bookworm`);
/// `None` for one that follows the newest (`""`, `latest`, `alpine`,
/// `bookworm`).
fn major(tag: &str) -> Option<u32> {
    tag.split(['.', '-']).next()?.parse().ok()
}

fn service_sets_pgdata(service: &Mapping) -> bool {
    match service.get("environment") {
        Some(Value::Mapping(env)) => env.contains_key("PGDATA"),
        Some(Value::Sequence(items)) => items
            .iter()
            .any(|item| scalar_text(item).split('=').next() == Some("PGDATA")),
        _ => false,
    }
}

fn volume_target(volume: &Value) -> Option<String> {
    match volume {
        Value::String(short) => short.split(':').nth(1).map(str::to_owned),
        Value::Mapping(long) => long.get("target").map(scalar_text),
        _ => None,
    }
}

fn is_old_data_dir(target: Option<&str>) -> bool {
    target.map(|t| t.trim_end_matches('/')) == Some(OLD_DATA_DIR)
}

fn mounts_old_data_dir(service: &Mapping) -> bool {
    service
        .get("volumes")
        .and_then(Value::as_sequence)
        .is_some_and(|volumes| {
            volumes
                .iter()
                .any(|v| is_old_data_dir(volume_target(v).as_deref()))
        })
}

fn move_mount(service: &mut Mapping) {
    let Some(Value::Sequence(volumes)) = service.get_mut("volumes") else {
        return;
    };
    for volume in volumes.iter_mut() {
        if !is_old_data_dir(volume_target(volume).as_deref()) {
            continue;
        }
        match volume {
            Value::String(short) => {
                let mut parts: Vec<String> = short.split(':').map(str::to_owned).collect();
                parts[1] = "/var/lib/postgresql".to_owned();
                *short = parts.join(":");
            }
            Value::Mapping(long) => {
                long.insert(s("target"), s("/var/lib/postgresql"));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(yaml: &str) -> (Mapping, Vec<String>) {
        let mut service: Mapping = serde_yaml_ng::from_str(yaml).expect("yaml");
        let mut notes = Vec::new();
        keep_data_layout(&mut service, "db", &mut |_, n| notes.push(n));
        (service, notes)
    }

    fn image(service: &Mapping) -> String {
        service.get("image").map(scalar_text).unwrap_or_default()
    }

    #[test]
    fn an_unpinned_postgres_with_the_old_mount_is_pinned_to_17() {
        for (from, to) in [
            ("postgres", "postgres:17"),
            ("postgres:latest", "postgres:17"),
            ("postgres:alpine", "postgres:17-alpine"),
            ("library/postgres:bookworm", "library/postgres:17-bookworm"),
        ] {
            let (service, notes) = kept(&format!(
                "image: {from}\nvolumes: ['pgdata:/var/lib/postgresql/data']\n"
            ));
            assert_eq!(image(&service), to);
            assert!(notes[0].contains("18 or newer"), "{notes:?}");
        }
    }

    #[test]
    fn a_postgres_pinned_to_18_gets_its_volume_at_the_new_folder() {
        let (service, notes) = kept(
            "image: postgres:18.1-alpine\nvolumes: ['pgdata:/var/lib/postgresql/data/', {type: volume, source: x, target: /var/lib/postgresql/data}]\n",
        );
        assert_eq!(image(&service), "postgres:18.1-alpine");
        let volumes = service["volumes"].as_sequence().unwrap();
        assert_eq!(scalar_text(&volumes[0]), "pgdata:/var/lib/postgresql");
        assert_eq!(scalar_text(&volumes[1]["target"]), "/var/lib/postgresql");
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn older_pins_other_images_pgdata_and_other_mounts_are_left_alone() {
        for yaml in [
            "image: postgres:16-alpine\nvolumes: ['pgdata:/var/lib/postgresql/data']\n",
            "image: postgis/postgis\nvolumes: ['pgdata:/var/lib/postgresql/data']\n",
            "image: postgres\nenvironment: [PGDATA=/var/lib/postgresql/data/pgdata]\nvolumes: ['pgdata:/var/lib/postgresql/data']\n",
            "image: postgres\nvolumes: ['./init.sql:/docker-entrypoint-initdb.d/init.sql']\n",
            "image: postgres\n",
        ] {
            let (service, notes) = kept(yaml);
            let original: Mapping = serde_yaml_ng::from_str(yaml).unwrap();
            assert_eq!(service, original, "{yaml}");
            assert!(notes.is_empty());
        }
    }
}
