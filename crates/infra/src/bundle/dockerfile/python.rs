//! Python: dependencies installed into a virtualenv in a build stage (pip,
//! Poetry, uv or Pipenv), which the slim final stage copies.

use super::{Image, Inputs, Text, exec_form};
use crate::InfraError;
use crate::bundle::health::Probe;
use crate::bundle::images::{PIPENV_VERSION, POETRY_VERSION, PYTHON, UV};

enum Installer {
    Uv,
    Poetry,
    Pipenv,
    Requirements,
    /// A `pyproject.toml` without a lock file: the project itself is installed.
    Project,
    Nothing,
}

pub(super) fn image(inputs: &Inputs) -> Result<Image, InfraError> {
    let command = strip_runner(inputs.require_command()?);
    let installer = installer(inputs);
    let mut text = Text::new(inputs, &format!("{} app (Python)", framework_name(inputs)));
    text.line(format!("FROM {PYTHON} AS build"))
        .line("ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1")
        .line("RUN python -m venv /opt/venv")
        .line("WORKDIR /app");
    install(&mut text, &installer);
    text.blank()
        .line(format!("FROM {PYTHON}"))
        .line("ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VIRTUAL_ENV=/opt/venv PATH=\"/opt/venv/bin:$PATH\"")
        .line("RUN useradd --create-home --uid 10001 app")
        .line("WORKDIR /app")
        .line("COPY --from=build /opt/venv /opt/venv")
        .line("COPY --chown=app:app . .");
    Ok(Image {
        dockerfile: text.finish(inputs, "app", &exec_form(command)),
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
        context: None,
    })
}

fn framework_name<'a>(inputs: &'a Inputs) -> &'a str {
    match inputs.framework() {
        "" => "an HTTP",
        other => other,
    }
}

fn installer(inputs: &Inputs) -> Installer {
    let files = inputs.files;
    let pyproject = files.text("pyproject.toml").unwrap_or_default();
    if files.exists("uv.lock") {
        Installer::Uv
    } else if files.exists("poetry.lock") || pyproject.contains("[tool.poetry]") {
        Installer::Poetry
    } else if files.exists("requirements.txt") {
        Installer::Requirements
    } else if files.exists("Pipfile") {
        Installer::Pipenv
    } else if files.exists("pyproject.toml") {
        Installer::Project
    } else {
        Installer::Nothing
    }
}

fn install(text: &mut Text, installer: &Installer) {
    match installer {
        Installer::Uv => {
            text.line(format!("COPY --from={UV} /uv /usr/local/bin/uv"))
                .line("COPY pyproject.toml uv.lock ./")
                .line("RUN UV_PROJECT_ENVIRONMENT=/opt/venv uv sync --frozen --no-dev --no-install-project");
        }
        Installer::Poetry => {
            text.line(format!("RUN pip install poetry=={POETRY_VERSION}"))
                .line("COPY pyproject.toml poetry.lock* ./")
                .line("RUN VIRTUAL_ENV=/opt/venv poetry install --only main --no-root --no-interaction");
        }
        Installer::Pipenv => {
            text.line(format!("RUN pip install pipenv=={PIPENV_VERSION}"))
                .line("COPY Pipfile Pipfile.lock* ./")
                .line("RUN pipenv requirements > /tmp/requirements.txt && /opt/venv/bin/pip install -r /tmp/requirements.txt");
        }
        Installer::Requirements => {
            text.line("COPY requirements*.txt ./")
                .line("RUN /opt/venv/bin/pip install -r requirements.txt");
        }
        Installer::Project => {
            text.line("COPY . .")
                .line("RUN /opt/venv/bin/pip install .");
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
