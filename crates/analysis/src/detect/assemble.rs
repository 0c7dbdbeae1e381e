//! Turns the chosen app's detection, its Docker setup and its env reads
//! into the [`Analysis`] with evidence for every fact.

use super::App;
use super::command::{CommandFacts, apply_config_address, read_command};
use super::deny;
use super::detection::{Detection, Kind};
use super::docker::{DockerSetup, Dockerfile};
use super::env;
use super::routes::health_path;
use super::scan::{Found, Spot, line_at};
use super::value::{is_loopback, port_number};
use super::view::{AppView, file_name};
use crate::facts::{Analysis, AppCandidate, BindAddress};
use crate::snapshot::{FileEntry, Snapshot};

pub(crate) fn nothing(docker: &DockerSetup) -> Analysis {
    Analysis {
        http: false,
        deny_reason: Some(deny::nothing_found()),
        language: None,
        runtime: None,
        framework: None,
        subdir: ".".to_owned(),
        port: None,
        port_env: None,
        bind: BindAddress {
            host: None,
            loopback_only: false,
            fix: None,
        },
        start_command: None,
        build_command: None,
        required_env: Vec::new(),
        env: Vec::new(),
        dockerized: false,
        docker_files: docker.files.clone(),
        docker: docker.summaries(),
        datastores: Vec::new(),
        mysql_native_password: false,
        postgres_tls_by_default: false,
        app_dir_named: false,
        workers: Vec::new(),
        health_path: None,
        apps: Vec::new(),
        notes: Vec::new(),
        evidence: vec![Spot::file(".", "no source files or manifests recognised").evidence("deny")],
    }
}

pub(crate) fn build(
    snapshot: &Snapshot,
    docker: &DockerSetup,
    apps: &[App<'_>],
    chosen: usize,
    note: Option<String>,
) -> Analysis {
    let App { view, detection: d } = &apps[chosen];
    let mut a = nothing(docker);
    a.deny_reason = None;
    a.evidence.clear();
    a.runtime = Some(runtime_of(d).to_owned());
    a.language = Some(code_language(view, d));
    a.framework = d.framework.map(str::to_owned);
    a.subdir = view.subdir().to_owned();
    a.http = d.kind.serves_http();
    a.evidence.push(d.language_at.evidence("language"));
    if d.framework.is_some() {
        a.evidence.push(d.kind_at.evidence("framework"));
    }
    if !view.dir.is_empty() {
        a.evidence.push(d.kind_at.evidence("subdir"));
    }
    if a.http {
        a.evidence.push(d.kind_at.evidence("http"));
    } else {
        a.deny_reason = Some(deny::reason(d));
        a.evidence.push(d.kind_at.evidence("deny"));
    }
    if apps.len() > 1 {
        a.apps = apps
            .iter()
            .filter(|app| app.detection.kind != Kind::Unknown)
            .map(|app| AppCandidate {
                subdir: app.view.subdir().to_owned(),
                language: Some(code_language(&app.view, &app.detection)),
                framework: app.detection.framework.map(str::to_owned),
                http: app.detection.kind.serves_http(),
            })
            .collect();
    }
    a.notes.extend(note);
    let dockerfile = docker.for_app(&view.dir);
    a.dockerized = dockerfile.is_some();
    for file in &docker.files {
        a.evidence
            .push(Spot::file(file, "Docker file").evidence("docker"));
    }
    if a.http {
        serving(&mut a, view, d, docker, dockerfile);
    }
    environment(&mut a, snapshot, view, d, docker, dockerfile);
    for store in super::datastores::scan(view) {
        a.evidence
            .push(store.at.evidence(&format!("datastore:{}", store.kind)));
        a.datastores.push(store.kind.to_owned());
    }
    if let Some(client) = super::datastores::native_password_client(view) {
        a.evidence
            .push(client.evidence("datastore:mysql-native-password"));
        a.mysql_native_password = true;
    }
    if let Some(client) = super::datastores::tls_by_default_client(view) {
        a.evidence.push(client.evidence("datastore:postgres-tls"));
        a.postgres_tls_by_default = true;
    }
    a.notes.extend(d.notes.iter().cloned());
    a
}

/// What runs the app: detections name Node.js apps written in TypeScript
/// `typescript`.
/// What runs the app: a site built to files (Vite, a Next.js export) is
/// served by a web server, whatever language built it.
fn runtime_of(d: &Detection) -> &'static str {
    match d.language {
        _ if d.kind == Kind::Static => "static",
        "typescript" => "node",
        runtime => runtime,
    }
}

