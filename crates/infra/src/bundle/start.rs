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
        // The repository's image ran PHP-FPM, which answers FastCGI to a
        // web server in front of it, not HTTP (kept_dockerfile.rs).
        .filter(|c| !c.starts_with("php-fpm"))
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
/// run, when `package.json` has it and no `pre` hook must run first. A
/// script of several steps (`npm run build && nodemon dist/index.js`) loses
/// the install and build the image has already done, and a watcher started
/// on one file runs it with `node` (the image has no dev dependencies).
fn resolve_scripts(command: &str, files: &AppFiles) -> String {
    let resolved = resolve_script(command, files);
    if !resolved.contains("&&") {
        return resolved;
    }
    let steps: Vec<String> = resolved
        .split("&&")
        .map(str::trim)
        .filter(|step| !done_by_the_image(step, files))
        .map(|step| resolve_script(step, files))
        .collect();
    match steps.as_slice() {
        [] => resolved,
        [only] => without_watcher(only),
        _ => steps.join(" && "),
    }
}

/// A step the image has run before the app starts: the install, or the
/// build script (which the image runs when package.json has one).
fn done_by_the_image(step: &str, files: &AppFiles) -> bool {
    let words: Vec<&str> = step.split_whitespace().collect();
    let install = matches!(
        words.as_slice(),
        ["npm", "install" | "ci" | "i"] | ["yarn"] | ["yarn" | "pnpm", "install"]
    );
    let build = files.npm_script("build").is_some()
        && (script_call(step).is_some_and(|(name, extra)| name == "build" && extra.is_empty())
            || files.npm_script("build").as_deref() == Some(step));
    install || build
}

/// `nodemon dist/index.js` → `node dist/index.js`: nodemon restarts on
/// file changes, which a container never sees, and is a dev dependency.
fn without_watcher(step: &str) -> String {
    match step.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["nodemon", file] if !file.starts_with('-') => format!("node {file}"),
        _ => step.to_owned(),
    }
}

fn resolve_script(command: &str, files: &AppFiles) -> String {
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
/// Only a single command: `npm run build && node x` is two.
fn script_call(command: &str) -> Option<(String, String)> {
    if command.contains("&&") || command.contains(';') || command.contains("||") {
        return None;
    }
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
    fn a_start_script_of_several_steps_loses_what_the_image_did() {
        let repo = Snapshot::from_texts([(
            "package.json",
            r#"{"scripts": {"build": "babel src -d dist", "start": "npm run build && nodemon dist/index.js", "serve": "npm install && node server.js && echo done", "dev": "nodemon --exec babel-node src/index.js"}}"#,
        )]);
        let files = AppFiles::new(&repo, "");
        assert_eq!(resolve_scripts("npm start", &files), "node dist/index.js");
        assert_eq!(
            resolve_scripts("npm run serve", &files),
            "node server.js && echo done"
        );
        // A watcher with its own options stays as it is.
        assert_eq!(
            resolve_scripts("npm run dev", &files),
            "nodemon --exec babel-node src/index.js"
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
