//! The parts of a package.json the detectors read.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::scan::{Spot, find_line};
use super::view::AppView;

pub(crate) struct PackageJson<'s> {
    pub path: String,
    pub text: &'s str,
    pub scripts: BTreeMap<String, String>,
    /// dependencies, devDependencies and peerDependencies together.
    pub deps: Vec<String>,
    pub main: Option<String>,
    pub has_bin: bool,
    /// `main`, `module`, `exports`, `types` or `files` (what gets published):
    /// something meant to be imported.
    pub is_importable: bool,
    pub workspaces: bool,
}

impl<'s> PackageJson<'s> {
    pub fn read(view: &AppView<'s>) -> Option<Self> {
        let file = view.file("package.json")?;
        let text = file.content.as_deref()?;
        let json: Json = serde_json::from_str(text).ok()?;
        let strings = |key: &str| -> BTreeMap<String, String> {
            json.get(key)
                .and_then(Json::as_object)
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut deps: Vec<String> = [
            "dependencies",
            "devDependencies",
            "peerDependencies",
            "optionalDependencies",
        ]
        .iter()
        .flat_map(|key| strings(key).into_keys())
        .collect();
        deps.sort();
        deps.dedup();
        let field = |key: &str| json.get(key).and_then(Json::as_str).map(str::to_owned);
        Some(Self {
            path: file.path.clone(),
            text,
            scripts: strings("scripts"),
            deps,
            main: field("main"),
            has_bin: json.get("bin").is_some(),
            is_importable: ["main", "module", "exports", "types", "typings", "files"]
                .iter()
                .any(|k| json.get(k).is_some()),
            workspaces: json.get("workspaces").is_some(),
        })
    }

    pub fn has(&self, dep: &str) -> bool {
        self.deps.binary_search_by(|d| d.as_str().cmp(dep)).is_ok()
    }

    /// The first of `deps` this package depends on.
    pub fn any(&self, deps: &[&'static str]) -> Option<&'static str> {
        deps.iter().copied().find(|d| self.has(d))
    }

    /// Where `needle` (a dependency or script name) is written.
    pub fn spot(&self, needle: &str, detail: impl Into<String>) -> Spot {
        match find_line(self.text, &format!("\"{needle}\"")) {
            Some(line) => Spot::at(&self.path, line, detail),
            None => Spot::file(&self.path, detail),
        }
    }

    pub fn script(&self, name: &str) -> Option<&str> {
        self.scripts.get(name).map(String::as_str)
    }
}

/// The package manager a lock file shows, as the command that runs scripts.
pub(crate) fn package_manager(view: &AppView<'_>) -> &'static str {
    if view.has("pnpm-lock.yaml") {
        "pnpm"
    } else if view.has("yarn.lock") {
        "yarn"
    } else if view.has("bun.lockb") || view.has("bun.lock") {
        "bun"
    } else {
        "npm"
    }
}

/// `npm start`, `yarn start`, `npm run build`, `bun run start`.
pub(crate) fn run_script(manager: &str, script: &str) -> String {
    match (manager, script) {
        ("npm" | "yarn" | "pnpm", "start") => format!("{manager} start"),
        ("yarn" | "pnpm", _) => format!("{manager} {script}"),
        _ => format!("{manager} run {script}"),
    }
}
