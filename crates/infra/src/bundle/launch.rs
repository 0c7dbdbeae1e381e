//! How the app's container starts and listens: the start command with the
//! bind-address fix, and the environment that sets its port and host.

use super::app_files::AppFiles;
use super::bind::fix_command;
use super::start::start_command;
use analysis::Analysis;

/// An environment variable the container gets so the app listens where the
/// compose file publishes it.
#[derive(Debug, Clone)]
pub(super) struct RuntimeEnv {
    pub name: String,
    pub value: String,
    pub reason: String,
    /// Set to fix the bind address (rather than the port).
    pub bind: bool,
}

/// A source file rewritten because its code binds loopback.
pub(super) struct SourcePatch {
    pub path: String,
    pub content: String,
    pub reason: String,
}

#[derive(Default)]
pub(super) struct Launch {
    /// The command the container runs, with the fixes applied.
    pub command: Option<String>,
    /// The same command before the fixes.
    pub original_command: Option<String>,
    pub bind_fixes: Vec<String>,
    pub port_fixes: Vec<String>,
    pub env: Vec<RuntimeEnv>,
    pub patches: Vec<SourcePatch>,
    pub warnings: Vec<String>,
}

/// Names an app commonly reads its listen address from.
const HOST_ENV_NAMES: &[&str] = &[
    "HOST",
    "BIND",
    "BIND_ADDRESS",
    "BIND_HOST",
    "LISTEN_HOST",
    "LISTEN_ADDR",
    "APP_HOST",
    "SERVER_HOST",
];

pub(super) fn plan(analysis: &Analysis, files: &AppFiles, port: u16) -> Launch {
    let mut launch = Launch::default();
    let command = start_command(analysis, files);
    launch.original_command = command.clone();
    launch.command = command;
    if let Some(name) = &analysis.port_env {
        if holds_address(analysis, name) {
            let address = format!("0.0.0.0:{port}");
            launch.set_env(
                name,
                &address,
                format!("The app listens on the address in {name}: set to {address}, all interfaces and the port the compose file publishes."),
                true,
            );
        } else {
            launch.set_env(
                name,
                &port.to_string(),
                format!("The app reads its port from {name}: set to {port}, the port the compose file publishes."),
                false,
            );
        }
    } else if reads_port_variable(analysis) {
        // Read through a config module the analysis did not follow to the
        // listen call (`app.listen(config.port)`): left alone, its default
        // (an example file's `PORT=5000`) would move the app off the port
        // the compose file publishes.
        launch.set_env(
            "PORT",
            &port.to_string(),
            format!("The app reads PORT: set to {port}, the port the compose file publishes."),
            false,
        );
    }
    lift_flask_app(&mut launch);
    flask_app_of_wsgi_server(analysis, &mut launch);
    let unapplied = apply_analysis_fix(analysis, &mut launch);
    if let Some(command) = launch.command.take() {
        let fixed = fix_command(&command, port);
        launch.bind_fixes.extend(fixed.bind_fixes);
        launch.port_fixes.extend(fixed.port_fixes);
        launch.command = Some(fixed.command);
    }
    framework_env(analysis, port, &mut launch);
    django_production_settings(analysis, files, &mut launch);
    auth_js_env(analysis, files, &mut launch);
    host_env(analysis, &mut launch);
    if analysis.bind.loopback_only && !launch.bind_fixed() {
        patch_sources(analysis, files, &mut launch);
    }
    // A suggestion not taken matters only when nothing else fixed the bind.
    if let Some(unapplied) = unapplied.filter(|_| !launch.bind_fixed() && launch.patches.is_empty())
    {
        launch.warnings.push(unapplied);
    }
    launch
}