/// The language of the code, apart from what runs it: JavaScript or
/// TypeScript on Node.js, Deno and Bun (and in a built static site),
/// HTML for a site of plain files.
fn code_language(view: &AppView<'_>, d: &Detection) -> String {
    let typed = || {
        view.has("tsconfig.json")
            || view.files.iter().any(|f| {
                (f.path.ends_with(".ts") && !f.path.ends_with(".d.ts")) || f.path.ends_with(".tsx")
            })
    };
    match d.language {
        "typescript" => "typescript",
        "node" | "deno" | "bun" if typed() => "typescript",
        "node" | "deno" | "bun" => "javascript",
        "static" if view.has("package.json") => {
            if typed() {
                "typescript"
            } else {
                "javascript"
            }
        }
        "static" => "html",
        other => other,
    }
    .to_owned()
}

/// The port the Dockerfile's base image makes the framework listen on
/// (an official .NET image sets Kestrel's).
fn image_port(d: &Detection, dockerfile: Option<&Dockerfile>) -> Option<Found<u16>> {
    if d.framework != Some("aspnet-core") {
        return None;
    }
    let dockerfile = dockerfile?;
    let image = dockerfile.base.as_deref()?;
    let port = super::dotnet::image_port(image)?;
    Some(Found::new(
        port,
        Spot::file(&dockerfile.path, format!("{image} listens on {port}")),
    ))
}

/// Start command, port, port env and bind address.
fn serving(
    a: &mut Analysis,
    view: &AppView<'_>,
    d: &Detection,
    docker: &DockerSetup,
    dockerfile: Option<&Dockerfile>,
) {
    let launch = Launch::new(view, d, dockerfile);
    let port_env = launch.port_env();
    let expose = dockerfile.and_then(|df| df.expose.first().cloned());
    let compose = docker
        .services_for(&view.dir)
        .filter(|s| !s.builds_a_helper(dockerfile.map(|df| df.path.as_str())))
        .find_map(|s| s.ports.first().cloned());
    // PHP-FPM speaks FastCGI, not HTTP: nginx in front of it is the server.
    let nginx = || {
        (d.language == "php")
            .then(|| super::php::nginx_port(view))
            .flatten()
    };
    // Puma binds its own default (or its config's port) whatever the
    // Dockerfile's EXPOSE documents, and nothing rewrites its command.
    let puma = launch
        .facts
        .runner
        .filter(|r| r.name == "puma")
        .and_then(|_| launch.default_port());
    let port = launch
        .port(port_env.as_ref())
        .or(puma)
        .or(expose
            .clone()
            .filter(|e| !(d.language == "php" && e.value == 9000)))
        .or(compose.filter(|c| !(d.language == "php" && c.value == 9000)))
        .or_else(nginx)
        .or_else(|| port_variable_default(view))
        .or_else(|| image_port(d, dockerfile))
        .or_else(|| launch.default_port());
    if let (Some(port), Some(expose)) = (&port, &expose)
        && port.value != expose.value
    {
        a.notes.push(format!(
            "The Dockerfile EXPOSEs {} ({}) but the app listens on {} ({}).",
            expose.value,
            expose.at.cite(),
            port.value,
            port.at.cite()
        ));
    }
    if let Some(port) = &port {
        a.port = Some(port.value);
        a.evidence.push(port.at.evidence("port"));
    }
    if let Some(env) = &port_env {
        a.port_env = Some(env.value.clone());
        a.evidence.push(env.at.evidence("port_env"));
    }
    let port_text = a.port.map_or_else(|| "8080".to_owned(), |p| p.to_string());
    a.bind = bind(
        d,
        &launch.facts,
        launch.start.as_ref(),
        &port_text,
        launch.production(),
    );
    if let Some(at) = bind_spot(d, &launch.facts, launch.start.as_ref()) {
        a.evidence.push(at.evidence("bind"));
    }
    let start = launch.start.or_else(|| {
        d.start_derived.as_ref().map(|cmd| {
            let at = d
                .kind_at
                .with_detail("derived from the framework's conventions");
            Found::new(cmd.replace("{port}", &port_text), at)
        })
    });
    if let Some(start) = start {
        a.start_command = Some(start.value.clone());
        a.evidence.push(start.at.evidence("start_command"));
    } else if d.kind == Kind::Static {
        a.start_command = Some("nginx -g 'daemon off;'".to_owned());
        let at = d.kind_at.with_detail("static files served by nginx");
        a.evidence.push(at.evidence("start_command"));
    }
    a.build_command = d.build.as_ref().map(|b| b.replace("{port}", &port_text));
    workers(a, view);
    if let Some(health) = health_path(view).or_else(|| d.health.clone()) {
        a.health_path = Some(health.value);
        a.evidence.push(health.at.evidence("health_path"));
    }
}

