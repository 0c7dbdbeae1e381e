//! How each Python web framework is started, on which port and address.

use super::detection::{Confidence, Detection, Kind};
use super::python_deps::Dep;
use super::scan::{Found, Hit, Spot, named_arg, split_args};
use super::value::resolve;
use super::view::AppView;

const PY: &[&str] = &[".py"];

/// Django: `manage.py` plus a settings module, or Django in the manifest.
pub(crate) fn django(view: &AppView<'_>, deps: &[Dep], language_at: &Spot) -> Option<Detection> {
    let manage = view
        .text("manage.py")
        .filter(|t| t.contains("django") || t.contains("DJANGO_SETTINGS_MODULE"));
    let settings = view.find(PY, re!(r"(?m)^INSTALLED_APPS\s*="));
    let dep = deps.iter().find(|d| d.value == "django");
    let at = match (&manage, &settings, dep) {
        (Some(text), ..) => {
            let line = super::scan::find_line(text, "DJANGO_SETTINGS_MODULE").unwrap_or(1);
            Spot::at(&view.path("manage.py"), line, "Django manage.py")
        }
        (None, Some(hit), _) => hit.spot().with_detail("Django settings (INSTALLED_APPS)"),
        (None, None, Some(dep)) if view.find(PY, re!(r"(?m)^\s*from\s+django\b")).is_some() => {
            dep.at.with_detail("Django is a dependency")
        }
        _ => return None,
    };
    let mut d = Detection::new(
        "python",
        Kind::Server,
        Confidence::Code,
        language_at.clone(),
    )
    .framework("django", at);
    d.default_port = Some(8000);
    let project = manage
        .and_then(|text| {
            re!(r#"DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)\.settings"#).captures(text)
        })
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
        .or_else(|| {
            view.named("wsgi.py").next().map(|f| {
                module_of(view.rel(&f.path))
                    .trim_end_matches(".wsgi")
                    .to_owned()
            })
        });
    // The production server even when the requirements leave it out (the
    // image then installs it and says so); Channels' `runserver` is Daphne
    // serving ASGI, which gunicorn would not; a project without `wsgi.py`
    // gives gunicorn nothing to load.
    let asgi = has(deps, "channels") || has(deps, "daphne");
    let wsgi = |project: &str| view.has(&format!("{}/wsgi.py", project.replace('.', "/")));
    d.start_derived = Some(match project {
        Some(project) if has(deps, "gunicorn") || (!asgi && wsgi(&project)) => {
            format!("gunicorn {project}.wsgi --bind 0.0.0.0:{{port}}")
        }
        _ => "python manage.py runserver 0.0.0.0:{port}".to_owned(),
    });
    if let Some(hosts) = fixed_local_hosts(view) {
        d.notes.push(format!(
            "The settings fix ALLOWED_HOSTS to {hosts}: Django answers 400 to a request for any other host, so the deployment's own address must be added there (or read from the environment)."
        ));
    }
    Some(d)
}

/// `ALLOWED_HOSTS = ["localhost", "127.0.0.1"]`, or `[]`: a literal list of
/// this machine's names only, with no `*` and no environment read.
fn fixed_local_hosts(view: &AppView<'_>) -> Option<String> {
    let hit = view.find(
        PY,
        re!(r"(?m)^ALLOWED_HOSTS\s*=\s*(\[[^\]
]*\])\s*$"),
    )?;
    let list = hit.group(1)?;
    let hosts: Vec<&str> = re!(r#"["']([^"']*)["']"#)
        .captures_iter(list)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    let local = |h: &&str| matches!(*h, "localhost" | "127.0.0.1" | "0.0.0.0" | "[::1]" | "::1");
    // `[]`, the new project's default, is localhost alone (with DEBUG on).
    hosts.iter().all(local).then(|| list.to_owned())
}

