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

/// HOCON, as Ktor writes it: `ktor { deployment { port = 8080 } }`; a
/// later `port = ${?PORT}` overrides with an env var.
fn hocon(text: &str, key: &str) -> Option<(String, u32)> {
    let leaf = key.rsplit('.').next()?;
    let re = re!(r"(?m)^\s*(\w+)\s*[=:]\s*(\S+)\s*$");
    let mut found: Option<(String, u32)> = None;
    for caps in re.captures_iter(text) {
        let (Some(k), Some(v)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        if k.as_str() != leaf {
            continue;
        }
        let line = super::scan::line_at(text, k.start());
        match &mut found {
            // `port = 8080` then `port = ${?PORT}`: the default and its override.
            Some((value, _)) if v.as_str().starts_with("${?") => {
                let env = v.as_str().trim_start_matches("${?").trim_end_matches('}');
                *value = format!("${{{env}:{value}}}");
            }
            _ => found = Some((v.as_str().to_owned(), line)),
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
}
