//! Where TypeScript's compiler puts a Node app's entry file. Without a
//! `rootDir`, `tsc` (and `nest build`) keeps the folders under the common
//! root of every file it compiles: one TypeScript file beside `src/` (a
//! `datasource.ts`, a `migrations/` folder) moves `src/main.ts` to
//! `dist/src/main.js`, and `node dist/main` finds nothing.

use crate::bundle::app_files::AppFiles;

/// The start command with `dist/main` made `dist/src/main`, and why, when
/// the compiler writes the entry file there.
pub(super) fn compiled_entry(command: &str, files: &AppFiles) -> Option<(String, String)> {
    let at = command
        .match_indices("dist/main")
        .map(|(at, _)| at)
        .find(|&at| {
            let before = command[..at].chars().next_back();
            let after = command[at + "dist/main".len()..]
                .trim_start_matches(".js")
                .chars()
                .next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '/')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '/')
        })?;
    if !files.exists("src/main.ts") {
        return None;
    }
    let config = ["tsconfig.build.json", "tsconfig.json"]
        .iter()
        .find_map(|name| files.text(name))?;
    let base = files.text("tsconfig.json").unwrap_or_default();
    if config.contains("\"rootDir\"") || base.contains("\"rootDir\"") {
        return None;
    }
    if let Some(include) = string_list(config, "include").or_else(|| string_list(base, "include"))
        && include
            .iter()
            .all(|i| i.trim_start_matches("./").starts_with("src"))
    {
        return None;
    }
    let excluded: Vec<String> = string_list(config, "exclude")
        .into_iter()
        .flatten()
        .chain(["node_modules", "dist", "test"].map(str::to_owned))
        .filter(|e| !e.contains('*'))
        .map(|e| e.trim_start_matches("./").trim_end_matches('/').to_owned())
        .collect();
    let outside = files.with_suffix(".ts").into_iter().find(|path| {
        !path.ends_with(".d.ts")
            && !path.starts_with("src/")
            && !path.ends_with("spec.ts")
            && !path.ends_with(".test.ts")
            && !path.split('/').any(|part| part == "node_modules")
            && !excluded
                .iter()
                .any(|dir| path == dir || path.starts_with(&format!("{dir}/")))
    })?;
    let fixed = format!(
        "{}dist/src/main{}",
        &command[..at],
        &command[at + "dist/main".len()..]
    );
    let note = format!(
        "The start command runs `dist/main`, but the TypeScript compiler also compiles `{outside}` beside `src/` and sets no rootDir, so it writes the entry to `dist/src/main.js`: the image runs that."
    );
    Some((fixed, note))
}

/// The strings of a top-level JSON array `key` (`"exclude": ["dist"]`),
/// read as text: tsconfig files hold comments and trailing commas.
fn string_list(text: &str, key: &str) -> Option<Vec<String>> {
    let start = text.find(&format!("\"{key}\""))?;
    let rest = &text[start..];
    let open = rest.find('[')?;
    let close = rest[open..].find(']')? + open;
    Some(
        rest[open + 1..close]
            .split(',')
            .map(|item| item.trim().trim_matches('"').to_owned())
            .filter(|item| !item.is_empty())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::Snapshot;

    fn entry(files: &[(&str, &str)]) -> Option<String> {
        let repo = Snapshot::from_texts(files.iter().copied());
        compiled_entry("node dist/main", &AppFiles::new(&repo, "")).map(|(c, _)| c)
    }

    #[test]
    fn a_typescript_file_beside_src_moves_the_entry_under_dist_src() {
        let nest = [
            ("src/main.ts", "bootstrap();\n"),
            (
                "tsconfig.json",
                "{\n  // Nest's defaults\n  \"compilerOptions\": { \"outDir\": \"./dist\", },\n}\n",
            ),
            (
                "tsconfig.build.json",
                r#"{"extends": "./tsconfig.json", "exclude": ["node_modules", "test", "dist", "**/*spec.ts"]}"#,
            ),
            ("test/app.e2e-spec.ts", ""),
            ("src/app.service.spec.ts", ""),
        ];
        assert_eq!(entry(&nest), None, "everything compiled is under src/");
        let mut beside = nest.to_vec();
        beside.push(("migrations/1700000000-init.ts", ""));
        assert_eq!(entry(&beside).as_deref(), Some("node dist/src/main"));
        let mut rooted = beside.clone();
        rooted[1].1 = r#"{"compilerOptions": {"outDir": "./dist", "rootDir": "./src"}}"#;
        assert_eq!(entry(&rooted), None);
        let mut included = beside;
        included[2].1 = r#"{"extends": "./tsconfig.json", "include": ["src/**/*"]}"#;
        assert_eq!(entry(&included), None);
    }
}
