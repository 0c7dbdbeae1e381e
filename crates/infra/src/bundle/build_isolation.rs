//! What a compose project needs to build on an isolated network: a compose
//! override that puts every service's build on that network with the egress
//! proxy as its HTTP(S) proxy, and the Dockerfiles those builds read, so
//! that what the engine itself fetches (`ADD <url>`) can be checked first.

use std::path::{Path, PathBuf};

use serde_yaml_ng::{Mapping, Value};

use super::yaml;
use crate::InfraError;

/// The proxy variables the engine hands to `RUN` without an `ARG` line and
/// keeps out of the image's history.
pub const PROXY_ARGS: [&str; 4] = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"];
/// Cleared, so that no proxy exception sends a request around the proxy.
pub const NO_PROXY_ARGS: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// The override of a compose file's builds and the Dockerfiles they use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsolatedBuilds {
    /// A compose file to pass after the project's own (`-f own -f this`).
    pub override_yaml: String,
    /// Each build's Dockerfile, relative to the compose file's directory;
    /// an inline Dockerfile (`dockerfile_inline`) as its text.
    pub dockerfiles: Vec<BuildFile>,
}

/// Where a build's Dockerfile is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildFile {
    Path(PathBuf),
    Inline(String),
}

/// The driver option that leaves the host without an address on a bridge,
/// so containers on it cannot reach the host's own services.
pub const NO_HOST_ADDRESS: &str = "com.docker.network.bridge.inhibit_ipv4";

