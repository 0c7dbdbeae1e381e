//! Projects no other detector claims: plain static sites, Flutter and iOS
//! apps, and Swift servers.

use super::detection::{Confidence, Detection, Kind};
use super::scan::{Spot, find_line};
use super::view::AppView;

/// A directory of HTML pages with no build: served as files.
pub(crate) fn static_site(view: &AppView<'_>) -> Option<Detection> {
    let index = [
        "index.html",
        "public/index.html",
        "site/index.html",
        "www/index.html",
    ]
    .into_iter()
    .find(|p| view.has(p))?;
    let at = Spot::file(&view.path(index), "static HTML site");
    let mut d = Detection::new("static", Kind::Static, Confidence::Files, at.clone())
        .framework("static", at);
    d.default_port = Some(80);
    let root = index
        .strip_suffix("index.html")
        .unwrap_or_default()
        .trim_end_matches('/');
    d.notes.push(format!(
        "static site: `{}` is served as files by a web server on port 80",
        if root.is_empty() { "." } else { root }
    ));
    Some(d)
}

pub(crate) fn mobile(view: &AppView<'_>) -> Option<Detection> {
    if let Some(pubspec) = view.file("pubspec.yaml") {
        let text = pubspec.content.as_deref().unwrap_or_default();
        let line = find_line(text, "flutter").unwrap_or(1);
        let at = Spot::at(&pubspec.path, line, "Flutter app");
        let kind = if text.contains("flutter") {
            Kind::Mobile
        } else {
            Kind::Unknown
        };
        return Some(
            Detection::new("dart", kind, Confidence::Manifest, at.clone()).framework_less(at),
        );
    }
    let xcode = view
        .files
        .iter()
        .find(|f| f.path.contains(".xcodeproj/") || f.path.ends_with("Podfile"));
    if let Some(file) = xcode {
        let at = Spot::file(&file.path, "Xcode iOS/macOS app project");
        return Some(
            Detection::new("swift", Kind::Mobile, Confidence::Manifest, at.clone())
                .framework_less(at),
        );
    }
    None
}

pub(crate) fn swift_server(view: &AppView<'_>) -> Option<Detection> {
    let package = view.file("Package.swift")?;
    let text = package.content.as_deref().unwrap_or_default();
    let language_at = Spot::file(&package.path, "Package.swift");
    let Some(line) = find_line(text, "vapor/vapor").or_else(|| find_line(text, "hummingbird"))
    else {
        let at = language_at.with_detail("a Swift package with no server framework");
        return Some(
            Detection::new("swift", Kind::Library, Confidence::Manifest, language_at)
                .framework_less(at),
        );
    };
    let framework = if text.contains("vapor/vapor") {
        "vapor"
    } else {
        "hummingbird"
    };
    let at = Spot::at(&package.path, line, format!("{framework} dependency"));
    let mut d = Detection::new("swift", Kind::Server, Confidence::Manifest, language_at)
        .framework(framework, at);
    d.default_port = Some(8080);
    d.build = Some("swift build -c release".to_owned());
    d.start_derived =
        Some("swift run -c release App serve --hostname 0.0.0.0 --port {port}".to_owned());
    Some(d)
}

/// Elixir: Phoenix and Plug apps (`mix.exs`).
pub(crate) fn elixir(view: &AppView<'_>) -> Option<Detection> {
    let mix = view.file("mix.exs")?;
    let text = mix.content.as_deref().unwrap_or_default();
    let language_at = Spot::file(&mix.path, "mix.exs");
    let server = [
        (":phoenix", "phoenix"),
        (":plug_cowboy", "plug"),
        (":bandit", "plug"),
    ]
    .into_iter()
    .find_map(|(dep, name)| Some((find_line(text, dep)?, name)));
    let Some((line, framework)) = server else {
        let at = language_at.with_detail("a Mix project with no web server");
        return Some(
            Detection::new("elixir", Kind::Library, Confidence::Manifest, language_at)
                .framework_less(at),
        );
    };
    let at = Spot::at(&mix.path, line, format!("{framework} dependency"));
    let mut d = Detection::new("elixir", Kind::Server, Confidence::Manifest, language_at)
        .framework(framework, at);
    d.default_port = Some(4000);
    let runtime = ["config/runtime.exs", "config/prod.exs"]
        .into_iter()
        .find_map(|p| view.file(p));
    let port = re!(r#"System\.get_env\(\s*"(\w*PORT\w*)"\s*\)\s*\|\|\s*"?(\d+)"?"#);
    if let Some(file) = runtime
        && let Some(content) = file.content.as_deref()
        && let Some(caps) = port.captures(content)
        && let (Some(env), Some(value)) = (caps.get(1), caps.get(2))
    {
        let spot = Spot::at(
            &file.path,
            super::scan::line_at(content, env.start()),
            "endpoint port",
        );
        let value = super::value::Value {
            env: Some(env.as_str().to_owned()),
            literal: Some(value.as_str().to_owned()),
            line: None,
        };
        d.set_port(&value, spot);
    }
    d.start_derived = Some(
        if framework == "phoenix" {
            "mix phx.server"
        } else {
            "mix run --no-halt"
        }
        .to_owned(),
    );
    Some(d)
}
