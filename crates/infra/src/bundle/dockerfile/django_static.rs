//! Django's static files. `collectstatic` copies every app's files to
//! `STATIC_ROOT`, where WhiteNoise or a web server serves them; without it
//! pages have no styles, and WhiteNoise's manifest storage fails every page
//! that names a static file. It imports the settings, so the variables they
//! require are given placeholders for the build only.

use std::sync::LazyLock;

use super::Inputs;
use analysis::{EnvVar, VariableKind};
use regex::Regex;

/// The `RUN` line that collects the static files, and the plan's note,
/// when the app is a Django project whose settings set `STATIC_ROOT`.
pub(super) fn collectstatic(inputs: &Inputs) -> Option<(String, String)> {
    let files = inputs.files;
    if inputs.framework() != "django" || !files.exists("manage.py") {
        return None;
    }
    let settings: Vec<&str> = files
        .with_suffix(".py")
        .into_iter()
        .filter(|path| path.contains("settings"))
        .filter_map(|path| files.text(path))
        .collect();
    if !settings.iter().any(|text| sets_static_root(text)) {
        return None;
    }
    // With a manifest storage every page naming a static file answers 500
    // until the files are collected: a failed collect fails the build, with
    // its own error. Otherwise the app runs without styles, and says so.
    let manifest = settings
        .iter()
        .any(|text| text.contains("ManifestStaticFilesStorage"));
    let on_failure = if manifest {
        ""
    } else {
        " || echo \"collectstatic failed: the image has no collected static files\" >&2"
    };
    // The settings module the app runs with collects its files too.
    let settings_module = inputs
        .env
        .iter()
        .filter(|e| e.name == "DJANGO_SETTINGS_MODULE")
        .map(|e| format!("{}={}", e.name, e.value));
    let placeholders: Vec<String> = settings_module
        .chain(
            inputs
                .analysis
                .env
                .iter()
                .filter(|var| var.required)
                .map(|var| format!("{}={}", var.name, placeholder(var))),
        )
        .collect();
    let env = if placeholders.is_empty() {
        String::new()
    } else {
        format!("{} ", placeholders.join(" "))
    };
    let line = format!("RUN {env}python manage.py collectstatic --noinput{on_failure}");
    let note = "Django's static files are collected into STATIC_ROOT as the image is built (`python manage.py collectstatic --noinput`, with placeholder values for the variables the settings require).".to_owned();
    Some((line, note))
}

/// The start command without its own `collectstatic` (a Procfile's
/// `python manage.py collectstatic --no-input && gunicorn …`), when it has
/// one and more: the image collected them, and a second run as the app's
/// user cannot write where the build did.
pub(super) fn without_collectstatic(command: &str) -> Option<String> {
    static COLLECT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:python3?\s+)?(?:\./)?manage\.py\s+collectstatic\b")
            .expect("a valid pattern")
    });
    let parts: Vec<&str> = command.split("&&").map(str::trim).collect();
    let kept: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|part| !COLLECT.is_match(part))
        .collect();
    (kept.len() < parts.len() && !kept.is_empty()).then(|| kept.join(" && "))
}

/// A line `STATIC_ROOT = …` (not `STATIC_ROOT == …`).
fn sets_static_root(settings: &str) -> bool {
    settings.lines().any(|line| {
        line.trim_start()
            .strip_prefix("STATIC_ROOT")
            .map(str::trim_start)
            .is_some_and(|rest| rest.starts_with('=') && !rest.starts_with("=="))
    })
}

/// A value the settings accept at import: a URL where a URL is parsed, a
/// number for a port, a word for anything else. Nothing connects at build.
fn placeholder(var: &EnvVar) -> String {
    let name = var.name.to_ascii_uppercase();
    if name.ends_with("PORT") {
        return "5432".to_owned();
    }
    let url = ["URL", "URI", "DSN"].iter().any(|s| name.contains(s));
    if var.kind == VariableKind::Datastore && url {
        let scheme = var.url_scheme.clone().unwrap_or_else(|| {
            if name.contains("REDIS") || name.contains("CACHE") {
                "redis".to_owned()
            } else {
                "postgres".to_owned()
            }
        });
        return format!("{scheme}://build:build@localhost:5432/build");
    }
    if url {
        return "http://localhost".to_owned();
    }
    "build-placeholder".to_owned()
}

#[cfg(test)]
mod tests {
    use super::without_collectstatic;

    #[test]
    fn the_start_commands_own_collectstatic_is_dropped() {
        assert_eq!(
            without_collectstatic(
                "python manage.py migrate && python manage.py collectstatic --no-input && gunicorn site.wsgi"
            )
            .as_deref(),
            Some("python manage.py migrate && gunicorn site.wsgi")
        );
        assert_eq!(without_collectstatic("gunicorn site.wsgi"), None);
        assert_eq!(
            without_collectstatic("python manage.py collectstatic --noinput"),
            None,
            "nothing would be left to run"
        );
    }
}
