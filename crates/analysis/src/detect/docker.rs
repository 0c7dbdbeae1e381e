//! Existing Docker setup: Dockerfiles (final stage's EXPOSE, ENV, CMD) and
//! compose files (services, their build contexts and published ports).

use std::collections::BTreeMap;

use super::command::join_exec_form;
use super::scan::{Found, Spot};
use super::value::port_number;
use super::view::{file_name, is_ignored_within, parent};
use crate::facts::DockerFileFacts;
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Default)]
pub(crate) struct Dockerfile {
    pub path: String,
    pub expose: Vec<Found<u16>>,
    pub env: BTreeMap<String, Found<String>>,
    /// ENTRYPOINT and CMD of the final stage, joined as a shell line.
    pub command: Option<Found<String>>,
    /// The final stage's base image.
    pub base: Option<String>,
    /// What `COPY` and `ADD` of any stage take from the build context
    /// (not from another stage), as written: `src`, `./api/`.
    pub copies: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct ComposeService {
    /// The compose file that defines it.
    pub file: String,
    pub name: String,
    /// Build context relative to the repository root (`""` for the root).
    pub context: Option<String>,
    pub dockerfile: Option<String>,
    /// Container-side ports of `ports:`/`expose:` entries.
    pub ports: Vec<Found<u16>>,
    /// Host-side ports of `ports:` entries.
    pub published: Vec<u16>,
    /// Variables the service's definition interpolates (`${DB_PASSWORD}`).
    pub interpolates: Vec<String>,
}

impl ComposeService {
    /// Builds another program's image from the app's folder
    /// (`dockerfile: maildev.Dockerfile` beside the app's `Dockerfile`): a
    /// helper, whose ports are not the app's. `app_dockerfile` is the one
    /// the app is built with, if known.
    pub fn builds_a_helper(&self, app_dockerfile: Option<&str>) -> bool {
        let Some(dockerfile) = self.dockerfile.as_deref() else {
            return false;
        };
        let name = file_name(dockerfile);
        !name.to_ascii_lowercase().starts_with("dockerfile")
            && app_dockerfile.is_none_or(|app| file_name(app) != name)
    }
}

pub(crate) struct DockerSetup {
    pub dockerfiles: Vec<Dockerfile>,
    pub services: Vec<ComposeService>,
    /// Every Dockerfile and compose file, repository-relative, sorted.
    pub files: Vec<String>,
}

/// Whether `name` (a file name, or a path, whose last part is used) names
/// a Dockerfile: `Dockerfile`, `Containerfile`, `Dockerfile.prod`,
/// `api.Dockerfile`.
pub fn is_dockerfile(name: &str) -> bool {
    let name = file_name(name);
    name == "Dockerfile"
        || name == "Containerfile"
        || name.starts_with("Dockerfile.")
        || name.ends_with(".Dockerfile")
        || name.ends_with(".dockerfile")
}

/// A Dockerfile for development (a dev server on mounted sources), told by
/// its own name or its folder's: `Dockerfile.dev`, `dev.Dockerfile`,
/// `Dockerfile.development`, `Dockerfile.local`, `docker/dev/Dockerfile`.
pub fn is_development_dockerfile(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    let development = |part: &str| matches!(part, "dev" | "development" | "local" | "develop");
    let name = file_name(&path);
    let folder = parent(&path).rsplit('/').next().unwrap_or_default();
    is_workspace_dockerfile(&path)
        || name.split(['.', '-', '_']).any(development)
        || development(folder)
}

/// A Gitpod workspace's or a dev container's Dockerfile: it holds the
/// developer's tools, never the app, even when it is the only one.
fn is_workspace_dockerfile(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    file_name(&path).starts_with(".gitpod")
        || parent(&path)
            .split('/')
            .any(|part| matches!(part, ".devcontainer" | ".gitpod" | "devcontainer"))
}

pub(crate) fn is_compose(name: &str) -> bool {
    let stem = name
        .strip_suffix(".yml")
        .or_else(|| name.strip_suffix(".yaml"));
    stem.is_some_and(|s| {
        s == "compose"
            || s == "docker-compose"
            || s.starts_with("docker-compose.")
            || s.starts_with("compose.")
    })
}

/// The Docker and compose files of `snapshot`; those of `named`, a folder
/// the description names, count whatever the folder is called.
pub(crate) fn scan(snapshot: &Snapshot, named: Option<&str>) -> DockerSetup {
    let mut setup = DockerSetup {
        dockerfiles: Vec::new(),
        services: Vec::new(),
        files: Vec::new(),
    };
    for file in &snapshot.files {
        let name = file_name(&file.path);
        if is_ignored_within(&file.path, named) || !(is_dockerfile(name) || is_compose(name)) {
            continue;
        }
        setup.files.push(file.path.clone());
        let text = file.content.as_deref().unwrap_or_default();
        if is_dockerfile(name) {
            setup.dockerfiles.push(parse_dockerfile(&file.path, text));
        } else {
            setup.services.extend(parse_compose(&file.path, text));
        }
    }
    setup
}

impl DockerSetup {
    /// The Dockerfile that builds the app in `dir`: its own, one in a
    /// `docker/` or `deploy/` folder beside it, or the one a compose service
    /// builds from `dir`.
    pub fn for_app(&self, dir: &str) -> Option<&Dockerfile> {
        let join = |rel: &str| {
            if dir.is_empty() {
                rel.to_owned()
            } else {
                format!("{dir}/{rel}")
            }
        };
        let by_path = |path: &str| self.dockerfiles.iter().find(|d| d.path == path);
        [
            "Dockerfile",
            "Containerfile",
            "docker/Dockerfile",
            "deploy/Dockerfile",
            "Dockerfile.prod",
            "Dockerfile.production",
        ]
        .iter()
        .find_map(|rel| by_path(&join(rel)))
        .or_else(|| {
            self.services
                .iter()
                .filter(|s| s.context.as_deref() == Some(dir))
                .find_map(|s| {
                    let rel = s.dockerfile.as_deref().unwrap_or("Dockerfile");
                    by_path(&super::view::join_rel(dir, rel))
                })
                .filter(|d| !is_development_dockerfile(&d.path))
        })
        .or_else(|| {
            // A production image (`prod.Dockerfile`) over a development
            // one (`dev.Dockerfile`, which a compose file may build).
            let in_dir = || {
                self.dockerfiles
                    .iter()
                    .filter(|d| parent(&d.path) == dir && !is_workspace_dockerfile(&d.path))
            };
            in_dir()
                .find(|d| !is_development_dockerfile(&d.path))
                .or_else(|| in_dir().next())
        })
        .or_else(|| self.copying_from_above(dir))
    }

