//! Dev dependencies the server's own code imports when it runs
//! (`import morgan from "morgan"` with morgan only in devDependencies): a
//! prune after the build would leave the app failing at start with
//! "Cannot find module". A bundled app (Next.js, a static site) inlines
//! its imports at build time, so only servers run from their code count.

use std::sync::LazyLock;

use regex::Regex;

use crate::bundle::app_files::AppFiles;

/// The server frameworks whose code runs as written (or as `tsc` wrote it),
/// importing its packages from `node_modules` when it starts.
const UNBUNDLED_SERVERS: &[&str] = &[
    "", "express", "fastify", "koa", "hapi", "restify", "polka", "hono", "h3", "nestjs",
];

/// Folders and names of files that never run in the server: tests,
/// build output, tool configuration.
const NOT_SERVER_CODE: &[&str] = &[
    "node_modules/",
    "dist/",
    "build/",
    "test/",
    "tests/",
    "__tests__/",
    "__mocks__/",
    "scripts/",
    ".test.",
    ".spec.",
    ".config.",
    ".d.ts",
];

static IMPORT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^\s*(?:import\s+(?:[\w*{}\s,$]+\s+from\s+)?|.*?\brequire\(\s*|.*?\bimport\(\s*)["']([^"'./][^"']*)["']"#)
        .expect("valid pattern")
});

/// The first package only devDependencies list that the server's code
/// imports, with where (`src/app.ts:3`).
pub(super) fn imported_dev_dependency(
    files: &AppFiles,
    framework: &str,
) -> Option<(String, String)> {
    if !UNBUNDLED_SERVERS.contains(&framework) {
        return None;
    }
    let package = files.package_json()?;
    let listed = |field: &str, name: &str| {
        package
            .get(field)
            .and_then(|deps| deps.as_object())
            .is_some_and(|deps| deps.contains_key(name))
    };
    let sources = [".js", ".mjs", ".cjs", ".ts", ".mts", ".cts"]
        .iter()
        .flat_map(|suffix| files.with_suffix(suffix))
        .filter(|path| !NOT_SERVER_CODE.iter().any(|part| path.contains(part)));
    for path in sources {
        let Some(text) = files.text(path) else {
            continue;
        };
        for found in IMPORT.captures_iter(text) {
            let whole = found.get(0).expect("a match");
            if whole.as_str().trim_start().starts_with("import type") {
                continue;
            }
            let name = package_name(&found[1]);
            if listed("devDependencies", name) && !listed("dependencies", name) {
                let at = found.get(1).expect("a package").start();
                let line = text[..at].matches('\n').count() + 1;
                return Some((name.to_owned(), format!("{path}:{line}")));
            }
        }
    }
    None
}

/// `@scope/name` of `@scope/name/sub`, `name` of `name/sub`.
fn package_name(specifier: &str) -> &str {
    let mut parts = specifier.splitn(3, '/');
    let first = parts.next().unwrap_or(specifier);
    if first.starts_with('@') {
        let len = first.len() + parts.next().map_or(0, |p| p.len() + 1);
        &specifier[..len]
    } else {
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::Snapshot;

    fn found(files: &[(&str, &str)], framework: &str) -> Option<(String, String)> {
        let repo = Snapshot::from_texts(files.iter().copied());
        imported_dev_dependency(&AppFiles::new(&repo, ""), framework)
    }

    const MANIFEST: &str = r#"{"dependencies": {"express": "4"}, "devDependencies": {"morgan": "1", "@types/express": "4", "typescript": "5", "@scope/tool": "1", "jest": "29"}}"#;

    #[test]
    fn a_dev_dependency_the_server_imports_is_found() {
        let app = "import express from 'express';\nimport type { Request } from 'express';\nimport morgan from \"morgan\";\n";
        assert_eq!(
            found(
                &[("package.json", MANIFEST), ("src/app.ts", app)],
                "express"
            ),
            Some(("morgan".to_owned(), "src/app.ts:3".to_owned()))
        );
        let required = "const x = require('@scope/tool/lib/x');\n";
        assert_eq!(
            found(&[("package.json", MANIFEST), ("server.js", required)], "").map(|f| f.0),
            Some("@scope/tool".to_owned())
        );
    }

    #[test]
    fn tests_types_and_bundled_apps_do_not_count() {
        let app = "import express from 'express';\nimport type { Morgan } from 'morgan';\n";
        let test = "import { describe } from 'jest';\nimport morgan from 'morgan';\n";
        let files = [
            ("package.json", MANIFEST),
            ("src/app.ts", app),
            ("src/app.test.ts", test),
            ("tests/api.ts", test),
        ];
        assert_eq!(found(&files, "express"), None);
        let page = [
            ("package.json", MANIFEST),
            ("pages/index.tsx", "import morgan from 'morgan';\n"),
            ("lib/x.ts", "import morgan from 'morgan';\n"),
        ];
        assert_eq!(found(&page, "nextjs"), None);
    }
}
