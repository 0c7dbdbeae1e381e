//! The database migration an app's framework runs (Django, Rails, Laravel,
//! Prisma, Drizzle, Flask-Migrate, Alembic, sinatra-activerecord; else a
//! Procfile's migrating `release:`), and the start command it runs before, read from the
//! image's Dockerfile. Apps that migrate themselves as they start (Flyway or
//! Liquibase under Spring Boot or Quarkus) get nothing run before them, and a note.

use super::app_files::AppFiles;
use super::compose::Migration;
use super::dockerfile::exec_form;
use super::node_orm;
use analysis::Analysis;

/// The framework's migration command, when the app has one.
fn command(analysis: &Analysis, files: &AppFiles) -> Option<String> {
    framework_command(analysis, files)
        .map(str::to_owned)
        .or_else(|| release_phase(files))
        .or_else(|| {
            // sinatra-activerecord's rake tasks over `db/migrate/`.
            let gems = files.text("Gemfile").unwrap_or_default();
            (gems.contains("sinatra-activerecord")
                && files.exists("Rakefile")
                && files.dir_exists("db/migrate"))
            .then(|| "bundle exec rake db:migrate".to_owned())
        })
}

/// A Procfile's `release:` command that migrates (Heroku runs it before each
/// release starts): `release: bin/rake db:migrate`, `release: python manage.py migrate`;
/// else fly.toml's `release_command` (`/app/bin/migrate`, a Phoenix
/// release's), which Fly runs the same way.
fn release_phase(files: &AppFiles) -> Option<String> {
    let migrates = |command: &str| {
        !command.is_empty()
            && command
                .split(|c: char| c.is_whitespace() || c == ':' || c == '/')
                .any(|word| matches!(word, "migrate" | "upgrade" | "prepare" | "deploy"))
    };
    let procfile = files.text("Procfile").unwrap_or_default();
    procfile
        .lines()
        .find_map(|line| {
            let command = line.trim().strip_prefix("release:")?.trim();
            migrates(command).then(|| command.to_owned())
        })
        .or_else(|| {
            let fly: toml::Table = toml::from_str(files.text("fly.toml")?).ok()?;
            let command = fly.get("deploy")?.get("release_command")?.as_str()?.trim();
            migrates(command).then(|| command.to_owned())
        })
}

fn framework_command(analysis: &Analysis, files: &AppFiles) -> Option<&'static str> {
    let framework = analysis.framework.as_deref().unwrap_or_default();
    if framework == "django" && files.exists("manage.py") {
        return Some("python manage.py migrate --noinput");
    }
    if framework == "rails" && files.exists("bin/rails") {
        // `db:prepare` came with Rails 6.0; the store is made with its
        // database, so migrating it is what is left.
        return Some(match files.locked_gem("rails") {
            Some(version) if version < (6, 0) => "bin/rails db:migrate",
            _ => "bin/rails db:prepare",
        });
    }
    if framework == "laravel" && files.exists("artisan") {
        return Some("php artisan migrate --force");
    }
    // The image keeps the CLI when it is a dev dependency (node_orm.rs).
    if let Some(prisma) = node_orm::prisma(files).filter(|p| p.has_models) {
        // Without migrations the schema is pushed as it is; a push refuses
        // a change that would lose data.
        return Some(if prisma.has_migrations {
            "npx prisma migrate deploy"
        } else {
            "npx prisma db push"
        });
    }
    if node_orm::drizzle_migrations(files) {
        return Some("npx drizzle-kit migrate");
    }
    // Flask-Migrate keeps Alembic's files in `migrations/` and runs them
    // through the app (`flask db`), which finds it as `flask run` does.
    if framework == "flask"
        && files.exists("migrations/env.py")
        && python_requirements(files).contains("flask-migrate")
    {
        return Some("flask db upgrade");
    }
    if files.exists("alembic.ini") {
        return Some("alembic upgrade head");
    }
    None
}

/// The tool that migrates the database as the app starts, when its framework runs
/// one on its own: Spring Boot runs Flyway or Liquibase whenever either is on the
/// classpath; Quarkus only when told to migrate at start.
fn migrates_at_start(analysis: &Analysis, files: &AppFiles) -> Option<&'static str> {
    let build: String = ["pom.xml", "build.gradle", "build.gradle.kts"]
        .iter()
        .filter_map(|name| files.text(name))
        .collect::<Vec<_>>()
        .join("\n");
    let tool = if build.contains("flyway-core") || build.contains("quarkus-flyway") {
        "Flyway"
    } else if build.contains("liquibase-core") || build.contains("quarkus-liquibase") {
        "Liquibase"
    } else {
        return None;
    };
    match analysis.framework.as_deref() {
        Some("spring-boot") => Some(tool),
        Some("quarkus") => {
            let key = format!(
                "quarkus.{}.migrate-at-start=true",
                tool.to_ascii_lowercase()
            );
            let properties = files
                .text("src/main/resources/application.properties")
                .unwrap_or_default()
                .replace(' ', "");
            properties.lines().any(|line| line == key).then_some(tool)
        }
        _ => None,
    }
}

