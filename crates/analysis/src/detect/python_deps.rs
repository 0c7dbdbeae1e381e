//! Python dependency names from requirements files, pyproject.toml, Pipfile,
//! setup.py/setup.cfg and conda environment files, each with its line.

use super::scan::{Found, Spot, line_at};
use super::view::{AppView, file_name};

pub(crate) type Dep = Found<String>;

/// Normalised (lower-case, `_` → `-`) dependency names with where each was
/// declared, manifests at the app's root first.
pub(crate) fn python_deps(view: &AppView<'_>) -> Vec<Dep> {
    let mut deps = Vec::new();
    for file in &view.files {
        let Some(text) = file.content.as_deref() else {
            continue;
        };
        let name = file_name(&file.path);
        let in_requirements_dir = file.path.contains("requirements/");
        let found = if name.ends_with(".txt")
            && (name.starts_with("requirements") || in_requirements_dir)
        {
            requirement_lines(text)
        } else {
            match name {
                "pyproject.toml" => pyproject(text),
                "Pipfile" => toml_tables(text, |t| t == "packages" || t == "dev-packages"),
                "setup.py" => setup_py(text),
                "setup.cfg" => setup_cfg(text),
                "environment.yml" | "environment.yaml" => conda(text),
                _ => continue,
            }
        };
        let lines: Vec<&str> = text.lines().collect();
        for (dep, line) in found {
            let written = lines.get(line as usize - 1).copied().unwrap_or_default();
            for driver in extra_drivers(&dep, written) {
                deps.push(Found::new(
                    driver.to_owned(),
                    Spot::at(
                        &file.path,
                        line,
                        format!("{name} lists {dep} with its {driver} extra"),
                    ),
                ));
            }
            deps.push(Found::new(
                dep,
                Spot::at(&file.path, line, format!("{name} lists it")),
            ));
        }
    }
    deps
}

/// The database drivers a requirement's extras install:
/// `sqlalchemy[postgresql-asyncpg]` brings asyncpg, `celery[redis]` redis.
fn extra_drivers(dep: &str, written: &str) -> Vec<&'static str> {
    let lower = written.to_ascii_lowercase().replace('_', "-");
    let Some(at) = lower.find(dep) else {
        return Vec::new();
    };
    let rest = &lower[at + dep.len()..];
    let Some(extras) = rest
        .trim_start()
        .strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .map(|(extras, _)| extras)
    else {
        return Vec::new();
    };
    let mut drivers = Vec::new();
    for extra in extras.split(',').map(str::trim) {
        let driver = if extra.contains("asyncpg") {
            "asyncpg"
        } else if extra.contains("psycopg") && extra.contains("binary") {
            "psycopg2-binary"
        } else if extra.contains("psycopg")
            || extra == "postgresql"
            || extra == "postgres"
            || extra == "pg"
        {
            "psycopg2"
        } else if extra.contains("aiomysql") {
            "aiomysql"
        } else if extra.contains("asyncmy") {
            "asyncmy"
        } else if extra.contains("pymysql") {
            "pymysql"
        } else if extra == "mysql" || extra.contains("mysqlclient") {
            "mysqlclient"
        } else if extra == "redis" {
            "redis"
        } else {
            continue;
        };
        if !drivers.contains(&driver) {
            drivers.push(driver);
        }
    }
    drivers
}

pub(crate) fn normalise(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('_', "-")
}

/// The leading distribution name of a requirement: `Flask[async]>=3` → `flask`.
fn requirement_name(spec: &str) -> Option<String> {
    let spec = spec.trim().trim_matches(['"', '\'']);
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = &spec[..end];
    (!name.is_empty() && name.starts_with(|c: char| c.is_ascii_alphabetic()))
        .then(|| normalise(name))
}

fn requirement_lines(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .zip(1..)
        .filter(|(line, _)| {
            let line = line.trim_start();
            !line.starts_with('#') && !line.starts_with('-')
        })
        .filter_map(|(line, n)| requirement_name(line).map(|name| (name, n)))
        .collect()
}

/// `dependencies = [...]` arrays (PEP 621, uv's dev-dependencies) and
/// `[tool.poetry.*dependencies]` tables. Optional extras are not the app's.
fn pyproject(text: &str) -> Vec<(String, u32)> {
    let mut deps = quoted_in_arrays(text, re!(r"(?m)^\s*(?:dev-)?dependencies\s*=\s*\["));
    deps.extend(toml_tables(text, |t| {
        t.starts_with("tool.poetry") && t.ends_with("dependencies")
    }));
    deps.retain(|(name, _)| name != "python");
    deps
}