/// Settings split into modules (`settings/development.py`,
/// `settings/production.py`) whose `wsgi.py` or `manage.py` defaults to the
/// development one, or to the shared `base` the others import: it runs with
/// DEBUG on, `ALLOWED_HOSTS = []` (400 to
/// any other host), SQLite, and none of the variables the deployment
/// wires, which the production module reads. The deployment selects that.
fn django_production_settings(analysis: &Analysis, files: &AppFiles, launch: &mut Launch) {
    if analysis.framework.as_deref() != Some("django") {
        return;
    }
    let default = regex::Regex::new(r#"DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']"#)
        .expect("valid pattern");
    let Some(module) = ["manage.py"]
        .into_iter()
        .chain(files.with_suffix("wsgi.py"))
        .chain(files.with_suffix("asgi.py"))
        .filter_map(|path| files.text(path))
        .find_map(|text| Some(default.captures(text)?[1].to_owned()))
    else {
        return;
    };
    let Some((package, name)) = module.rsplit_once('.') else {
        return;
    };
    if !matches!(
        name,
        "development" | "dev" | "local" | "develop" | "base" | "common"
    ) {
        return;
    }
    let folder = package.replace('.', "/");
    let Some(production) = ["production", "prod"]
        .into_iter()
        .find(|candidate| files.exists(&format!("{folder}/{candidate}.py")))
    else {
        return;
    };
    let selected = format!("{package}.{production}");
    launch.set_env(
        "DJANGO_SETTINGS_MODULE",
        &selected,
        format!("The project defaults to {module}, settings for development or the base the others extend; the deployment runs its production settings, {selected}, which read the variables it wires."),
        false,
    );
}

/// `FLASK_APP=target flask run …` becomes the image's `FLASK_APP`, so the
/// `flask` commands run beside the server (`flask db upgrade`) find the app
/// as the server does.
fn lift_flask_app(launch: &mut Launch) {
    let Some(command) = &launch.command else {
        return;
    };
    let Some((target, rest)) = command
        .strip_prefix("FLASK_APP=")
        .and_then(|tail| tail.split_once(' '))
    else {
        return;
    };
    if !rest.trim_start().starts_with("flask ") {
        return;
    }
    let target = target.trim_matches('\'').to_owned();
    launch.command = Some(rest.trim_start().to_owned());
    launch.original_command = launch.command.clone();
    launch.set_env(
        "FLASK_APP",
        &target,
        format!("`flask` finds the app through FLASK_APP: set to {target}."),
        false,
    );
}

/// A Flask app served by a WSGI server (`gunicorn 'app:create_app()'`):
/// the image's `FLASK_APP` names the same target, so the `flask` commands
/// run beside it (`flask db upgrade`) find an app its file's name does not
/// give away (a factory in a package).
fn flask_app_of_wsgi_server(analysis: &Analysis, launch: &mut Launch) {
    if analysis.framework.as_deref() != Some("flask")
        || launch.env.iter().any(|e| e.name == "FLASK_APP")
    {
        return;
    }
    let Some(command) = &launch.command else {
        return;
    };
    let mut words = command.split_whitespace().skip_while(|w| *w == "exec");
    if !words
        .next()
        .is_some_and(|program| matches!(program, "gunicorn" | "waitress-serve"))
    {
        return;
    }
    let target =
        regex::Regex::new(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*(?:\(\))?$").expect("valid pattern");
    let Some(app) = words
        .map(|w| w.trim_matches(|c| c == '\'' || c == '"'))
        .find(|w| target.is_match(w))
        .map(str::to_owned)
    else {
        return;
    };
    launch.set_env(
        "FLASK_APP",
        &app,
        format!("`flask` commands (`flask db upgrade`) find the app the server runs through FLASK_APP: set to {app}."),
        false,
    );
}

/// Whether the variable the app takes its port from holds a whole address
/// (`ADDR=":8080"`, Go's `r.Run(os.Getenv("LISTEN"))`): its default has a
/// colon, or without a default its name says address, not port.
pub(crate) fn holds_address(analysis: &Analysis, name: &str) -> bool {
    let default = analysis
        .env
        .iter()
        .find(|v| v.name == name)
        .and_then(|v| v.default.as_deref());
    match default {
        Some(default) => default.contains(':') && !default.contains("://"),
        None => {
            let name = name.to_ascii_uppercase();
            !name.contains("PORT") && ["ADDR", "LISTEN", "BIND"].iter().any(|w| name.contains(w))
        }
    }
}

/// Whether the app reads a variable named `PORT`, the name servers listen on.
fn reads_port_variable(analysis: &Analysis) -> bool {
    analysis.env.iter().any(|v| v.name == "PORT")
        || analysis.required_env.iter().any(|name| name == "PORT")
}

impl Launch {
    fn set_env(&mut self, name: &str, value: &str, reason: String, bind: bool) {
        self.env.retain(|e| e.name != name);
        self.env.push(RuntimeEnv {
            name: name.to_owned(),
            value: value.to_owned(),
            reason,
            bind,
        });
    }

    fn bind_fixed(&self) -> bool {
        !self.bind_fixes.is_empty() || self.env.iter().any(|e| e.bind)
    }

    /// True when the fixes changed the start command.
    pub fn command_changed(&self) -> bool {
        self.command != self.original_command
    }
}

/// What the analysis said would make the app listen on 0.0.0.0: an env var
/// (`HOST=0.0.0.0`), a flag (`--host 0.0.0.0`) or a whole command. Returns
/// the warning for a suggestion of none of these forms, which was not taken.
fn apply_analysis_fix(analysis: &Analysis, launch: &mut Launch) -> Option<String> {
    let fix = analysis.bind.fix.as_deref().map(str::trim)?;
    let fix = ["env ", "set ", "export "]
        .iter()
        .find_map(|p| fix.strip_prefix(p))
        .unwrap_or(fix)
        .trim();
    let assignments: Vec<(&str, &str)> = fix
        .split_whitespace()
        .filter_map(|t| t.split_once('='))
        .filter(|(name, _)| is_env_name(name))
        .collect();
    let command = launch.command.clone().unwrap_or_default();
    let first_word = |s: &str| s.split_whitespace().next().map(str::to_owned);
    if fix.starts_with('-') {
        let flag = fix.split([' ', '=']).next().unwrap_or(fix);
        if !command.is_empty() && !command.split_whitespace().any(|t| t.starts_with(flag)) {
            launch.command = Some(format!("{command} {fix}"));
            launch.bind_fixes.push(format!(
                "The app listens on loopback only: added `{fix}` to its start command, as the analysis advised."
            ));
        }
    } else if !command.is_empty() && first_word(fix) == first_word(&command) {
        launch.command = Some(fix.to_owned());
        launch.bind_fixes.push(format!(
            "The app listens on loopback only: its start command is now `{fix}`, as the analysis advised."
        ));
    } else if !assignments.is_empty() {
        for (name, value) in assignments {
            launch.set_env(
                name,
                value,
                format!("The app listens on loopback only unless {name} says otherwise: set to {value}, as the analysis advised."),
                true,
            );
        }
    } else {
        return Some(format!(
            "The analysis suggested \"{fix}\" to fix the bind address, which is neither a flag, a command nor an environment variable; it was not applied."
        ));
    }
    None
}

fn is_env_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Frameworks told their host and port through the environment.
/// Auth.js v5 (`next-auth` 5, `@auth/*`, which read `AUTH_SECRET`) answers
/// every request from a host it was not told to trust with UntrustedHost,
/// unless it runs on Vercel: a deployment on its own server trusts the
/// host it is reached by.
fn auth_js_env(analysis: &Analysis, files: &AppFiles, launch: &mut Launch) {
    let auth_js = [
        "next-auth",
        "@auth/core",
        "@auth/sveltekit",
        "@auth/solid-start",
    ]
    .iter()
    .any(|package| files.depends_on(package));
    let v5 = analysis.env.iter().any(|v| v.name == "AUTH_SECRET");
    let told = analysis
        .env
        .iter()
        .any(|v| v.name == "AUTH_URL" && v.required);
    if auth_js && v5 && !told {
        launch.set_env(
            "AUTH_TRUST_HOST",
            "true",
            "Auth.js refuses requests from a host it does not trust unless on Vercel: AUTH_TRUST_HOST=true, so it answers on this deployment's own address.".to_owned(),
            false,
        );
    }
}

fn framework_env(analysis: &Analysis, port: u16, launch: &mut Launch) {
    let port = port.to_string();
    let framework = analysis.framework.as_deref().unwrap_or_default();
    let loopback = analysis.bind.loopback_only;
    let mut set = |name: &str, value: &str, why: &str, bind: bool| {
        launch.set_env(name, value, format!("{why}: {name}={value}."), bind);
    };
    match framework {
        "gradio" => {
            set(
                "GRADIO_SERVER_NAME",
                "0.0.0.0",
                "Gradio listens on 127.0.0.1 unless told otherwise",
                true,
            );
            set(
                "GRADIO_SERVER_PORT",
                &port,
                "Gradio's port, the one the compose file publishes",
                false,
            );
        }
        "nextjs" => {
            // The standalone server binds HOSTNAME, which Docker sets to the container id.
            set(
                "HOSTNAME",
                "0.0.0.0",
                "Next.js binds the address in HOSTNAME",
                true,
            );
            set("PORT", &port, "Next.js reads its port from PORT", false);
        }
        "nuxt" | "sveltekit" | "astro" | "remix" | "react-router" | "solid-start" => {
            let name = match framework {
                "nuxt" => "Nuxt",
                "sveltekit" => "SvelteKit",
                "astro" => "Astro",
                "remix" => "Remix",
                "react-router" => "React Router",
                _ => "SolidStart",
            };
            set(
                "HOST",
                "0.0.0.0",
                &format!("{name}'s server binds the address in HOST"),
                true,
            );
            set(
                "PORT",
                &port,
                &format!("{name} reads its port from PORT"),
                false,
            );
        }
        "aspnet-core" => {
            let urls = format!("http://0.0.0.0:{port}");
            set(
                "ASPNETCORE_URLS",
                &urls,
                "ASP.NET Core listens on the URLs in ASPNETCORE_URLS",
                true,
            );
        }
        "spring-boot" => {
            set(
                "SERVER_PORT",
                &port,
                "Spring Boot reads its port from SERVER_PORT",
                false,
            );
            if loopback {
                set(
                    "SERVER_ADDRESS",
                    "0.0.0.0",
                    "Spring Boot is configured to listen on loopback; SERVER_ADDRESS overrides it",
                    true,
                );
            }
        }
        "quarkus" => {
            set(
                "QUARKUS_HTTP_HOST",
                "0.0.0.0",
                "Quarkus listens on the address in QUARKUS_HTTP_HOST",
                true,
            );
            set(
                "QUARKUS_HTTP_PORT",
                &port,
                "Quarkus reads its port from QUARKUS_HTTP_PORT",
                false,
            );
        }
        "sinatra" => {
            set(
                "APP_ENV",
                "production",
                "Sinatra listens on localhost in development and on 0.0.0.0 in production",
                true,
            );
        }
        _ => {}
    }
}

/// An app that reads its listen address from HOST (or similar) gets 0.0.0.0.
fn host_env(analysis: &Analysis, launch: &mut Launch) {
    for var in &analysis.env {
        if HOST_ENV_NAMES.contains(&var.name.as_str())
            && !launch.env.iter().any(|e| e.name == var.name)
        {
            launch.set_env(
                &var.name,
                "0.0.0.0",
                format!("The app reads its listen address from {}: set to 0.0.0.0 so it is reachable from outside its container.", var.name),
                true,
            );
        }
    }
}

/// Last resort for an app whose code binds loopback: the line the analysis
/// pointed at is rewritten to bind 0.0.0.0.
fn patch_sources(analysis: &Analysis, files: &AppFiles, launch: &mut Launch) {
    for evidence in analysis.evidence.iter().filter(|e| e.fact == "bind") {
        let (Some(line_no), Some(text)) = (evidence.line, files.repo().text(&evidence.file)) else {
            continue;
        };
        let Some(content) = rebind_line(text, line_no as usize) else {
            continue;
        };
        launch.patches.push(SourcePatch {
            path: evidence.file.clone(),
            reason: format!(
                "Line {line_no} binds the server to loopback, unreachable from outside its container, and no flag or environment variable changes it: the address on that line is now 0.0.0.0."
            ),
            content,
        });
    }
    if launch.patches.is_empty() {
        launch.warnings.push(
            "The app listens on loopback only and no fix is known: it will not be reachable until its code listens on 0.0.0.0.".to_owned(),
        );
    }
}

/// `text` with loopback addresses on line `line_no` (1-based) replaced by
/// `0.0.0.0` — or, for a `.run(…)` call that names no host (Flask's
/// `app.run()` binds 127.0.0.1 by default), `host="0.0.0.0"` added — or
/// `None` when that line holds neither.
fn rebind_line(text: &str, line_no: usize) -> Option<String> {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let line = lines.get_mut(line_no.checked_sub(1)?)?;
    let mut new = line.replace("127.0.0.1", "0.0.0.0");
    for quote in ['"', '\'', '`'] {
        new = new.replace(&format!("{quote}localhost"), &format!("{quote}0.0.0.0"));
    }
    if new == *line
        && !line.contains("host")
        && let Some(at) = line.find(".run(")
    {
        let open = at + ".run(".len();
        let rest = line[open..].trim_start();
        let host = if rest.starts_with(')') {
            "host=\"0.0.0.0\""
        } else {
            "host=\"0.0.0.0\", "
        };
        new = format!("{}{host}{}", &line[..open], &line[open..]);
    }
    if new == *line {
        return None;
    }
    *line = new;
    Some(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::rebind_line;

    #[test]
    fn only_the_evidenced_line_is_rebound() {
        let text = "url = 'http://localhost/'\napp.run(host='localhost', port=5000)\r\n";
        assert_eq!(
            rebind_line(text, 2).unwrap(),
            "url = 'http://localhost/'\napp.run(host='0.0.0.0', port=5000)\r\n"
        );
        assert!(rebind_line(text, 3).is_none());
        assert_eq!(
            rebind_line("    app.run(port=5000)", 1).unwrap(),
            "    app.run(host=\"0.0.0.0\", port=5000)"
        );
        assert_eq!(
            rebind_line("app.run()", 1).unwrap(),
            "app.run(host=\"0.0.0.0\")"
        );
        assert!(rebind_line("app.run(host=HOST, port=5000)", 1).is_none());
        assert!(rebind_line("print('ready')", 1).is_none());
    }
}
