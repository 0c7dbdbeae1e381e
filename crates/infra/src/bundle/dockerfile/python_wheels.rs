//! The newest Python a repository's locked packages install on: a lock of
//! some years ago pins native packages (greenlet, uvloop, PyYAML, numpy…)
//! whose versions publish no wheels for newer Pythons, and whose sources
//! no longer build there (greenlet 1.x and uvloop 0.16 on 3.12, PyYAML 6.0
//! with Cython 3). The image then fails at `pip install`, where an older
//! Python the project admits installs every wheel.

use crate::bundle::app_files::AppFiles;

/// (package, version, newest minor of Python 3 with wheels for versions
/// below it): `("uvloop", "0.17.0", 10)` says uvloop before 0.17.0 has
/// wheels up to 3.10 only. Ordered by package, the lower bound first.
const WHEELS_UP_TO: &[(&str, &str, u32)] = &[
    ("asyncpg", "0.27.0", 10),
    ("asyncpg", "0.29.0", 11),
    ("greenlet", "2.0.0", 10),
    ("greenlet", "3.0.0", 11),
    ("grpcio", "1.49.1", 10),
    ("grpcio", "1.59.0", 11),
    ("httptools", "0.5.0", 10),
    ("httptools", "0.6.1", 11),
    ("numpy", "1.23.2", 10),
    ("numpy", "1.26.0", 11),
    ("pandas", "1.5.0", 10),
    ("pandas", "2.1.1", 11),
    ("psycopg2-binary", "2.9.5", 10),
    ("psycopg2-binary", "2.9.9", 11),
    ("pyyaml", "6.0.1", 10),
    ("uvloop", "0.17.0", 10),
    ("uvloop", "0.18.0", 11),
];

/// The newest minor version every locked package has wheels for, with the
/// package that sets it (`None` when no lock pins one of them).
pub(super) fn newest_installable(files: &AppFiles) -> Option<(u32, String)> {
    locked(files)
        .into_iter()
        .filter_map(|(name, version)| {
            let limit = WHEELS_UP_TO
                .iter()
                .filter(|(package, _, _)| *package == name)
                .find(|(_, below, _)| older(&version, below))?
                .2;
            Some((limit, format!("{name} {version}")))
        })
        .min_by_key(|(limit, _)| *limit)
}

/// `(name, version)` of what the lock files and exact requirements pin:
/// poetry.lock and uv.lock (`name = "…"` then `version = "…"`), Pipfile.lock,
/// `requirements*.txt` (`name==version`). Names lowercased, `_` as `-`.
fn locked(files: &AppFiles) -> Vec<(String, String)> {
    let normal = |name: &str| name.trim().to_ascii_lowercase().replace('_', "-");
    let mut pins = Vec::new();
    for lock in ["poetry.lock", "uv.lock"] {
        let Some(text) = files.text(lock) else {
            continue;
        };
        let mut name: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if let Some(value) = line.strip_prefix("name = ") {
                name = Some(normal(value.trim_matches('"')));
            } else if let Some(value) = line.strip_prefix("version = ")
                && let Some(name) = name.take()
            {
                pins.push((name, value.trim_matches('"').to_owned()));
            }
        }
    }
    if let Some(lock) = files
        .text("Pipfile.lock")
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
    {
        for section in ["default", "develop"] {
            if let Some(packages) = lock.get(section).and_then(|s| s.as_object()) {
                for (name, spec) in packages {
                    if let Some(version) = spec
                        .get("version")
                        .and_then(|v| v.as_str())
                        .and_then(|v| v.strip_prefix("=="))
                    {
                        pins.push((normal(name), version.to_owned()));
                    }
                }
            }
        }
    }
    for requirements in files.with_suffix(".txt") {
        let name = requirements.rsplit('/').next().unwrap_or(requirements);
        if !name.starts_with("requirements") {
            continue;
        }
        for line in files.text(requirements).unwrap_or_default().lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if let Some((name, version)) = line.split_once("==") {
                let name = name.split('[').next().unwrap_or(name);
                let version = version.split([';', ' ']).next().unwrap_or(version);
                pins.push((normal(name), version.trim().to_owned()));
            }
        }
    }
    pins
}

/// Whether `version` comes before `bound`, release numbers compared in
/// turn (`1.1.2` < `2.0.0`, `6.0` < `6.0.1`).
fn older(version: &str, bound: &str) -> bool {
    let numbers = |text: &str| -> Vec<u64> {
        text.split('.')
            .map(|part| {
                part.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .unwrap_or(0)
            })
            .collect()
    };
    let (have, below) = (numbers(version), numbers(bound));
    let width = have.len().max(below.len());
    let padded = |mut v: Vec<u64>| {
        v.resize(width, 0);
        v
    };
    padded(have) < padded(below)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_release_numbers() {
        assert!(older("1.1.2", "2.0.0"));
        assert!(older("6.0", "6.0.1"));
        assert!(!older("6.0.1", "6.0.1"));
        assert!(!older("0.18.0", "0.17.0"));
        assert!(older("0.16.0", "0.17.0"));
    }
}