    /// A Dockerfile in a folder above `dir` that copies `dir` in (`COPY
    /// src /src` at the root for an app in `src/`), the nearest first.
    fn copying_from_above(&self, dir: &str) -> Option<&Dockerfile> {
        if dir.is_empty() {
            return None;
        }
        let mut above = dir;
        while !above.is_empty() {
            above = parent(above);
            let rel = if above.is_empty() {
                dir
            } else {
                &dir[above.len() + 1..]
            };
            let copies_app = |d: &&Dockerfile| {
                d.copies.iter().any(|source| {
                    let source = source
                        .trim_start_matches("./")
                        .trim_end_matches("/.")
                        .trim_end_matches('/');
                    source == rel || source.starts_with(&format!("{rel}/"))
                })
            };
            if let Some(found) = self
                .dockerfiles
                .iter()
                .filter(|d| parent(&d.path) == above && !is_development_dockerfile(&d.path))
                .find(copies_app)
            {
                return Some(found);
            }
        }
        None
    }

    /// Each Docker file with the ports it exposes or publishes.
    pub fn summaries(&self) -> Vec<DockerFileFacts> {
        self.files
            .iter()
            .map(|path| {
                if let Some(df) = self.dockerfiles.iter().find(|d| &d.path == path) {
                    return DockerFileFacts {
                        path: path.clone(),
                        kind: "dockerfile".to_owned(),
                        ports: df.expose.iter().map(|p| p.value).collect(),
                        published: Vec::new(),
                    };
                }
                let services = || self.services.iter().filter(|s| s.file == *path);
                DockerFileFacts {
                    path: path.clone(),
                    kind: "compose".to_owned(),
                    ports: services()
                        .flat_map(|s| s.ports.iter().map(|p| p.value))
                        .collect(),
                    published: services()
                        .flat_map(|s| s.published.iter().copied())
                        .collect(),
                }
            })
            .collect()
    }

