//! Python: Flask, FastAPI, Django, aiohttp, Streamlit, Gradio and smaller web
//! frameworks; and the Python programs that are not servers (CLI tools,
//! libraries, bots, desktop apps, batch jobs, notebooks).

use super::detection::{Confidence, Detection, Kind};
use super::python_deps::python_deps;
use super::python_servers as servers;
use super::scan::{Hit, Spot};
use super::view::{AppView, file_name};

const PY: &[&str] = &[".py"];

/// A web framework: how its import and its app object look in code.
pub(crate) struct Framework {
    pub name: &'static str,
    pub deps: &'static [&'static str],
    pub import: &'static regex::Regex,
    /// Constructing or running the app; an import alone may be a library.
    pub app: &'static regex::Regex,
}

fn frameworks() -> [Framework; 11] {
    [
        Framework {
            name: "fastapi",
            deps: &["fastapi"],
            import: re!(r"(?m)^\s*(?:from\s+fastapi[\s.]|import\s+fastapi\b)"),
            app: re!(r"\bFastAPI\s*\("),
        },
        Framework {
            name: "flask",
            deps: &["flask"],
            import: re!(r"(?m)^\s*(?:from\s+flask\s+import|import\s+flask\b)"),
            app: re!(r"\bFlask\s*\("),
        },
        Framework {
            name: "aiohttp",
            deps: &[],
            import: re!(
                r"(?m)^\s*(?:from\s+aiohttp\s+import[^\n]*\bweb\b|import\s+aiohttp\.web|from\s+aiohttp\.web\b)"
            ),
            app: re!(r"\bweb\.(?:Application|run_app)\s*\("),
        },
        Framework {
            name: "quart",
            deps: &["quart"],
            import: re!(r"(?m)^\s*(?:from\s+quart\s+import|import\s+quart\b)"),
            app: re!(r"\bQuart\s*\("),
        },
        Framework {
            name: "starlette",
            deps: &["starlette"],
            import: re!(r"(?m)^\s*from\s+starlette\.applications\s+import"),
            app: re!(r"\bStarlette\s*\("),
        },
        Framework {
            name: "litestar",
            deps: &["litestar"],
            import: re!(r"(?m)^\s*(?:from\s+litestar\s+import|import\s+litestar\b)"),
            app: re!(r"\bLitestar\s*\("),
        },
        Framework {
            name: "sanic",
            deps: &["sanic"],
            import: re!(r"(?m)^\s*(?:from\s+sanic\s+import|import\s+sanic\b)"),
            app: re!(r"\bSanic\s*\("),
        },
        Framework {
            name: "tornado",
            deps: &["tornado"],
            import: re!(r"(?m)^\s*(?:import\s+tornado\.web|from\s+tornado\s+import[^\n]*\bweb\b)"),
            app: re!(r"\btornado\.web\.Application\s*\(|\bweb\.Application\s*\("),
        },
        Framework {
            name: "bottle",
            deps: &["bottle"],
            import: re!(r"(?m)^\s*(?:from\s+bottle\s+import|import\s+bottle\b)"),
            app: re!(r"\bBottle\s*\(|(?m)^\s*(?:bottle\.)?run\s*\("),
        },
        Framework {
            name: "gradio",
            deps: &["gradio"],
            import: re!(r"(?m)^\s*(?:import\s+gradio\b|from\s+gradio\s+import)"),
            app: re!(r"\.launch\s*\(|\bgr\.(?:Interface|Blocks|ChatInterface)\s*\("),
        },
        Framework {
            name: "streamlit",
            deps: &["streamlit"],
            import: re!(r"(?m)^\s*(?:import\s+streamlit\b|from\s+streamlit\s+import)"),
            app: re!(r"(?m)^\s*(?:import\s+streamlit\b|from\s+streamlit\s+import)"),
        },
    ]
}

pub(crate) fn detect(view: &AppView<'_>) -> Option<Detection> {
    let mut d = detect_kind(view)?;
    if d.kind == Kind::Server {
        d.runner_address = servers::gunicorn_bind(view);
    }
    Some(d)
}

