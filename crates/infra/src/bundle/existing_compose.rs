//! Rewriting a repository's own compose file so the app is published on host
//! port 8080: the app's service is found (the one building the app's
//! directory, or publishing its port), adjusted, and every other service is
//! kept as it was.

use super::added_stores;
use super::app_files::{join, normalise_dir, parent};
use super::app_networks;
use super::bind_mounts;
use super::compose::{self, APP_SERVICE, AppServiceSpec, Migration};
use super::compose_ports::{PortEntry, parse_entry};
use super::container_names;
use super::dotenv_addresses;
use super::fastcgi_front;
use super::missing_mounts;
use super::mounted_packages;
use super::other_apps;
use super::own_store_wiring::{
    FileServiceWire, check_readiness, migrate_first, wire_file_services, wire_own_stores,
};
use super::own_stores::{self, OwnStore};
use super::postgres_layout;
use super::windows_mounts;
use super::yaml::{s, scalar_text};
use super::{Adjustment, AdjustmentKind, HOST_PORT};
use crate::choose::{BackingService, NotProvisioned};
use analysis::Snapshot;
use regex::Regex;
use serde_yaml_ng::{Mapping, Value};
use std::collections::BTreeSet;
use std::sync::LazyLock;

pub(super) enum Outcome {
    Rewritten {
        document: Value,
        service: String,
        adjustments: Vec<Adjustment>,
        /// The app's variables wired to the file's own stores.
        wired: Vec<String>,
        /// The provisioned stores the file runs none of, and whose service
        /// name the file already takes.
        unmatched: Vec<BackingService>,
        /// The provisioned stores the file ran none of, added to it.
        added: Vec<BackingService>,
        /// The variables of the file's own stores' passwords that nothing
        /// sets, which `make up` generates.
        generated: Vec<String>,
    },
    /// The app's service cannot be told apart safely; the file is left as it is.
    Unsafe {
        reason: String,
        /// The host port the repository's own setup serves the app on, when known.
        front_port: Option<u16>,
    },
}

/// What the rewrite needs besides the file.
pub(super) struct Target<'a> {
    /// The compose file's path relative to the repository root.
    pub path: &'a str,
    /// The app directory relative to the repository root.
    pub app_dir: &'a str,
    pub spec: &'a AppServiceSpec,
    /// deployflow wrote the Dockerfile, so the service must build with it.
    pub generated_dockerfile: bool,
    pub repo: &'a Snapshot,
    /// The stores the choice provisions: wired to the file's own when it
    /// runs one of their kind.
    pub stores: &'a [BackingService],
    /// The framework's migration, run before the app once it is wired to
    /// the file's own database.
    pub migration: Option<&'a Migration>,
    /// Stores deployflow does not run (MongoDB): wired to the file's own
    /// when it runs one.
    pub not_provisioned: &'a [NotProvisioned],
    /// Where the added stores' images come from (see `images::through`).
    pub base_image_registry: &'a str,
    /// The repository's other apps' folders, when the description names
    /// the app's own: their services are not the deployment.
    pub other_apps: &'a [String],
}

