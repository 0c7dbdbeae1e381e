//! A frontend the server sends as files: `express.static("client/build")`
//! serves what `client/`'s own build writes. When nothing at the app's root
//! builds it, the image must, or every page is a 404 (or a crash on a
//! missing `index.html`).

use regex::Regex;
use serde_json::Value as Json;

use super::node::JS;
use super::package_json::{PackageJson, run_script};
use super::view::AppView;

/// Where the frontend's build writes: Create React App's `build/`, Vite's,
/// Parcel's and Angular's `dist/`, a static export's `out/`.
const OUTPUTS: &str = "build|dist|out";

/// The command that builds the frontend the server sends, and why it is
/// thought to: the file and line that name its output.
pub(crate) struct ServedFrontend {
    pub command: String,
    pub reason: String,
}

/// The first folder right under the app with a package.json of its own
/// that has a `build` script, whose output the server's code names; built
/// by the root's script that names the folder and builds
/// (`"build-client": "cd client && npm run build"`), else in the folder.
pub(crate) fn served_frontend(
    view: &AppView<'_>,
    pkg: &PackageJson<'_>,
    manager: &str,
) -> Option<ServedFrontend> {
    let prefix = if view.dir.is_empty() {
        String::new()
    } else {
        format!("{}/", view.dir)
    };
    let folders = view.snapshot().files.iter().filter_map(|f| {
        let rest = f.path.strip_prefix(&prefix)?;
        let dir = rest.strip_suffix("/package.json")?;
        // A plain name: it goes into the build's shell command as written.
        let plain = dir
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        (plain && !dir.is_empty() && !dir.starts_with('.') && dir != "node_modules").then_some(dir)
    });
    for dir in folders {
        if !has_build_script(view.text(&format!("{dir}/package.json"))) {
            continue;
        }
        let named = Regex::new(&format!(
            r#"["'`/]{}(?:["'`]\s*,\s*["'`]|/)(?:{OUTPUTS})\b"#,
            regex::escape(dir)
        ))
        .ok()?;
        let inside = format!("{dir}/");
        let hit = view
            .sources(JS)
            .filter(|f| !view.rel(&f.path).starts_with(&inside))
            .find_map(|f| {
                let text = f.content.as_deref()?;
                let at = named.find(text)?;
                let line = text[..at.start()].matches('\n').count() + 1;
                Some(format!("{}:{line}", f.path))
            })?;
        let root_script = pkg.scripts.iter().find(|(name, script)| {
            script.contains(dir)
                && script.contains("build")
                && !matches!(name.as_str(), "start" | "dev" | "test" | "watch")
        });
        return Some(ServedFrontend {
            command: match root_script {
                Some((name, _)) => run_script(manager, name),
                None => build_in(view, dir),
            },
            reason: format!("{hit} serves what `{dir}/`'s own build writes"),
        });
    }
    None
}

fn has_build_script(package_json: Option<&str>) -> bool {
    package_json
        .and_then(|text| serde_json::from_str::<Json>(text).ok())
        .is_some_and(|json| json.pointer("/scripts/build").is_some_and(Json::is_string))
}

/// Installs the folder's dependencies (dev ones too: the bundler is one)
/// with the tool its lock file belongs to, then runs its build.
fn build_in(view: &AppView<'_>, dir: &str) -> String {
    let has = |name: &str| view.has(&format!("{dir}/{name}"));
    if has("yarn.lock") {
        format!("yarn --cwd {dir} install --frozen-lockfile && yarn --cwd {dir} build")
    } else if has("pnpm-lock.yaml") {
        format!("npx pnpm --dir {dir} install --frozen-lockfile && npx pnpm --dir {dir} build")
    } else if has("package-lock.json") {
        format!("npm --prefix {dir} ci && npm --prefix {dir} run build")
    } else {
        format!("npm --prefix {dir} install && npm --prefix {dir} run build")
    }
}
