//! Python: dependencies installed into a virtualenv in a build stage (pip,
//! Poetry, uv or Pipenv), which the slim final stage copies.

use super::python_version::python_image;
use super::{Image, Inputs, Text, exec_form, is_assignment};
use crate::InfraError;
use crate::bundle::app_files::{AppFiles, join, parent};
use crate::bundle::health::Probe;
use crate::bundle::images::{PIPENV_VERSION, POETRY_VERSION, UV};

/// A package that is compiled when no wheel fits, and the Debian packages
/// its build and its run need.
struct Compiled {
    package: &'static str,
    build_libs: &'static [&'static str],
    runtime_libs: &'static [&'static str],
}

const COMPILED: &[Compiled] = &[
    Compiled {
        package: "uvloop",
        build_libs: &[],
        runtime_libs: &[],
    },
    Compiled {
        package: "httptools",
        build_libs: &[],
        runtime_libs: &[],
    },
    Compiled {
        package: "psycopg2",
        build_libs: &["libpq-dev"],
        runtime_libs: &["libpq5"],
    },
    Compiled {
        package: "mysqlclient",
        build_libs: &["default-libmysqlclient-dev", "pkg-config"],
        runtime_libs: &["libmariadb3"],
    },
];

/// True when a dependency file of the app names `package`.
fn lists_package(inputs: &Inputs, package: &str) -> bool {
    dependency_texts(inputs).any(|text| names_package(text, package))
}

fn apt_install(packages: &[&str]) -> String {
    format!(
        "RUN apt-get update && apt-get install -y --no-install-recommends {} && rm -rf /var/lib/apt/lists/*",
        packages.join(" ")
    )
}

enum Installer {
    Uv,
    Poetry,
    /// `locked`: a Pipfile.lock to export; without one Pipenv locks first.
    Pipenv {
        locked: bool,
    },
    /// `includes`: the other files requirements.txt names (`-r requirements/base.txt`).
    Requirements {
        includes: Vec<String>,
    },
    /// A `pyproject.toml` without a lock file: the project itself is installed.
    Project,
    /// No dependency file: the packages the app's imports name.
    Imports(Vec<String>),
    Nothing,
}

