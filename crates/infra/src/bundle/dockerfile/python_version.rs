//! Which Python image an app gets: the version it pins (`.python-version`,
//! `runtime.txt`, Pipfile's `python_version`), else the default when its
//! `requires-python` (or Poetry's `python`) admits it, else the supported
//! version nearest the default that does. A uv project whose `requires-python` the
//! image's Python does not satisfy fails to build; a pin nobody honours
//! runs the app on a Python it was not tested on.

use std::borrow::Cow;

use crate::bundle::app_files::AppFiles;
use crate::bundle::images::{
    PYTHON, PYTHON_3_9, PYTHON_3_10, PYTHON_3_11, PYTHON_3_13, PYTHON_3_14,
};

/// Minor versions of Python 3 with a pinned image, newest first.
const IMAGES: &[(u32, &str)] = &[
    (14, PYTHON_3_14),
    (13, PYTHON_3_13),
    (12, PYTHON),
    (11, PYTHON_3_11),
    (10, PYTHON_3_10),
    (9, PYTHON_3_9),
];
const DEFAULT_MINOR: u32 = 12;

/// The image, and a note for the plan when the choice was not the default.
pub(super) fn python_image(files: &AppFiles) -> (Cow<'static, str>, Option<String>) {
    if let Some((source, version, image)) = exact_release(files) {
        let note = format!(
            "Python {version}, exactly as {source} asks (its installer refuses any other release): image {image}."
        );
        return (Cow::Owned(image), Some(note));
    }
    let (image, note) = minor_image(files);
    (Cow::Borrowed(image), note)
}

/// An exact release the project's own metadata requires (Poetry's
/// `python = "3.12.2"`, `requires-python = "==3.12.2"`), which Poetry and
/// pip check before installing, when the pinned image is another release
/// of that minor version and the requested one was published on Debian
/// bookworm (as every release since 3.9.17, 3.10.12, 3.11.4 and 3.12.0 is).
fn exact_release(files: &AppFiles) -> Option<(&'static str, String, String)> {
    let (source, spec) = requirement(files)?;
    let spec = spec.replace(char::is_whitespace, "");
    let version = spec.strip_prefix("==").unwrap_or(&spec);
    if version.contains([',', '*', '<', '>', '~', '^', '!', '=']) {
        return None;
    }
    let (3, Some(minor), Some(patch)) = version_parts(version)? else {
        return None;
    };
    let pinned = image_of(minor)?;
    let pinned_patch = pinned
        .split([':', '-'])
        .nth(1)
        .and_then(version_parts)
        .and_then(|(_, _, p)| p)?;
    let on_bookworm = match minor {
        9 => patch >= 17,
        10 => patch >= 12,
        11 => patch >= 4,
        m => m >= 12,
    };
    (patch != pinned_patch && on_bookworm).then(|| {
        (
            source,
            format!("3.{minor}.{patch}"),
            format!("python:3.{minor}.{patch}-slim-bookworm"),
        )
    })
}

/// The pinned image of the minor version the repository pins or admits.
fn minor_image(files: &AppFiles) -> (&'static str, Option<String>) {
    if let Some((source, minor)) = pinned(files) {
        return match image_of(minor) {
            Some(image) => (
                image,
                (minor != DEFAULT_MINOR)
                    .then(|| format!("Python 3.{minor}, as {source} pins it (image {image}).")),
            ),
            None => {
                let nearest = IMAGES
                    .iter()
                    .min_by_key(|(m, _)| m.abs_diff(minor))
                    .map_or(PYTHON, |(_, image)| image);
                (
                    nearest,
                    Some(format!(
                        "{source} pins Python 3.{minor}, which has no image here; the app gets {nearest}, the nearest."
                    )),
                )
            }
        };
    }
    let requirement = requirement(files);
    if let Some((newest, package)) = super::python_wheels::newest_installable(files)
        && newest < DEFAULT_MINOR
    {
        let admitted = |minor: u32| {
            requirement
                .as_ref()
                .is_none_or(|(_, spec)| admits(spec, minor))
        };
        if let Some((minor, image)) = IMAGES
            .iter()
            .find(|(minor, _)| *minor <= newest && admitted(*minor))
        {
            return (
                image,
                Some(format!(
                    "Python 3.{minor}: the lock pins {package}, which has no wheels for newer Pythons and does not build there (image {image})."
                )),
            );
        }
    }
    let Some((source, spec)) = requirement else {
        return (PYTHON, None);
    };
    if admits(&spec, DEFAULT_MINOR) {
        return (PYTHON, None);
    }
    // The admitted version nearest the default: a new Python (3.14) only
    // for an app that asks for it.
    match IMAGES
        .iter()
        .filter(|(minor, _)| admits(&spec, *minor))
        .min_by_key(|(minor, _)| minor.abs_diff(DEFAULT_MINOR))
    {
        Some((minor, image)) => (
            image,
            Some(format!(
                "Python 3.{minor}: {source} asks for {spec:?}, which the default 3.{DEFAULT_MINOR} does not meet (image {image})."
            )),
        ),
        None => (
            PYTHON,
            Some(format!(
                "{source} asks for Python {spec:?}, which no image here meets; the app gets {PYTHON} and may not install."
            )),
        ),
    }
}

fn image_of(minor: u32) -> Option<&'static str> {
    IMAGES.iter().find(|(m, _)| *m == minor).map(|(_, i)| *i)
}

