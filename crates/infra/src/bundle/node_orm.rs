//! The ORMs of Node apps whose command-line tool the image needs: Prisma
//! (the client is generated from the schema at build, the schema migrated or
//! pushed before the app starts) and Drizzle (its migrations applied by
//! `drizzle-kit`). Both tools are often dev dependencies, which a pruned
//! image would not hold.

use super::app_files::AppFiles;

/// How the app uses Prisma.
pub(super) struct Prisma {
    /// The folder of its schema, relative to the app.
    pub dir: String,
    /// One of its install or build scripts already runs `prisma generate`.
    pub generated_by_scripts: bool,
    /// It keeps migrations (`migrations/` beside the schema): they are
    /// applied; without them the schema is pushed as it is.
    pub has_migrations: bool,
    /// Its schema declares a model or view: one that does not (a template
    /// never filled in) has nothing to migrate.
    pub has_models: bool,
    /// Variables its `prisma.config.ts` reads with Prisma's `env()`, which
    /// throws when one is unset, `prisma generate` included (Prisma 7).
    pub config_env: Vec<String>,
}

/// The files Prisma reads its configuration from, at the app's root.
const CONFIG_FILES: &[&str] = &[
    "prisma.config.ts",
    "prisma.config.mts",
    "prisma.config.cts",
    "prisma.config.js",
    "prisma.config.mjs",
    "prisma.config.cjs",
];

/// The names `env("X")` reads in the app's Prisma configuration.
fn config_env(files: &AppFiles) -> Vec<String> {
    let call =
        regex::Regex::new(r#"\benv\s*(?:<[^>]*>)?\s*\(\s*["'`]([A-Za-z_][A-Za-z0-9_]*)["'`]\s*\)"#)
            .expect("a valid pattern");
    let mut names: Vec<String> = CONFIG_FILES
        .iter()
        .filter_map(|path| files.text(path))
        .flat_map(|text| {
            call.captures_iter(text)
                .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The app's Prisma setup, when it has the client, the CLI and a schema.
pub(super) fn prisma(files: &AppFiles) -> Option<Prisma> {
    let package = files.package_json()?;
    if !files.depends_on("@prisma/client") || !files.depends_on("prisma") {
        return None;
    }
    let schema = package
        .pointer("/prisma/schema")
        .and_then(|s| s.as_str())
        .unwrap_or("prisma/schema.prisma")
        .trim_start_matches("./");
    let dir = if files.exists(schema) {
        schema.rsplit_once('/').map_or(".", |(dir, _)| dir)
    } else if files.dir_exists("prisma/schema") {
        "prisma"
    } else {
        return None;
    };
    let generated_by_scripts = ["postinstall", "prebuild", "build"].iter().any(|name| {
        package
            .pointer(&format!("/scripts/{name}"))
            .and_then(|s| s.as_str())
            .is_some_and(|script| script.contains("prisma generate"))
    });
    let migrations = if dir == "." {
        "migrations".to_owned()
    } else {
        format!("{dir}/migrations")
    };
    Some(Prisma {
        dir: dir.to_owned(),
        generated_by_scripts,
        has_migrations: files.dir_exists(&migrations),
        has_models: analysis::declares_prisma_models(
            files
                .with_suffix(".prisma")
                .into_iter()
                .filter_map(|path| files.text(path)),
        ),
        config_env: config_env(files),
    })
}

/// The migration command of an app on Drizzle: `drizzle-kit migrate` when
/// the app has a Drizzle config and the migrations it generated (a journal
/// in the config's `out` folder, `drizzle/` by default).
pub(super) fn drizzle_migrations(files: &AppFiles) -> bool {
    if !files.depends_on("drizzle-orm") || !files.depends_on("drizzle-kit") {
        return false;
    }
    let Some(config) = [
        "drizzle.config.ts",
        "drizzle.config.js",
        "drizzle.config.mjs",
    ]
    .iter()
    .find_map(|name| files.text(name)) else {
        return false;
    };
    let out = config_string(config, "out").unwrap_or_else(|| "drizzle".to_owned());
    let out = out.trim_start_matches("./").trim_end_matches('/');
    files.exists(&format!("{out}/meta/_journal.json"))
}

/// The string literal a config object gives `key` (`out: "./drizzle"`).
fn config_string(config: &str, key: &str) -> Option<String> {
    config.lines().find_map(|line| {
        let rest = line
            .trim()
            .strip_prefix(key)?
            .trim_start()
            .strip_prefix(':')?;
        let rest = rest.trim_start();
        let quote = rest
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'))?;
        let value = &rest[1..];
        Some(value[..value.find(quote)?].to_owned())
    })
}

/// The tool the app's migration runs, when the app lists it only among its
/// dev dependencies: the image must keep them for the migration to run.
pub(super) fn migration_tool_in_dev_dependencies(files: &AppFiles) -> Option<&'static str> {
    let package = files.package_json()?;
    let only_dev = |name: &str| {
        package
            .pointer(&format!("/devDependencies/{name}"))
            .is_some()
            && package.pointer(&format!("/dependencies/{name}")).is_none()
    };
    if prisma(files).is_some() && only_dev("prisma") {
        return Some("prisma");
    }
    if drizzle_migrations(files) && only_dev("drizzle-kit") {
        return Some("drizzle-kit");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::config_string;

    #[test]
    fn a_config_string_is_read_in_any_quotes() {
        let config = "export default defineConfig({\n  schema: './src/db/schema.ts',\n  out: \"./migrations\",\n  dialect: `postgresql`,\n});\n";
        assert_eq!(
            config_string(config, "out").as_deref(),
            Some("./migrations")
        );
        assert_eq!(
            config_string(config, "dialect").as_deref(),
            Some("postgresql")
        );
        assert_eq!(config_string(config, "driver"), None);
    }
}
