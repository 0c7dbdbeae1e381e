//! A store the choice provisions that the repository's compose file does
//! not run (a file of the app and a proxy, or one whose database service
//! could not be kept): deployflow's own is added to the file, as in a file
//! it writes (pinned image, named volume, health check, a password `make
//! up` generates), and the app is wired to it and started after it.

use serde_yaml_ng::Mapping;

use super::AdjustmentKind;
use super::existing_compose::Note;
use super::own_store_wiring::{depend_on, set_unless_given};
use super::stores;
use super::yaml::s;
use crate::choose::BackingService;

/// Of the stores the file runs none of, those whose service name is free.
pub(super) fn addable<'s>(
    services: &Mapping,
    unmatched: &[&'s BackingService],
) -> (Vec<&'s BackingService>, Vec<&'s BackingService>) {
    unmatched
        .iter()
        .partition(|store| !services.contains_key(stores::service_name(store.kind)))
}

/// Sets the app's variables to the added stores (unless the file gives
/// them a value of its own) and starts the app after them. Returns the
/// variables set.
pub(super) fn wire(
    service: &mut Mapping,
    name: &str,
    added: &[&BackingService],
    note: &mut Note,
) -> Vec<String> {
    let mut wired = Vec::new();
    for store in added {
        let mut set = Vec::new();
        for wire in &store.wiring {
            let value = stores::wired_value(store.kind, &wire.part, &store.url_query);
            if set_unless_given(service, &wire.name, value) {
                set.push(wire.name.clone());
            }
            wired.push(wire.name.clone());
        }
        depend_on(service, stores::service_name(store.kind));
        note(
            AdjustmentKind::Rewritten,
            format!(
                "The file runs no {label}: deployflow's own `{service}` service was added to it (pinned image, named volume `{volume}`, health check, a password `make up` generates into .env){}; the app starts once it is healthy.",
                if set.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", and service `{name}` reaches it through {}",
                        set.join(", ")
                    )
                },
                label = store.kind.label(),
                service = stores::service_name(store.kind),
                volume = stores::volume_name(store.kind),
            ),
        );
    }
    wired
}

/// The added stores' services; returns the volumes the file must declare.
pub(super) fn insert(
    services: &mut Mapping,
    added: &[&BackingService],
    registry: &str,
) -> Vec<String> {
    added
        .iter()
        .map(|store| {
            services.insert(
                s(stores::service_name(store.kind)),
                stores::service(store, registry, None),
            );
            stores::volume_name(store.kind)
        })
        .collect()
}
