//! The app service of a repository's compose file wired to the stores the
//! file runs itself: its variables set to the file's own database, cache
//! or MongoDB (unless the file gives them a value), the app started after
//! them, and the framework's migration run first.

use serde_yaml_ng::{Mapping, Value};

use super::AdjustmentKind;
use super::compose::{self, Migration};
use super::existing_compose::{Note, list_entry_name};
use super::own_stores::{OwnStore, readiness_check};
use super::yaml::{map, s, scalar_text, strings};
use crate::choose::{BackingService, Part};

/// Sets the app's variables that reach a provisioned store to the file's
/// own store of that kind, unless the file gives them a value of its own:
/// as `${NAME:-value}`, so a value given with the deployment still wins.
/// The app starts after the store. Returns the variables that reach the
/// file's stores, set here or by the file.
pub(super) fn wire_own_stores(
    service: &mut Mapping,
    name: &str,
    own: &[(&BackingService, OwnStore)],
    note: &mut Note,
) -> Vec<String> {
    let mut wired = Vec::new();
    for (store, own) in own {
        let mut set = Vec::new();
        for wire in &store.wiring {
            let mut value = own.value(&wire.part);
            if matches!(wire.part, Part::Url { .. }) {
                value.push_str(&store.url_query);
            }
            // Compose files of version 1 cannot nest `${…}` in a default;
            // `$DB_PASSWORD` is a variable as much as `${DB_PASSWORD}`.
            let value = if value.contains('$') {
                value
            } else {
                format!("${{{}:-{value}}}", wire.name)
            };
            if set_unless_given(service, &wire.name, value) {
                set.push(wire.name.clone());
            }
            // Given by the file itself, it reaches the file's store too.
            wired.push(wire.name.clone());
        }
        // Whoever set its variables, the app reaches the store: it starts
        // once the store takes connections, which its health check says.
        if !store.wiring.is_empty() {
            depend_on(service, &own.service);
        }
        if set.is_empty() {
            continue;
        }
        note(
            AdjustmentKind::EnvVar,
            format!(
                "Service `{name}`: {} reach{} the file's own {} service `{}`, with the credentials it starts with; the app starts after it.",
                set.join(", "),
                if set.len() == 1 { "es" } else { "" },
                store.kind.label(),
                own.service
            ),
        );
    }
    wired
}

/// The app's variable set to a service of the repository's compose file
/// that deployflow does not provision (its MongoDB, search engine, broker).
#[derive(Debug, Clone)]
pub(super) struct FileServiceWire {
    pub variable: String,
    pub value: String,
    pub service: String,
}

/// Points the app's variables at the file's own services of kinds
/// deployflow does not provision; returns the variables so wired.
pub(super) fn wire_file_services(
    service: &mut Mapping,
    name: &str,
    wires: &[FileServiceWire],
    note: &mut Note,
) -> Vec<String> {
    let mut set = Vec::new();
    for wire in wires {
        let value = if wire.value.contains('$') {
            wire.value.clone()
        } else {
            format!("${{{}:-{}}}", wire.variable, wire.value)
        };
        if set_unless_given(service, &wire.variable, value) {
            set.push(format!("{} (`{}`)", wire.variable, wire.service));
        }
    }
    if !set.is_empty() {
        note(
            AdjustmentKind::EnvVar,
            format!(
                "Service `{name}`: {} reach the file's own services of that name, which deployflow does not provision.",
                set.join(", ")
            ),
        );
    }
    wires.iter().map(|wire| wire.variable.clone()).collect()
}

/// Sets `key` unless the service's environment gives it a value other
/// than the variable itself (`KEY:` with no value, `${KEY}`, `${KEY:-…}`).
pub(super) fn set_unless_given(service: &mut Mapping, key: &str, value: String) -> bool {
    let environment = service
        .entry(s("environment"))
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    let passes_through = |given: &str| given.is_empty() || given.starts_with(&format!("${{{key}"));
    match environment {
        Value::Mapping(map) => {
            let given = map.get(key).map(|v| {
                if v.is_null() {
                    String::new()
                } else {
                    scalar_text(v)
                }
            });
            if given.as_deref().is_some_and(|g| !passes_through(g)) {
                return false;
            }
            map.insert(s(key.to_owned()), s(value));
        }
        Value::Sequence(items) => {
            let given = items.iter().find(|i| list_entry_name(i) == key).map(|i| {
                scalar_text(i)
                    .split_once('=')
                    .map(|(_, v)| v.to_owned())
                    .unwrap_or_default()
            });
            if given.as_deref().is_some_and(|g| !passes_through(g)) {
                return false;
            }
            items.retain(|i| list_entry_name(i) != key);
            items.push(s(format!("{key}={value}")));
        }
        _ => return false,
    }
    true
}

/// The app starts once `store` is healthy: started is not enough, since a
/// database takes connections seconds after its container starts, and an
/// app (or its migration) that connects first exits. Services the list
/// form names keep waiting for their start only.
pub(super) fn depend_on(service: &mut Mapping, store: &str) {
    let condition = |state: &str| {
        let mut condition = Mapping::new();
        condition.insert(s("condition"), s(state.to_owned()));
        Value::Mapping(condition)
    };
    let mut depends = match service.remove("depends_on") {
        Some(Value::Mapping(map)) => map,
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|item| (s(scalar_text(item)), condition("service_started")))
            .collect(),
        _ => Mapping::new(),
    };
    depends.insert(s(store.to_owned()), condition("service_healthy"));
    service.insert(s("depends_on"), Value::Mapping(depends));
}

/// Gives the file's store service a readiness health check when it has
/// none, so the app's `depends_on` can wait for it to be healthy.
pub(super) fn check_readiness(
    service: &mut Mapping,
    name: &str,
    store: &OwnStore,
    note: &mut Note,
) {
    if service.contains_key("healthcheck") {
        return;
    }
    service.insert(
        s("healthcheck"),
        map([
            ("test", strings(readiness_check(store.kind))),
            ("interval", s("5s")),
            ("timeout", s("5s")),
            ("retries", Value::Number(30.into())),
            ("start_period", s("10s")),
        ]),
    );
    note(
        AdjustmentKind::Rewritten,
        format!(
            "Service `{name}` got a health check that passes once the {} takes connections; the app waits for it.",
            store.kind.label()
        ),
    );
}

/// Runs the framework's migration before the app's start command, once
/// its database is the file's own. A command the file gives the service
/// is its own business: the migration is then left to the user, and said.
pub(super) fn migrate_first(
    service: &mut Mapping,
    name: &str,
    migration: &Migration,
    had_command: bool,
    note: &mut Note,
) {
    if had_command {
        note(
            AdjustmentKind::Note,
            format!(
                "Service `{name}` has its own command, so the migration (`{}`) is not run before it: run it once the database is up.",
                migration.command
            ),
        );
        return;
    }
    service.insert(s("command"), compose::migration_command(migration));
    note(
        AdjustmentKind::Rewritten,
        format!(
            "Service `{name}` runs `{}` before the app starts.",
            migration.command
        ),
    );
}