pub(super) fn image(app: &Inputs) -> Result<Image, InfraError> {
    let root = dependency_root(app.files);
    let root_files = root
        .as_deref()
        .map(|dir| AppFiles::new(app.files.repo(), dir));
    // What is installed comes from the folder that declares it.
    let inputs = &Inputs {
        analysis: app.analysis,
        files: root_files.as_ref().unwrap_or(app.files),
        port: app.port,
        command: app.command,
        env: app.env,
        build_args: app.build_args,
        serverless: app.serverless,
    };
    let command = strip_runner(app.require_command()?);
    let installer = installer(inputs);
    if matches!(installer, Installer::Nothing) && !inputs.framework().is_empty() {
        return Err(InfraError::Bundle(format!(
            "this {} app lists no Python dependencies where the Dockerfile looks ({}): add a requirements.txt or pyproject.toml there",
            inputs.framework(),
            match inputs.files.subdir() {
                "" => "the repository root".to_owned(),
                dir => format!("{dir}/"),
            }
        )));
    }
    let missing = missing_server(inputs, command);
    let (python, version_note) = python_image(inputs.files);
    let mut text = Text::new(inputs, &format!("{} app (Python)", framework_name(inputs)));
    text.line(format!("FROM {python} AS build"))
        .line("ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1")
        .line("RUN python -m venv /opt/venv")
        .line("WORKDIR /app");
    let compiled: Vec<&Compiled> = COMPILED
        .iter()
        .filter(|c| lists_package(inputs, c.package))
        .collect();
    if !compiled.is_empty() {
        let mut packages = vec!["gcc", "libc6-dev", "python3-dev"];
        packages.extend(compiled.iter().flat_map(|c| c.build_libs.iter().copied()));
        text.line(apt_install(&packages));
    }
    install(&mut text, &installer);
    let mut notes: Vec<String> = install_note(&installer, inputs).into_iter().collect();
    if provides_pkg_resources(&mut text, &installer) {
        notes.push(PKG_RESOURCES_NOTE.to_owned());
    }
    notes.extend(version_note);
    for c in &compiled {
        notes.push(format!(
            "added a C compiler to the build stage: `{}` is compiled from source where no wheel fits the image's Python",
            c.package
        ));
    }
    if let Some((program, package)) = missing {
        let pip = match installer {
            Installer::Uv => "uv pip install --python /opt/venv/bin/python",
            _ => "/opt/venv/bin/pip install",
        };
        text.line(format!("RUN {pip} {package}"));
        notes.push(format!(
            "The start command runs `{program}`, which the repository's dependencies do not install: the image installs `{package}` too (add it to the dependencies to pin its version)."
        ));
    }
    text.blank()
        .line(format!("FROM {python}"))
        .line("ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VIRTUAL_ENV=/opt/venv PATH=\"/opt/venv/bin:$PATH\"")
        .line("RUN useradd --create-home --uid 10001 app");
    let runtime_libs: Vec<&str> = compiled
        .iter()
        .flat_map(|c| c.runtime_libs.iter().copied())
        .collect();
    if !runtime_libs.is_empty() {
        text.line(apt_install(&runtime_libs));
    }
    text.app_dir("app")
        .line("COPY --from=build /opt/venv /opt/venv")
        .line("COPY --chown=app:app . .");
    if let Some(root) = &root {
        let rel = app.files.subdir()[root.len()..].trim_start_matches('/');
        text.line(format!("WORKDIR /app/{rel}"));
        notes.push(format!(
            "The app's folder declares no dependencies; {} does, so the image is built from {} with the app started in /app/{rel}.",
            declared_installer(inputs.files).map_or("the folder above", |(_, file)| file),
            if root.is_empty() { "the repository root".to_owned() } else { format!("{root}/") }
        ));
    }
    let mut command = command.to_owned();
    if let Some((collect, note)) = super::django_static::collectstatic(app) {
        text.line(collect);
        notes.push(note);
        if let Some(rest) = super::django_static::without_collectstatic(&command) {
            notes.push(format!(
                "The start command collected the static files again, as the app's user, into a folder the build made: it runs `{rest}` instead."
            ));
            command = rest;
        }
    }
    Ok(Image {
        dockerfile: text.finish(inputs, "app", &exec_form(&command)),
        probe: Probe::Python,
        ignore: &[
            "__pycache__",
            "*.pyc",
            ".venv",
            "venv",
            ".pytest_cache",
            ".mypy_cache",
        ],
        extra_files: Vec::new(),
        context: root,
        notes,
    })
}

/// The installer the app's dependency files call for, and the file that
/// decides it; `None` when it declares none (a `pyproject.toml` counts only
/// when it lists dependencies, not one that only configures tools).
fn declared_installer(files: &AppFiles) -> Option<(Installer, &'static str)> {
    let pyproject = files
        .text("pyproject.toml")
        .filter(|t| t.contains("dependencies") || t.contains("[tool.poetry"));
    Some(if files.exists("uv.lock") {
        (Installer::Uv, "uv.lock")
    } else if files.exists("poetry.lock") {
        (Installer::Poetry, "poetry.lock")
    } else if pyproject.is_some_and(|t| t.contains("[tool.poetry]")) {
        (Installer::Poetry, "pyproject.toml")
    } else if files.exists("requirements.txt") {
        let includes = requirement_includes(files);
        (Installer::Requirements { includes }, "requirements.txt")
    } else if files.exists("Pipfile") {
        let locked = files.exists("Pipfile.lock");
        (Installer::Pipenv { locked }, "Pipfile")
    } else if pyproject.is_some() {
        (Installer::Project, "pyproject.toml")
    } else {
        return None;
    })
}

/// The nearest folder above the app's that declares its dependencies
/// (`requirements.txt` at the root, `manage.py` in `backend/`), when the
/// app's own folder declares none.
fn dependency_root(files: &AppFiles) -> Option<String> {
    if files.subdir().is_empty() || declared_installer(files).is_some() {
        return None;
    }
    let mut dir = files.subdir();
    while !dir.is_empty() {
        dir = parent(dir);
        if declared_installer(&AppFiles::new(files.repo(), dir)).is_some() {
            return Some(dir.to_owned());
        }
    }
    None
}