    /// Compose services that build the app in `dir`.
    pub fn services_for(&self, dir: &str) -> impl Iterator<Item = &ComposeService> {
        self.services
            .iter()
            .filter(move |s| s.context.as_deref() == Some(dir))
    }
}

/// Instructions with continuation lines joined, each with its first line.
fn instructions(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut current: Option<(u32, String)> = None;
    for (line, n) in text.lines().zip(1..) {
        let trimmed = line.trim();
        if trimmed.starts_with('#') && current.is_none() {
            continue;
        }
        let (body, continues) = match trimmed.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (trimmed, false),
        };
        match &mut current {
            Some((_, acc)) => {
                acc.push(' ');
                acc.push_str(body.trim());
            }
            None if body.is_empty() => continue,
            None => current = Some((n, body.to_owned())),
        }
        if !continues && let Some(done) = current.take() {
            out.push(done);
        }
    }
    out.extend(current);
    out
}

/// A value that is one `$NAME` or `${NAME}`: the ARG default or earlier ENV
/// it names, `None` when neither gives one. Other values stay as written.
fn expand_whole_reference(
    value: String,
    args: &BTreeMap<String, String>,
    env: &BTreeMap<String, Found<String>>,
) -> Option<String> {
    let Some(c) = re!(r"^\$(?:\{(\w+)\}|(\w+))$").captures(&value) else {
        return Some(value);
    };
    let name = c.get(1).or_else(|| c.get(2))?.as_str();
    args.get(name)
        .cloned()
        .or_else(|| env.get(name).map(|v| v.value.clone()))
}

/// Whether a script (an image's `ENTRYPOINT`) ends by running the command
/// it is given (`exec "$@"`): it sets up, then runs its arguments, and
/// given none exits.
pub fn ends_by_running_its_arguments(script: &str) -> bool {
    script
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty() && !line.starts_with('#'))
        .is_some_and(|last| {
            matches!(
                last,
                "exec \"$@\"" | "exec \"${@}\"" | "exec $@" | "exec ${@}"
            )
        })
}