/// An exact version the repository pins, with the file that pins it.
fn pinned(files: &AppFiles) -> Option<(&'static str, u32)> {
    let python_version = files.text(".python-version").and_then(|text| {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))?;
        minor_of(line.trim_start_matches("cpython-"))
    });
    if let Some(minor) = python_version {
        return Some((".python-version", minor));
    }
    let runtime = files
        .text("runtime.txt")
        .and_then(|text| minor_of(text.trim().strip_prefix("python-")?));
    if let Some(minor) = runtime {
        return Some(("runtime.txt", minor));
    }
    let pipfile = files.text("Pipfile").and_then(|text| {
        text.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            matches!(key.trim(), "python_version" | "python_full_version")
                .then(|| minor_of(value.trim().trim_matches(['"', '\''])))
                .flatten()
        })
    });
    pipfile.map(|minor| ("Pipfile", minor))
}

/// The minor version of `3.M`, `3.M.P`: `None` for anything else (`pypy`, `2.7`).
fn minor_of(version: &str) -> Option<u32> {
    let mut parts = version.split('.');
    (parts.next()? == "3")
        .then(|| parts.next()?.parse().ok())
        .flatten()
}

/// A range of versions: `requires-python` of pyproject.toml, or Poetry's
/// `python` dependency.
fn requirement(files: &AppFiles) -> Option<(&'static str, String)> {
    let pyproject = files.text("pyproject.toml")?;
    let mut in_poetry_dependencies = false;
    for line in pyproject.lines().map(str::trim) {
        if line.starts_with('[') {
            in_poetry_dependencies = line == "[tool.poetry.dependencies]";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches(['"', '\'']).to_owned();
        match key.trim() {
            "requires-python" => return Some(("pyproject.toml's requires-python", value)),
            "python" if in_poetry_dependencies => {
                return Some(("pyproject.toml's Poetry python", value));
            }
            _ => {}
        }
    }
    None
}

/// Whether the newest release of Python 3.`minor` meets `spec`
/// (`>=3.10,<3.13`, `==3.11.*`, `~=3.10`, Poetry's `^3.11` and `~3.11`).
fn admits(spec: &str, minor: u32) -> bool {
    spec.replace(char::is_whitespace, "")
        .split(',')
        .filter(|clause| !clause.is_empty())
        .all(|clause| clause_admits(clause, minor))
}

fn clause_admits(clause: &str, minor: u32) -> bool {
    let ops = ["~=", "==", "!=", ">=", "<=", ">", "<", "^", "~", "="];
    let Some(op) = ops.iter().find(|op| clause.starts_with(**op)) else {
        // A bare version (Poetry): exactly that.
        return version_parts(clause).is_some_and(|(major, m, _)| major == 3 && m == Some(minor));
    };
    let Some((major, wanted, patch)) = version_parts(clause[op.len()..].trim()) else {
        return true;
    };
    // Compare as (major, minor), the patch only where it decides.
    let have = (3, minor);
    let want = (major, wanted.unwrap_or(0));
    match *op {
        ">=" | ">" => have >= want,
        "<=" => have <= want,
        "<" => have < want || (have == want && patch.is_some_and(|p| p > 0)),
        "==" | "=" => have == want || wanted.is_none() && major == 3,
        "!=" => have != want,
        "~=" if patch.is_some() => have == want,
        "~=" | "^" => have >= want && major == 3,
        "~" => have == want,
        _ => true,
    }
}

/// `3.11.4` → (3, Some(11), Some(4)); `3.11.*` → (3, Some(11), None); `3` → (3, None, None).
fn version_parts(text: &str) -> Option<(u32, Option<u32>, Option<u32>)> {
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|p| p.parse().ok());
    let patch = parts.next().and_then(|p| p.parse().ok());
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exact_release_the_project_requires_gets_its_own_image() {
        let image = |pyproject: &str| {
            let repo = analysis::Snapshot::from_texts([("pyproject.toml", pyproject)]);
            python_image(&AppFiles::new(&repo, "")).0.into_owned()
        };
        assert_eq!(
            image("[tool.poetry.dependencies]\npython = \"3.12.2\"\n"),
            "python:3.12.2-slim-bookworm"
        );
        assert_eq!(
            image("[project]\nrequires-python = \"==3.11.9\"\n"),
            "python:3.11.9-slim-bookworm"
        );
        // The pinned release itself, a range, and a release older than
        // bookworm's images keep the pinned image.
        assert_eq!(image("[project]\nrequires-python = \"==3.12.8\"\n"), PYTHON);
        assert_eq!(
            image("[tool.poetry.dependencies]\npython = \"^3.12\"\n"),
            PYTHON
        );
        assert_eq!(
            image("[project]\nrequires-python = \"==3.10.4\"\n"),
            PYTHON_3_10
        );
    }

    #[test]
    fn ranges_admit_the_minor_versions_they_name() {
        let cases: &[(&str, &[u32])] = &[
            (">=3.11", &[11, 12, 13]),
            (">=3.10,<3.12", &[10, 11]),
            ("==3.11.*", &[11]),
            ("~=3.10", &[10, 11, 12, 13]),
            ("~=3.10.2", &[10]),
            ("^3.11", &[11, 12, 13]),
            ("~3.11", &[11]),
            (">=3.9, !=3.12.*", &[9, 10, 11, 13]),
            ("<3.12.2", &[9, 10, 11, 12]),
            (">=3.10,<4.0", &[10, 11, 12, 13]),
        ];
        for (spec, admitted) in cases {
            let found: Vec<u32> = (9..=13).filter(|m| admits(spec, *m)).collect();
            assert_eq!(&found, admitted, "{spec}");
        }
    }

    #[test]
    fn pins_are_read_from_each_file() {
        assert_eq!(minor_of("3.11.7"), Some(11));
        assert_eq!(minor_of("3.13"), Some(13));
        assert_eq!(minor_of("pypy3.10"), None);
        assert_eq!(minor_of("2.7"), None);
    }
}