/// Servers a start command names, and the package that provides each.
const SERVERS: &[(&str, &str)] = &[
    ("uvicorn", "uvicorn"),
    ("gunicorn", "gunicorn"),
    ("hypercorn", "hypercorn"),
    ("daphne", "daphne"),
    ("waitress-serve", "waitress"),
    ("streamlit", "streamlit"),
    ("flask", "flask"),
    ("fastapi", "fastapi[standard]"),
];

/// The server the start command runs, with its package, when no
/// dependency file of the app names that package.
fn missing_server(inputs: &Inputs, command: &str) -> Option<(&'static str, &'static str)> {
    let program = command
        .split_whitespace()
        .find(|w| *w != "exec" && !is_assignment(w))?;
    let (program, package) = SERVERS.iter().find(|(p, _)| *p == program)?;
    let name = package.split('[').next().unwrap_or(package);
    let listed = dependency_texts(inputs).any(|text| names_package(text, name));
    (!listed).then_some((program, package))
}

/// The texts of the app's dependency files.
fn dependency_texts<'a>(inputs: &Inputs<'a>) -> impl Iterator<Item = &'a str> {
    let files = inputs.files;
    [
        "requirements.txt",
        "requirements/base.txt",
        "requirements/prod.txt",
        "requirements/production.txt",
        "pyproject.toml",
        "Pipfile",
        "poetry.lock",
        "uv.lock",
        "setup.py",
        "setup.cfg",
    ]
    .into_iter()
    .filter_map(move |f| files.text(f))
}

/// Whether `text` names Python package `name` as a whole word (`uvicorn`,
/// `uvicorn[standard]>=0.30`, `"uvicorn"`), case-insensitively.
fn names_package(text: &str, name: &str) -> bool {
    let text = text.to_ascii_lowercase();
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(is_name_char) && !after.is_some_and(is_name_char)
    })
}

fn framework_name<'a>(inputs: &'a Inputs) -> &'a str {
    match inputs.framework() {
        "" => "an HTTP",
        other => other,
    }
}

fn installer(inputs: &Inputs) -> Installer {
    match declared_installer(inputs.files) {
        Some((installer, _)) => installer,
        None => match super::python_imports::inferred_packages(inputs.files) {
            packages if packages.is_empty() => Installer::Nothing,
            packages => Installer::Imports(packages),
        },
    }
}

/// The files requirements.txt includes (`-r`, `-c`, `--requirement`,
/// `--constraint`), at any depth, each relative to the file naming it;
/// those `requirements*.txt` at the app's root already copies are left out.
fn requirement_includes(files: &AppFiles) -> Vec<String> {
    let option = regex::Regex::new(r"^\s*(?:-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+)(\S+)")
        .expect("valid pattern");
    let mut found: Vec<String> = Vec::new();
    let mut pending = vec!["requirements.txt".to_owned()];
    while let Some(path) = pending.pop() {
        let Some(text) = files.text(&path) else {
            continue;
        };
        let dir = parent(&path);
        for line in text.lines() {
            let Some(named) = option.captures(line).and_then(|c| c.get(1)) else {
                continue;
            };
            let included = join(dir, named.as_str());
            let at_root = !included.contains('/')
                && included.starts_with("requirements")
                && included.ends_with(".txt");
            let outside = included.starts_with("..");
            if outside || included == "requirements.txt" || found.contains(&included) {
                continue;
            }
            if !at_root {
                found.push(included.clone());
            }
            pending.push(included);
        }
    }
    found.sort();
    found
}