/// Fills in port, address and start command for a framework found in code.
pub(crate) fn configure(
    view: &AppView<'_>,
    deps: &[Dep],
    mut d: Detection,
    app_file: &str,
) -> Detection {
    let app = app_target(view, app_file);
    match d.framework.unwrap_or_default() {
        "flask" | "quart" => flask(view, deps, &mut d, &app),
        "fastapi" | "starlette" | "litestar" => asgi(view, &mut d, &app),
        "sanic" => sanic(view, &mut d, &app),
        "aiohttp" => aiohttp(view, &mut d, &app),
        "tornado" => {
            d.default_port = Some(8888);
            let listen = view.find(PY, re!(r"\.listen\s*\("));
            let call = RunCall {
                host: &["address"],
                host_pos: Some(1),
                port_pos: Some(0),
                ..KEYWORDS_ONLY
            };
            apply_run(view, &mut d, listen, &call);
        }
        "bottle" => {
            d.default_port = Some(8080);
            let run = view.find(PY, re!(r"(?m)^\s*(?:bottle\.)?run\s*\(|\bapp\.run\s*\("));
            let call = RunCall {
                loopback_call: "run()",
                ..KEYWORDS_ONLY
            };
            apply_run(view, &mut d, run, &call);
            d.bind_fix = Some("pass host=\"0.0.0.0\" to run()".to_owned());
        }
        "gradio" => gradio(view, &mut d),
        "streamlit" => streamlit(view, &mut d, app_file),
        _ => {}
    }
    d
}

fn flask(view: &AppView<'_>, deps: &[Dep], d: &mut Detection, app: &str) {
    d.default_port = Some(5000);
    let run = view.find(
        PY,
        re!(r"\b(?:app|application|server|socketio|flask_app|api|APP|create_app\(\))\.run\s*\("),
    );
    let app = shell_word(app);
    let command = if has(deps, "gunicorn") {
        format!("gunicorn --bind 0.0.0.0:{{port}} {app}")
    } else {
        // `FLASK_APP` rather than `--app`, which came in Flask 2.2; the
        // image keeps it for `flask db upgrade` as well.
        format!("FLASK_APP={app} flask run --host 0.0.0.0 --port {{port}}")
    };
    if !apply_run(view, d, run, &FLASK_RUN) {
        d.start_derived = Some(command.clone());
    }
    d.bind_fix = Some(format!(
        "start with `{command}` (or pass host=\"0.0.0.0\" to app.run)"
    ));
}

/// FastAPI, Starlette, Litestar: served by uvicorn.
fn asgi(view: &AppView<'_>, d: &mut Detection, app: &str) {
    d.default_port = Some(8000);
    let run = view.find(PY, re!(r"\buvicorn\.run\s*\("));
    let call = RunCall {
        loopback_call: "uvicorn.run()",
        ..KEYWORDS_ONLY
    };
    let command = format!(
        "uvicorn {} --host 0.0.0.0 --port {{port}}",
        asgi_target(app)
    );
    if !apply_run(view, d, run, &call) {
        d.start_derived = Some(command.clone());
    }
    d.bind_fix = Some(format!("start with `{command}`"));
}

fn sanic(view: &AppView<'_>, d: &mut Detection, app: &str) {
    d.default_port = Some(8000);
    let run = view.find(PY, re!(r"\bapp\.run\s*\("));
    if !apply_run(view, d, run, &FLASK_RUN) {
        d.start_derived = Some(format!(
            "sanic {} --host 0.0.0.0 --port {{port}}",
            asgi_target(app)
        ));
    }
    d.bind_fix = Some("pass host=\"0.0.0.0\" to app.run".to_owned());
}

fn aiohttp(view: &AppView<'_>, d: &mut Detection, app: &str) {
    d.default_port = Some(8080);
    // run_app listens on all interfaces unless given a host.
    let run = view.find(PY, re!(r"\bweb\.run_app\s*\("));
    if !apply_run(view, d, run, &KEYWORDS_ONLY) {
        d.start_derived = Some(format!(
            "python -m aiohttp.web -H 0.0.0.0 -P {{port}} {app}"
        ));
    }
}

/// `launch()` listens on 127.0.0.1:7860 unless given `server_name` or the
/// GRADIO_SERVER_NAME env var Gradio itself reads.
fn gradio(view: &AppView<'_>, d: &mut Detection) {
    d.default_port = Some(7860);
    let launch = view.find(PY, re!(r"\.launch\s*\("));
    let call = RunCall {
        loopback_call: "launch()",
        host: &["server_name"],
        port: &["server_port"],
        ..KEYWORDS_ONLY
    };
    apply_run(view, d, launch, &call);
    d.bind_fix = Some("set GRADIO_SERVER_NAME=0.0.0.0".to_owned());
}