/// How the app is started, and what that says about its port.
struct Launch<'a> {
    d: &'a Detection,
    view: &'a AppView<'a>,
    start: Option<Found<String>>,
    facts: CommandFacts,
    dockerfile: Option<&'a Dockerfile>,
}

impl<'a> Launch<'a> {
    fn new(view: &'a AppView<'a>, d: &'a Detection, dockerfile: Option<&'a Dockerfile>) -> Self {
        let start = start_command(view, d, dockerfile);
        let mut facts = start
            .as_ref()
            .map(|s| command_facts(&s.value, d))
            .unwrap_or_default();
        if facts.runner.is_none()
            && let Some(script) = start
                .as_ref()
                .and_then(|s| start_script(view, &s.value, dockerfile))
        {
            facts = command_facts(&script, d);
        }
        if let Some(address) = &d.runner_address
            && facts.runner.is_some_and(|r| r.name == "gunicorn")
        {
            apply_config_address(&mut facts, &address.value);
        }
        Self {
            d,
            view,
            start,
            facts,
            dockerfile,
        }
    }

    /// The code's port and address count unless a server program (uvicorn,
    /// gunicorn...) runs the app instead of the code's own run call.
    /// A proxy runner (Thruster) that listens on its own port hides the
    /// code's port whatever the detection found.
    fn code_applies(&self) -> bool {
        match self.facts.runner {
            None => true,
            Some(runner) if runner.port_env.is_some() => false,
            Some(_) => self.d.start.is_none(),
        }
    }

    /// A value the start command or the Dockerfile gives an env var.
    fn env_value(&self, name: &str) -> Option<(String, Option<Spot>)> {
        let from_command = self.facts.env.iter().find(|(k, _)| k == name);
        if let Some((_, value)) = from_command {
            return Some((value.clone(), self.start.as_ref().map(|s| s.at.clone())));
        }
        let from_dockerfile = self.dockerfile.and_then(|df| df.env.get(name))?;
        Some((
            from_dockerfile.value.clone(),
            Some(from_dockerfile.at.clone()),
        ))
    }

    fn production(&self) -> bool {
        ["RAILS_ENV", "RACK_ENV", "APP_ENV"]
            .iter()
            .any(|k| self.env_value(k).is_some_and(|(v, _)| v == "production"))
    }

    /// The env var that sets the port: a flag's `$PORT`, else the code's.
    fn port_env(&self) -> Option<Found<String>> {
        let from_flag = self.facts.port.as_ref().and_then(|p| p.env.clone());
        let from_runner = self
            .facts
            .runner
            .and_then(|r| r.port_env)
            .map(str::to_owned);
        match (from_flag.or(from_runner), &self.start) {
            (Some(env), Some(start)) => Some(Found::new(env, start.at.clone())),
            _ => self.d.port_env.clone().filter(|_| self.code_applies()),
        }
    }