/// Whether the app makes its tables itself: a framework migration, or one
/// it runs as it starts.
pub(super) fn has_migrations(analysis: &Analysis, files: &AppFiles) -> bool {
    command(analysis, files).is_some() || migrates_at_start(analysis, files).is_some()
}

/// Whether the app keeps its data in a SQLite file of its own: Django's
/// default settings (`django.db.backends.sqlite3`), Rails' `sqlite3`
/// adapter (`rails new`'s default) with no server adapter beside it, which
/// no database deployflow runs replaces, or Laravel's `sqlite` connection
/// (Laravel 11's default, with its sessions and cache in the database).
/// Its schema must be made before the first request, or every page that
/// reads the database fails; Laravel's `migrate --force` also makes the
/// file, which a repository never holds.
pub(super) fn uses_own_sqlite(analysis: &Analysis, files: &AppFiles) -> bool {
    if analysis.framework.as_deref() == Some("laravel") {
        return laravel_connection(analysis, files).as_deref() == Some("sqlite");
    }
    if analysis.framework.as_deref() == Some("rails") {
        return files.text("config/database.yml").is_some_and(|yml| {
            let adapters: Vec<&str> = yml
                .lines()
                .filter_map(|line| line.trim().strip_prefix("adapter:"))
                .map(str::trim)
                .collect();
            adapters.contains(&"sqlite3") && adapters.iter().all(|a| *a == "sqlite3")
        });
    }
    analysis.framework.as_deref() == Some("django")
        && files
            .with_suffix("settings.py")
            .into_iter()
            .chain(files.with_suffix("settings/base.py"))
            .chain(files.with_suffix("settings/production.py"))
            .filter_map(|path| files.text(path))
            .any(|text| text.contains("django.db.backends.sqlite3"))
}

/// Laravel's default connection: `DB_CONNECTION`'s default (the example
/// file's), else the one `config/database.php` falls back to.
fn laravel_connection(analysis: &Analysis, files: &AppFiles) -> Option<String> {
    let given = analysis
        .env
        .iter()
        .find(|v| v.name == "DB_CONNECTION")
        .and_then(|v| v.default.clone())
        .filter(|d| !d.is_empty());
    given.or_else(|| {
        let config = files.text("config/database.php")?;
        let at = config.find("env('DB_CONNECTION'")?;
        let rest = &config[at + "env('DB_CONNECTION'".len()..];
        let fallback = rest.trim_start().strip_prefix(',')?.trim_start();
        let quoted = fallback.strip_prefix('\'')?;
        Some(quoted[..quoted.find('\'')?].to_owned())
    })
}

/// The Python manifests, lowercased, with `_` read as `-` (PEP 503 names).
fn python_requirements(files: &AppFiles) -> String {
    ["requirements.txt", "pyproject.toml", "Pipfile", "setup.py"]
        .iter()
        .filter_map(|name| files.text(name))
        .collect::<Vec<_>>()
        .join("\n")
        .to_ascii_lowercase()
        .replace('_', "-")
}

