//! A committed `.env` beside the compose file is what compose reads to fill
//! `${DATABASE_URL:-…}`: its developer's addresses (`localhost:6500`, the
//! port the database was published on) would win over the wiring to the
//! store beside the app, which the app's container reaches by service name.
//! Those addresses are pointed at the store; the credentials stay, since
//! the same file sets the store up.

use super::yaml::{parse, scalar_text};

/// `env_text` with the loopback addresses of the `wired` variables turned
/// into the ones the compose file wires them to, and the names changed;
/// `None` when none needed it. `compose` is the bundle's compose file and
/// `app` its app service.
pub(super) fn point_at_stores(
    env_text: &str,
    compose: &str,
    app: &str,
    wired: &[String],
) -> Option<(String, Vec<String>)> {
    let defaults = wired_defaults(compose, app, wired);
    let mut changed = Vec::new();
    let mut lines: Vec<String> = env_text.lines().map(str::to_owned).collect();
    // Hosts and URLs first: a port moves only with its host.
    for pass in [Pass::Addresses, Pass::Ports] {
        for line in &mut lines {
            let Some((name, value)) = assignment(line) else {
                continue;
            };
            let Some(default) = defaults.iter().find(|(n, _)| *n == name).map(|(_, d)| d) else {
                continue;
            };
            let pointed = match pass {
                Pass::Addresses => repoint(value, default),
                Pass::Ports => {
                    (!changed.is_empty() && is_port(value) && is_port(default) && value != default)
                        .then(|| default.clone())
                }
            };
            if let Some(pointed) = pointed {
                changed.push(name.to_owned());
                *line = format!("{name}={pointed}");
            }
        }
    }
    if changed.is_empty() {
        return None;
    }
    let mut text = lines.join("\n");
    if env_text.ends_with('\n') {
        text.push('\n');
    }
    Some((text, changed))
}

#[derive(Clone, Copy)]
enum Pass {
    Addresses,
    Ports,
}

/// `NAME=value` (also `export NAME="value"`), unquoted.
pub(super) fn assignment(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line
        .trim_start()
        .trim_start_matches("export ")
        .split_once('=')?;
    Some((name.trim(), value.trim().trim_matches(['"', '\''])))
}

/// The default each wired variable has in the app service's environment
/// (`DATABASE_URL: ${DATABASE_URL:-postgresql://…@postgres:5432/app}`).
fn wired_defaults(compose: &str, app: &str, wired: &[String]) -> Vec<(String, String)> {
    let Ok(document) = parse(compose) else {
        return Vec::new();
    };
    let Some(environment) = document
        .get("services")
        .and_then(|services| services.get(app))
        .and_then(|service| service.get("environment"))
        .and_then(|environment| environment.as_mapping())
    else {
        return Vec::new();
    };
    environment
        .iter()
        .filter_map(|(name, value)| {
            let name = scalar_text(name);
            let default = scalar_text(value)
                .strip_prefix(&format!("${{{name}:-"))?
                .strip_suffix('}')?
                .to_owned();
            wired.contains(&name).then_some((name, default))
        })
        .collect()
}

/// The committed value pointed where `default` points: a loopback host (a
/// bare host, or a URL's `host[:port]`) is moved, its credentials kept; a
/// URL of another server (a hosted database of the developer's, long gone
/// as often as not) gives way to `default` whole, since its credentials
/// are that server's.
fn repoint(value: &str, default: &str) -> Option<String> {
    if is_loopback(value) && !default.contains("://") && !is_port(default) && !default.is_empty() {
        return Some(default.to_owned());
    }
    let (scheme, rest) = value.split_once("://")?;
    let (_, default_rest) = default.split_once("://")?;
    let default_host = url_host(default_rest);
    let host = url_host(rest);
    if host != default_host && !is_loopback(host) && !host.is_empty() && !host.contains('$') {
        return Some(default.to_owned());
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(userinfo), host_port),
        None => (None, authority),
    };
    let host = host_port
        .rsplit_once(':')
        .map_or(host_port, |(host, _)| host);
    if !is_loopback(host) {
        return None;
    }
    let default_authority =
        &default_rest[..default_rest.find(['/', '?']).unwrap_or(default_rest.len())];
    let default_host_port = default_authority
        .rsplit_once('@')
        .map_or(default_authority, |(_, host_port)| host_port);
    let userinfo = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
    Some(format!("{scheme}://{userinfo}{default_host_port}{tail}"))
}

/// The host of a URL's part after `://`.
fn url_host(rest: &str) -> &str {
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    host_port
        .rsplit_once(':')
        .map_or(host_port, |(host, _)| host)
}

fn is_loopback(host: &str) -> bool {
    matches!(
        host,
        "localhost" | "127.0.0.1" | "0.0.0.0" | "[::1]" | "::1"
    )
}

fn is_port(value: &str) -> bool {
    !value.is_empty() && value.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::point_at_stores;

    const COMPOSE: &str = "services:\n  app:\n    environment:\n      DATABASE_URL: ${DATABASE_URL:-postgresql://postgres@postgres:5432/postgres}\n      POSTGRES_HOST: ${POSTGRES_HOST:-postgres}\n      POSTGRES_PORT: ${POSTGRES_PORT:-5432}\n      POSTGRES_USER: ${POSTGRES_USER:-postgres}\n      OTHER_URL: ${OTHER_URL:-http://localhost:9000}\n";

    fn wired() -> Vec<String> {
        [
            "DATABASE_URL",
            "POSTGRES_HOST",
            "POSTGRES_PORT",
            "POSTGRES_USER",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    #[test]
    fn the_developers_database_addresses_point_at_the_store_and_keep_their_credentials() {
        let env = "POSTGRES_HOST=127.0.0.1\nPOSTGRES_PORT=6500\nPOSTGRES_USER=admin\n\nDATABASE_URL=postgresql://admin:password123@localhost:6500/rust_hs256?schema=public\nOTHER_URL=http://localhost:9000\n";
        let (text, changed) = point_at_stores(env, COMPOSE, "app", &wired()).unwrap();
        assert_eq!(
            text,
            "POSTGRES_HOST=postgres\nPOSTGRES_PORT=5432\nPOSTGRES_USER=admin\n\nDATABASE_URL=postgresql://admin:password123@postgres:5432/rust_hs256?schema=public\nOTHER_URL=http://localhost:9000\n"
        );
        assert_eq!(changed, ["POSTGRES_HOST", "DATABASE_URL", "POSTGRES_PORT"]);
    }

    #[test]
    fn another_servers_database_gives_way_to_the_store_beside_the_app() {
        let env = "DATABASE_URL=postgres://u:p@ec2-3-1-2-3.compute-1.amazonaws.com:5432/d8k\nPOSTGRES_PORT=6543\n";
        let (text, changed) = point_at_stores(env, COMPOSE, "app", &wired()).unwrap();
        assert_eq!(
            text,
            "DATABASE_URL=postgresql://postgres@postgres:5432/postgres\nPOSTGRES_PORT=5432\n"
        );
        assert_eq!(changed, ["DATABASE_URL", "POSTGRES_PORT"]);
        // The store's own address, and a port alone, stay.
        let env = "DATABASE_URL=postgresql://admin:pw@postgres:5432/app\nPOSTGRES_PORT=6543\n";
        assert_eq!(point_at_stores(env, COMPOSE, "app", &wired()), None);
    }
}
