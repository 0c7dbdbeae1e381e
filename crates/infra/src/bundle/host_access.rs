//! What in a compose file reaches past its containers into the host that
//! runs them: privileged or host-namespace services, added capabilities and
//! devices, the Docker socket, bind mounts of paths outside the project.
//! A repository's compose file is untrusted; deployflow does not start one
//! that asks for any of these where its own secrets may live.

use serde_yaml_ng::Value;

use super::yaml;

/// Each way `compose` reaches the host, as `service: what` (empty: none).
/// A file that cannot be read is reported as such.
pub fn host_access(compose: &str) -> Vec<String> {
    let document = match yaml::parse(compose) {
        Ok(document) => document,
        Err(error) => return vec![format!("the compose file cannot be read: {error}")],
    };
    let mut found = Vec::new();
    if document.get("include").is_some() {
        found.push("the file includes other compose files, which are not checked".to_owned());
    }
    let Some(services) = document.get("services").and_then(Value::as_mapping) else {
        return found;
    };
    for (name, service) in services {
        let name = name.as_str().unwrap_or("?");
        let mut say = |what: String| found.push(format!("{name}: {what}"));
        if service.get("privileged").and_then(Value::as_bool) == Some(true) {
            say("privileged".to_owned());
        }
        for key in ["network_mode", "pid", "ipc", "userns_mode", "uts"] {
            if service.get(key).and_then(Value::as_str) == Some("host") {
                say(format!("{key}: host"));
            }
        }
        for key in ["cap_add", "devices", "device_cgroup_rules"] {
            if service
                .get(key)
                .and_then(Value::as_sequence)
                .is_some_and(|s| !s.is_empty())
            {
                say(format!("{key} is set"));
            }
        }
        if let Some(options) = service.get("security_opt").and_then(Value::as_sequence)
            && options
                .iter()
                .filter_map(Value::as_str)
                .any(|o| o.contains("unconfined"))
        {
            say("a security option is unconfined".to_owned());
        }
        if let Some(network) = service
            .get("build")
            .and_then(|b| b.get("network"))
            .and_then(Value::as_str)
            .filter(|n| *n == "host")
        {
            say(format!("builds on network {network}"));
        }
        if service.get("extends").and_then(|e| e.get("file")).is_some() {
            say("extends a service of another file, which is not checked".to_owned());
        }
        let volumes = service.get("volumes").and_then(Value::as_sequence);
        for volume in volumes.into_iter().flatten() {
            if let Some(source) = bind_source(volume)
                && reaches_outside(&source)
            {
                say(format!("mounts the host's {source}"));
            }
        }
    }
    found
}

/// The host side of a bind mount (`./data:/data`, `{type: bind, source}`);
/// named volumes have none.
fn bind_source(volume: &Value) -> Option<String> {
    match volume {
        Value::String(short) => {
            let source = short.split(':').next()?;
            let is_path = source.starts_with(['/', '.', '~', '$']) || source.contains('/');
            is_path.then(|| source.to_owned())
        }
        Value::Mapping(_) => {
            if volume.get("type").and_then(Value::as_str) != Some("bind") {
                return None;
            }
            volume
                .get("source")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }
        _ => None,
    }
}

/// A path that is not inside the project directory: absolute, in a home
/// directory, through `..`, or taken from a variable.
fn reaches_outside(source: &str) -> bool {
    source.starts_with(['/', '~', '$']) || source.split('/').any(|part| part == "..")
}

#[cfg(test)]
mod tests {
    use super::host_access;

    #[test]
    fn ordinary_services_reach_nothing() {
        let compose = "services:\n  app:\n    build: .\n    ports: ['8080:80']\n    volumes:\n      - ./data:/data\n      - cache:/cache\n  db:\n    image: postgres\n    volumes:\n      - type: volume\n        source: pg\n        target: /var/lib/postgresql/data\nvolumes:\n  cache: {}\n  pg: {}\n";
        assert!(
            host_access(compose).is_empty(),
            "{:?}",
            host_access(compose)
        );
    }

    #[test]
    fn the_host_is_named_when_a_service_reaches_it() {
        let compose = "services:\n  app:\n    build:\n      context: .\n      network: host\n    privileged: true\n    network_mode: host\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n      - ../secrets:/secrets:ro\n      - type: bind\n        source: ~/.aws\n        target: /root/.aws\n    cap_add: [SYS_ADMIN]\n";
        let found = host_access(compose);
        for expected in [
            "app: privileged",
            "app: network_mode: host",
            "app: mounts the host's /var/run/docker.sock",
            "app: mounts the host's ../secrets",
            "app: mounts the host's ~/.aws",
            "app: cap_add is set",
            "app: builds on network host",
        ] {
            assert!(found.iter().any(|f| f == expected), "{expected}: {found:?}");
        }
    }
}