fn detect_kind(view: &AppView<'_>) -> Option<Detection> {
    let deps = python_deps(view);
    let manifest = view.files.iter().find(|f| {
        let name = file_name(&f.path);
        view.rel(&f.path) == name
            && (matches!(
                name,
                "pyproject.toml" | "Pipfile" | "setup.py" | "setup.cfg" | "manage.py"
            ) || (name.starts_with("requirements") && name.ends_with(".txt")))
    });
    let first_source = view.sources(PY).next();
    let notebook = view.sources(&[".ipynb"]).next();
    let language_at = match (manifest, first_source, notebook) {
        (Some(m), ..) => Spot::file(&m.path, "Python project manifest"),
        (None, Some(f), _) => Spot::file(&f.path, "Python source"),
        (None, None, Some(n)) => Spot::file(&n.path, "Jupyter notebook"),
        (None, None, None) => return None,
    };
    let has_dep = |names: &[&str]| {
        deps.iter()
            .find(|d| names.contains(&d.value.as_str()))
            .cloned()
    };

    // The framework's own source constructs and documents its app object
    // everywhere; the repository is still the library others import.
    if let Some(at) = framework_itself(view) {
        return Some(
            Detection::new("python", Kind::Library, Confidence::Manifest, language_at)
                .framework_less(at),
        );
    }
    if let Some(detection) = servers::django(view, &deps, &language_at) {
        return Some(detection);
    }
    for framework in frameworks() {
        if let Some(app) = view
            .find(PY, framework.app)
            .filter(|hit| !defines_class(hit))
            .filter(|hit| imports(view, &framework, hit))
        {
            let at = app
                .spot()
                .with_detail(format!("{} app: {}", framework.name, app.quote()));
            let base = Detection::new(
                "python",
                Kind::Server,
                Confidence::Code,
                language_at.clone(),
            )
            .framework(framework.name, at);
            return Some(servers::configure(view, &deps, base, app.file));
        }
    }
    if let Some(detection) = not_a_server(view, &language_at) {
        return Some(detection);
    }
    // A framework named in a manifest whose code we could not see.
    for framework in frameworks() {
        if let Some(dep) = has_dep(framework.deps) {
            let at = dep
                .at
                .with_detail(format!("{} is a dependency", framework.name));
            let base = Detection::new(
                "python",
                Kind::Server,
                Confidence::Manifest,
                language_at.clone(),
            )
            .framework(framework.name, at);
            let entry = view.sources(PY).next().map_or("", |f| f.path.as_str());
            return Some(servers::configure(view, &deps, base, entry));
        }
    }
    let at = language_at.with_detail("no web framework, server or entry point found");
    Some(Detection::new("python", Kind::Unknown, Confidence::Files, language_at).framework_less(at))
}

/// `class FastAPI(Starlette):` defines the framework, it does not run an app.
fn defines_class(hit: &Hit<'_>) -> bool {
    let line = super::scan::line_text(hit.text, hit.start());
    line.trim_start().starts_with("class ")
}

/// Web frameworks and servers whose own repositories look like apps.
const FRAMEWORK_PACKAGES: &[&str] = &[
    "django",
    "streamlit",
    "gradio",
    "uvicorn",
    "gunicorn",
    "werkzeug",
    "tornado",
    "bottle",
    "pyramid",
    "falcon",
    "sanic",
    "hypercorn",
];

