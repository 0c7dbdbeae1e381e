//! A compose file whose services join networks of their own (`sail`): an
//! app service with no `networks` is on `default` alone and cannot resolve
//! them (`DB_HOST=pgsql` fails). It joins every network the other services
//! are on, `default` included when one of them is.

use super::yaml::{s, scalar_text};
use super::{AdjustmentKind, existing_compose::Note};
use serde_yaml_ng::{Mapping, Value};

pub(super) fn join_the_others(services: &mut Mapping, app: &str, note: &mut Note) {
    let app_key = s(app);
    if services
        .get(&app_key)
        .and_then(Value::as_mapping)
        .is_none_or(|service| {
            service.contains_key("networks") || service.contains_key("network_mode")
        })
    {
        return;
    }
    let mut networks: Vec<String> = Vec::new();
    for (name, service) in services.iter() {
        if *name == app_key {
            continue;
        }
        let Some(service) = service.as_mapping() else {
            continue;
        };
        let joined: Vec<String> = match service.get("networks") {
            Some(Value::Sequence(list)) => list.iter().map(scalar_text).collect(),
            Some(Value::Mapping(map)) => map.keys().map(scalar_text).collect(),
            _ if service.contains_key("network_mode") => Vec::new(),
            _ => vec!["default".to_owned()],
        };
        for network in joined {
            if !networks.contains(&network) {
                networks.push(network);
            }
        }
    }
    if networks.is_empty() || networks == ["default"] {
        return;
    }
    if let Some(service) = services.get_mut(&app_key).and_then(Value::as_mapping_mut) {
        service.insert(
            s("networks"),
            Value::Sequence(networks.iter().map(s).collect()),
        );
    }
    note(
        AdjustmentKind::Rewritten,
        format!(
            "Service `{app}` joins the networks the other services are on ({}): on `default` alone it could not reach them by name.",
            networks.join(", ")
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn networks_after(compose: &str) -> Value {
        let mut services: Mapping = serde_yaml_ng::from_str(compose).expect("yaml");
        join_the_others(&mut services, "app", &mut |_, _| {});
        services[&s("app")]["networks"].clone()
    }

    #[test]
    fn the_app_joins_the_networks_of_the_others() {
        let sail = "app:\n  build: .\npgsql:\n  image: postgres:15\n  networks: [sail]\nredis:\n  image: redis\n  networks:\n    sail:\n      aliases: [cache]\n";
        assert_eq!(networks_after(sail), Value::Sequence(vec![s("sail")]));
        let mixed = "app:\n  build: .\npgsql:\n  image: postgres:15\n  networks: [back]\nmail:\n  image: mailhog\n";
        assert_eq!(
            networks_after(mixed),
            Value::Sequence(vec![s("back"), s("default")])
        );
        assert!(networks_after("app:\n  build: .\ndb:\n  image: postgres\n").is_null());
        assert_eq!(
            networks_after(
                "app:\n  build: .\n  networks: [front]\ndb:\n  image: postgres\n  networks: [back]\n"
            ),
            Value::Sequence(vec![s("front")])
        );
    }
}
