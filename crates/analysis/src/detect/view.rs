//! Which directories hold an app, and the files each app owns.
//!
//! A directory with a manifest (package.json, go.mod, pyproject.toml...) is
//! an app candidate; the repository root always is. Every file belongs to the
//! deepest candidate above it, so a monorepo's `apps/api` does not see
//! `apps/web`'s files. Tests, examples, docs and vendored code are left out:
//! they name frameworks and ports that are not the app's own.

use std::collections::BTreeSet;

use regex::Regex;

use super::scan::{Hit, first_hit};
use crate::snapshot::{FileEntry, Snapshot};

/// Directories whose contents never decide what the app is.
const IGNORED_DIRS: &[&str] = &[
    // Gradle's build logic, never the app.
    "buildSrc",
    "node_modules",
    "vendor",
    "target",
    "dist",
    "build",
    "out",
    ".venv",
    "venv",
    "__pycache__",
    "site-packages",
    "bower_components",
    "coverage",
    "test",
    "tests",
    "__tests__",
    "__mocks__",
    "mocks",
    "spec",
    "specs",
    "e2e",
    "cypress",
    "testdata",
    "fixtures",
    "example",
    "examples",
    "sample",
    "samples",
    "demo",
    "demos",
    "doc",
    "docs",
    "docs_src",
    "documentation",
    "benchmarks",
    "bench",
    "third_party",
    "thirdparty",
    "external",
    "migrations",
];

/// Hidden directories that still hold an app's configuration.
const KEPT_HIDDEN_DIRS: &[&str] = &[".streamlit", ".mvn", ".config"];

/// A manifest file: its directory is an app candidate.
fn is_manifest(name: &str) -> bool {
    matches!(
        name,
        "package.json"
            | "requirements.txt"
            | "pyproject.toml"
            | "setup.py"
            | "setup.cfg"
            | "Pipfile"
            | "environment.yml"
            | "go.mod"
            | "Cargo.toml"
            | "pom.xml"
            | "build.gradle"
            | "build.gradle.kts"
            | "Gemfile"
            | "composer.json"
            | "deno.json"
            | "deno.jsonc"
            | "manage.py"
            | "pubspec.yaml"
            | "Package.swift"
            | "mix.exs"
    ) || name.ends_with(".csproj")
}

/// A file that marks an app only where no manifest is above it: a bare
/// static site, or a service with just a Dockerfile.
fn is_weak_marker(name: &str) -> bool {
    matches!(name, "index.html" | "Dockerfile" | "Procfile")
}

/// Directory names that hold assets or deployment files, never an app.
const NOT_APP_DIRS: &[&str] = &[
    "public",
    "static",
    "templates",
    "assets",
    "resources",
    "views",
    "layouts",
    "docker",
    "deploy",
    "deployment",
    "ops",
    "infra",
    "k8s",
    "helm",
    "nginx",
];

/// Source-file names that usually start an app; searched first so evidence
/// points at the entry file.
const ENTRY_STEMS: &[&str] = &[
    "main",
    "app",
    "server",
    "index",
    "wsgi",
    "asgi",
    "run",
    "manage",
    "application",
    "program",
    "api",
];

/// What a virtualenv holds at its top.
const VIRTUALENV_DIRS: &[&str] = &["lib", "lib64", "bin", "Lib", "Scripts", "include", "share"];

/// Directories a web server serves as files: scripts there run in browsers.
const BROWSER_ASSET_DIRS: &[&str] = &["public", "static", "assets", "wwwroot", "www"];

/// True when `path` should not decide what an app is.
pub(crate) fn is_ignored(path: &str) -> bool {
    let mut parts = path.split('/').peekable();
    let mut served_as_files = false;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            return is_test_file(part)
                || (served_as_files || is_minified(part) || is_service_worker(part))
                    && is_script(part);
        }
        served_as_files |= BROWSER_ASSET_DIRS.contains(&part);
        // A virtualenv named `env` (`env/lib/python3.12/…`, `env/bin/`), not
        // a source folder of that name (`src/infrastructure/env/`).
        if part == "env"
            && parts
                .peek()
                .is_some_and(|next| VIRTUALENV_DIRS.contains(next))
        {
            return true;
        }
        let hidden = part.starts_with('.') && !KEPT_HIDDEN_DIRS.contains(&part);
        if hidden || IGNORED_DIRS.contains(&part) {
            return true;
        }
    }
    false
}

/// [`is_ignored`], with the files of `named` (a folder the description
/// names) judged by their paths inside it.
pub(crate) fn is_ignored_within(path: &str, named: Option<&str>) -> bool {
    match named.and_then(|dir| inside(path, dir)) {
        Some(rel) => is_ignored(rel),
        None => is_ignored(path),
    }
}