/// The override that runs the services of `compose` with no way out: every
/// network of the file (its `default` included) internal, with no address
/// of the host on its bridge. The services still reach each other. A file
/// that joins a network made elsewhere (`external`) cannot be isolated.
pub fn isolate_run(compose: &str) -> Result<String, InfraError> {
    let document = yaml::parse(compose)?;
    let declared = document.get("networks").and_then(Value::as_mapping);
    let mut names: Vec<Value> = vec!["default".into()];
    for (name, network) in declared.into_iter().flatten() {
        let external = network
            .get("external")
            .is_some_and(|e| e.as_bool() != Some(false));
        if external {
            return Err(InfraError::Compose(format!(
                "network {} is external: the services would join a network made outside this project",
                name.as_str().unwrap_or("?")
            )));
        }
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    let mut networks = Mapping::new();
    for name in names {
        let mut options = Mapping::new();
        options.insert(NO_HOST_ADDRESS.into(), "true".into());
        let mut network = Mapping::new();
        network.insert("internal".into(), true.into());
        network.insert("driver_opts".into(), Value::Mapping(options));
        networks.insert(name, Value::Mapping(network));
    }
    let mut root = Mapping::new();
    root.insert("networks".into(), Value::Mapping(networks));
    Ok(yaml::render(
        "# Written by deployflow: the services run on internal networks with no way to the host.\n",
        &Value::Mapping(root),
    ))
}

/// The override that builds every service of `compose` on `network` with
/// `proxy_url` as its proxy. Services without a `build` are left alone.
pub fn isolate_builds(
    compose: &str,
    network: &str,
    proxy_url: &str,
) -> Result<IsolatedBuilds, InfraError> {
    let document = yaml::parse(compose)?;
    let mut services = Mapping::new();
    let mut dockerfiles = Vec::new();
    let listed = document.get("services").and_then(Value::as_mapping);
    for (name, service) in listed.into_iter().flatten() {
        let Some(build) = service.get("build") else {
            continue;
        };
        let (context, dockerfile, inline) = match build {
            Value::String(context) => (context.clone(), None, None),
            Value::Mapping(_) => (
                build
                    .get("context")
                    .and_then(Value::as_str)
                    .unwrap_or(".")
                    .to_owned(),
                build.get("dockerfile").and_then(Value::as_str),
                build.get("dockerfile_inline").and_then(Value::as_str),
            ),
            _ => {
                return Err(InfraError::Compose(format!(
                    "service {}: `build` is neither a path nor a mapping",
                    name.as_str().unwrap_or("?")
                )));
            }
        };
        dockerfiles.push(match inline {
            Some(text) => BuildFile::Inline(text.to_owned()),
            None => BuildFile::Path(Path::new(&context).join(dockerfile.unwrap_or("Dockerfile"))),
        });
        let mut args = Mapping::new();
        for arg in PROXY_ARGS {
            args.insert(arg.into(), proxy_url.into());
        }
        for arg in NO_PROXY_ARGS {
            args.insert(arg.into(), "".into());
        }
        let mut isolated = Mapping::new();
        isolated.insert("context".into(), context.into());
        isolated.insert("network".into(), network.into());
        isolated.insert("args".into(), Value::Mapping(args));
        let mut service = Mapping::new();
        service.insert("build".into(), Value::Mapping(isolated));
        services.insert(name.clone(), Value::Mapping(service));
    }
    let mut root = Mapping::new();
    root.insert("services".into(), Value::Mapping(services));
    Ok(IsolatedBuilds {
        override_yaml: yaml::render(
            "# Written by deployflow: the builds run on the isolated build network.\n",
            &Value::Mapping(root),
        ),
        dockerfiles,
    })
}

/// The sources of a Dockerfile's `ADD` instructions that the engine itself
/// fetches (URLs and git remotes): the engine does so from the host's
/// network, not from the build's.
pub fn engine_fetched_sources(dockerfile: &str) -> Vec<String> {
    let mut fetched = Vec::new();
    for line in instructions(dockerfile) {
        let Some((keyword, rest)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        if !keyword.eq_ignore_ascii_case("ADD") {
            continue;
        }
        let words: Vec<&str> = rest
            .split_whitespace()
            .filter(|word| !word.starts_with("--"))
            .collect();
        let sources = &words[..words.len().saturating_sub(1)];
        fetched.extend(
            sources
                .iter()
                .map(|w| w.trim_matches(|c| c == '"' || c == '[' || c == ']' || c == ','))
                .filter(|w| w.contains("://") || w.starts_with("git@"))
                .map(str::to_owned),
        );
    }
    fetched
}

/// The host a fetched source names (`https://host:port/…`, `git@host:…`).
pub fn source_host(source: &str) -> Option<String> {
    let rest = match source.split_once("://") {
        Some((_, rest)) => rest,
        None => source.strip_prefix("git@")?,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.split(':').next().unwrap_or(authority),
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// A Dockerfile's instructions, continuation lines joined, comments and
/// blank lines left out.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.trim().is_empty() {
        joined.push(current);
    }
    joined
}

#[cfg(test)]
mod tests {

    #[test]
    fn every_network_of_a_run_is_internal_without_a_host_address() {
        let compose = "services:\n  app:\n    build: .\n    networks: [front, back]\n  db:\n    image: postgres\nnetworks:\n  front: {}\n  back:\n    driver: bridge\n";
        let text = isolate_run(compose).unwrap();
        let doc = yaml::parse(&text).unwrap();
        for name in ["default", "front", "back"] {
            let network = &doc["networks"][name];
            assert_eq!(network["internal"].as_bool(), Some(true), "{text}");
            assert_eq!(
                network["driver_opts"][NO_HOST_ADDRESS].as_str(),
                Some("true"),
                "{text}"
            );
        }
        let external =
            "services:\n  app:\n    image: x\nnetworks:\n  shared:\n    external: true\n";
        let error = isolate_run(external).unwrap_err().to_string();
        assert!(error.contains("network shared is external"), "{error}");
    }
    use super::*;

    #[test]
    fn every_build_goes_on_the_network_with_the_proxy() {
        let compose = "services:\n  app:\n    build: ./api\n    ports: ['8080:80']\n  worker:\n    build:\n      context: .\n      dockerfile: docker/Worker.dockerfile\n      args: [MODE=worker]\n  db:\n    image: postgres:16\n";
        let isolated = isolate_builds(compose, "builds", "http://proxy:3128").unwrap();
        let text = &isolated.override_yaml;
        let value: Value = serde_yaml_ng::from_str(text).unwrap();
        for (service, context) in [("app", "./api"), ("worker", ".")] {
            let build = &value["services"][service]["build"];
            assert_eq!(build["network"], "builds", "{text}");
            assert_eq!(build["context"], context, "{text}");
            assert_eq!(build["args"]["HTTPS_PROXY"], "http://proxy:3128");
            assert_eq!(build["args"]["http_proxy"], "http://proxy:3128");
            assert_eq!(build["args"]["NO_PROXY"], "");
        }
        assert!(value["services"].get("db").is_none(), "{text}");
        assert_eq!(
            isolated.dockerfiles,
            vec![
                BuildFile::Path(PathBuf::from("./api/Dockerfile")),
                BuildFile::Path(PathBuf::from("./docker/Worker.dockerfile")),
            ]
        );
    }

    #[test]
    fn inline_dockerfiles_are_read_as_text() {
        let compose = "services:\n  app:\n    build:\n      context: .\n      dockerfile_inline: |\n        FROM alpine\n        ADD http://169.254.169.254/latest/ /x\n";
        let isolated = isolate_builds(compose, "n", "http://p:1").unwrap();
        let [BuildFile::Inline(text)] = isolated.dockerfiles.as_slice() else {
            panic!("{:?}", isolated.dockerfiles);
        };
        assert_eq!(
            engine_fetched_sources(text),
            vec!["http://169.254.169.254/latest/"]
        );
    }

    #[test]
    fn add_urls_and_git_remotes_are_what_the_engine_fetches() {
        let dockerfile = "FROM python:3.12\n# ADD http://commented.example/x /x\nADD requirements.txt /app/\nadd --chown=1000 https://github.com/o/r/releases/download/v1/tool.tgz \\\n    http://169.254.169.254/latest/meta-data/ /opt/\nADD [\"https://files.example.org/a b\", \"/a\"]\nADD git@github.com:o/r.git /src\nCOPY https://not.fetched/x /x\n";
        assert_eq!(
            engine_fetched_sources(dockerfile),
            vec![
                "https://github.com/o/r/releases/download/v1/tool.tgz",
                "http://169.254.169.254/latest/meta-data/",
                "https://files.example.org/a",
                "git@github.com:o/r.git",
            ]
        );
    }

    #[test]
    fn the_host_of_a_source_is_read_without_user_port_or_path() {
        for (source, host) in [
            ("https://GitHub.com/o/r", "github.com"),
            ("http://169.254.169.254/latest", "169.254.169.254"),
            ("http://user:pw@10.0.0.5:8080/x", "10.0.0.5"),
            ("http://[fd00::1]:80/x", "fd00::1"),
            ("git@github.com:o/r.git", "github.com"),
        ] {
            assert_eq!(source_host(source).as_deref(), Some(host), "{source}");
        }
        assert_eq!(source_host("./local/file"), None);
    }
}
