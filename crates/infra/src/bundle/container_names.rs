//! A fixed `container_name` is global to the Docker engine: a second
//! deployment of the app on the same host, or a preflight beside a running
//! one, stops with "the container name is already in use". The name goes;
//! where it differs from the service's, the other containers keep reaching
//! the service by it, as an alias on each network the service is on.

use serde_yaml_ng::{Mapping, Value};

use super::AdjustmentKind;
use super::existing_compose::Note;
use super::yaml::{s, scalar_text};

pub(super) fn drop_fixed_names(services: &mut Mapping, note: &mut Note) {
    for (name, service) in services.iter_mut() {
        let name = scalar_text(name);
        let Some(service) = service.as_mapping_mut() else {
            continue;
        };
        let Some(fixed) = service
            .shift_remove("container_name")
            .map(|v| scalar_text(&v))
        else {
            continue;
        };
        let aliased = fixed != name && keep_as_alias(service, &fixed);
        note(
            AdjustmentKind::Rewritten,
            if aliased {
                format!(
                    "Service `{name}` no longer has the fixed container name `{fixed}`, which a second deployment on the same Docker host would collide with; the other services still reach it as `{fixed}`, a network alias."
                )
            } else {
                format!(
                    "Service `{name}` no longer has the fixed container name `{fixed}`, which a second deployment on the same Docker host would collide with."
                )
            },
        );
    }
}

/// Adds `alias` on every network the service joins (`default` when it
/// names none); a service on the host's network or another container's
/// has no aliases.
fn keep_as_alias(service: &mut Mapping, alias: &str) -> bool {
    if service.contains_key("network_mode") {
        return false;
    }
    let networks = service
        .entry(s("networks"))
        .or_insert_with(|| Value::Sequence(vec![s("default")]));
    if let Value::Sequence(list) = networks {
        let names: Mapping = list
            .iter()
            .map(|network| (s(scalar_text(network)), Value::Null))
            .collect();
        *networks = Value::Mapping(names);
    }
    let Value::Mapping(networks) = networks else {
        return false;
    };
    for settings in networks.values_mut() {
        if settings.is_null() {
            *settings = Value::Mapping(Mapping::new());
        }
        let Value::Mapping(settings) = settings else {
            continue;
        };
        let aliases = settings
            .entry(s("aliases"))
            .or_insert_with(|| Value::Sequence(Vec::new()));
        if let Value::Sequence(aliases) = aliases
            && !aliases.iter().any(|a| scalar_text(a) == alias)
        {
            aliases.push(s(alias));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::drop_fixed_names;
    use serde_yaml_ng::{Mapping, Value};

    fn services(text: &str) -> Mapping {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn a_fixed_name_goes_and_stays_reachable_as_an_alias() {
        let mut services = services(
            "app:\n  build: .\n  container_name: app\ndb:\n  image: postgres:16\n  container_name: shop-db\nqueue:\n  image: redis:7\n  container_name: shop-redis\n  networks: [back]\nmetrics:\n  image: prom/node-exporter\n  container_name: exporter\n  network_mode: host\n",
        );
        let mut notes = Vec::new();
        drop_fixed_names(&mut services, &mut |_, r| notes.push(r));
        assert_eq!(notes.len(), 4, "{notes:?}");
        let yaml = serde_yaml_ng::to_string(&services).unwrap();
        assert!(!yaml.contains("container_name"), "{yaml}");
        // Named as its service: nothing to keep.
        assert!(services["app"].get("networks").is_none());
        let aliases = |service: &str, network: &str| -> Vec<Value> {
            services[service]["networks"][network]["aliases"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(aliases("db", "default"), [Value::from("shop-db")]);
        assert_eq!(aliases("queue", "back"), [Value::from("shop-redis")]);
        assert!(services["metrics"].get("networks").is_none());
    }
}
