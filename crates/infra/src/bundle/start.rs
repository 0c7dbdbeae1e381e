//! The command that starts the app: the analysis' start command, else the
//! framework's usual one; package-manager scripts are resolved to what they
//! run, so the server is the container's main process and gets its signals.

use super::app_files::AppFiles;
use analysis::Analysis;

/// How deep `npm start` → `npm run serve` → `node server.js` is followed.
const MAX_SCRIPT_DEPTH: usize = 3;

pub(super) fn start_command(analysis: &Analysis, files: &AppFiles) -> Option<String> {
    let command = analysis
        .start_command
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .or_else(|| default_command(analysis, files))?;
    Some(resolve_scripts(&command, files))
}

fn default_command(analysis: &Analysis, files: &AppFiles) -> Option<String> {
    let language = analysis.runtime();
    let framework = analysis.framework.as_deref().unwrap_or_default();
    match language {
        "python" => python_default(framework, files),
        "node" | "typescript" => node_default(framework, files),
        "bun" => {
            if files.npm_script("start").is_some() {
                Some("bun run start".to_owned())
            } else {
                entry(
                    files,
                    &["index.ts", "src/index.ts", "server.ts", "index.js"],
                )
                .map(|f| format!("bun run {f}"))
            }
        }
        "deno" => entry(
            files,
            &["main.ts", "server.ts", "mod.ts", "main.js", "server.js"],
        )
        .map(|f| format!("deno run --allow-net --allow-env --allow-read {f}")),
        "ruby" if framework == "rails" => Some("bundle exec rails server".to_owned()),
        "ruby" if files.exists("config.ru") => Some("bundle exec rackup".to_owned()),
        "ruby" => entry(files, &["app.rb", "server.rb", "main.rb"])
            .map(|f| format!("bundle exec ruby {f}")),
        "php" if framework == "laravel" => Some("php artisan serve".to_owned()),
        _ => None,
    }
}

fn entry<'n>(files: &AppFiles, names: &[&'n str]) -> Option<&'n str> {
    files.first_of(names)
}

fn python_default(framework: &str, files: &AppFiles) -> Option<String> {
    let module = || {
        entry(files, &["main.py", "app.py", "server.py", "api.py"])
            .map(|f| f.trim_end_matches(".py").replace('/', "."))
    };
    match framework {
        "flask" => Some("flask run".to_owned()),
        "fastapi" => module().map(|m| format!("uvicorn {m}:app")),
        "django" => Some("python manage.py runserver --noreload".to_owned()),
        "streamlit" => entry(files, &["streamlit_app.py", "app.py", "main.py"])
            .map(|f| format!("streamlit run {f}")),
        _ => entry(
            files,
            &["app.py", "main.py", "server.py", "run.py", "wsgi.py"],
        )
        .map(|f| format!("python {f}")),
    }
}

fn node_default(framework: &str, files: &AppFiles) -> Option<String> {
    if framework == "nextjs" {
        return Some("next start".to_owned());
    }
    if framework == "nuxt" {
        return Some("node .output/server/index.mjs".to_owned());
    }
    if files.npm_script("start").is_some() {
        return Some("npm start".to_owned());
    }
    let main = files
        .package_json()
        .and_then(|p| p.get("main")?.as_str().map(str::to_owned))
        .filter(|m| files.exists(m));
    main.or_else(|| {
        entry(
            files,
            &["server.js", "index.js", "app.js", "main.js", "src/index.js"],
        )
        .map(str::to_owned)
    })
    .map(|f| format!("node {f}"))
}

/// Replaces `npm start`, `yarn dev`, `pnpm run serve`... by the script they
/// run, when `package.json` has it and no `pre` hook must run first.
fn resolve_scripts(command: &str, files: &AppFiles) -> String {
    let mut current = command.to_owned();
    for _ in 0..MAX_SCRIPT_DEPTH {
        let Some((name, extra)) = script_call(&current) else {
            break;
        };
        if files.npm_script(&format!("pre{name}")).is_some() {
            break;
        }
        let Some(script) = files.npm_script(&name) else {
            break;
        };
        current = if extra.is_empty() {
            script
        } else {
            format!("{script} {extra}")
        };
    }
    current
}

/// `npm run build -- --x` → (`build`, `--x`); `yarn dev` → (`dev`, ``).
fn script_call(command: &str) -> Option<(String, String)> {
    let tokens: Vec<&str> = command.split_whitespace().collect();
    let (name, rest) = match tokens.as_slice() {
        ["npm" | "yarn" | "pnpm", "start", rest @ ..] => ("start", rest),
        [
            "npm" | "pnpm" | "yarn" | "bun",
            "run" | "run-script",
            name,
            rest @ ..,
        ] => (*name, rest),
        ["yarn" | "pnpm", name, rest @ ..] if !is_package_manager_command(name) => (*name, rest),
        _ => return None,
    };
    // `bun run index.ts` runs a file, not a script.
    if name.contains('.') || name.contains('/') {
        return None;
    }
    let extra: Vec<&str> = match rest {
        ["--", args @ ..] => args.to_vec(),
        args => args.to_vec(),
    };
    Some((name.to_owned(), extra.join(" ")))
}

fn is_package_manager_command(word: &str) -> bool {
    matches!(
        word,
        "install"
            | "add"
            | "remove"
            | "exec"
            | "dlx"
            | "workspace"
            | "workspaces"
            | "why"
            | "info"
            | "node"
    ) || word.starts_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use analysis::Snapshot;

    #[test]
    fn scripts_resolve_to_what_they_run() {
        let repo = Snapshot::from_texts([(
            "package.json",
            r#"{"scripts": {"start": "npm run serve", "serve": "node dist/server.js", "dev": "vite", "prestart2": "x"}}"#,
        )]);
        let files = AppFiles::new(&repo, ".");
        assert_eq!(resolve_scripts("npm start", &files), "node dist/server.js");
        assert_eq!(
            resolve_scripts("npm run serve -- --port 3000", &files),
            "node dist/server.js --port 3000"
        );
        assert_eq!(resolve_scripts("node server.js", &files), "node server.js");
        assert_eq!(
            resolve_scripts("bun run index.ts", &files),
            "bun run index.ts"
        );
    }

    #[test]
    fn a_pre_hook_keeps_the_package_manager() {
        let repo = Snapshot::from_texts([(
            "package.json",
            r#"{"scripts": {"start": "node server.js", "prestart": "node migrate.js"}}"#,
        )]);
        assert_eq!(
            resolve_scripts("npm start", &AppFiles::new(&repo, "")),
            "npm start"
        );
    }
}