pub(super) fn rewrite(mut document: Value, target: &Target) -> Outcome {
    let compose_dir = parent(target.path).to_owned();
    let Some(services) = document.get_mut("services").and_then(Value::as_mapping_mut) else {
        return Outcome::Unsafe {
            reason: "it has no `services` mapping".to_owned(),
            front_port: None,
        };
    };
    complete_depends_on(services);
    store_environments_as_mappings(services);
    store_env_files_into_environments(services, &compose_dir, target.repo);
    let found = match find_app_service(services, &compose_dir, target) {
        Ok(found) => found,
        Err(reason) => {
            return Outcome::Unsafe {
                front_port: front_port(services, target.spec.port),
                reason,
            };
        }
    };
    let mut adjustments = Vec::new();
    let note = |kind, reason: String| Adjustment {
        kind,
        path: target.path.to_owned(),
        reason,
    };
    let name = match found {
        Some(name) => name,
        None => {
            let name = free_name(services);
            services.insert(s(name.clone()), Value::Mapping(Mapping::new()));
            adjustments.push(note(
                AdjustmentKind::Rewritten,
                format!("No service builds the app's directory, so a `{name}` service that does was added; the other services are kept."),
            ));
            name
        }
    };
    let dotenv = target.repo.text(&join(&compose_dir, ".env"));
    let generated: Vec<String> = target
        .stores
        .iter()
        .flat_map(|store| {
            let in_repository = |path: &str| target.repo.get(&join(&compose_dir, path)).is_some();
            own_stores::fill_unset_credentials(services, store.kind, dotenv, &in_repository)
        })
        .collect();
    if !generated.is_empty() {
        adjustments.push(note(
            AdjustmentKind::EnvVar,
            format!(
                "The file's own database starts with {}, which nothing sets: its image refuses to start without a password, so `make up` generates {} into .env once.",
                generated.join(", "),
                if generated.len() == 1 { "it" } else { "them" }
            ),
        ));
    }
    let (own, unmatched): (Vec<_>, Vec<_>) = target
        .stores
        .iter()
        .map(|store| (store, own_stores::find(services, store.kind)))
        .partition(|(_, own)| own.is_some());
    let own: Vec<(&BackingService, OwnStore)> = own
        .into_iter()
        .filter_map(|(store, own)| Some((store, own?)))
        .collect();
    let unmatched: Vec<&BackingService> = unmatched.into_iter().map(|(store, _)| store).collect();
    let (added, unmatched) = added_stores::addable(services, &unmatched);
    let file_wires: Vec<FileServiceWire> = target
        .not_provisioned
        .iter()
        .flat_map(|need| {
            need.variables
                .iter()
                .chain(&need.optional_variables)
                .map(move |variable| (need.kind.as_str(), variable))
        })
        .filter_map(|(kind, variable)| {
            let (service, value) = own_stores::file_service_value(services, kind, variable)?;
            Some(FileServiceWire {
                variable: variable.clone(),
                value,
                service,
            })
        })
        .collect();
    drop_unbuildable(services, &name, &compose_dir, target, &mut |k, r| {
        adjustments.push(note(k, r))
    });
    fastcgi_front::drop_fastcgi_fronts(services, &name, &compose_dir, target.repo, &mut |k, r| {
        adjustments.push(note(k, r))
    });
    other_apps::drop_other_apps(
        services,
        &name,
        &compose_dir,
        target.other_apps,
        &mut |k, r| adjustments.push(note(k, r)),
    );
    // The app run from its mounted source on a stock image: its command
    // was written for that setup, not for the image the deployment builds.
    let from_mounted_source = services
        .get(name.as_str())
        .and_then(Value::as_mapping)
        .is_some_and(|service| !service.contains_key("build"))
        && mounted_source_service(services, &compose_dir, target).as_deref() == Some(name.as_str());
    let service_names: Vec<String> = services.keys().map(scalar_text).collect();
    // Services built as the app is, with a command of their own: its
    // workers (Celery, Sidekiq), which need what the app is given.
    let app_build = services
        .get(name.as_str())
        .and_then(|service| service.get("build"))
        .cloned();
    let workers: Vec<String> = services
        .iter()
        .filter(|(key, service)| {
            scalar_text(key) != name
                && app_build.is_some()
                && service.get("build") == app_build.as_ref()
                && service.get("command").is_some()
        })
        .map(|(key, _)| scalar_text(key))
        .collect();
    let mut wired = Vec::new();
    let mut named_volumes = Vec::new();
    let mut used_host_ports: BTreeSet<u16> = services
        .values()
        .filter_map(|service| service.get("ports")?.as_sequence())
        .flatten()
        .filter_map(|entry| parse_entry(entry)?.host_port())
        .chain([HOST_PORT])
        .collect();
    for (other, service) in services.iter_mut() {
        let other = scalar_text(other);
        let Some(service) = service.as_mapping_mut() else {
            continue;
        };
        named_volumes.extend(windows_mounts::replace(service, &other, &mut |r| {
            adjustments.push(note(AdjustmentKind::Rewritten, r))
        }));
        missing_mounts::drop_missing_files(
            service,
            &other,
            &compose_dir,
            target.repo,
            &mut |k, r| adjustments.push(note(k, r)),
        );
        if other == name {
            if image_starts_the_app(service, &compose_dir, target) {
                drop_dev_server(service, &name, &mut |k, r| adjustments.push(note(k, r)));
            }
            drop_dev_image_command(service, &name, target, &mut |k, r| {
                adjustments.push(note(k, r))
            });
            if from_mounted_source {
                for key in ["command", "entrypoint"] {
                    if let Some(dropped) = service.shift_remove(key) {
                        adjustments.push(note(
                            AdjustmentKind::Rewritten,
                            format!(
                                "Service `{name}` ran the app from its mounted source on a stock image with {key} `{}`; it now builds the repository, and the image starts the app on port {}.",
                                own_stores::command_text(&dropped),
                                target.spec.port
                            ),
                        ));
                    }
                }
            }
            let had_command = service.contains_key("command");
            adjust_app_service(
                service,
                &name,
                target,
                &own,
                &file_wires,
                &service_names,
                &mut |k, r| adjustments.push(note(k, r)),
            );
            wired = wire_own_stores(service, &name, &own, &mut |k, r| {
                adjustments.push(note(k, r))
            });
            wired.extend(wire_file_services(
                service,
                &name,
                &file_wires,
                &mut |k, r| adjustments.push(note(k, r)),
            ));
            wired.extend(added_stores::wire(service, &name, &added, &mut |k, r| {
                adjustments.push(note(k, r))
            }));
            let sql = own.iter().any(|(store, _)| store.kind.is_sql())
                || added.iter().any(|store| store.kind.is_sql());
            // With no SQL store at all, the migration is for the app's own
            // SQLite file, which needs its tables as much.
            let sqlite = !sql && !target.stores.iter().any(|store| store.kind.is_sql());
            if let (true, Some(migration)) = (sql || sqlite, target.migration) {
                migrate_first(service, &name, migration, had_command, &mut |k, r| {
                    adjustments.push(note(k, r))
                });
            }
        } else {
            free_host_port(service, &other, &mut used_host_ports, &mut |k, r| {
                adjustments.push(note(k, r))
            });
            unpublish_store(service, &other, &mut |k, r| adjustments.push(note(k, r)));
            postgres_layout::keep_data_layout(service, &other, &mut |k, r| {
                adjustments.push(note(k, r))
            });
            others_on_loopback(service, &other, &mut |k, r| adjustments.push(note(k, r)));
            if let Some((_, store)) = own.iter().find(|(_, store)| store.service == other) {
                check_readiness(service, &other, store, &mut |k, r| {
                    adjustments.push(note(k, r))
                });
            }
        }
        optional_env_files(service, &other, &compose_dir, target.repo, &mut |k, r| {
            adjustments.push(note(k, r))
        });
        if let Some(dockerfile) =
            service_dockerfile(service, &compose_dir).and_then(|path| target.repo.text(&path))
        {
            mounted_packages::keep_installed_node_modules(
                service,
                &other,
                &compose_dir,
                dockerfile,
                target.repo,
                &mut |k, r| adjustments.push(note(k, r)),
            );
        }
    }
    if let Some(services) = document.get_mut("services").and_then(Value::as_mapping_mut) {
        named_volumes.extend(added_stores::insert(
            services,
            &added,
            target.base_image_registry,
        ));
        let app_build = services
            .get(name.as_str())
            .and_then(|service| service.get("build"))
            .cloned();
        for worker in &workers {
            let Some(service) = services
                .get_mut(worker.as_str())
                .and_then(Value::as_mapping_mut)
            else {
                continue;
            };
            adjust_worker(
                service,
                worker,
                app_build.as_ref(),
                target,
                &own,
                &file_wires,
                &added,
                &service_names,
                &mut |k, r| adjustments.push(note(k, r)),
            );
        }
        app_networks::join_the_others(services, &name, &mut |k, r| adjustments.push(note(k, r)));
        // After the app joined the others' networks: an alias gives it some.
        container_names::drop_fixed_names(services, &mut |k, r| adjustments.push(note(k, r)));
    }
    declare_volumes(&mut document, &named_volumes);
    drop_version_without_conditions(&mut document, &name, &mut |k, r| {
        adjustments.push(note(k, r))
    });
    Outcome::Rewritten {
        document,
        service: name,
        adjustments,
        wired,
        unmatched: unmatched.into_iter().cloned().collect(),
        added: added.into_iter().cloned().collect(),
        generated,
    }
}

/// A store's `environment: [POSTGRES_PASSWORD=$DB_PASSWORD, PGDATA]`
/// written as the mapping it means (`PGDATA:` passes the shell's value
/// on), so the rules on a store's credentials read one form.
fn store_environments_as_mappings(services: &mut Mapping) {
    for service in services.values_mut() {
        if !is_store(service.get("image")) {
            continue;
        }
        let Some(environment) = service.get_mut("environment") else {
            continue;
        };
        let Value::Sequence(items) = environment else {
            continue;
        };
        let mut mapping = Mapping::new();
        for item in items.iter() {
            let text = scalar_text(item);
            match text.split_once('=') {
                Some((key, value)) => mapping.insert(s(key.trim()), s(value)),
                None => mapping.insert(s(text.trim()), Value::Null),
            };
        }
        *environment = Value::Mapping(mapping);
    }
}

/// Whether a service's `image` runs a database, cache or broker.
fn is_store(image: Option<&Value>) -> bool {
    image
        .map(scalar_text)
        .is_some_and(|image| own_stores::is_store_image(&image))
}

