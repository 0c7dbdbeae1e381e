//! PHP: Laravel, Symfony, Slim and plain PHP sites; Composer libraries and
//! CLIs otherwise.

use serde_json::Value as Json;

use super::detection::{Confidence, Detection, Kind};
use super::scan::{Found, Spot, find_line, line_at};
use super::value::port_number;
use super::view::{AppView, file_name};

/// (Composer package, framework)
const FRAMEWORKS: &[(&str, &str)] = &[
    ("laravel/framework", "laravel"),
    ("symfony/framework-bundle", "symfony"),
    ("slim/slim", "slim"),
];

pub(crate) fn detect(view: &AppView<'_>) -> Option<Detection> {
    let composer = view.file("composer.json");
    let index = [
        "public/index.php",
        "index.php",
        "web/index.php",
        "htdocs/index.php",
        "public_html/index.php",
        "www/index.php",
        "html/index.php",
        "src/public/index.php",
        "src/index.php",
        "app/index.php",
    ]
    .into_iter()
    .find(|p| view.has(p));
    if composer.is_none() && index.is_none() && !view.has_sources(&[".php"]) {
        return None;
    }
    let text = composer
        .and_then(|f| f.content.as_deref())
        .unwrap_or_default();
    let json: Json = serde_json::from_str(text).unwrap_or(Json::Null);
    let requires = |pkg: &str| json.get("require").and_then(|r| r.get(pkg)).is_some();
    let spot = |needle: &str, what: &str| {
        let path = view.path("composer.json");
        match find_line(text, &format!("\"{needle}\"")) {
            Some(line) => Spot::at(&path, line, what.to_owned()),
            None => Spot::file(&path, what.to_owned()),
        }
    };
    let language_at = match (composer, index) {
        (Some(f), _) => Spot::file(&f.path, "composer.json"),
        (None, Some(index)) => Spot::file(&view.path(index), "PHP entry point"),
        (None, None) => Spot::file(
            view.sources(&[".php"])
                .next()
                .map_or("", |f| f.path.as_str()),
            "PHP source",
        ),
    };
    let new = |kind, confidence| Detection::new("php", kind, confidence, language_at.clone());
    if let Some(&(pkg, framework)) = FRAMEWORKS.iter().find(|(pkg, _)| requires(pkg)) {
        let mut d = new(Kind::Server, Confidence::Manifest)
            .framework(framework, spot(pkg, &format!("requires {pkg}")));
        d.default_port = Some(8000);
        d.start_derived = Some(if framework == "laravel" && view.has("artisan") {
            "php artisan serve --host=0.0.0.0 --port={port}".to_owned()
        } else {
            "php -S 0.0.0.0:{port} -t public".to_owned()
        });
        return Some(d);
    }
    if let Some(index) = index {
        let at = Spot::file(&view.path(index), "PHP entry point served by a web server");
        let mut d = new(Kind::Server, Confidence::Code).framework("php", at);
        // The usual way to serve plain PHP is Apache or nginx with PHP-FPM.
        d.default_port = Some(80);
        let root = index
            .strip_suffix("index.php")
            .unwrap_or_default()
            .trim_end_matches('/');
        let root = if root.is_empty() { "." } else { root };
        d.start_derived = Some(format!("php -S 0.0.0.0:{{port}} -t {root}"));
        return Some(d);
    }
    if json.get("bin").is_some() {
        return Some(
            new(Kind::Cli, Confidence::Manifest)
                .framework_less(spot("bin", "Composer package with command-line binaries")),
        );
    }
    if json.get("type").and_then(Json::as_str) == Some("library") || composer.is_some() {
        return Some(
            new(Kind::Library, Confidence::Manifest)
                .framework_less(spot("type", "Composer library")),
        );
    }
    Some(
        new(Kind::Unknown, Confidence::Files)
            .framework_less(language_at.with_detail("no index.php or framework")),
    )
}

/// The port nginx serves a PHP-FPM app on: the `listen` of the `server`
/// block that passes PHP to FastCGI (`fastcgi_pass`), in any nginx
/// configuration of the repository (the app's own folder often leaves the
/// web server's files to a `docker/` or `nginx/` folder beside it). A
/// configuration under a production folder wins.
pub(crate) fn nginx_port(view: &AppView<'_>) -> Option<Found<u16>> {
    let listen = re!(r"(?m)^[ \t]*listen[ \t]+(?:\[[^\]]*\]:|[\w.-]+:)?(\d+)\b");
    let server = re!(r"\bserver\s*\{");
    let mut found: Vec<(bool, Found<u16>)> = view
        .snapshot()
        .files
        .iter()
        // Web server configuration often lives in hidden or build folders
        // (`.docker/`, `build/nginx/`): only installed packages are skipped.
        .filter(|f| !f.path.contains("node_modules/") && !f.path.contains("vendor/"))
        .filter(|f| {
            let name = file_name(&f.path);
            name.ends_with(".conf") || name.ends_with(".conf.template")
        })
        .filter_map(|f| {
            let text = f.content.as_deref()?;
            let pass = text.find("fastcgi_pass")?;
            let block = server.find_iter(&text[..pass]).last()?.start();
            let c = listen.captures(&text[block..pass])?;
            let m = c.get(1)?;
            let port = port_number(m.as_str())?;
            let at = Spot::at(
                &f.path,
                line_at(text, block + m.start()),
                "nginx passes PHP to FastCGI from this server block",
            );
            let production = f.path.to_ascii_lowercase().contains("prod");
            Some((production, Found::new(port, at)))
        })
        .collect();
    found.sort_by_key(|(production, _)| !*production);
    found.into_iter().next().map(|(_, port)| port)
}
