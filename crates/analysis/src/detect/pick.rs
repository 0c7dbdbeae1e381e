//! Choosing the app to deploy when a repository holds several.

use super::App;
use super::detection::Kind;
use super::view::file_name;
use crate::requirements::Requirements;

/// Directory names that usually hold the back end.
const BACKEND_NAMES: &[&str] = &[
    "api", "backend", "server", "service", "svc", "app", "web-api", "rest",
];

/// The index of the app to deploy and, when there was a choice, why.
/// `named` is a folder of the repository the description names.
pub(crate) fn choose(
    apps: &[App<'_>],
    requirements: &Requirements,
    named: Option<&str>,
) -> Option<(usize, Option<String>)> {
    if let Some(picked) = named.and_then(|dir| in_named_folder(apps, dir)) {
        return Some(picked);
    }
    let real: Vec<usize> = (0..apps.len())
        .filter(|&i| apps[i].detection.kind != Kind::Unknown)
        .collect();
    let mut candidates: Vec<usize> = if real.is_empty() {
        (0..apps.len()).collect()
    } else {
        real
    };
    let shadowed: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| candidates.iter().any(|&j| shadows(&apps[j], &apps[i])))
        .collect();
    candidates.retain(|i| !shadowed.contains(i));
    match candidates.as_slice() {
        [] => return None,
        [only] => return Some((*only, None)),
        _ => {}
    }
    let listing = candidates
        .iter()
        .map(|&i| describe(&apps[i]))
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(hint) = requirements.app_hint.as_deref()
        && let Some(i) = by_hint(apps, &candidates, hint)
    {
        let note = format!(
            "Picked `{}` out of {} apps ({listing}): the description names it (\"{hint}\").",
            apps[i].view.subdir(),
            candidates.len()
        );
        return Some((i, Some(note)));
    }
    let unmatched = requirements.app_hint.as_deref().map(|hint| {
        format!(
            " The description names \"{hint}\", but no app's directory or framework matches it."
        )
    });
    let servers: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| apps[i].detection.kind.serves_http())
        .collect();
    let Some(&best) = servers.iter().max_by_key(|&&i| server_score(&apps[i])) else {
        // Nothing serves HTTP: explain with the root's app if there is one.
        let i = candidates
            .iter()
            .copied()
            .find(|&i| apps[i].view.dir.is_empty())
            .unwrap_or(candidates[0]);
        return Some((i, None));
    };
    let why = if servers.len() == 1 {
        "it is the only one that serves HTTP".to_owned()
    } else if apps[best].detection.kind == Kind::Server && is_backend_name(&apps[best].view.dir) {
        "it looks like the back end / API".to_owned()
    } else {
        "it looks like the main server".to_owned()
    };
    let note = format!(
        "Picked `{}` out of {} apps ({listing}): {why}. Name another app in the description to deploy it instead.{}",
        apps[best].view.subdir(),
        candidates.len(),
        unmatched.unwrap_or_default()
    );
    Some((best, Some(note)))
}