/// A store's `env_file` (`database.env` with `POSTGRES_PASSWORD=john`)
/// written into its environment, below what the environment itself sets
/// (as Compose reads them): the credentials the app is wired with are
/// then the ones the store starts with.
fn store_env_files_into_environments(services: &mut Mapping, compose_dir: &str, repo: &Snapshot) {
    for service in services.values_mut() {
        if !is_store(service.get("image")) {
            continue;
        }
        let Some(service) = service.as_mapping_mut() else {
            continue;
        };
        let from_files = env_file_values(service, compose_dir, repo);
        if from_files.is_empty() {
            continue;
        }
        let environment = service
            .entry(s("environment"))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
        if environment.is_null() {
            *environment = Value::Mapping(Mapping::new());
        }
        let Value::Mapping(environment) = environment else {
            continue;
        };
        // The store's own settings only: a shared file also holds the
        // app's (`PEPPER=…`), which the store does not read.
        const STORE_SETTINGS: &[&str] = &[
            "POSTGRES",
            "PG",
            "MYSQL",
            "MARIADB",
            "MONGO",
            "REDIS",
            "ALLOW_EMPTY_PASSWORD",
        ];
        for (key, value) in from_files {
            let setting = STORE_SETTINGS
                .iter()
                .any(|prefix| scalar_text(&key).starts_with(prefix));
            if setting && !environment.contains_key(&key) {
                environment.insert(key, value);
            }
        }
    }
}

/// What a service's `env_file`s the repository holds set, later files over
/// earlier ones, as Compose reads them.
fn env_file_values(service: &Mapping, compose_dir: &str, repo: &Snapshot) -> Mapping {
    let paths: Vec<String> = match service.get("env_file") {
        Some(Value::String(path)) => vec![path.clone()],
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::Mapping(long) => long.get("path").map(scalar_text),
                other => Some(scalar_text(other)),
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut values = Mapping::new();
    for path in paths {
        let Some(text) = repo.text(&join(compose_dir, &path)) else {
            continue;
        };
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            if let Some((key, value)) = dotenv_addresses::assignment(line) {
                values.insert(s(key), s(value));
            }
        }
    }
    values
}

/// `depends_on: {search: {}}`: Compose starts `search` first, its
/// condition defaulting to `service_started`, though the specification's
/// schema asks for the condition. Written out, the file passes the check.
fn complete_depends_on(services: &mut Mapping) {
    for service in services.values_mut() {
        let Some(Value::Mapping(depends_on)) = service.get_mut("depends_on") else {
            continue;
        };
        for dependency in depends_on.values_mut() {
            match dependency {
                Value::Mapping(long) if !long.contains_key("condition") => {
                    long.insert(s("condition"), s("service_started"));
                }
                Value::Null => {
                    let mut long = Mapping::new();
                    long.insert(s("condition"), s("service_started"));
                    *dependency = Value::Mapping(long);
                }
                _ => {}
            }
        }
    }
}

/// Whether the image the app's service runs starts the app by itself: a
/// generated Dockerfile, or the repository's with a `CMD` or `ENTRYPOINT`,
/// or one the service is given the app's command for.
fn image_starts_the_app(service: &Mapping, compose_dir: &str, target: &Target) -> bool {
    if target.generated_dockerfile || target.spec.starts_nothing {
        return true;
    }
    service_dockerfile(service, compose_dir)
        .and_then(|path| target.repo.text(&path))
        .is_some_and(super::kept_dockerfile::has_command)
}

static DEV_SERVER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\bmanage\.py\s+runserver\b|\bflask\s+run\b|\bmanage\.py\s+run\b|--reload\b|\bnodemon\b|\bts-node-dev\b|\bnext\s+dev\b|\bfastapi\s+dev\b|\bnpm\s+run\s+dev\b|\b(?:yarn|pnpm|bun)\s+(?:run\s+)?dev\b|\bgo\s+run\b|\bcargo\s+(?:run|watch)\b|\bdotnet\s+(?:run|watch)\b|spring-boot:run\b|\bbootRun\b|\bCompileDaemon\b|\breflex\b|(?:^|\s)air(?:\s|$)",
    )
    .expect("valid pattern")
});

/// A development compose file starts the app's development server
/// (`manage.py runserver`, `flask run`, `uvicorn --reload`, `nodemon`,
/// `next dev`) or runs it from its sources with the toolchain (`go run`,
/// `cargo run`, `dotnet watch`, a live reloader) over the image's own
/// command: its debug pages, reloader and single process would serve the
/// deployment, and the built image holds no toolchain. The image's command
/// starts it instead.
fn drop_dev_server(service: &mut Mapping, name: &str, note: &mut Note) {
    let Some(command) = service.get("command") else {
        return;
    };
    let text = match command {
        Value::Sequence(words) => words.iter().map(scalar_text).collect::<Vec<_>>().join(" "),
        other => scalar_text(other),
    };
    if DEV_SERVER.is_match(&text) {
        service.shift_remove("command");
        note(
            AdjustmentKind::Rewritten,
            format!(
                "Service `{name}` ran `{text}`, a development server or a run from the sources: the image's own command starts the app instead."
            ),
        );
    }
}

/// The Dockerfile the plan builds the app with, relative to the repository.
fn planned_dockerfile(target: &Target) -> String {
    join(
        &join(parent(target.path), &target.spec.build_context),
        target.spec.dockerfile.as_deref().unwrap_or("Dockerfile"),
    )
}

/// A service that built a development Dockerfile (`Dockerfile.dev`) and is
/// switched to the production one (see [`adjust_app_service`]) loses the
/// command it gave that image (`nodemon server.js`, `/usr/local/wait-for-it.sh
/// … -- npm start`): what the development image installed is not in the
/// production one, whose own command starts the app.
fn drop_dev_image_command(service: &mut Mapping, name: &str, target: &Target, note: &mut Note) {
    if target.generated_dockerfile || !service.contains_key("command") {
        return;
    }
    let planned = planned_dockerfile(target);
    let Some(built) = service_dockerfile(service, parent(target.path)) else {
        return;
    };
    let starts = target
        .repo
        .text(&planned)
        .is_some_and(super::kept_dockerfile::has_command);
    if built != planned && starts {
        let command = service.shift_remove("command").map(|c| match c {
            Value::Sequence(words) => words.iter().map(scalar_text).collect::<Vec<_>>().join(" "),
            other => scalar_text(&other),
        });
        note(
            AdjustmentKind::Rewritten,
            format!(
                "Service `{name}` ran `{}` in the image of {built}; it now builds {planned}, whose own command starts the app.",
                command.unwrap_or_default()
            ),
        );
    }
}

/// Adds `names` to the file's top-level `volumes`, made if need be.
fn declare_volumes(document: &mut Value, names: &[String]) {
    let Some(root) = document.as_mapping_mut() else {
        return;
    };
    if names.is_empty() {
        return;
    }
    if !matches!(root.get("volumes"), Some(Value::Mapping(_))) {
        root.insert(s("volumes"), Value::Mapping(Mapping::new()));
    }
    if let Some(Value::Mapping(volumes)) = root.get_mut("volumes") {
        for name in names {
            if !volumes.contains_key(name.as_str()) {
                volumes.insert(s(name.clone()), Value::Mapping(Mapping::new()));
            }
        }
    }
}