    /// A port flag, then a value the deployment gives the port variable,
    /// then the code's own port.
    fn port(&self, port_env: Option<&Found<String>>) -> Option<Found<u16>> {
        let flag = self.facts.port.as_ref().and_then(|p| p.port());
        if let (Some(port), Some(start)) = (flag, &self.start) {
            return Some(Found::new(port, start.at.clone()));
        }
        let overridden = port_env.and_then(|env| {
            let (value, at) = self.env_value(&env.value)?;
            let at = at.unwrap_or_else(|| env.at.clone());
            let port = port_number(&value)?;
            Some(Found::new(
                port,
                at.with_detail(format!("{}={value}", env.value)),
            ))
        });
        let from_code = || self.d.port.clone().filter(|_| self.code_applies());
        // `app.listen(env.API_PORT)` with no default in code: the example
        // file's `API_PORT=5000` is the port the app is written for.
        let from_example = || {
            let env = port_env?;
            let (value, at) = super::env::example_value(self.view, &env.value)?;
            let port = port_number(&value)?;
            Some(Found::new(
                port,
                at.with_detail(format!("{}={value}", env.value)),
            ))
        };
        overridden.or_else(from_code).or_else(from_example)
    }

    /// The server program's default port, else the framework's.
    fn default_port(&self) -> Option<Found<u16>> {
        let runner = self
            .facts
            .runner
            .and_then(|r| Some((r.name, r.default_port?)));
        if let (Some((name, port)), Some(start)) = (runner, &self.start) {
            return Some(Found::new(
                port,
                start.at.with_detail(format!("{name}'s default port")),
            ));
        }
        let name = self.d.framework.unwrap_or(self.d.language);
        let at = self.d.kind_at.with_detail(format!("{name}'s default port"));
        self.d.default_port.map(|port| Found::new(port, at))
    }
}

/// The default the code gives `PORT` where the listen call reads it
/// through a config module (`port: process.env.PORT || 8000` in
/// `env-config.ts`, then `app.listen(config.port)`): what the app listens
/// on when `PORT` is unset. Only when every such default agrees.
fn port_variable_default(view: &AppView<'_>) -> Option<Found<u16>> {
    let re = re!(
        r#"(?:process\.env\.PORT|process\.env\[\s*["']PORT["']\s*\])\s*(?:\|\||\?\?)\s*["']?(\d{2,5})\b|\b(?:os\.getenv|os\.environ\.get|environ\.get)\(\s*["']PORT["']\s*,\s*["']?(\d{2,5})\b|\bENV\.fetch\(\s*["']PORT["']\s*\)\s*\{\s*(\d{2,5})\s*\}"#
    );
    let mut found: Vec<Found<u16>> = Vec::new();
    // A bundler's or tool's config (`vite.config.ts`'s dev server port) is
    // not the app's server.
    let tool_config = |path: &str| file_name(path).contains(".config.");
    for file in view.files.iter().filter(|f| !tool_config(&f.path)) {
        for hit in super::scan::hits(file, re) {
            let port = (1..=3)
                .find_map(|i| hit.group(i))
                .and_then(|p| p.parse::<u16>().ok());
            if let Some(port) = port {
                found.push(Found::new(
                    port,
                    hit.spot().with_detail(format!("PORT defaults to {port}")),
                ));
            }
        }
    }
    let first = found.first()?.clone();
    found
        .iter()
        .all(|f| f.value == first.value)
        .then_some(first)
}

/// What starts the app: the Dockerfile's command when it has one, then a
/// Procfile's `web:`, then what the code implies.
fn start_command(
    view: &AppView<'_>,
    d: &Detection,
    dockerfile: Option<&Dockerfile>,
) -> Option<Found<String>> {
    if let Some(cmd) = dockerfile.and_then(|df| df.command.clone())
        && !runs_only_its_arguments(view, &cmd.value)
    {
        return Some(cmd);
    }
    if let Some(procfile) = view.file("Procfile")
        && let Some(text) = procfile.content.as_deref()
        && let Some(m) = re!(r"(?m)^web:\s*(.+)$")
            .captures(text)
            .and_then(|c| c.get(1))
        // A buildpack's own server (`vendor/bin/heroku-php-apache2`,
        // `bin/start-nginx`) exists only on that platform's image.
        && !re!(r"\bheroku-php-|\bvendor/bin/heroku-|\bbin/start-(?:nginx|pgbouncer)").is_match(m.as_str())
    {
        let line = line_at(text, m.start());
        return Some(Found::new(
            m.as_str().trim().to_owned(),
            Spot::at(&procfile.path, line, "Procfile web process"),
        ));
    }
    d.start.clone()
}