/// How a run call takes its address: keyword names and positions.
struct RunCall {
    /// The call as people know it, when it listens on loopback without a
    /// host (`app.run()`); empty when its default is all interfaces.
    loopback_call: &'static str,
    host: &'static [&'static str],
    port: &'static [&'static str],
    host_pos: Option<usize>,
    port_pos: Option<usize>,
}

const FLASK_RUN: RunCall = RunCall {
    loopback_call: "app.run()",
    host: &["host"],
    port: &["port"],
    host_pos: Some(0),
    port_pos: Some(1),
};

const KEYWORDS_ONLY: RunCall = RunCall {
    loopback_call: "",
    host: &["host"],
    port: &["port"],
    host_pos: None,
    port_pos: None,
};

/// Reads a run call's host and port and records `python <file>` as the
/// start command. Returns false when there is no run call.
fn apply_run(view: &AppView<'_>, d: &mut Detection, run: Option<Hit<'_>>, call: &RunCall) -> bool {
    let Some(run) = run else { return false };
    let args = run.call_args();
    let positional: Vec<&str> = split_args(args)
        .into_iter()
        .filter(|a| !is_keyword(a))
        .collect();
    // `socketio.run(app, host, port)`: the app comes first.
    let shift = usize::from(run.quote().contains("socketio.run"));
    let at_pos = |pos: Option<usize>| pos.and_then(|p| positional.get(p + shift).copied());
    let host_expr = named_arg(args, call.host).or_else(|| at_pos(call.host_pos));
    let port_expr = named_arg(args, call.port).or_else(|| at_pos(call.port_pos));
    let at = run.spot();
    if let Some(expr) = port_expr {
        d.set_port(&resolve(run.text, expr), at.clone());
    }
    match host_expr {
        Some(expr) => {
            let host = resolve(run.text, expr);
            // `host=os.environ.get("IP")` with nothing set is no host at all.
            if let Some(env) = host.env.as_deref().filter(|_| host.host().is_none())
                && !call.loopback_call.is_empty()
            {
                let why = format!(
                    "{} listens on 127.0.0.1 unless {env} is set",
                    call.loopback_call
                );
                d.loopback_default = Some(at.with_detail(why));
            }
            d.set_host(&host, at.clone());
        }
        None if !call.loopback_call.is_empty() => {
            let why = format!("{} without a host listens on 127.0.0.1", call.loopback_call);
            d.loopback_default = Some(at.with_detail(why));
        }
        None => {}
    }
    let file = view.rel(run.file);
    d.start = Some(Found::new(
        format!("python {file}"),
        at.with_detail(format!("{file} starts the server")),
    ));
    true
}