/// What the plan says about the install: the tool and the lock file it
/// follows, or that the dependency file pins nothing.
fn install_note(installer: &Installer, inputs: &Inputs) -> Option<String> {
    let files = inputs.files;
    Some(match installer {
        Installer::Uv => "Python dependencies: uv installs exactly what uv.lock pins (`uv sync --frozen --no-dev`), with the image's Python.".to_owned(),
        Installer::Poetry if files.exists("poetry.lock") => "Python dependencies: Poetry installs exactly what poetry.lock pins (`poetry install --only main`).".to_owned(),
        Installer::Poetry => "Python dependencies: there is no poetry.lock, so Poetry resolves versions at build time; commit the lock file for repeatable builds.".to_owned(),
        Installer::Pipenv { locked: true } => "Python dependencies: pip installs what Pipfile.lock pins (exported by `pipenv requirements`).".to_owned(),
        Installer::Pipenv { locked: false } => "Python dependencies: there is no Pipfile.lock, so Pipenv resolves versions at build time; commit the lock file for repeatable builds.".to_owned(),
        Installer::Requirements { .. } => {
            let text = files.text("requirements.txt").unwrap_or_default();
            if pins_nothing(text) {
                "Python dependencies: requirements.txt pins no version (no `==`), so each build installs whatever is newest; pin them for repeatable builds.".to_owned()
            } else {
                "Python dependencies: pip installs requirements.txt.".to_owned()
            }
        }
        Installer::Project => "Python dependencies: pyproject.toml has no lock file beside it, so pip resolves versions at build time.".to_owned(),
        Installer::Imports(packages) => format!(
            "Python dependencies: the repository has no requirements.txt or pyproject.toml, so the image installs the packages its imports name, unpinned: {}. Commit a requirements.txt to choose them and their versions.",
            packages.join(", ")
        ),
        Installer::Nothing => return None,
    })
}

/// Whether a requirements file names packages but fixes none of their
/// versions (`==`, `===`, or a hash).
fn pins_nothing(requirements: &str) -> bool {
    let packages: Vec<&str> = requirements
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty() && !line.starts_with('-'))
        .collect();
    !packages.is_empty()
        && !packages
            .iter()
            .any(|line| line.contains("==") || line.contains("--hash") || line.contains('@'))
}

const PKG_RESOURCES_NOTE: &str = "When the dependencies leave out `pkg_resources`, the image adds it (`setuptools<81`): Python 3.12's virtualenvs no longer have it, and packages of the years before (gunicorn 19, among others) import it at start.";

/// A pip-installed project of the years before Python 3.12 may import
/// `pkg_resources`, which every virtualenv had then and none has now (and
/// setuptools 81 dropped): it is added when nothing installed it.
fn provides_pkg_resources(text: &mut Text, installer: &Installer) -> bool {
    let pip_installed = matches!(
        installer,
        Installer::Requirements { .. } | Installer::Pipenv { .. } | Installer::Project
    );
    if pip_installed {
        text.line("RUN /opt/venv/bin/python -c \"import pkg_resources\" 2>/dev/null || /opt/venv/bin/pip install \"setuptools<81\"");
    }
    pip_installed
}

fn install(text: &mut Text, installer: &Installer) {
    match installer {
        Installer::Uv => {
            text.line(format!("COPY --from={UV} /uv /usr/local/bin/uv"))
                .line("COPY pyproject.toml uv.lock ./")
                // The venv is made with the image's own Python, which the
                // final stage runs: never one uv would download for a
                // `.python-version` pin.
                .line("RUN UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON=python UV_PYTHON_DOWNLOADS=never uv sync --frozen --no-dev --no-install-project");
        }
        Installer::Poetry => {
            // The tools get a virtualenv of their own, apart from the app's
            // and from the system Python (which may be externally managed).
            text.line(format!("RUN python -m venv /opt/tools && /opt/tools/bin/pip install poetry=={POETRY_VERSION}"))
                .line("COPY pyproject.toml poetry.lock* ./")
                .line("RUN VIRTUAL_ENV=/opt/venv /opt/tools/bin/poetry install --only main --no-root --no-interaction");
        }
        Installer::Pipenv { locked } => {
            let lock = if *locked {
                ""
            } else {
                "/opt/tools/bin/pipenv lock && "
            };
            text.line(format!("RUN python -m venv /opt/tools && /opt/tools/bin/pip install pipenv=={PIPENV_VERSION}"))
                .line("COPY Pipfile Pipfile.lock* ./")
                .line(format!("RUN {lock}/opt/tools/bin/pipenv requirements > /tmp/requirements.txt && /opt/venv/bin/pip install -r /tmp/requirements.txt"));
        }
        Installer::Requirements { includes } => {
            text.line("COPY requirements*.txt ./");
            for path in includes {
                text.line(format!("COPY {path} {path}"));
            }
            text.line("RUN /opt/venv/bin/pip install -r requirements.txt");
        }
        Installer::Project => {
            text.line("COPY . .")
                .line("RUN /opt/venv/bin/pip install .");
        }
        Installer::Imports(packages) => {
            text.line(format!(
                "RUN /opt/venv/bin/pip install {}",
                packages.join(" ")
            ));
        }
        Installer::Nothing => {}
    }
}