/// The Procfile's processes besides `web` that keep running beside it
/// (`worker: celery -A proj worker`); `release` runs once per deploy and
/// is a migration, not a process, and so does a one-shot step named as one
/// (`init`, `setup`, `seed`…). A process whose script is not in the
/// repository is left out too, with a note: it would restart forever.
fn workers(a: &mut Analysis, view: &AppView<'_>) {
    let Some(procfile) = view.file("Procfile") else {
        return;
    };
    let Some(text) = procfile.content.as_deref() else {
        return;
    };
    for caps in re!(r"(?m)^([A-Za-z0-9_-]+):[ \t]*(\S.*?)\s*$").captures_iter(text) {
        let (Some(name), Some(command)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        if matches!(
            name.as_str(),
            "web"
                | "release"
                | "console"
                | "repl"
                | "init"
                | "setup"
                | "seed"
                | "migrate"
                | "bootstrap"
                | "postdeploy"
        ) {
            continue;
        }
        let line = line_at(text, name.start());
        if let Some(script) = missing_script(view, command.as_str()) {
            a.notes.push(format!(
                "The Procfile's `{}` process runs {script}, which is not in the repository: it is not run beside the app.",
                name.as_str()
            ));
            continue;
        }
        a.workers.push(crate::facts::Worker {
            name: name.as_str().to_owned(),
            command: command.as_str().to_owned(),
        });
        a.evidence.push(
            Spot::at(
                &procfile.path,
                line,
                format!("Procfile {} process", name.as_str()),
            )
            .evidence(&format!("worker:{}", name.as_str())),
        );
    }
}

/// The script file a command runs through its interpreter (`python
/// create_db.py`, `node jobs/sync.js`, `./bin/worker.sh`) when the
/// repository does not hold it.
fn missing_script(view: &AppView<'_>, command: &str) -> Option<String> {
    let mut words = command.split_whitespace();
    let first = words.next()?;
    let interpreter = matches!(
        file_name(first),
        "python" | "python3" | "node" | "ruby" | "php" | "bash" | "sh"
    );
    let script = if interpreter {
        words.find(|w| !w.starts_with('-'))?
    } else {
        first
    };
    let path = script.trim_start_matches("./");
    let is_script = [".py", ".js", ".mjs", ".cjs", ".rb", ".php", ".sh"]
        .iter()
        .any(|ext| path.ends_with(ext));
    (is_script && !path.contains('$') && view.file(path).is_none()).then(|| format!("`{path}`"))
}

/// An `ENTRYPOINT` script with no `CMD` after it that ends by running its
/// arguments (`exec "$@"`): it migrates, then runs what it is given, and
/// is given nothing. It is no start command of the app.
fn runs_only_its_arguments(view: &AppView<'_>, command: &str) -> bool {
    let mut words = command.split_whitespace();
    let (Some(program), None) = (words.next(), words.next()) else {
        return false;
    };
    let parts: Vec<&str> = program.trim_start_matches("./").split('/').collect();
    let script = (0..parts.len())
        .map(|skip| parts[skip..].join("/"))
        .find_map(|path| view.text(&path));
    script.is_some_and(super::docker::ends_by_running_its_arguments)
}

/// The server command inside a start script the Dockerfile runs
/// (`CMD ["/start"]` with `exec gunicorn ...` in `compose/.../start`): the
/// last line of the script that runs a known server program.
fn start_script(
    view: &AppView<'_>,
    command: &str,
    dockerfile: Option<&Dockerfile>,
) -> Option<String> {
    let first = command.split_whitespace().next()?;
    let name = file_name(first);
    if name.is_empty() || (name.contains('.') && !name.ends_with(".sh")) {
        return None;
    }
    let near = dockerfile.map_or(view.dir.as_str(), |df| super::view::parent(&df.path));
    let scripts: Vec<_> = view
        .snapshot()
        .files
        .iter()
        .filter(|f| file_name(&f.path) == name && f.content.is_some())
        .collect();
    let script = scripts
        .iter()
        .find(|f| super::view::parent(&f.path) == near)
        .or_else(|| scripts.first())?;
    let text = script.content.as_deref()?;
    text.lines()
        .rev()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .find(|l| read_command(l).runner.is_some())
        .map(str::to_owned)
}

/// A command's flags; `npm start` and friends are read through the script
/// they run.
fn command_facts(command: &str, d: &Detection) -> CommandFacts {
    let mut facts = read_command(command);
    let script = re!(r"\b(?:npm|yarn|pnpm|bun)\s+(?:run\s+)?([\w:-]+)")
        .captures(command)
        .and_then(|c| c.get(1))
        .and_then(|m| d.scripts.get(m.as_str()));
    if let Some(script) = script {
        let inner = read_command(script);
        facts.runner = facts.runner.or(inner.runner);
        facts.port = facts.port.or(inner.port);
        facts.host = facts.host.or(inner.host);
        facts.env.extend(inner.env);
    }
    facts
}

fn bind(
    d: &Detection,
    facts: &CommandFacts,
    start: Option<&Found<String>>,
    port: &str,
    production: bool,
) -> BindAddress {
    let fix = |text: &str| Some(text.replace("{port}", port));
    if let Some(host) = &facts.host {
        let loopback = is_loopback(host);
        return BindAddress {
            host: Some(host.clone()),
            loopback_only: loopback,
            fix: if loopback {
                fix("change the start command's address to 0.0.0.0")
            } else {
                None
            },
        };
    }
    if let (Some(runner), Some(_)) = (facts.runner, start) {
        let loopback = runner.loopback_by_default && !production;
        return BindAddress {
            host: None,
            loopback_only: loopback,
            fix: if loopback { fix(runner.fix) } else { None },
        };
    }
    if let Some(host) = &d.host {
        let loopback = is_loopback(&host.value);
        let how = match &d.host_env {
            Some(env) => format!("set {env}=0.0.0.0"),
            None => d.bind_fix.clone().unwrap_or_else(|| {
                format!("change the listen address in {} to 0.0.0.0", host.at.cite())
            }),
        };
        return BindAddress {
            host: Some(host.value.clone()),
            loopback_only: loopback,
            fix: if loopback { fix(&how) } else { None },
        };
    }
    let loopback = d.loopback_default.is_some() && facts.runner.is_none();
    BindAddress {
        host: None,
        loopback_only: loopback,
        fix: if loopback {
            match &d.host_env {
                Some(env) => fix(&format!("set {env}=0.0.0.0")),
                None => d.bind_fix.as_deref().and_then(fix),
            }
        } else {
            None
        },
    }
}

fn bind_spot(d: &Detection, facts: &CommandFacts, start: Option<&Found<String>>) -> Option<Spot> {
    if facts.host.is_some() || facts.runner.is_some() {
        return start.map(|s| s.at.clone());
    }
    d.host
        .as_ref()
        .map(|h| h.at.clone())
        .or_else(|| d.loopback_default.clone())
}

/// Sources of the monorepo packages the app depends on (`"@repo/database":
/// "workspace:*"`): a database client built there reads its URL for the
/// app. Tests and build configuration are left out.
fn workspace_sources<'s>(snapshot: &'s Snapshot, view: &AppView<'_>) -> Vec<&'s FileEntry> {
    let Some(pkg) = super::package_json::PackageJson::read(view) else {
        return Vec::new();
    };
    let name_of = |text: &str| -> Option<String> {
        let json: serde_json::Value = serde_json::from_str(text).ok()?;
        Some(json.get("name")?.as_str()?.to_owned())
    };
    let dirs: Vec<String> = snapshot
        .files
        .iter()
        .filter(|f| file_name(&f.path) == "package.json" && !f.path.contains("node_modules/"))
        .map(|f| super::view::parent(&f.path))
        .filter(|dir| !dir.is_empty() && *dir != view.dir)
        .filter(|dir| {
            snapshot
                .files
                .iter()
                .find(|f| f.path == format!("{dir}/package.json"))
                .and_then(|f| name_of(f.content.as_deref()?))
                .is_some_and(|name| pkg.deps.contains(&name))
        })
        .map(|dir| format!("{dir}/"))
        .collect();
    let test = re!(r"(?:^|/)(?:__tests__|tests?|e2e)/|\.(?:test|spec)\.[cm]?[jt]sx?$");
    snapshot
        .files
        .iter()
        .filter(|f| dirs.iter().any(|dir| f.path.starts_with(dir.as_str())))
        .filter(|f| !f.path.contains("node_modules/") && !test.is_match(&f.path))
        .filter(|f| super::node::JS.iter().any(|ext| f.path.ends_with(ext)))
        .collect()
}

/// Variables of Laravel's own `.env.example` the app runs without: the
/// URL it generates links with, and Redis unless a cache, session, queue or
/// broadcast driver is set to it.
/// The start command's `--spring.datasource.url=$DB_URL` (and username,
/// password) wins over `SPRING_DATASOURCE_URL`: those variables are never
/// read, whatever the configuration's URL points at.
fn spring_overridden_by_command(dockerfile: Option<&Dockerfile>) -> Vec<&'static str> {
    let Some(command) = dockerfile.and_then(|d| d.command.as_ref()) else {
        return Vec::new();
    };
    [
        ("url", "SPRING_DATASOURCE_URL"),
        ("username", "SPRING_DATASOURCE_USERNAME"),
        ("password", "SPRING_DATASOURCE_PASSWORD"),
    ]
    .into_iter()
    .filter(|(key, _)| {
        command
            .value
            .contains(&format!("--spring.datasource.{key}="))
    })
    .map(|(_, name)| name)
    .collect()
}