/// The package a pyproject.toml or setup.cfg names is a web framework itself.
fn framework_itself(view: &AppView<'_>) -> Option<Spot> {
    ["pyproject.toml", "setup.cfg"].iter().find_map(|name| {
        let file = view.file(name)?;
        let text = file.content.as_deref()?;
        let hit = re!(r#"(?m)^name\s*=\s*["']?([A-Za-z0-9_.-]+)"#).captures(text)?;
        let package = hit.get(1)?.as_str().to_ascii_lowercase();
        let known = frameworks().iter().any(|f| f.name == package)
            || FRAMEWORK_PACKAGES.contains(&package.as_str());
        known.then(|| {
            let line = super::scan::line_at(text, hit.get(0).map_or(0, |m| m.start()));
            Spot::at(&file.path, line, format!("the {package} package itself"))
        })
    })
}

/// The app object counts when its file (or any file) imports the framework:
/// `Flask(` in a file that never imports flask is something else.
fn imports(view: &AppView<'_>, framework: &Framework, app: &Hit<'_>) -> bool {
    let same_file = view.files.iter().find(|f| f.path == app.file);
    let in_file = same_file
        .and_then(|f| f.content.as_deref())
        .is_some_and(|text| framework.import.is_match(text));
    in_file || view.find(PY, framework.import).is_some()
}

/// Python code that does something other than serve HTTP: the first kind
/// that matches, most specific first.
fn not_a_server(view: &AppView<'_>, language_at: &Spot) -> Option<Detection> {
    let found = |kind, confidence, at: Spot| {
        Some(Detection::new("python", kind, confidence, language_at.clone()).framework_less(at))
    };
    if let Some((kind, at)) = first_sign(view, &outbound_signs()) {
        return found(kind, Confidence::Code, at);
    }
    if let Some(at) = notebooks(view) {
        return found(Kind::Notebook, Confidence::Code, at);
    }
    if let Some(at) = batch(view) {
        return found(Kind::Batch, Confidence::Code, at);
    }
    // A package that files itself under libraries and not the console is a
    // library even when it ships a command (Flask's `flask` CLI, a SDK's
    // helper script): the command serves the library's users.
    if let Some(at) = declared_library(view) {
        return found(Kind::Library, Confidence::Manifest, at);
    }
    if let Some((kind, at)) = first_sign(view, &cli_signs()) {
        return found(kind, Confidence::Code, at);
    }
    if let Some(at) = console_script(view) {
        return found(Kind::Cli, Confidence::Manifest, at);
    }
    if let Some(at) = library(view) {
        return found(Kind::Library, Confidence::Manifest, at);
    }
    // The weakest sign of all: a script could be a helper in another
    // language's project, so it yields to any manifest-backed detection.
    let script = view.find(PY, re!(r#"(?m)^if\s+__name__\s*==\s*["']__main__["']"#))?;
    found(
        Kind::Batch,
        Confidence::Files,
        script.spot().with_detail("script that runs once and exits"),
    )
}

type Sign = (Kind, &'static regex::Regex, &'static str);

/// Programs with a window or only outbound connections.
fn outbound_signs() -> [Sign; 4] {
    [
        (
            Kind::Bot,
            re!(r"\b(?:commands\.Bot|discord\.Client|discord\.Bot)\s*\("),
            "discord.py bot client",
        ),
        (
            Kind::Bot,
            re!(r"\.(?:run_polling|start_polling|infinity_polling|polling)\s*\("),
            "Telegram bot polling for updates",
        ),
        (
            Kind::Bot,
            re!(r"\bSocketModeHandler\s*\("),
            "Slack Socket Mode handler",
        ),
        (
            Kind::Desktop,
            re!(
                r"(?m)^\s*(?:import|from)\s+(?:tkinter|customtkinter|PyQt[56]|PySide[26]|wx|kivy|toga|pygame)\b"
            ),
            "desktop GUI toolkit import",
        ),
    ]
}

fn cli_signs() -> [Sign; 5] {
    [
        (
            Kind::Cli,
            re!(r"@click\.(?:command|group)\s*\(|\bclick\.(?:command|group)\s*\("),
            "click entry point",
        ),
        (
            Kind::Cli,
            re!(r"\btyper\.(?:Typer|run)\s*\("),
            "typer entry point",
        ),
        (
            Kind::Cli,
            re!(r"\bArgumentParser\s*\("),
            "argparse entry point",
        ),
        (
            Kind::Cli,
            re!(r"\bfire\.Fire\s*\("),
            "python-fire entry point",
        ),
        (Kind::Cli, re!(r"\bdocopt\s*\("), "docopt entry point"),
    ]
}

fn first_sign(view: &AppView<'_>, signs: &[Sign]) -> Option<(Kind, Spot)> {
    signs
        .iter()
        .find_map(|(kind, re, what)| Some((*kind, view.find(PY, re)?.spot().with_detail(*what))))
}

/// Notebooks, when no Python file is meant to be run.
fn notebooks(view: &AppView<'_>) -> Option<Spot> {
    let runs = view
        .sources(PY)
        .any(|f| f.content.as_deref().is_some_and(|t| t.contains("__main__")));
    let notebook = view.sources(&[".ipynb"]).next().filter(|_| !runs)?;
    Some(Spot::file(&notebook.path, "Jupyter notebook"))
}

/// Scheduled or queue-driven work: a crontab, a scheduler, a queue consumer.
fn batch(view: &AppView<'_>) -> Option<Spot> {
    if let Some(cron) = view.files.iter().find(|f| file_name(&f.path) == "crontab") {
        return Some(Spot::file(&cron.path, "crontab schedule"));
    }
    let patterns: [(&regex::Regex, &str); 4] = [
        (
            re!(r"\bschedule\.every\b|\bBlockingScheduler\s*\("),
            "scheduled job",
        ),
        (
            re!(r"\.start_consuming\s*\(|\.basic_consume\s*\("),
            "message-queue consumer",
        ),
        (
            re!(r"\bKafkaConsumer\s*\(|\bConsumer\s*\(\s*\{"),
            "Kafka consumer",
        ),
        (re!(r"(?m)^\s*(?:\w+\s*=\s*)?Celery\s*\("), "Celery worker"),
    ];
    patterns.iter().find_map(|(re, what)| {
        view.find(PY, re)
            .map(|hit| hit.spot().with_detail(format!("{what}: {}", hit.quote())))
    })
}

/// `[project.scripts]` or `console_scripts` entry points.
fn console_script(view: &AppView<'_>) -> Option<Spot> {
    ["pyproject.toml", "setup.py", "setup.cfg"]
        .iter()
        .find_map(|name| {
            let file = view.file(name)?;
            let text = file.content.as_deref()?;
            let at = text
                .find("[project.scripts]")
                .or_else(|| text.find("[tool.poetry.scripts]"))
                .or_else(|| text.find("console_scripts"))?;
            let line = super::scan::line_at(text, at);
            Some(Spot::at(&file.path, line, "console-script entry point"))
        })
}

/// Trove classifiers naming the package a library (or framework) with no
/// console environment.
fn declared_library(view: &AppView<'_>) -> Option<Spot> {
    const LIBRARY: &str = "Topic :: Software Development :: Libraries";
    ["pyproject.toml", "setup.cfg", "setup.py"]
        .iter()
        .find_map(|name| {
            let file = view.file(name)?;
            let text = file.content.as_deref()?;
            if text.contains("Environment :: Console") {
                return None;
            }
            let at = text.find(LIBRARY)?;
            let line = super::scan::line_at(text, at);
            Some(Spot::at(&file.path, line, "classified as a library"))
        })
}

/// A package that others install: a build backend or setup.py, and no app.
fn library(view: &AppView<'_>) -> Option<Spot> {
    if let Some(text) = view.text("pyproject.toml")
        && let Some(at) = text
            .find("[build-system]")
            .or_else(|| text.find("[tool.poetry]"))
    {
        let line = super::scan::line_at(text, at);
        return Some(Spot::at(
            &view.path("pyproject.toml"),
            line,
            "Python package build configuration",
        ));
    }
    view.file("setup.py")
        .map(|f| Spot::file(&f.path, "setup.py packaging script"))
}

impl Detection {
    /// A detection whose kind (not a framework) `at` explains.
    pub(crate) fn framework_less(mut self, at: Spot) -> Self {
        self.kind_at = at;
        self
    }
}