pub(crate) fn parse_dockerfile(path: &str, text: &str) -> Dockerfile {
    let mut stages: BTreeMap<String, Dockerfile> = BTreeMap::new();
    let mut stage = Dockerfile::default();
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    let mut entrypoint: Option<(u32, String)> = None;
    let mut cmd: Option<(u32, String)> = None;
    let mut current_alias: Option<String> = None;
    let mut copies = Vec::new();
    for (n, instruction) in instructions(text) {
        let (keyword, rest) = instruction
            .split_once(char::is_whitespace)
            .unwrap_or((&instruction, ""));
        let rest = rest.trim();
        match keyword.to_ascii_uppercase().as_str() {
            "FROM" => {
                let mut words = rest.split_whitespace().filter(|w| !w.starts_with("--"));
                let image = words.next().unwrap_or_default().to_owned();
                let alias = match (words.next(), words.next()) {
                    (Some(kw), Some(alias)) if kw.eq_ignore_ascii_case("as") => {
                        Some(alias.to_owned())
                    }
                    _ => None,
                };
                if let Some(finished) = current_alias.take() {
                    stages.insert(finished, stage.clone());
                }
                // A stage built FROM an earlier stage inherits its settings.
                match stages.get(&image) {
                    Some(earlier) => stage = earlier.clone(),
                    None => {
                        stage = Dockerfile::default();
                        stage.base = Some(image);
                    }
                }
                current_alias = alias;
                entrypoint = None;
                cmd = None;
            }
            "ARG" => {
                if let Some((k, v)) = rest.split_once('=') {
                    args.insert(k.trim().to_owned(), v.trim().trim_matches('"').to_owned());
                }
            }
            "ENV" => {
                for (k, v) in env_pairs(rest) {
                    // `ENV X $X` of an ARG with no default sets nothing.
                    let Some(v) = expand_whole_reference(v, &args, &stage.env) else {
                        continue;
                    };
                    stage.env.insert(
                        k.clone(),
                        Found::new(v, Spot::at(path, n, format!("ENV {k}"))),
                    );
                }
            }
            "EXPOSE" => {
                for token in rest.split_whitespace() {
                    let token = token.split('/').next().unwrap_or(token);
                    let name = token.trim_start_matches('$').trim_matches(['{', '}']);
                    let value = port_number(token)
                        .or_else(|| stage.env.get(name).and_then(|v| port_number(&v.value)))
                        .or_else(|| args.get(name).and_then(|v| port_number(v)));
                    if let Some(port) = value {
                        stage.expose.push(Found::new(
                            port,
                            Spot::at(path, n, format!("EXPOSE {rest}")),
                        ));
                    }
                }
            }
            "COPY" | "ADD" => copies.extend(context_sources(rest)),
            "ENTRYPOINT" => entrypoint = Some((n, exec_or_shell(rest))),
            "CMD" => cmd = Some((n, exec_or_shell(rest))),
            _ => {}
        }
        if keyword.eq_ignore_ascii_case("ENTRYPOINT") || keyword.eq_ignore_ascii_case("CMD") {
            let line = cmd.as_ref().or(entrypoint.as_ref()).map_or(n, |(l, _)| *l);
            let joined = [entrypoint.as_ref(), cmd.as_ref()]
                .into_iter()
                .flatten()
                .map(|(_, c)| c.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            stage.command = Some(Found::new(joined.clone(), Spot::at(path, line, joined)));
        }
    }
    stage.path = path.to_owned();
    stage.copies = copies;
    stage
}

/// The sources of a `COPY`/`ADD` taken from the build context: every word
/// but the destination, flags left out; none when it copies from a stage.
fn context_sources(rest: &str) -> Vec<String> {
    let mut rest = rest.trim();
    while rest.starts_with("--") {
        let (flag, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if flag.starts_with("--from") {
            return Vec::new();
        }
        rest = after.trim_start();
    }
    let words: Vec<String> = if rest.starts_with('[') {
        serde_json::from_str(rest).unwrap_or_default()
    } else {
        rest.split_whitespace().map(str::to_owned).collect()
    };
    match words.split_last() {
        Some((_, sources)) => sources.to_vec(),
        None => Vec::new(),
    }
}

fn exec_or_shell(rest: &str) -> String {
    join_exec_form(rest).unwrap_or_else(|| rest.to_owned())
}

/// `ENV A=1 B="two"` or the old `ENV A 1`.
fn env_pairs(rest: &str) -> Vec<(String, String)> {
    if !rest
        .split_whitespace()
        .next()
        .is_some_and(|w| w.contains('='))
    {
        let (k, v) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        return vec![(k.to_owned(), v.trim().trim_matches('"').to_owned())];
    }
    let re = re!(r#"(\w+)=("[^"]*"|'[^']*'|\S*)"#);
    re.captures_iter(rest)
        .filter_map(|c| {
            let k = c.get(1)?.as_str().to_owned();
            let v = c.get(2)?.as_str().trim_matches(['"', '\'']).to_owned();
            Some((k, v))
        })
        .collect()
}

/// Services of a compose file, read by indentation (no YAML parser).
pub(crate) fn parse_compose(path: &str, text: &str) -> Vec<ComposeService> {
    let base = parent(path);
    let mut services: Vec<ComposeService> = Vec::new();
    let mut in_services = false;
    let mut service_indent: Option<usize> = None;
    // The key of the service's mapping the current line is under.
    let mut section = String::new();
    for (line, n) in text.lines().zip(1..) {
        let content = line.split(" #").next().unwrap_or(line).trim_end();
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = content.len() - trimmed.len();
        if indent == 0 {
            in_services = trimmed.starts_with("services:");
            service_indent = None;
            continue;
        }
        if !in_services {
            continue;
        }
        let indent_of_service = *service_indent.get_or_insert(indent);
        if indent == indent_of_service {
            let name = trimmed
                .trim_end_matches(':')
                .trim_matches(['"', '\''])
                .to_owned();
            services.push(ComposeService {
                file: path.to_owned(),
                name,
                context: None,
                dockerfile: None,
                ports: Vec::new(),
                published: Vec::new(),
                interpolates: Vec::new(),
            });
            section.clear();
            continue;
        }
        let Some(service) = services.last_mut() else {
            continue;
        };
        let interpolation = re!(r"\$\{([A-Za-z_][A-Za-z0-9_]*)");
        for c in interpolation.captures_iter(trimmed) {
            let name = c[1].to_owned();
            if !service.interpolates.contains(&name) {
                service.interpolates.push(name);
            }
        }
        let (key, value) = trimmed
            .split_once(':')
            .map_or((trimmed, ""), |(k, v)| (k.trim(), v.trim()));
        let item = trimmed
            .strip_prefix("- ")
            .map(|i| i.trim().trim_matches(['"', '\'']));
        match (key, item) {
            ("build", None) => {
                section = "build".to_owned();
                if !value.is_empty() {
                    service.context = Some(super::view::join_rel(base, value));
                }
            }
            ("context", None) if section == "build" => {
                service.context = Some(super::view::join_rel(base, value))
            }
            ("dockerfile", None) if section == "build" => {
                service.dockerfile = Some(value.trim_matches(['"', '\'']).to_owned())
            }
            ("ports" | "expose", None) => section = "ports".to_owned(),
            ("target", None) if section == "ports" => push_port(service, value, path, n),
            ("published", None) if section == "ports" => push_published(service, value),
            (_, Some(item)) if section == "ports" => {
                let item = item.strip_prefix("target:").unwrap_or(item);
                let mut parts = item.rsplit(':');
                push_port(service, parts.next().unwrap_or(item), path, n);
                if let Some(host) = parts.next() {
                    push_published(service, host);
                }
            }
            (_, None) if indent <= indent_of_service + 2 => section = key.to_owned(),
            _ => {}
        }
    }
    services
}

fn push_published(service: &mut ComposeService, value: &str) {
    let value = value.trim().trim_matches(['"', '\'']);
    if let Some(port) = port_number(value.split('-').next().unwrap_or(value)) {
        service.published.push(port);
    }
}

fn push_port(service: &mut ComposeService, value: &str, path: &str, line: u32) {
    let value = value.trim().trim_matches(['"', '\'']);
    let port = value
        .split('/')
        .next()
        .unwrap_or(value)
        .split('-')
        .next()
        .unwrap_or(value);
    if let Some(port) = port_number(port) {
        service.ports.push(Found::new(
            port,
            Spot::at(path, line, format!("{} port {value}", service.name)),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_stage_wins_and_inherits() {
        let text = "FROM mcr.microsoft.com/dotnet/aspnet:8.0 AS base\nEXPOSE 8080\n\nFROM sdk AS build\nEXPOSE 9999\nCMD [\"x\"]\n\nFROM base AS final\nENTRYPOINT [\"dotnet\", \"Api.dll\"]\n";
        let d = parse_dockerfile("Dockerfile", text);
        assert_eq!(d.expose.iter().map(|e| e.value).collect::<Vec<_>>(), [8080]);
        assert_eq!(
            d.command.map(|c| c.value).as_deref(),
            Some("dotnet Api.dll")
        );
    }

    #[test]
    fn entrypoint_and_cmd_join_and_env_resolves_expose() {
        let text = "FROM ruby\nENV RAILS_ENV=\"production\" \\\n    PORT=3000\nENTRYPOINT [\"/rails/bin/docker-entrypoint\"]\nEXPOSE $PORT\nCMD [\"./bin/rails\", \"server\"]\n";
        let d = parse_dockerfile("Dockerfile", text);
        assert_eq!(
            d.command.as_ref().map(|c| c.value.as_str()),
            Some("/rails/bin/docker-entrypoint ./bin/rails server")
        );
        assert_eq!(d.command.and_then(|c| c.at.line), Some(6));
        assert_eq!(
            d.env.get("RAILS_ENV").map(|v| v.value.as_str()),
            Some("production")
        );
        assert_eq!(d.expose.first().map(|e| e.value), Some(3000));
    }

    #[test]
    fn an_env_copied_from_an_arg_without_a_default_sets_nothing() {
        let text = "FROM python\nARG RELEASE=1.2\nARG APP_NAME\nENV APP_NAME $APP_NAME\nENV RELEASE=${RELEASE} MODE=web\n";
        let d = parse_dockerfile("Dockerfile", text);
        let env: Vec<(&str, &str)> = d
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(env, [("MODE", "web"), ("RELEASE", "1.2")]);
    }

    #[test]
    fn compose_services_contexts_and_ports() {
        let text = "services:\n  backend:\n    build: ./backend\n    ports:\n      - \"8000:8000\"\n  web:\n    build:\n      context: ./frontend\n      dockerfile: Dockerfile.prod\n    ports:\n      - 5173:80\n  db:\n    image: postgres\n";
        let services = parse_compose("docker-compose.yml", text);
        let names: Vec<_> = services
            .iter()
            .map(|s| (s.name.as_str(), s.context.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("backend", Some("backend")),
                ("web", Some("frontend")),
                ("db", None)
            ]
        );
        assert_eq!(services[1].dockerfile.as_deref(), Some("Dockerfile.prod"));
        assert_eq!(services[1].ports[0].value, 80);
        assert_eq!(services[1].published, [5173]);
        assert_eq!(
            parse_compose("compose.yaml", "services:\n  api:\n    build: .\n")[0]
                .context
                .as_deref(),
            Some("")
        );
    }

    #[test]
    fn compose_file_names() {
        assert!(is_compose("docker-compose.yml"));
        assert!(is_compose("compose.yaml"));
        assert!(is_compose("docker-compose.prod.yaml"));
        assert!(!is_compose("config.yml"));
        assert!(is_dockerfile("Dockerfile.dev"));
    }

    #[test]
    fn development_dockerfiles_are_told_by_their_name_or_folder() {
        for path in [
            "Dockerfile.dev",
            "api/dev.Dockerfile",
            "Dockerfile-development",
            "docker/dev/Dockerfile",
            "Dockerfile.local",
            ".gitpod.dockerfile",
            ".devcontainer/Dockerfile",
        ] {
            assert!(is_development_dockerfile(path), "{path}");
        }
        for path in [
            "Dockerfile",
            "apps/dev-portal/Dockerfile",
            "devtools/Dockerfile",
            "Dockerfile.prod",
        ] {
            assert!(!is_development_dockerfile(path), "{path}");
        }
    }
}