/// A file of version 2.0 or 3.x cannot say "start after it is healthy"
/// (`depends_on: {db: {condition: service_healthy}}`), which the app's
/// service now does: without `version`, Compose reads the file as the
/// Compose Specification, which can.
fn drop_version_without_conditions(document: &mut Value, app: &str, note: &mut Note) {
    let waits_for_health = document
        .get("services")
        .and_then(|services| services.get(app))
        .and_then(|service| service.get("depends_on"))
        .and_then(Value::as_mapping)
        .is_some_and(|depends| {
            depends.values().any(|d| {
                d.get("condition")
                    .is_some_and(|c| scalar_text(c) == "service_healthy")
            })
        });
    let Some(document) = document.as_mapping_mut() else {
        return;
    };
    let version = document.get("version").map(scalar_text).unwrap_or_default();
    let has_conditions = version.starts_with("2.") && version != "2.0" && version != "2";
    if waits_for_health && !version.is_empty() && !has_conditions {
        document.remove("version");
        note(
            AdjustmentKind::Rewritten,
            format!(
                "`version: {version}` was removed: files of that version cannot make a service wait for another to be healthy, the Compose Specification (no version) can."
            ),
        );
    }
}

/// `Ok(Some(name))` for the app's service, `Ok(None)` when the file does not
/// run the app at all (it is added), `Err(why)` when it is ambiguous.
fn find_app_service(
    services: &Mapping,
    compose_dir: &str,
    target: &Target,
) -> Result<Option<String>, String> {
    let port = target.spec.port;
    let builders: Vec<(String, &Mapping)> = services
        .iter()
        .filter_map(|(k, v)| Some((scalar_text(k), v.as_mapping()?)))
        .filter(|(_, v)| v.contains_key("build"))
        .collect();
    let app_dir = normalise_dir(target.app_dir);
    let planned = planned_dockerfile(target);
    // A service building the app's directory, or the very Dockerfile the
    // plan builds (`context: .` with `dockerfile: backend/Dockerfile`).
    let mut candidates: Vec<&(String, &Mapping)> = builders
        .iter()
        .filter(|(_, v)| {
            build_dir(v, compose_dir).as_deref() == Some(app_dir.as_str())
                || service_dockerfile(v, compose_dir).as_deref() == Some(planned.as_str())
        })
        .collect();
    // `maildev` built from `maildev.Dockerfile` in the app's folder is a
    // helper beside the app, whatever port it serves.
    let own_build: Vec<_> = candidates
        .iter()
        .copied()
        .filter(|(_, v)| {
            service_dockerfile(v, compose_dir).is_none_or(|dockerfile| {
                dockerfile == planned
                    || dockerfile
                        .rsplit('/')
                        .next()
                        .is_some_and(|name| name.to_ascii_lowercase().starts_with("dockerfile"))
            })
        })
        .collect();
    if !own_build.is_empty() {
        candidates = own_build;
    }
    if candidates.len() > 1 {
        // Several services build the app (a web process and a worker): the
        // one serving the port is the app; failing that, the one that keeps
        // the image's own command.
        let serving: Vec<_> = candidates
            .iter()
            .copied()
            .filter(|(_, v)| serves(v, port))
            .collect();
        let plain: Vec<_> = candidates
            .iter()
            .copied()
            .filter(|(_, v)| !v.contains_key("command"))
            .collect();
        if serving.len() == 1 {
            candidates = serving;
        } else if plain.len() == 1 {
            candidates = plain;
        } else {
            let names: Vec<&str> = candidates.iter().map(|(n, _)| n.as_str()).collect();
            return Err(format!(
                "services {} all build the app's directory and none of them alone serves port {port}",
                names.join(", ")
            ));
        }
    }
    if let Some((name, _)) = candidates.first() {
        return Ok(Some(name.clone()));
    }
    let by_port: Vec<&(String, &Mapping)> =
        builders.iter().filter(|(_, v)| serves(v, port)).collect();
    match by_port.as_slice() {
        [(name, _)] => Ok(Some(name.clone())),
        [] if builders.len() >= 2 => Err(format!(
            "it has several services with their own build contexts ({}), none building the app's directory or serving port {port}",
            builders
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        [] => Ok(own_image_service(services, target)
            .or_else(|| mounted_source_service(services, compose_dir, target))),
        several => Err(format!(
            "services {} all serve port {port}",
            several
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The one service that runs the app from its mounted source (`image:
/// ruby`, `volumes: [.:/app]`, `command: ruby server.rb`) rather than
/// building it: left beside an added service, the file would run the app
/// twice. It then builds the repository.
fn mounted_source_service(
    services: &Mapping,
    compose_dir: &str,
    target: &Target,
) -> Option<String> {
    let app_dir = normalise_dir(target.app_dir);
    let mounted: Vec<String> = services
        .iter()
        .filter_map(|(name, service)| {
            let service = service.as_mapping()?;
            let image = service.get("image").map(scalar_text)?;
            if own_stores::is_store_image(&image) || own_stores::is_store_admin_image(&image) {
                return None;
            }
            let runs = service.contains_key("command") || service.contains_key("entrypoint");
            let mounts_app = service
                .get("volumes")
                .and_then(Value::as_sequence)
                .is_some_and(|volumes| {
                    volumes
                        .iter()
                        .filter_map(bind_mounts::bind_mount)
                        .any(|(source, _)| {
                            bind_mounts::repository_dir(compose_dir, &source)
                                .is_some_and(|dir| normalise_dir(&dir) == app_dir)
                        })
                });
            (runs && mounts_app).then(|| scalar_text(name))
        })
        .collect();
    match mounted.as_slice() {
        [only] => Some(only.clone()),
        _ => None,
    }
}

/// The service that runs the app's own published image
/// (`image: owner/kener:latest` in kener's compose file) instead of
/// building it: left beside an added service, the file would run the
/// published release next to the repository's code, both on the app's
/// port and data. It is told by its image's name, which is the app's
/// (its package's, or its directory's); it then builds the repository.
fn own_image_service(services: &Mapping, target: &Target) -> Option<String> {
    let names = own_names(target.repo, target.app_dir);
    let own: Vec<String> = services
        .iter()
        .filter_map(|(name, service)| Some((scalar_text(name), service.as_mapping()?)))
        .filter(|(_, service)| !service.contains_key("build"))
        .filter(|(_, service)| {
            // `<Registry>.azurecr.io/<ImageName>`: a slot for the app's
            // own image, on the app's port.
            let placeholder = |image: &str| image.contains(['<', '>']);
            service.get("image").map(scalar_text).is_some_and(|image| {
                names.contains(&image_name(&image))
                    || placeholder(&image) && serves(service, target.spec.port)
            })
        })
        .map(|(name, _)| name)
        .collect();
    match own.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// `ghcr.io/owner/kener:1.2@sha256:…` → `kener`.
fn image_name(image: &str) -> String {
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split(':').next().unwrap_or(last).to_ascii_lowercase()
}

/// The names the app publishes its image under: its package's name
/// (package.json, composer.json, go.mod's module, Cargo.toml,
/// pyproject.toml) and its directory's. Generic directory names say nothing.
fn own_names(repo: &Snapshot, app_dir: &str) -> Vec<String> {
    let dir = normalise_dir(app_dir);
    let file = |name: &str| repo.text(&join(&dir, name));
    let mut names = Vec::new();
    for manifest in ["package.json", "composer.json"] {
        let name = file(manifest)
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .and_then(|json| json.get("name")?.as_str().map(str::to_owned));
        names.extend(name.map(|n| n.rsplit('/').next().unwrap_or(&n).to_owned()));
    }
    // `module github.com/bxcodec/go-clean-arch` (a `/v2` suffix is the
    // major version, not the name).
    let module = file("go.mod").and_then(|text| {
        let path = text
            .lines()
            .find_map(|line| line.trim().strip_prefix("module "))?
            .trim();
        path.rsplit('/')
            .find(|part| !(part.starts_with('v') && part[1..].parse::<u32>().is_ok()))
            .map(str::to_owned)
    });
    names.extend(module);
    for (manifest, table) in [("Cargo.toml", "package"), ("pyproject.toml", "project")] {
        let name = file(manifest)
            .and_then(|text| text.parse::<toml::Table>().ok())
            .and_then(|toml| toml.get(table)?.get("name")?.as_str().map(str::to_owned));
        names.extend(name);
    }
    let generic = [
        "", ".", "app", "apps", "src", "server", "backend", "web", "api",
    ];
    let dir_name = dir.rsplit('/').next().unwrap_or(&dir);
    if !generic.contains(&dir_name) {
        names.push(dir_name.to_owned());
    }
    names
        .into_iter()
        .map(|n| n.to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

/// Another service whose image cannot be built from the repository as it
/// is (its Dockerfile copies files the repository does not hold, or is
/// missing): `docker compose up --build` builds every service, so one such
/// service stops the app from starting at all. It is left out, and so is
/// every mention of it in the other services' `depends_on` and `links`.
fn drop_unbuildable(
    services: &mut Mapping,
    app: &str,
    compose_dir: &str,
    target: &Target,
    note: &mut Note,
) {
    let broken: Vec<(String, String)> = services
        .iter()
        .filter_map(|(name, service)| {
            let name = scalar_text(name);
            let service = service.as_mapping()?;
            if name == app {
                return None;
            }
            // Half of a base-and-override pair (the override gives it its
            // `build`): compose refuses the whole file.
            if !service.contains_key("image") && !service.contains_key("build") {
                return Some((
                    name,
                    "it has neither an image nor a build, which another compose file must have given it".to_owned(),
                ));
            }
            let dockerfile = service_dockerfile(service, compose_dir)?;
            let context = build_dir(service, compose_dir)?;
            let why = match target.repo.text(&dockerfile) {
                Some(text) => super::kept_dockerfile::missing_source(
                    &dockerfile,
                    text,
                    &context,
                    target.repo,
                )?,
                None => format!("{dockerfile} is not in the repository"),
            };
            Some((name, why))
        })
        .collect();
    for (name, why) in broken {
        remove_service(services, &name);
        note(
            AdjustmentKind::Rewritten,
            format!(
                "Service `{name}` was left out: its image cannot be built from the repository as this file is ({why}), and `docker compose up --build` would stop on it before the app starts."
            ),
        );
    }
}

/// Leaves service `name` out, with every mention of it in the other
/// services' `depends_on` and `links`.
pub(super) fn remove_service(services: &mut Mapping, name: &str) {
    services.shift_remove(name);
    for (_, service) in services.iter_mut() {
        let Some(service) = service.as_mapping_mut() else {
            continue;
        };
        for key in ["depends_on", "links"] {
            match service.get_mut(key) {
                Some(Value::Sequence(items)) => items.retain(|i| {
                    let text = scalar_text(i);
                    text != name && !text.starts_with(&format!("{name}:"))
                }),
                Some(Value::Mapping(map)) => {
                    map.remove(name);
                }
                _ => {}
            }
        }
    }
}

/// The repository path of the Dockerfile a service builds with.
fn service_dockerfile(service: &Mapping, compose_dir: &str) -> Option<String> {
    let context = build_dir(service, compose_dir)?;
    let dockerfile = match service.get("build") {
        Some(Value::Mapping(build)) => build.get("dockerfile").map(scalar_text),
        _ => None,
    };
    Some(join(
        &context,
        dockerfile.as_deref().unwrap_or("Dockerfile"),
    ))
}

/// The repository directory a service builds, when it builds a local one.
pub(super) fn build_dir(service: &Mapping, compose_dir: &str) -> Option<String> {
    let context = match service.get("build")? {
        Value::String(context) => context.clone(),
        Value::Mapping(build) => build.get("context").map_or(".".to_owned(), scalar_text),
        _ => return None,
    };
    if context.contains("://") || context.starts_with("git@") {
        return None;
    }
    Some(join(compose_dir, &context))
}

fn port_entries(service: &Mapping, key: &str) -> Vec<PortEntry> {
    service
        .get(key)
        .and_then(Value::as_sequence)
        .map(|items| items.iter().filter_map(parse_entry).collect())
        .unwrap_or_default()
}

/// The service publishes or exposes `port` as its container port.
fn serves(service: &Mapping, port: u16) -> bool {
    port_entries(service, "ports")
        .iter()
        .chain(&port_entries(service, "expose"))
        .any(|p| p.targets(port))
}

/// The host port the file serves the app on: the one host port mapped to
/// the app's port, else the only host port the whole file publishes.
fn front_port(services: &Mapping, port: u16) -> Option<u16> {
    let published: Vec<PortEntry> = services
        .values()
        .filter_map(Value::as_mapping)
        .flat_map(|v| port_entries(v, "ports"))
        .filter(|p| p.host_port().is_some())
        .collect();
    let to_app: Vec<u16> = published
        .iter()
        .filter(|p| p.targets(port))
        .filter_map(PortEntry::host_port)
        .collect();
    match (to_app.as_slice(), published.as_slice()) {
        ([one], _) => Some(*one),
        ([], [only]) => only.host_port(),
        _ => None,
    }
}

fn free_name(services: &Mapping) -> String {
    [APP_SERVICE, "deployflow-app"]
        .iter()
        .find(|n| !services.contains_key(**n))
        .map_or_else(|| "deployflow-app-1".to_owned(), |n| (*n).to_owned())
}

pub(super) type Note<'a> = dyn FnMut(AdjustmentKind, String) + 'a;

/// A worker of the app (a service built as the app is, with a command of
/// its own): built from the app's image, without the sources mounted over
/// it, with the app's variables, reaching the same stores.
#[allow(clippy::too_many_arguments)]
fn adjust_worker(
    service: &mut Mapping,
    name: &str,
    app_build: Option<&Value>,
    target: &Target,
    own: &[(&BackingService, OwnStore)],
    file_wires: &[FileServiceWire],
    added: &[&BackingService],
    service_names: &[String],
    note: &mut Note,
) {
    if let Some(build) = app_build.filter(|build| service.get("build") != Some(*build)) {
        service.insert(s("build"), build.clone());
        note(
            AdjustmentKind::Rewritten,
            format!(
                "Service `{name}`, a worker of the app, now builds the app's image as the app does."
            ),
        );
    }
    drop_source_mounts(service, name, target, note);
    merge_environment(
        service,
        name,
        &app_env(target, own, file_wires),
        target,
        service_names,
        note,
    );
    wire_own_stores(service, name, own, note);
    wire_file_services(service, name, file_wires, note);
    added_stores::wire(service, name, added, note);
}

/// The app's variables a rewritten service gets: those wired to the file's
/// own stores are set by `wire_own_stores`, not asked of the user.
fn app_env(
    target: &Target,
    own: &[(&BackingService, OwnStore)],
    file_wires: &[FileServiceWire],
) -> Vec<super::env::ComposeEnv> {
    target
        .spec
        .env
        .iter()
        .filter(|entry| {
            !own.iter()
                .any(|(store, _)| store.wiring.iter().any(|w| w.name == entry.name))
                && !file_wires.iter().any(|wire| wire.variable == entry.name)
        })
        .cloned()
        .collect()
}

fn adjust_app_service(
    service: &mut Mapping,
    name: &str,
    target: &Target,
    own: &[(&BackingService, OwnStore)],
    file_wires: &[FileServiceWire],
    service_names: &[String],
    note: &mut Note,
) {
    let spec = target.spec;
    let compose_dir = parent(target.path);
    let planned = planned_dockerfile(target);
    let built = service_dockerfile(service, compose_dir);
    if !target.generated_dockerfile
        && let Some(built) = built.filter(|built| *built != planned)
    {
        // `dockerfile: dev.Dockerfile`: a development image, where the
        // repository has the production one the plan builds.
        service.insert(s("build"), compose::build(spec));
        note(
            AdjustmentKind::Rewritten,
            format!("Service `{name}` built {built}; it now builds {planned}, the app's image."),
        );
    }
    if target.generated_dockerfile || !service.contains_key("build") {
        if !service.contains_key("build")
            && let Some(image) = service.shift_remove("image")
        {
            note(
                AdjustmentKind::Rewritten,
                format!(
                    "Service `{name}` ran the published image {}: it now runs the repository's code, built from it.",
                    scalar_text(&image)
                ),
            );
        }
        service.insert(s("build"), compose::build(spec));
        note(
            AdjustmentKind::Rewritten,
            format!(
                "Service `{name}` now builds the app from its Dockerfile ({}).",
                spec.build_context
            ),
        );
    }
    publish_app_port(service, name, spec.port, note);
    for key in ["network_mode", "profiles"] {
        if service.shift_remove(key).is_some() {
            note(
                AdjustmentKind::Rewritten,
                format!(
                    "Removed `{key}` from service `{name}`: with it the app would not be started or published by `make up`."
                ),
            );
        }
    }
    drop_source_mounts(service, name, target, note);
    merge_environment(
        service,
        name,
        &app_env(target, own, file_wires),
        target,
        service_names,
        note,
    );
    // A service with a command of its own starts the app already, unless
    // that command is what listens on loopback.
    let own_command = spec.starts_nothing && service.contains_key("command");
    if let Some(command) = spec.command.as_ref().filter(|_| !own_command) {
        service.insert(s("command"), compose::command_value(command));
        let kind = if spec.starts_nothing {
            AdjustmentKind::Rewritten
        } else {
            AdjustmentKind::BindFix
        };
        let reason = if spec.starts_nothing {
            "its Dockerfile sets no CMD and its base image starts no app"
        } else {
            "which listens on all interfaces instead of loopback"
        };
        note(
            kind,
            format!("Service `{name}` runs `{command}`, {reason}."),
        );
    }
    let restarts = service
        .get("restart")
        .is_some_and(|r| !matches!(scalar_text(r).as_str(), "no" | "false"));
    if !restarts {
        service.insert(s("restart"), s("unless-stopped"));
        note(
            AdjustmentKind::Rewritten,
            format!(
                "Service `{name}` restarts unless stopped, so the app comes back after a crash or reboot."
            ),
        );
    }
    if let (false, Some(test)) = (service.contains_key("healthcheck"), &spec.healthcheck) {
        service.insert(s("healthcheck"), compose::healthcheck(test));
        note(
            AdjustmentKind::Rewritten,
            format!("Service `{name}` got a healthcheck on the app's health path."),
        );
    }
}

/// A development compose file mounts the repository over the app's code
/// (`.:/app`, `./src:/code`): the image's build output (installed
/// packages, compiled files) is hidden under the host's sources, and the
/// app runs what is on the host rather than what was built. Only sources
/// the image already holds are dropped (inside its build context, with a
/// Dockerfile that copies files in); a runtime-only image that gets its
/// code through the mount keeps it, as do named volumes (data).
fn drop_source_mounts(service: &mut Mapping, name: &str, target: &Target, note: &mut Note) {
    let compose_dir = parent(target.path);
    let Some(context) = build_dir(service, compose_dir) else {
        return;
    };
    if !target.generated_dockerfile && !copies_code_in(service, &context, target.repo) {
        return;
    }
    let inside_context = |path: &str| {
        context.is_empty() || path == context || path.starts_with(&format!("{context}/"))
    };
    let Some(Value::Sequence(volumes)) = service.get_mut("volumes") else {
        return;
    };
    let mut dropped = Vec::new();
    let mut dropped_targets: Vec<String> = Vec::new();
    volumes.retain(|volume| {
        let Some((source, target)) = bind_mounts::bind_mount(volume) else {
            return true;
        };
        let repository_path = bind_mounts::repository_dir(compose_dir, &source)
            .is_some_and(|path| inside_context(&path));
        if repository_path {
            dropped.push(scalar_text(volume));
            dropped_targets.extend(target);
        }
        !repository_path
    });
    // `- /app/node_modules` kept the image's packages from the mount: with
    // the mount gone, compose would keep the first build's packages in that
    // volume over every later image's.
    volumes.retain(|volume| {
        let Value::String(anonymous) = volume else {
            return true;
        };
        let under_dropped = !anonymous.contains(':')
            && dropped_targets
                .iter()
                .any(|target| anonymous.starts_with(&format!("{}/", target.trim_end_matches('/'))));
        if under_dropped {
            dropped.push(anonymous.clone());
        }
        !under_dropped
    });
    if volumes.is_empty() {
        service.shift_remove("volumes");
    }
    // `working_dir: /home/app` where the sources were mounted is an empty
    // directory now: the image's own WORKDIR holds the app.
    let under_dropped = |dir: &str| {
        let dir = dir.trim_end_matches('/');
        dropped_targets.iter().any(|target| {
            let target = target.trim_end_matches('/');
            dir == target || dir.starts_with(&format!("{target}/"))
        })
    };
    if let Some(dir) = service.get("working_dir").map(scalar_text)
        && under_dropped(&dir)
    {
        service.shift_remove("working_dir");
        note(
            AdjustmentKind::Rewritten,
            format!(
                "Service `{name}` no longer starts in {dir}, where its sources were mounted: it starts where its image puts the app."
            ),
        );
    }
    if !dropped.is_empty() {
        note(
            AdjustmentKind::Rewritten,
            format!(
                "Service `{name}` no longer mounts {} from the repository: the mount hid the image's built code and packages under the host's sources.",
                dropped.join(", ")
            ),
        );
    }
}

/// Whether the service's Dockerfile copies code from its context into the
/// image (`COPY . .`), not only its manifests or another stage's files.
fn copies_code_in(service: &Mapping, context: &str, repo: &Snapshot) -> bool {
    let dockerfile = match service.get("build") {
        Some(Value::Mapping(build)) => build.get("dockerfile").map(scalar_text),
        _ => None,
    }
    .unwrap_or_else(|| "Dockerfile".to_owned());
    repo.get(&join(context, &dockerfile))
        .and_then(|file| file.content.as_deref())
        .is_some_and(|text| text.lines().any(copies_code))
}

/// A `COPY`/`ADD` line that brings code in: not `--from` another stage, and
/// not only the package manifests an install step reads
/// (`COPY package*.json ./`), after which the code comes from the mount.
fn copies_code(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some(instruction) = words.first() else {
        return false;
    };
    if !matches!(instruction.to_ascii_uppercase().as_str(), "COPY" | "ADD")
        || words
            .iter()
            .any(|w| w.to_ascii_lowercase().starts_with("--from"))
    {
        return false;
    }
    let paths: Vec<&str> = words[1..]
        .iter()
        .filter(|w| !w.starts_with("--"))
        .map(|w| w.trim_matches(|c| matches!(c, '[' | ']' | '"' | ',')))
        .filter(|w| !w.is_empty())
        .collect();
    let sources = &paths[..paths.len().saturating_sub(1)];
    !sources.iter().all(|source| is_manifest(source))
}

/// A package manifest or lock file (`package.json`, `package*.json`,
/// `requirements.txt`, `Gemfile.lock`, `go.sum`...).
fn is_manifest(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let node = name.starts_with("package") && name.ends_with(".json");
    let python = name.starts_with("requirements") && name.ends_with(".txt");
    node || python
        || matches!(
            name,
            "yarn.lock"
                | "pnpm-lock.yaml"
                | "pnpm-workspace.yaml"
                | ".npmrc"
                | ".yarnrc.yml"
                | "Pipfile"
                | "Pipfile.lock"
                | "pyproject.toml"
                | "poetry.lock"
                | "uv.lock"
                | "Gemfile"
                | "Gemfile.lock"
                | "go.mod"
                | "go.sum"
                | "composer.json"
                | "composer.lock"
        )
}

fn publish_app_port(service: &mut Mapping, name: &str, port: u16, note: &mut Note) {
    let before: Vec<String> = service
        .get("ports")
        .and_then(Value::as_sequence)
        .map(|p| p.iter().map(scalar_text).collect())
        .unwrap_or_default();
    let mapping = compose::port_mapping(port);
    if before == [mapping.clone()] {
        return;
    }
    service.insert(s("ports"), compose::ports(port));
    let was = if before.is_empty() {
        "nothing".to_owned()
    } else {
        before.join(", ")
    };
    note(
        AdjustmentKind::PortMapping,
        format!(
            "Service `{name}` publishes {mapping} (host port {HOST_PORT} to the app's port {port}); it published {was}."
        ),
    );
}

/// Adds the app's variables the file does not set, and sets the port and
/// bind settings whatever the file said.
fn merge_environment(
    service: &mut Mapping,
    name: &str,
    env: &[super::env::ComposeEnv],
    target: &Target,
    service_names: &[String],
    note: &mut Note,
) {
    if env.is_empty() {
        return;
    }
    // What its `env_file`s set reaches the app as well, below `environment`.
    let env_files = env_file_values(service, parent(target.path), target.repo);
    let environment = service
        .entry(s("environment"))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    for entry in env {
        let present = match &*environment {
            Value::Mapping(m) => m.get(entry.name.as_str()).map(|v| Some(scalar_text(v))),
            Value::Sequence(items) => items
                .iter()
                .find(|i| list_entry_name(i) == entry.name)
                .map(|i| scalar_text(i).split_once('=').map(|(_, v)| v.to_owned())),
            _ => None,
        }
        .or_else(|| {
            env_files
                .get(entry.name.as_str())
                .map(|value| Some(scalar_text(value)))
        });
        // A secret the file writes out (`JWT_SECRET: change-me`) is known
        // to whoever reads the repository, and would override the one
        // `make up` generates or the user gives.
        // But an address of a store the same file runs
        // (`postgres://postgres:postgres@db:5432/app`) carries the password
        // the file gives that store anyway: without it the app reaches none.
        let public_secret = entry.secret
            && present
                .as_ref()
                .and_then(Option::as_deref)
                .is_some_and(|value| {
                    !value.is_empty()
                        && !value.contains('$')
                        && !url_host(value)
                            .is_some_and(|host| service_names.iter().any(|s| *s == host))
                });
        // `DJANGO_ALLOWED_HOSTS=localhost 127.0.0.1 [::1]`: a development
        // value that turns away every request for the deployment's address.
        let local_address = entry.own_address
            && present
                .as_ref()
                .and_then(Option::as_deref)
                .is_some_and(names_only_this_machine);
        if present.is_some() && !entry.runtime && !public_secret && !local_address {
            continue;
        }
        match environment {
            Value::Mapping(m) => {
                m.insert(s(entry.name.clone()), entry.yaml_value());
            }
            Value::Sequence(items) => {
                items.retain(|i| list_entry_name(i) != entry.name);
                items.push(s(entry.list_item()));
            }
            _ => continue,
        }
        let reason = if local_address {
            format!(
                "{} The repository's compose file named only this machine, which turns away requests for any other address: replaced.",
                entry.reason
            )
        } else if public_secret {
            format!(
                "{} The repository's compose file wrote a value for it, which anyone who reads the repository knows: replaced.",
                entry.reason
            )
        } else {
            entry.reason.clone()
        };
        note(
            AdjustmentKind::EnvVar,
            format!("Service `{name}`: {reason}"),
        );
    }
}

/// A literal list of hosts or URLs that are all this machine
/// (`localhost 127.0.0.1 [::1]`, `http://localhost:3000`).
fn names_only_this_machine(value: &str) -> bool {
    let hosts: Vec<&str> = value
        .split([' ', ','])
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    !value.contains('$')
        && !hosts.is_empty()
        && hosts.iter().all(|host| {
            let host = host.split("://").nth(1).unwrap_or(host);
            let host = host.split('/').next().unwrap_or(host);
            let host = if host.starts_with('[') {
                host.split(']')
                    .next()
                    .map_or(host, |h| h.trim_start_matches('['))
            } else {
                host.split(':').next().unwrap_or(host)
            };
            matches!(host, "localhost" | "127.0.0.1" | "::1" | "0.0.0.0")
        })
}

/// The host of a URL with credentials (`scheme://user:pass@HOST:port/…`).
fn url_host(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@')?.1;
    host_port.split(':').next().filter(|host| !host.is_empty())
}

pub(super) fn list_entry_name(item: &Value) -> String {
    let text = scalar_text(item);
    text.split('=').next().unwrap_or_default().to_owned()
}

/// Another service must not take host port 8080, which is the app's.
/// Another service that publishes the app's host port moves to the next
/// free one (a second front end, such as a results page, stays reachable);
/// a range that covers it is dropped.
fn free_host_port(service: &mut Mapping, name: &str, used: &mut BTreeSet<u16>, note: &mut Note) {
    let Some(ports) = service.get_mut("ports").and_then(Value::as_sequence_mut) else {
        return;
    };
    let mut moved = Vec::new();
    let mut dropped = false;
    ports.retain_mut(|entry| {
        if !parse_entry(entry).is_some_and(|e| e.publishes(HOST_PORT)) {
            return true;
        }
        let free = (HOST_PORT + 1..=u16::MAX).find(|p| !used.contains(p));
        match free.and_then(|free| moved_to(entry, free).map(|e| (free, e))) {
            Some((free, replacement)) => {
                used.insert(free);
                *entry = replacement;
                moved.push(free);
                true
            }
            None => {
                dropped = true;
                false
            }
        }
    });
    if ports.is_empty() {
        service.shift_remove("ports");
    }
    for free in moved {
        note(
            AdjustmentKind::PortMapping,
            format!(
                "Service `{name}` publishes host port {free} instead of {HOST_PORT}, which is the app's."
            ),
        );
    }
    if dropped {
        note(
            AdjustmentKind::PortMapping,
            format!(
                "Service `{name}` no longer publishes host port {HOST_PORT}, which is the app's; it stays reachable from the other services."
            ),
        );
    }
}

/// `8080:80` (maybe with an address, a protocol) or the long form's
/// `published: 8080`, published on `free` instead; `None` for a range.
fn moved_to(entry: &Value, free: u16) -> Option<Value> {
    let single = parse_entry(entry)?.host_port()?;
    match entry {
        Value::String(short) => {
            let (host, rest) = short.rsplit_once(':')?;
            let address = host
                .strip_suffix(&single.to_string())
                .filter(|a| a.is_empty() || a.ends_with(':'))?;
            Some(s(format!("{address}{free}:{rest}")))
        }
        Value::Mapping(long) => {
            let mut long = long.clone();
            long.insert(s("published"), Value::Number(free.into()));
            Some(Value::Mapping(long))
        }
        _ => None,
    }
}

/// A database or cache the file publishes on the host (`5432:5432`) is
/// open to whoever reaches the server, with the password the repository
/// shows; the app reaches it over the compose network.
fn unpublish_store(service: &mut Mapping, name: &str, note: &mut Note) {
    if !is_store(service.get("image")) {
        return;
    }
    let Some(ports) = service.shift_remove("ports") else {
        return;
    };
    let published: Vec<String> = ports
        .as_sequence()
        .map(|p| p.iter().map(scalar_text).collect())
        .unwrap_or_default();
    note(
        AdjustmentKind::PortMapping,
        format!(
            "Service `{name}` no longer publishes {} on the host: a database there is open to whoever reaches the server; the app reaches it over the compose network.",
            published.join(", ")
        ),
    );
}

/// Deployflow serves the app alone to the network. Whatever else the file
/// publishes on the host (a store's admin UI with the password the
/// repository shows, a queue dashboard without a login, a mail catcher) is
/// published on the server's loopback only, reachable through an SSH
/// tunnel.
fn others_on_loopback(service: &mut Mapping, name: &str, note: &mut Note) {
    let admin_ui = service
        .get("image")
        .map(scalar_text)
        .is_some_and(|image| own_stores::is_store_admin_image(&image));
    let Some(Value::Sequence(ports)) = service.get_mut("ports") else {
        return;
    };
    let mut bound = Vec::new();
    for port in ports.iter_mut() {
        match port {
            Value::Mapping(long) => {
                let host_ip = long.get("host_ip").map(scalar_text).unwrap_or_default();
                if is_loopback(&host_ip) {
                    continue;
                }
                long.insert(s("host_ip"), s("127.0.0.1"));
                bound.push(long.get("published").map(scalar_text).unwrap_or_default());
            }
            other => {
                let text = scalar_text(other);
                // `5050:80` and `0.0.0.0:5050:80` are bound; a lone
                // container port is published on a random host port,
                // which an empty host port keeps.
                let parts: Vec<&str> = text.split(':').collect();
                let (host, container) = match parts.as_slice() {
                    [host, container] => (*host, *container),
                    [ip, _, _] if is_loopback(ip) => continue,
                    [_, host, container] => (*host, *container),
                    _ => ("", text.as_str()),
                };
                *other = s(format!("127.0.0.1:{host}:{container}"));
                bound.push(if host.is_empty() {
                    format!("a random port for {container}")
                } else {
                    host.to_owned()
                });
            }
        }
    }
    if bound.is_empty() {
        return;
    }
    let why = if admin_ui {
        "(a database's admin UI) is published on the server's loopback only ({}): open to the network it would hand the database to whoever reaches the server"
    } else {
        "is published on the server's loopback only ({}): deployflow serves the app alone to the network, and what else the file publishes (a dashboard, a mail catcher) often has no login"
    };
    note(
        AdjustmentKind::PortMapping,
        format!(
            "Service `{name}` {}; reach it through an SSH tunnel.",
            why.replace("{}", &bound.join(", "))
        ),
    );
}

fn is_loopback(host_ip: &str) -> bool {
    host_ip == "127.0.0.1" || host_ip == "::1" || host_ip == "[::1]" || host_ip == "localhost"
}

/// An `env_file` the repository does not contain (a git-ignored `.env`)
/// would stop compose before anything starts. Compose files of version 1
/// cannot mark one optional (`required: false` is Compose 2.24's), so it
/// is dropped: the app's variables reach it through `environment`, from
/// the shell or the `.env` compose reads beside the file.
fn optional_env_files(
    service: &mut Mapping,
    name: &str,
    compose_dir: &str,
    repo: &Snapshot,
    note: &mut Note,
) {
    let Some(env_file) = service.get_mut("env_file") else {
        return;
    };
    let mut items: Vec<Value> = match env_file {
        Value::String(path) => vec![s(path.clone())],
        Value::Sequence(items) => items.clone(),
        _ => return,
    };
    let mut dropped = Vec::new();
    items.retain(|item| {
        let path = match item {
            Value::String(path) => path.clone(),
            Value::Mapping(long) => long.get("path").map(scalar_text).unwrap_or_default(),
            _ => return true,
        };
        let missing = repo.get(&join(compose_dir, &path)).is_none();
        if missing {
            dropped.push(path);
        }
        !missing
    });
    if dropped.is_empty() {
        return;
    }
    if items.is_empty() {
        service.shift_remove("env_file");
    } else {
        *env_file = Value::Sequence(items);
    }
    note(
        AdjustmentKind::Rewritten,
        format!(
            "Service `{name}`: env_file {} is not in the repository, so it is no longer read; the app's variables reach it through `environment`, from the shell or the .env beside the compose file.",
            dropped.join(", ")
        ),
    );
}