/// The app of the folder the description names: the app there, else the
/// app whose folder holds it. A folder that holds several apps is left to
/// the other rules.
fn in_named_folder(apps: &[App<'_>], dir: &str) -> Option<(usize, Option<String>)> {
    let of_dir = |i: usize| apps[i].view.dir.as_str();
    let serves = |i: usize| apps[i].detection.kind.serves_http();
    let below: Vec<usize> = (0..apps.len())
        .filter(|&i| of_dir(i).starts_with(&format!("{dir}/")))
        .collect();
    // `backend/requirements.txt` beside `backend/site/manage.py`: the folder
    // named holds the dependencies, the one server below it is the app.
    let server_below = match below.iter().filter(|&&i| serves(i)).collect::<Vec<_>>()[..] {
        [&only] => Some(only),
        _ => None,
    };
    let exact = (0..apps.len())
        .find(|&i| of_dir(i) == dir)
        .filter(|&i| serves(i) || server_below.is_none())
        .or(server_below);
    let enclosing = || {
        (0..apps.len())
            .filter(|&i| of_dir(i).is_empty() || dir.starts_with(&format!("{}/", of_dir(i))))
            .max_by_key(|&i| of_dir(i).len())
    };
    let i = exact.or_else(|| if below.is_empty() { enclosing() } else { None })?;
    let note = (apps.len() > 1).then(|| {
        format!(
            "Picked `{}` out of {} apps: the description names its folder (`{dir}`).",
            apps[i].view.subdir(),
            apps.len()
        )
    });
    Some((i, note))
}

/// Whether `inner`, an app in a folder of `outer`'s, is what `outer` was
/// detected from: `outer`'s evidence lies inside `inner`'s folder (a root
/// read as plain PHP for `src/public/index.php`, where `src/` is the
/// Laravel app), so `outer` is no app of its own.
fn shadows(inner: &App<'_>, outer: &App<'_>) -> bool {
    let dir = &inner.view.dir;
    let outer_dir = &outer.view.dir;
    let nested =
        !dir.is_empty() && (outer_dir.is_empty() || dir.starts_with(&format!("{outer_dir}/")));
    let inside = |file: &str| {
        let path = if outer_dir.is_empty() || file.starts_with(&format!("{outer_dir}/")) {
            file.to_owned()
        } else {
            format!("{outer_dir}/{file}")
        };
        path.starts_with(&format!("{dir}/"))
    };
    let d = &outer.detection;
    nested && inside(&d.language_at.file) && inside(&d.kind_at.file)
}

fn describe(app: &App<'_>) -> String {
    let d = &app.detection;
    let what = d.framework.unwrap_or(match d.kind {
        Kind::Cli => "cli",
        Kind::Library => "library",
        Kind::Bot => "bot",
        Kind::Batch => "job",
        Kind::Desktop => "desktop",
        Kind::Mobile => "mobile",
        Kind::Notebook => "notebooks",
        _ => d.language,
    });
    format!("{}: {what}", app.view.subdir())
}

/// The candidate the hint names: by directory name, path, package name or
/// framework, exact matches first.
fn by_hint(apps: &[App<'_>], candidates: &[usize], hint: &str) -> Option<usize> {
    let hint = hint.to_ascii_lowercase();
    let words: Vec<&str> = hint
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
        .filter(|w| !w.is_empty())
        .collect();
    let score = |i: usize| -> u8 {
        let app = &apps[i];
        let dir = app.view.dir.to_ascii_lowercase();
        let name = file_name(&dir).to_owned();
        let framework = app.detection.framework.unwrap_or_default();
        if dir == hint || name == hint {
            5
        } else if words.iter().any(|w| *w == name) {
            4
        } else if words.iter().any(|w| {
            w.len() > 2 && (name.contains(w) || (w.contains(name.as_str()) && name.len() > 2))
        }) {
            3
        } else if words
            .iter()
            .any(|w| *w == framework || *w == app.detection.language)
        {
            2
        } else {
            0
        }
    };
    let best = candidates
        .iter()
        .copied()
        .max_by_key(|&i| (score(i), std::cmp::Reverse(i)))?;
    (score(best) > 0).then_some(best)
}

fn is_backend_name(dir: &str) -> bool {
    let name = file_name(dir).to_ascii_lowercase();
    BACKEND_NAMES.iter().any(|n| {
        name == *n || name.ends_with(&format!("-{n}")) || name.starts_with(&format!("{n}-"))
    })
}

/// Servers before static sites; back-end names, then surer detections,
/// then shallower directories.
fn server_score(
    app: &App<'_>,
) -> (
    bool,
    bool,
    super::detection::Confidence,
    std::cmp::Reverse<usize>,
    std::cmp::Reverse<String>,
) {
    (
        app.detection.kind == Kind::Server,
        is_backend_name(&app.view.dir),
        app.detection.confidence,
        std::cmp::Reverse(app.view.dir.matches('/').count()),
        std::cmp::Reverse(app.view.dir.clone()),
    )
}