/// Every quoted requirement inside arrays that `opener` starts.
fn quoted_in_arrays(text: &str, opener: &regex::Regex) -> Vec<(String, u32)> {
    let mut deps = Vec::new();
    for m in opener.find_iter(text) {
        let body = super::scan::call_args(text, m.end());
        let body_start = m.end();
        let quoted = re!(r#"["']([^"']+)["']"#);
        for q in quoted.captures_iter(body) {
            let Some(spec) = q.get(1) else { continue };
            if let Some(name) = requirement_name(spec.as_str()) {
                deps.push((name, line_at(text, body_start + spec.start())));
            }
        }
    }
    deps
}

/// Keys of the TOML tables whose header passes `wanted`.
fn toml_tables(text: &str, wanted: impl Fn(&str) -> bool) -> Vec<(String, u32)> {
    let mut inside = false;
    let mut deps = Vec::new();
    for (line, n) in text.lines().zip(1..) {
        let trimmed = line.trim();
        if let Some(header) = trimmed.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            inside = wanted(header.trim());
            continue;
        }
        if inside && let Some((key, _)) = trimmed.split_once('=') {
            let key = key.trim().trim_matches(['"', '\'']);
            if !key.is_empty() && !key.starts_with('#') {
                deps.push((normalise(key), n));
            }
        }
    }
    deps
}

fn setup_py(text: &str) -> Vec<(String, u32)> {
    quoted_in_arrays(text, re!(r"install_requires\s*=\s*\["))
}

fn setup_cfg(text: &str) -> Vec<(String, u32)> {
    let mut inside = false;
    let mut deps = Vec::new();
    for (line, n) in text.lines().zip(1..) {
        if line.trim_start().starts_with("install_requires") {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with([' ', '\t']) || line.trim().is_empty() {
                inside = !line.trim().is_empty() && line.starts_with([' ', '\t']);
                continue;
            }
            if let Some(name) = requirement_name(line) {
                deps.push((name, n));
            }
        }
    }
    deps
}

fn conda(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .zip(1..)
        .filter_map(|(line, n)| {
            let item = line.trim_start().strip_prefix("- ")?;
            requirement_name(item)
                .filter(|name| name != "pip")
                .map(|name| (name, n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extras_name_the_drivers_they_install() {
        assert_eq!(
            extra_drivers(
                "sqlalchemy",
                "    \"sqlalchemy[postgresql-asyncpg]>=2.0.48\","
            ),
            ["asyncpg"]
        );
        assert_eq!(
            extra_drivers("sqlalchemy", "SQLAlchemy[asyncio, mysql]==2.0"),
            ["mysqlclient"]
        );
        assert_eq!(extra_drivers("celery", "celery[redis]"), ["redis"]);
        assert!(extra_drivers("uvicorn", "uvicorn[standard]").is_empty());
        assert!(extra_drivers("flask", "flask>=3 # [postgres] elsewhere").is_empty());
    }

    #[test]
    fn requirement_names_are_normalised() {
        assert_eq!(
            requirement_name("Flask[async]>=3.0").as_deref(),
            Some("flask")
        );
        assert_eq!(
            requirement_name("python_telegram_bot==21").as_deref(),
            Some("python-telegram-bot")
        );
        assert_eq!(requirement_name("-r base.txt"), None);
    }

    #[test]
    fn pyproject_pep621_and_poetry() {
        let text = "[project]\nname = \"x\"\ndependencies = [\n  \"fastapi>=0.110\",\n  \"uvicorn[standard]\",\n]\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nDjango = \"^5\"\n";
        let deps = pyproject(text);
        assert_eq!(
            deps,
            [
                ("fastapi".to_owned(), 4),
                ("uvicorn".to_owned(), 5),
                ("django".to_owned(), 10)
            ]
        );
    }

    #[test]
    fn setup_cfg_install_requires_block() {
        let text =
            "[options]\ninstall_requires =\n    click>=8\n    requests\npython_requires = >=3.8\n";
        assert_eq!(
            setup_cfg(text),
            [("click".to_owned(), 3), ("requests".to_owned(), 4)]
        );
    }
}