fn laravel_unused(reads: &[env::EnvRead], docker: &DockerSetup) -> Vec<&'static str> {
    let drivers = [
        "CACHE_DRIVER",
        "CACHE_STORE",
        "SESSION_DRIVER",
        "QUEUE_CONNECTION",
        "BROADCAST_DRIVER",
        "BROADCAST_CONNECTION",
    ];
    let uses_redis = reads
        .iter()
        .any(|r| drivers.contains(&r.name.as_str()) && r.default.as_deref() == Some("redis"));
    let mut unused = vec!["APP_URL"];
    if !uses_redis {
        unused.extend(["REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_URL"]);
    }
    // `DB_CONNECTION=sqlite`, no read naming a server and no database
    // server in the repository's compose file: the database is a file, and
    // the server connection's settings are never read. (Laravel's skeleton
    // ships `DB_CONNECTION=sqlite` in `.env.example`; a compose file's
    // PostgreSQL says the app is run against a server instead.)
    let connections: Vec<&str> = reads
        .iter()
        .filter(|r| r.name == "DB_CONNECTION")
        .filter_map(|r| r.default.as_deref())
        .collect();
    let database_server = docker.services.iter().any(|service| {
        let name = service.name.to_ascii_lowercase();
        ["postgres", "pgsql", "mysql", "mariadb", "db", "database"]
            .iter()
            .any(|n| {
                name == *n
                    || name.starts_with(&format!("{n}-"))
                    || name.starts_with(&format!("{n}_"))
                    || name.contains("postgres")
                    || name.contains("mysql")
            })
    });
    if !database_server && !connections.is_empty() && connections.iter().all(|c| *c == "sqlite") {
        unused.extend([
            "DB_HOST",
            "DB_PORT",
            "DB_DATABASE",
            "DB_USERNAME",
            "DB_PASSWORD",
            "DB_SOCKET",
            "DB_URL",
            "DATABASE_URL",
        ]);
    }
    unused
}

