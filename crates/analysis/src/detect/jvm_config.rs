//! Ports and addresses from JVM framework configuration: Spring's
//! `server.port`, Quarkus' `quarkus.http.port`, Micronaut's
//! `micronaut.server.port`, Ktor's `embeddedServer(...)` and application.conf.

use super::detection::Detection;
use super::scan::{Spot, named_arg};
use super::value::{Value, resolve};
use super::view::{AppView, file_name};
use super::yaml;

/// The property keys each framework reads its port and address from.
fn keys(framework: &str) -> (&'static str, &'static str) {
    match framework {
        "quarkus" => ("quarkus.http.port", "quarkus.http.host"),
        "micronaut" => ("micronaut.server.port", "micronaut.server.host"),
        "ktor" => ("ktor.deployment.port", "ktor.deployment.host"),
        _ => ("server.port", "server.address"),
    }
}

pub(crate) fn config_port(view: &AppView<'_>, d: &mut Detection, framework: &str) {
    let (port_key, host_key) = keys(framework);
    // Main resources only: test resources and profile files (application-dev)
    // do not decide the deployed port.
    let configs = view.files.iter().filter(|f| {
        let name = file_name(&f.path);
        f.path.contains("src/main/resources/")
            && matches!(
                name,
                "application.properties"
                    | "application.yml"
                    | "application.yaml"
                    | "application.conf"
            )
    });
    for file in configs {
        let Some(text) = file.content.as_deref() else {
            continue;
        };
        let name = file_name(&file.path);
        let lookup = |key: &str| -> Option<(String, u32)> {
            if name.ends_with(".properties") {
                properties(text, key)
            } else if name.ends_with(".conf") {
                hocon(text, key)
            } else {
                yaml::lookup(text, key)
            }
        };
        if let Some((raw, line)) = lookup(port_key) {
            let value = property_value(&raw);
            d.set_port(
                &value,
                Spot::at(&file.path, line, format!("{port_key}={raw}")),
            );
        }
        if let Some((raw, line)) = lookup(host_key) {
            let value = property_value(&raw);
            d.set_host(
                &value,
                Spot::at(&file.path, line, format!("{host_key}={raw}")),
            );
        }
    }
}

/// `8081`, `${PORT:8081}` (Spring), `${PORT}`, `${?PORT}` (HOCON).
fn property_value(raw: &str) -> Value {
    let hocon = re!(r"^\$\{\?(\w+)\}$");
    if let Some(env) = hocon.captures(raw).and_then(|c| c.get(1)) {
        return Value {
            env: Some(env.as_str().to_owned()),
            ..Value::default()
        };
    }
    resolve("", raw)
}

fn properties(text: &str, key: &str) -> Option<(String, u32)> {
    text.lines().zip(1..).find_map(|(line, n)| {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with('!') {
            return None;
        }
        let (k, v) = line.split_once(['=', ':'])?;
        (k.trim() == key).then(|| (v.trim().to_owned(), n))
    })
}

/// HOCON, as Ktor writes it: `ktor { deployment { port = 8080 } }` or
/// `ktor.deployment.port = 8080`; a later `port = ${?PORT}` overrides with
/// an env var. Keys count only at their full path: a `port` of a `database`
/// block is not the server's.
fn hocon(text: &str, key: &str) -> Option<(String, u32)> {
    let assignment = re!(r"^([\w.-]+)\s*[=:]\s*(\S+)\s*$");
    let opening = re!(r"^([\w.-]+)\s*[=:]?\s*\{\s*$");
    let mut path: Vec<String> = Vec::new();
    let mut found: Option<(String, u32)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split(" //").next().unwrap_or(raw).trim();
        if let Some(c) = opening.captures(line) {
            path.push(c[1].to_owned());
            continue;
        }
        if line.starts_with('}') {
            path.pop();
            continue;
        }
        let Some(c) = assignment.captures(line) else {
            continue;
        };
        let full = path
            .iter()
            .map(String::as_str)
            .chain([&c[1]])
            .collect::<Vec<_>>()
            .join(".");
        if full != key {
            continue;
        }
        let value = &c[2];
        match &mut found {
            // `port = 8080` then `port = ${?PORT}`: the default and its override.
            Some((current, _)) if value.starts_with("${?") => {
                let env = value.trim_start_matches("${?").trim_end_matches('}');
                *current = format!("${{{env}:{current}}}");
            }
            _ => found = Some((value.to_owned(), index as u32 + 1)),
        }
    }
    found
}

/// `embeddedServer(Netty, port = 8080, host = "0.0.0.0")`.
pub(crate) fn ktor_code(view: &AppView<'_>, d: &mut Detection) {
    let Some(call) = view.find(&[".kt"], re!(r"\bembeddedServer\s*\(")) else {
        return;
    };
    let args = call.call_args();
    if let Some(port) = named_arg(args, &["port"]) {
        d.set_port(&resolve(call.text, port), call.spot());
    }
    if let Some(host) = named_arg(args, &["host"]) {
        d.set_host(&resolve(call.text, host), call.spot());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spring_placeholders() {
        let v = property_value("${PORT:8081}");
        assert_eq!((v.env.as_deref(), v.port()), (Some("PORT"), Some(8081)));
        assert_eq!(property_value("9000").port(), Some(9000));
    }

    #[test]
    fn hocon_default_and_override() {
        let text = "ktor {\n  deployment {\n    port = 8080\n    port = ${?PORT}\n  }\n}\n";
        let (raw, line) = hocon(text, "ktor.deployment.port").unwrap();
        assert_eq!(line, 3);
        let v = property_value(&raw);
        assert_eq!((v.env.as_deref(), v.port()), (Some("PORT"), Some(8080)));
    }

    #[test]
    fn hocon_keys_count_only_at_their_path() {
        let text = "ktor {\n  database {\n    port: \"55000\"\n  }\n  deployment {\n    port = 8080 // the app\n  }\n}\nktor.deployment.host = 0.0.0.0\n";
        assert_eq!(
            hocon(text, "ktor.deployment.port"),
            Some(("8080".to_owned(), 6))
        );
        assert_eq!(
            hocon(text, "ktor.deployment.host"),
            Some(("0.0.0.0".to_owned(), 9))
        );
        assert_eq!(hocon(text, "ktor.port"), None);
    }
}