fn is_script(name: &str) -> bool {
    [".js", ".mjs", ".cjs"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// A bundler's output (`app.min.js`, `vendor.bundle.js`): it names every
/// library it bundled, none of them the app's server.
fn is_minified(name: &str) -> bool {
    name.contains(".min.") || name.contains(".bundle.") || name.contains(".chunk.")
}

/// A service worker (`serviceWorker.js`, `sw.js`): the browser runs it.
fn is_service_worker(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).to_ascii_lowercase();
    matches!(
        stem.as_str(),
        "serviceworker" | "service-worker" | "registerserviceworker" | "sw"
    )
}

fn is_test_file(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name);
    name.starts_with("test_")
        || stem.ends_with("_test")
        || stem.ends_with("_spec")
        || stem.ends_with("Test")
        || stem.ends_with("Tests")
        || name.contains(".test.")
        || name.contains(".spec.")
        || name == "conftest.py"
}

pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `rel` (`./config`, `../lib`, a build context) taken from the folder
/// `base`, as a repository path.
pub(crate) fn join_rel(base: &str, rel: &str) -> String {
    let rel = rel
        .trim_matches(['"', '\''])
        .trim_start_matches("./")
        .trim_end_matches('/');
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn depth(path: &str) -> usize {
    path.matches('/').count()
}

/// One app candidate and the files it owns.
pub(crate) struct AppView<'s> {
    /// Relative to the repository root; empty for the root itself.
    pub dir: String,
    snapshot: &'s Snapshot,
    /// Non-ignored files, likely entry files first.
    pub files: Vec<&'s FileEntry>,
}

impl<'s> AppView<'s> {
    /// The directory as reported: `.` for the root.
    pub fn subdir(&self) -> &str {
        if self.dir.is_empty() { "." } else { &self.dir }
    }

    /// The repository path of `rel`, a path inside this app.
    pub fn path(&self, rel: &str) -> String {
        if self.dir.is_empty() {
            rel.to_owned()
        } else {
            format!("{}/{rel}", self.dir)
        }
    }

    /// `path` relative to this app's directory.
    pub fn rel<'p>(&self, path: &'p str) -> &'p str {
        if self.dir.is_empty() {
            return path;
        }
        path.strip_prefix(self.dir.as_str())
            .and_then(|p| p.strip_prefix('/'))
            .unwrap_or(path)
    }

    pub fn snapshot(&self) -> &'s Snapshot {
        self.snapshot
    }

    pub fn file(&self, rel: &str) -> Option<&'s FileEntry> {
        self.snapshot.get(&self.path(rel))
    }

    pub fn text(&self, rel: &str) -> Option<&'s str> {
        self.file(rel).and_then(|f| f.content.as_deref())
    }

    pub fn has(&self, rel: &str) -> bool {
        self.file(rel).is_some()
    }

    /// The app's files whose names end with one of `exts` (".py", ".ts").
    pub fn sources<'a>(&'a self, exts: &'a [&str]) -> impl Iterator<Item = &'s FileEntry> + 'a {
        self.files
            .iter()
            .copied()
            .filter(move |f| exts.iter().any(|ext| f.path.ends_with(ext)))
    }

    /// The app's files called exactly `name`, anywhere in it.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'s FileEntry> + 'a {
        self.files
            .iter()
            .copied()
            .filter(move |f| file_name(&f.path) == name)
    }

    /// The first match of `re` in the app's `exts` files, entry files first.
    pub fn find(&self, exts: &[&str], re: &'static Regex) -> Option<Hit<'s>> {
        first_hit(self.sources(exts), re)
    }

    /// True when the app has a file with any extension in `exts`.
    pub fn has_sources(&self, exts: &[&str]) -> bool {
        self.sources(exts).next().is_some()
    }
}

/// Finds the app candidates of a snapshot, root first. `named`, a folder
/// the description names, is a candidate whatever it is called, and its
/// files are judged by their paths inside it: "deploy samples/go" means
/// the sample.
pub(crate) fn app_views<'s>(snapshot: &'s Snapshot, named: Option<&str>) -> Vec<AppView<'s>> {
    let ignored = |path: &str| is_ignored_within(path, named);
    let mut dirs = candidate_dirs(snapshot, &ignored);
    if let Some(dir) = named
        && !dirs.iter().any(|d| d == dir)
    {
        dirs.push(dir.to_owned());
    }
    let mut views: Vec<AppView<'_>> = dirs
        .iter()
        .map(|dir| AppView {
            dir: dir.clone(),
            snapshot,
            files: Vec::new(),
        })
        .collect();
    for file in &snapshot.files {
        if ignored(&file.path) {
            continue;
        }
        let owner = views
            .iter_mut()
            .filter(|v| v.dir.is_empty() || is_under(&file.path, &v.dir))
            .max_by_key(|v| v.dir.len());
        if let Some(view) = owner {
            view.files.push(file);
        }
    }
    for view in &mut views {
        view.files.sort_by_key(|f| {
            let rel = f.path.strip_prefix(view.dir.as_str()).unwrap_or(&f.path);
            let stem = file_name(rel).split('.').next().unwrap_or_default();
            let entry = ENTRY_STEMS.contains(&stem.to_ascii_lowercase().as_str());
            (!entry, depth(rel), f.path.clone())
        });
    }
    views
}