/// `port=5000` is a keyword argument; `x == y` is not.
fn is_keyword(arg: &str) -> bool {
    arg.split_once('=').is_some_and(|(key, value)| {
        !value.starts_with('=')
            && key
                .trim()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn streamlit(view: &AppView<'_>, d: &mut Detection, app_file: &str) {
    d.default_port = Some(8501);
    if let Some(config) = view.file(".streamlit/config.toml")
        && let Some(text) = config.content.as_deref()
    {
        let port = re!(r"(?m)^\s*port\s*=\s*(\d+)");
        if let Some(caps) = port.captures(text)
            && let Some(m) = caps.get(1)
        {
            let line = super::scan::line_at(text, m.start());
            d.port = m
                .as_str()
                .parse()
                .ok()
                .map(|p| Found::new(p, Spot::at(&config.path, line, "server.port")));
        }
        let address = re!(r#"(?m)^\s*address\s*=\s*["']([^"']+)["']"#);
        if let Some(m) = address.captures(text).and_then(|c| c.get(1)) {
            let line = super::scan::line_at(text, m.start());
            d.host = Some(Found::new(
                m.as_str().to_owned(),
                Spot::at(&config.path, line, "server.address"),
            ));
        }
    }
    let script = view.rel(app_file);
    d.start_derived = Some(format!(
        "streamlit run {script} --server.port {{port}} --server.address 0.0.0.0"
    ));
    d.bind_fix = Some("start with `--server.address 0.0.0.0`".to_owned());
}

/// `bind = "0.0.0.0:8000"` (or a list) in a gunicorn config file.
pub(crate) fn gunicorn_bind(view: &AppView<'_>) -> Option<Found<String>> {
    let re = re!(r#"(?m)^bind\s*=\s*\[?\s*["']([^"']+)["']"#);
    view.files
        .iter()
        .filter(|f| {
            let name = super::view::file_name(&f.path);
            name.starts_with("gunicorn") && name.ends_with(".py")
        })
        .find_map(|f| {
            let text = f.content.as_deref()?;
            let m = re.captures(text)?.get(1)?;
            let line = super::scan::line_at(text, m.start());
            Some(Found::new(
                m.as_str().to_owned(),
                Spot::at(&f.path, line, format!("bind = {:?}", m.as_str())),
            ))
        })
}

fn has(deps: &[Dep], name: &str) -> bool {
    deps.iter().any(|d| d.value == name)
}

/// `module:variable` for the file that creates the app, as uvicorn and
/// gunicorn want it; a factory becomes `module:create_app()`.
fn app_target(view: &AppView<'_>, app_file: &str) -> String {
    let rel = view.rel(app_file);
    let text = view
        .files
        .iter()
        .find(|f| f.path == app_file)
        .and_then(|f| f.content.as_deref())
        .unwrap_or_default();
    // `src/main.py` importing `from .routers import …` is a module of the
    // package `src`, imported from the root as `src.main`; `main` alone
    // is no module there.
    let relative_imports = re!(r"(?m)^\s*from\s+\.").is_match(text);
    let module = match rel.strip_prefix("src/") {
        Some(file) if relative_imports && !file.contains('/') => {
            format!("src.{}", module_of(file))
        }
        _ => module_of(rel),
    };
    let assigned = re!(
        r"(?m)^(\w+)\s*(?::\s*\w+\s*)?=\s*(?:FastAPI|Flask|Quart|Starlette|Litestar|Sanic)\s*\("
    );
    if let Some(var) = assigned.captures(text).and_then(|c| c.get(1)) {
        return format!("{module}:{}", var.as_str());
    }
    // `app = create_app()` at the module's top: the app its factory made.
    if let Some(var) = re!(r"(?m)^(\w+)\s*=\s*(?:create_app|make_app|app_factory)\s*\(")
        .captures(text)
        .and_then(|c| c.get(1))
    {
        return format!("{module}:{}", var.as_str());
    }
    if let Some(factory) = re!(r"(?m)^def\s+(create_app|make_app|app_factory)\s*\(")
        .captures(text)
        .and_then(|c| c.get(1))
    {
        return format!("{module}:{}()", factory.as_str());
    }
    format!("{module}:app")
}

/// The app target as one shell word: a factory's call (`'app:create_app()'`,
/// which gunicorn and `flask --app` call) quoted, as `sh -c` reads `(` as
/// its own syntax.
fn shell_word(app: &str) -> String {
    if app.contains('(') {
        format!("'{app}'")
    } else {
        app.to_owned()
    }
}

/// The app target as uvicorn and sanic take it: a factory by its name with
/// `--factory`, which they call (they do not read `create_app()`).
fn asgi_target(app: &str) -> String {
    match app.strip_suffix("()") {
        Some(factory) => format!("{factory} --factory"),
        None => app.to_owned(),
    }
}

/// `app/main.py` → `app.main`; `src/pkg/__init__.py` → `pkg`.
pub(crate) fn module_of(rel: &str) -> String {
    let rel = rel.strip_prefix("src/").unwrap_or(rel);
    let rel = rel.strip_suffix(".py").unwrap_or(rel);
    let rel = rel.strip_suffix("/__init__").unwrap_or(rel);
    rel.replace('/', ".")
}

#[cfg(test)]
mod tests {
    use super::module_of;

    #[test]
    fn module_paths() {
        assert_eq!(module_of("app/main.py"), "app.main");
        assert_eq!(module_of("src/notes/__init__.py"), "notes");
        assert_eq!(module_of("main.py"), "main");
    }
}