/// Variables an example file lists and no code of the app reads, which the
/// compose files interpolate only into other services (`POSTGRES_PASSWORD:
/// ${DB_PASSWORD}` of a database image, an admin UI): they configure those
/// containers, not the app. A service built from the app's folder, or from
/// a folder holding it, is the app's.
fn other_services_only(
    reads: &[env::EnvRead],
    code_reads: &[env::EnvRead],
    docker: &DockerSetup,
    dir: &str,
) -> Vec<String> {
    let is_app = |s: &super::docker::ComposeService| {
        s.context
            .as_deref()
            .is_some_and(|c| c == dir || c.is_empty() || dir.starts_with(&format!("{c}/")))
    };
    let mut names: Vec<String> = Vec::new();
    for read in reads.iter().filter(|r| r.example) {
        let name = read.name.as_str();
        if names.iter().any(|n| n == name)
            || code_reads.iter().any(|r| r.name == name && !r.example)
        {
            continue;
        }
        let mut using = docker
            .services
            .iter()
            .filter(|s| s.interpolates.iter().any(|v| v == name))
            .peekable();
        if using.peek().is_some() && using.all(|s| !is_app(s)) {
            names.push(name.to_owned());
        }
    }
    names
}

/// Env vars from the app's files (and example files at the root), with
/// the Dockerfile's ENV as defaults.
/// The secrets the repository's GitHub Actions workflows read.
fn ci_secrets(snapshot: &Snapshot) -> Vec<String> {
    let mut names: Vec<String> = snapshot
        .files
        .iter()
        .filter(|f| f.path.starts_with(".github/workflows/"))
        .filter_map(|f| f.content.as_deref())
        .flat_map(|text| {
            re!(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)")
                .captures_iter(text)
                .map(|c| c[1].to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

fn environment(
    a: &mut Analysis,
    snapshot: &Snapshot,
    view: &AppView<'_>,
    d: &Detection,
    docker: &DockerSetup,
    dockerfile: Option<&Dockerfile>,
) {
    let mut root_examples: Vec<_> = if view.dir.is_empty() {
        Vec::new()
    } else {
        snapshot
            .files
            .iter()
            .filter(|f| !f.path.contains('/') && file_name(&f.path).starts_with(".env"))
            .collect()
    };
    root_examples.extend(workspace_sources(snapshot, view));
    // Laravel's config/ reads every supported service's variables with
    // env(); .env.example says which the app uses. (BookStack keeps it in
    // app/Config/.)
    let skip: &[&str] = if d.framework == Some("laravel") {
        &["config/", "app/Config/"]
    } else {
        &[]
    };
    let mut reads = env::scan(view, &root_examples, skip);
    reads.extend(dockerfile.into_iter().flat_map(env::command_reads));
    // An `ENV DATABASE_URL postgresql://…@db/app` is the developer's stack,
    // an `ENV OPENAI_API_KEY ""` or `your_api_key_here` a slot to fill.
    let provided: Vec<String> = dockerfile
        .map(|df| {
            env::image_provides(
                df.env
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.value.as_str())),
            )
        })
        .unwrap_or_default();
    let port_env = a.port_env.clone().unwrap_or_default();
    let mut not_required = vec![port_env.as_str()];
    // The deployment sets the address the app listens on.
    not_required.extend(d.host_env.as_deref());
    if d.framework == Some("laravel") {
        not_required.extend(laravel_unused(&reads, docker));
    }
    not_required.extend(spring_overridden_by_command(dockerfile));
    let strict = |name: &str| reads.iter().any(|r| r.name == name && r.strict);
    if d.framework == Some("flask") && !strict("SERVER_NAME") {
        // Flask answers 404 to every request for another host once it is
        // set: a setting to leave alone unless the code cannot start without.
        not_required.push("SERVER_NAME");
    }
    // Laravel's config/ was left out above, but its reads are still the app's.
    let all_reads;
    let code_reads = if skip.is_empty() {
        &reads
    } else {
        all_reads = env::scan(view, &[], &[]);
        &all_reads
    };
    let for_other_services = other_services_only(&reads, code_reads, docker, &view.dir);
    not_required.extend(for_other_services.iter().map(String::as_str));
    // A name an env file lists, no code reads, and the repository's CI
    // workflows fill from their own secrets (`${{ secrets.VPS_PASSWORD }}`):
    // the delivery pipeline's, not the app's.
    let ci_only: Vec<String> = ci_secrets(snapshot)
        .into_iter()
        .filter(|name| {
            let mut listed = reads.iter().filter(|r| r.name == *name).peekable();
            listed.peek().is_some() && listed.all(|r| r.example)
        })
        .collect();
    not_required.extend(ci_only.iter().map(String::as_str));
    let (mut vars, evidence) = env::summarise(&reads, &provided, &not_required);
    super::env_frameworks::mark_jdbc_urls(view, &mut vars);
    super::env_frameworks::mark_async_sqlalchemy_urls(view, &mut vars);
    super::env_frameworks::mark_sync_sqlalchemy_urls(view, &mut vars);
    a.required_env = vars
        .iter()
        .filter(|v| v.required)
        .map(|v| v.name.clone())
        .collect();
    a.env = vars;
    a.evidence.extend(evidence);
}