fn is_under(path: &str, dir: &str) -> bool {
    inside(path, dir).is_some()
}

/// `path` relative to `dir`, when it lies inside it.
fn inside<'p>(path: &'p str, dir: &str) -> Option<&'p str> {
    path.strip_prefix(dir)?.strip_prefix('/')
}

/// The folder `dir` names, as the snapshot spells it, when it holds files.
pub(crate) fn existing_dir(snapshot: &Snapshot, dir: &str) -> Option<String> {
    let dir = dir.trim_start_matches("./").trim_matches('/');
    snapshot
        .files
        .iter()
        .find_map(|f| {
            let head = f.path.get(..dir.len())?;
            (head.eq_ignore_ascii_case(dir) && f.path[dir.len()..].starts_with('/'))
                .then(|| head.to_owned())
        })
        .filter(|_| !dir.is_empty())
}

fn candidate_dirs(snapshot: &Snapshot, ignored: &dyn Fn(&str) -> bool) -> Vec<String> {
    let visible = || {
        snapshot
            .files
            .iter()
            .filter(|f| !ignored(&f.path) && depth(&f.path) <= 4)
    };
    let mut strong: BTreeSet<String> = visible()
        .filter(|f| is_manifest(file_name(&f.path)))
        .map(|f| parent(&f.path).to_owned())
        .collect();
    strong.insert(String::new());
    let root_has_manifest = visible().any(|f| depth(&f.path) == 0 && is_manifest(&f.path));
    let weak: Vec<String> = visible()
        .filter(|f| is_weak_marker(file_name(&f.path)))
        .map(|f| parent(&f.path).to_owned())
        .filter(|dir| !dir.is_empty())
        .filter(|dir| {
            let name = file_name(dir);
            !NOT_APP_DIRS.contains(&name)
                && !root_has_manifest
                && !strong.iter().any(|s| !s.is_empty() && is_under(dir, s))
        })
        .collect();
    strong.extend(weak);
    strong.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_docs_and_hidden_dirs_are_ignored() {
        assert!(is_ignored("tests/test_app.py"));
        assert!(is_ignored("src/app.test.ts"));
        assert!(is_ignored("docs/conf.py"));
        assert!(is_ignored("mocks/index.js"));
        assert!(is_ignored("env/lib/python3.12/site.py"));
        assert!(!is_ignored("src/infrastructure/env/dbConfig.ts"));
        assert!(is_ignored(".github/workflows/ci.yml"));
        assert!(!is_ignored(".streamlit/config.toml"));
        assert!(!is_ignored(".env.example"));
        assert!(!is_ignored("src/server.js"));
    }

    #[test]
    fn scripts_served_to_browsers_are_ignored() {
        assert!(is_ignored("public/js/filament/filament/echo.js"));
        assert!(is_ignored("public/assets/vendor-router-B9UsIiAi.js"));
        assert!(is_ignored("static/app.js"));
        assert!(is_ignored("lib/jquery.min.js"));
        assert!(
            !is_ignored("public/index.php"),
            "PHP in public/ runs on the server"
        );
        assert!(!is_ignored("server/public.js"));
        assert!(!is_ignored("src/assets.ts"));
    }

    #[test]
    fn each_file_belongs_to_its_deepest_app() {
        let snapshot = Snapshot::from_texts([
            ("package.json", "{}"),
            ("apps/api/package.json", "{}"),
            ("apps/api/src/index.ts", ""),
            ("apps/web/package.json", "{}"),
            ("apps/web/public/index.html", ""),
            ("README.md", ""),
        ]);
        let views = app_views(&snapshot, None);
        let dirs: Vec<&str> = views.iter().map(|v| v.subdir()).collect();
        assert_eq!(dirs, [".", "apps/api", "apps/web"]);
        let api: Vec<&str> = views[1].files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(api, ["apps/api/src/index.ts", "apps/api/package.json"]);
        assert_eq!(views[0].files.len(), 2);
    }

    #[test]
    fn a_bare_static_site_in_a_subdirectory_is_an_app() {
        let snapshot = Snapshot::from_texts([("README.md", ""), ("site/index.html", "<html>")]);
        let dirs: Vec<String> = app_views(&snapshot, None)
            .into_iter()
            .map(|v| v.dir)
            .collect();
        assert_eq!(dirs, ["", "site"]);
    }

    #[test]
    fn templates_under_a_python_app_are_not_an_app() {
        let snapshot = Snapshot::from_texts([
            ("requirements.txt", "flask"),
            ("notes/templates/index.html", "<html>"),
            ("notes/pages/index.html", "<html>"),
        ]);
        assert_eq!(app_views(&snapshot, None).len(), 1);
    }
}