/// `poetry run uvicorn …` → `uvicorn …`: the virtualenv is on PATH in the
/// image, and the runners themselves are not installed in it.
fn strip_runner(command: &str) -> &str {
    [
        "poetry run ",
        "uv run ",
        "pipenv run ",
        "pdm run ",
        "hatch run ",
    ]
    .iter()
    .find_map(|runner| command.strip_prefix(runner))
    .unwrap_or(command)
}

#[cfg(test)]
mod tests {
    use super::{dependency_root, names_package, pins_nothing, requirement_includes};
    use crate::bundle::app_files::AppFiles;
    use analysis::Snapshot;

    #[test]
    fn dependencies_declared_above_the_app_are_found_there() {
        let repo = Snapshot::from_texts([
            ("requirements.txt", "django\n"),
            ("pyproject.toml", "[tool.ruff]\nline-length = 100\n"),
            ("backend/site/manage.py", ""),
            ("api/requirements.txt", "fastapi\n"),
            ("api/main.py", ""),
            ("tools/pyproject.toml", "[tool.black]\n"),
            ("tools/lint/run.py", ""),
        ]);
        let root = |dir: &str| dependency_root(&AppFiles::new(&repo, dir));
        assert_eq!(root("backend/site").as_deref(), Some(""));
        assert_eq!(root("api"), None, "its own requirements");
        assert_eq!(root(""), None);
        // A pyproject.toml that only configures tools declares nothing.
        assert_eq!(root("tools/lint").as_deref(), Some(""));
    }

    #[test]
    fn the_files_requirements_txt_includes_are_found_at_any_depth() {
        let repo = Snapshot::from_texts([
            (
                "api/requirements.txt",
                "-r requirements/production.txt
-c requirements-constraints.txt
",
            ),
            (
                "api/requirements/production.txt",
                "-r base.txt
gunicorn==23.0.0
",
            ),
            (
                "api/requirements/base.txt",
                "--requirement=../requirements-common.txt
django==5.1
-r base.txt
",
            ),
            (
                "api/requirements-common.txt",
                "-r ../../outside.txt
",
            ),
            ("api/requirements-constraints.txt", ""),
        ]);
        assert_eq!(
            requirement_includes(&AppFiles::new(&repo, "api")),
            ["requirements/base.txt", "requirements/production.txt"],
            "root requirements*.txt are copied already, and nothing outside the app is named"
        );
    }

    #[test]
    fn a_requirements_file_without_exact_versions_pins_nothing() {
        assert!(pins_nothing("flask\ngunicorn>=21 # server\n"));
        assert!(!pins_nothing("flask==3.1.0\ngunicorn\n"));
        assert!(
            !pins_nothing("-r base.txt\n"),
            "an include is not a package"
        );
        assert!(!pins_nothing("# nothing\n\n"));
        assert!(!pins_nothing("pkg @ https://example.com/pkg.whl\n"));
    }

    #[test]
    fn packages_are_named_as_whole_words() {
        assert!(names_package(
            "fastapi==0.115\nUvicorn[standard]>=0.30\n",
            "uvicorn"
        ));
        assert!(names_package(
            "dependencies = [\"gunicorn\", \"flask\"]",
            "gunicorn"
        ));
        assert!(!names_package("uvicorn-worker==0.2\n", "uvicorn"));
        assert!(!names_package("fastapi==0.115\n", "uvicorn"));
        assert!(!names_package("flask-cors\n", "flask"));
    }
}