/// An `ENTRYPOINT` script of the repository that ends by running the
/// command it is given (`exec "$@"`, Rails' `bin/docker-entrypoint`): the
/// migration put before that command runs after the script's own set-up.
pub(super) fn passes_command_on(instruction: &str, files: &AppFiles) -> bool {
    let value = instruction
        .split_once(char::is_whitespace)
        .map_or("", |(_, rest)| rest.trim());
    let program = serde_json::from_str::<Vec<String>>(value)
        .ok()
        .and_then(|words| words.into_iter().next())
        .or_else(|| value.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default();
    // `/rails/bin/docker-entrypoint` is `bin/docker-entrypoint` of the
    // repository copied to `/rails`.
    let parts: Vec<&str> = program.trim_start_matches("./").split('/').collect();
    let script = (0..parts.len())
        .map(|skip| parts[skip..].join("/"))
        .find_map(|path| files.text(&path));
    script.is_some_and(analysis::ends_by_running_its_arguments)
}

/// Whether the last stage of a Dockerfile holds the Prisma schema: it
/// copies the whole context or a stage's whole app folder, or names
/// `prisma` (`COPY --from=build /app/prisma ./prisma`).
fn final_stage_holds_prisma(instructions: &[&str]) -> bool {
    let last = instructions
        .iter()
        .rposition(|l| l.to_ascii_uppercase().starts_with("FROM "))
        .unwrap_or(0);
    instructions[last..].iter().any(|line| {
        let upper = line.to_ascii_uppercase();
        if !(upper.starts_with("COPY ") || upper.starts_with("ADD ")) {
            return false;
        }
        let paths: Vec<&str> = line
            .split_whitespace()
            .skip(1)
            .filter(|w| !w.starts_with("--"))
            .collect();
        let sources = &paths[..paths.len().saturating_sub(1)];
        line.contains("prisma")
            || sources.iter().any(|source| {
                let source = source.trim_end_matches('/');
                // `.`, or a whole app folder of another stage (`/app`,
                // `/usr/src/app`, a workspace's `/repo`).
                let folder = source.rsplit('/').next().unwrap_or(source);
                source == "."
                    || source.is_empty()
                    || upper.contains("--FROM")
                        && matches!(folder, "app" | "code" | "workspace" | "srv" | "repo")
            })
    })
}

/// The migration and the start command it precedes, or a note saying why
/// none runs although the framework has one.
pub(super) fn plan(
    analysis: &Analysis,
    files: &AppFiles,
    dockerfile: &str,
    command_override: Option<&str>,
) -> Result<Option<Migration>, String> {
    if let Some(tool) = migrates_at_start(analysis, files) {
        // Both tools hold a lock in the database while they migrate, so replicas
        // starting together wait for each other instead of racing.
        return Err(format!(
            "The app runs its {tool} migrations itself as it starts: nothing is run before it."
        ));
    }
    let Some(migration) = command(analysis, files) else {
        return Ok(None);
    };
    let lines = super::kept_dockerfile::logical_lines(dockerfile);
    let instructions: Vec<&str> = lines.iter().map(|l| l.trim()).collect();
    if migration.contains("prisma") && !final_stage_holds_prisma(&instructions) {
        return Err(format!(
            "The image's final stage copies in no prisma/ folder (only what the app runs, such as dist/ and node_modules/), so `{migration}` would find no schema there: run it from the repository once the database is up."
        ));
    }
    // Its last two words but flags say which (`manage.py migrate`,
    // `upgrade head`, `migrate deploy`), whatever runs it (`poetry run`).
    let key: Vec<&str> = migration
        .split_whitespace()
        .filter(|w| !w.starts_with('-'))
        .collect();
    let key = (key.len() >= 2).then(|| key[key.len() - 2..].join(" "));
    let runs_it = |text: &str| key.as_ref().is_some_and(|key| text.contains(key.as_str()));
    // `CMD ["sh", "/app/entrypoint.sh"]`, `ENTRYPOINT ["./boot.sh"]`: a
    // script of the repository that migrates before it starts the server.
    let script_runs_it = |line: &str| {
        line.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | '[' | ']'))
            .filter(|word| word.ends_with(".sh"))
            .filter_map(|word| word.rsplit('/').next())
            .any(|name| {
                files
                    .with_suffix(name)
                    .into_iter()
                    .filter(|path| *path == name || path.ends_with(&format!("/{name}")))
                    .any(|path| files.text(path).is_some_and(runs_it))
            })
    };
    let entrypoint = instructions
        .iter()
        .rev()
        .find(|l| l.to_ascii_uppercase().starts_with("ENTRYPOINT"));
    if entrypoint.is_some_and(|line| script_runs_it(line)) {
        return Err(format!(
            "The image's entrypoint script runs `{migration}` itself: nothing is run before it."
        ));
    }
    if entrypoint.is_some_and(|line| !passes_command_on(line, files)) {
        return Err(format!(
            "The image has its own ENTRYPOINT, so `{migration}` cannot be run before it from the compose file: run it once the database is up (`docker compose exec app {migration}`)."
        ));
    }
    let start = match command_override {
        Some(command) => serde_json::from_str(&exec_form(command)).ok(),
        None => instructions
            .iter()
            .rev()
            .find_map(|l| {
                let (word, rest) = l.split_once(char::is_whitespace)?;
                word.eq_ignore_ascii_case("CMD").then_some(rest.trim())
            })
            .map(|cmd| {
                serde_json::from_str::<Vec<String>>(cmd)
                    .unwrap_or_else(|_| vec!["/bin/sh".into(), "-c".into(), cmd.to_owned()])
            }),
    };
    // `CMD alembic upgrade head && uvicorn …`: the image migrates itself.
    match start {
        Some(start) if runs_it(&start.join(" ")) || script_runs_it(&start.join(" ")) => {
            Err(format!(
                "The image's start command runs `{migration}` itself: nothing is run before it."
            ))
        }
        Some(start) if !start.is_empty() => Ok(Some(Migration {
            command: migration.clone(),
            start,
        })),
        _ => Err(format!(
            "The image names no start command (CMD), so `{migration}` cannot be run before it: run it once the database is up."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::final_stage_holds_prisma;

    fn holds(dockerfile: &str) -> bool {
        let lines: Vec<&str> = dockerfile.lines().collect();
        final_stage_holds_prisma(&lines)
    }

    #[test]
    fn the_schema_is_found_in_the_final_stage_or_not() {
        let build =
            "FROM node:20 AS builder\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n";
        assert!(!holds(&format!(
            "{build}FROM node:20\nCOPY --from=builder /app/node_modules ./node_modules\nCOPY --from=builder /app/package*.json ./\nCOPY --from=builder /app/dist ./dist\nCMD [\"npm\", \"run\", \"start:prod\"]\n"
        )));
        assert!(holds(&format!(
            "{build}FROM node:20\nCOPY --from=builder /app/dist ./dist\nCOPY --from=builder /app/prisma ./prisma\n"
        )));
        assert!(holds(&format!(
            "{build}FROM node:20\nCOPY --from=builder /usr/src/app ./\n"
        )));
        assert!(holds(
            "FROM node:20\nWORKDIR /app\nCOPY . .\nCMD node dist/main.js\n"
        ));
    }
}
