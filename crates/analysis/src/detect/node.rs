//! Node.js and TypeScript: Express, Fastify, NestJS, Next.js, Koa, Nuxt, the
//! server-rendering frameworks of `node_ssr` and plain `http` servers; Vite
//! and other static builds; and the packages that are not servers
//! (Electron, React Native, bots, CLIs, libraries).

use super::detection::{Confidence, Detection, Kind};
use super::node_listen::{apply_listen, find_listen};
use super::package_json::{PackageJson, package_manager, run_script};
use super::scan::{Found, Spot};
use super::view::{AppView, file_name};

pub(crate) const JS: &[&str] = &[".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"];

/// Server frameworks by package, with the name reported.
const SERVER_FRAMEWORKS: &[(&str, &str)] = &[
    ("express", "express"),
    ("fastify", "fastify"),
    ("koa", "koa"),
    ("@hapi/hapi", "hapi"),
    // hapi before it moved to its scope (v17 and older).
    ("hapi", "hapi"),
    ("restify", "restify"),
    ("polka", "polka"),
    ("@hono/node-server", "hono"),
    ("h3", "h3"),
];

pub(crate) fn detect(view: &AppView<'_>) -> Option<Detection> {
    let pkg = PackageJson::read(view);
    let listen = find_listen(view);
    if pkg.is_none() && listen.is_none() {
        return None;
    }
    let language = language(view, pkg.as_ref());
    let language_at = match &pkg {
        Some(pkg) => Spot::file(&pkg.path, "package.json"),
        None => Spot::file(listen.as_ref().map_or("", |l| l.file), "Node.js source"),
    };
    let new = |kind, confidence, at: Spot| {
        let mut d = Detection::new(language, kind, confidence, language_at.clone());
        d.kind_at = at;
        d
    };
    let Some(pkg) = pkg else {
        // No manifest: a bare script that listens, served by node itself.
        let mut d = new(Kind::Server, Confidence::Code, Spot::file("", ""));
        plain_server(view, &mut d, None);
        return Some(d);
    };
    let manager = package_manager(view);
    let mut d = if let Some(d) = not_a_server(view, &pkg, &new, listen.is_some()) {
        d
    } else if let Some(d) = fullstack(view, &pkg, &new, manager) {
        d
    } else if let Some((dep, name)) = server_framework(view, &pkg) {
        let imported = view.find(JS, import_re(dep)).map(|hit| hit.spot());
        let confidence = if imported.is_some() {
            Confidence::Code
        } else {
            Confidence::Manifest
        };
        let at = imported.unwrap_or_else(|| pkg.spot(dep, format!("{name} is a dependency")));
        let mut d = new(Kind::Server, confidence, Spot::file("", "")).framework(name, at);
        plain_server(view, &mut d, Some(&pkg));
        d
    } else if listen.is_some() {
        let mut d = new(Kind::Server, Confidence::Code, Spot::file("", ""));
        plain_server(view, &mut d, Some(&pkg));
        d
    } else if let Some(d) = static_build(&pkg, &new, manager) {
        d
    } else {
        return Some(non_server(&pkg, &new));
    };
    if d.kind.serves_http() {
        start_and_build(view, &pkg, &mut d, manager);
        d.scripts = pkg.scripts.clone();
    }
    Some(d)
}

fn language(view: &AppView<'_>, pkg: Option<&PackageJson<'_>>) -> &'static str {
    let ts_files = view
        .sources(&[".ts", ".tsx", ".mts"])
        .filter(|f| !f.path.ends_with(".d.ts"))
        .count();
    let ts = view.has("tsconfig.json")
        || pkg.is_some_and(|p| p.has("typescript"))
        || (ts_files > 0 && ts_files >= view.sources(&[".js", ".jsx", ".mjs", ".cjs"]).count());
    if ts { "typescript" } else { "node" }
}

/// `require('express')` or `from 'express'`.
fn import_re(dep: &str) -> &'static regex::Regex {
    match dep {
        "express" => re!(r#"(?:require\(\s*|from\s+)["']express["']"#),
        "fastify" => re!(r#"(?:require\(\s*|from\s+)["']fastify["']"#),
        "koa" => re!(r#"(?:require\(\s*|from\s+)["']koa["']"#),
        "@hapi/hapi" => re!(r#"(?:require\(\s*|from\s+)["']@hapi/hapi["']"#),
        "hapi" => re!(r#"(?:require\(\s*|from\s+)["']hapi["']"#),
        "@nestjs/core" => re!(r"\bNestFactory\.create\b"),
        _ => re!(r#"(?:require\(\s*|from\s+)["'](?:restify|polka|@hono/node-server|h3)["']"#),
    }
}

fn server_framework(
    view: &AppView<'_>,
    pkg: &PackageJson<'_>,
) -> Option<(&'static str, &'static str)> {
    let present: Vec<(&str, &str)> = SERVER_FRAMEWORKS
        .iter()
        .copied()
        .filter(|(dep, _)| pkg.has(dep))
        .collect();
    present
        .iter()
        .copied()
        .find(|(dep, _)| view.find(JS, import_re(dep)).is_some())
        .or_else(|| present.first().copied())
}

pub(crate) type New<'a> = dyn Fn(Kind, Confidence, Spot) -> Detection + 'a;

/// Frameworks that are both the server and the pages: Next.js, Nuxt, NestJS,
/// and those of `node_ssr`.
fn fullstack(
    view: &AppView<'_>,
    pkg: &PackageJson<'_>,
    new: &New<'_>,
    manager: &str,
) -> Option<Detection> {
    if pkg.has("next") {
        let export = view
            .find(
                &[".js", ".mjs", ".ts"],
                re!(r#"output\s*:\s*["']export["']"#),
            )
            .filter(|hit| file_name(hit.file).starts_with("next.config"));
        if let Some(export) = export {
            let mut d = new(Kind::Static, Confidence::Code, Spot::file("", ""))
                .framework("nextjs", export.spot());
            d.default_port = Some(80);
            d.build = Some(run_script(manager, "build"));
            d.notes
                .push("Next.js static export: `out/` is served as static files".to_owned());
            return Some(d);
        }
        let at = pkg.spot("next", "next is a dependency");
        let mut d =
            new(Kind::Server, Confidence::Manifest, Spot::file("", "")).framework("nextjs", at);
        d.default_port = Some(3000);
        d.start_derived = Some("npx next start -p {port}".to_owned());
        return Some(d);
    }
    if pkg.has("nuxt") {
        let at = pkg.spot("nuxt", "nuxt is a dependency");
        let mut d =
            new(Kind::Server, Confidence::Manifest, Spot::file("", "")).framework("nuxt", at);
        d.default_port = Some(3000);
        d.start_derived = Some("node .output/server/index.mjs".to_owned());
        d.build = Some(if pkg.script("build").is_some() {
            run_script(manager, "build")
        } else {
            "npx nuxt build".to_owned()
        });
        return Some(d);
    }
    if pkg.has("@nestjs/core") {
        let created = view
            .find(JS, import_re("@nestjs/core"))
            .map(|hit| hit.spot());
        let confidence = if created.is_some() {
            Confidence::Code
        } else {
            Confidence::Manifest
        };
        let at =
            created.unwrap_or_else(|| pkg.spot("@nestjs/core", "@nestjs/core is a dependency"));
        let mut d = new(Kind::Server, confidence, Spot::file("", "")).framework("nestjs", at);
        plain_server(view, &mut d, Some(pkg));
        if let Some(script) = ["start:prod", "start"]
            .iter()
            .find(|s| pkg.script(s).is_some())
        {
            let at = pkg.spot(script, format!("scripts.{script}"));
            d.start = Some(Found::new(run_script(manager, script), at));
        }
        return Some(d);
    }
    super::node_ssr::detect(view, pkg, new, manager)
}

/// Reads the listen call for port and address; the port default is 3000,
/// the convention of every Node framework's docs.
fn plain_server(view: &AppView<'_>, d: &mut Detection, pkg: Option<&PackageJson<'_>>) {
    d.default_port = Some(3000);
    let listen = find_listen(view);
    if let Some(listen) = &listen {
        if d.framework.is_none() {
            d.framework = Some("node-http");
            d.kind_at = listen
                .spot
                .with_detail(format!("listens: {}", listen.spot.detail));
        }
        apply_listen(d, listen);
    }
    if d.start.is_none() && pkg.and_then(|p| p.script("start")).is_none() {
        let file = listen
            .as_ref()
            .map(|l| view.rel(l.file).to_owned())
            .or_else(|| pkg.and_then(|p| p.main.clone()));
        if let Some(file) = file {
            let ts = file.ends_with(".ts") || file.ends_with(".mts");
            d.start_derived = Some(if ts {
                format!("npx tsx {file}")
            } else {
                format!("node {file}")
            });
        }
    }
}

/// The package's start and build scripts, when it has them.
fn start_and_build(view: &AppView<'_>, pkg: &PackageJson<'_>, d: &mut Detection, manager: &str) {
    if d.start.is_none()
        && d.kind == Kind::Server
        && let Some(script) = pkg.script("start")
    {
        let at = pkg.spot("start", format!("scripts.start: {script}"));
        d.start = Some(Found::new(run_script(manager, "start"), at));
    }
    if d.build.is_some() {
        return;
    }
    if pkg.script("build").is_some() {
        d.build = Some(run_script(manager, "build"));
    } else if pkg.script("heroku-postbuild").is_some() {
        // Where a Heroku-ready server builds its frontend.
        d.build = Some(run_script(manager, "heroku-postbuild"));
        d.notes.push(
            "the build runs the `heroku-postbuild` script, where this app builds what it serves"
                .to_owned(),
        );
    } else if let Some(frontend) = super::served_frontend::served_frontend(view, pkg, manager) {
        d.notes.push(format!(
            "{}: the image builds it (`{}`), which nothing else would",
            frontend.reason, frontend.command
        ));
        d.build = Some(frontend.command);
    }
}

/// Vite, Create React App, Angular, Vue CLI...: built to static files.
fn static_build(pkg: &PackageJson<'_>, new: &New<'_>, manager: &str) -> Option<Detection> {
    const BUILDERS: &[(&str, &str, &str)] = &[
        ("vite", "vite", "dist"),
        ("react-scripts", "static", "build"),
        ("@angular/cli", "static", "dist"),
        ("@vue/cli-service", "static", "dist"),
        ("gatsby", "static", "public"),
        ("astro", "static", "dist"),
        ("parcel", "static", "dist"),
    ];
    let (dep, framework, out) = BUILDERS.iter().copied().find(|(dep, ..)| pkg.has(dep))?;
    let at = pkg.spot(dep, format!("{dep} builds the site"));
    let mut d =
        new(Kind::Static, Confidence::Manifest, Spot::file("", "")).framework(framework, at);
    d.default_port = Some(80);
    d.build = Some(if pkg.script("build").is_some() {
        run_script(manager, "build")
    } else {
        format!("npx {dep} build")
    });
    d.notes.push(format!(
        "static site: the build writes `{out}/`, served by a web server on port 80"
    ));
    Some(d)
}

/// Desktop, mobile, bots: packages that are something other than a server,
/// whatever else they contain.
fn not_a_server(
    view: &AppView<'_>,
    pkg: &PackageJson<'_>,
    new: &New<'_>,
    listens: bool,
) -> Option<Detection> {
    if let Some(dep) = pkg.any(&["electron"]) {
        let at = pkg.spot(dep, "Electron desktop app");
        return Some(new(Kind::Desktop, Confidence::Manifest, at));
    }
    if let Some(dep) = pkg.any(&["react-native", "expo"]) {
        let at = pkg.spot(dep, format!("{dep} mobile app"));
        return Some(new(Kind::Mobile, Confidence::Manifest, at));
    }
    let bot = pkg.any(&[
        "discord.js",
        "telegraf",
        "node-telegram-bot-api",
        "grammy",
        "tmi.js",
        "@slack/bolt",
    ]);
    let webhook = view
        .find(JS, re!(r"\bwebhook\b|\bwebhookCallback\b"))
        .is_some();
    let socket_mode = view.find(JS, re!(r"socketMode\s*:\s*true")).is_some();
    if let Some(dep) = bot
        && !listens
        && !webhook
        && (dep != "@slack/bolt" || socket_mode)
    {
        let at = view
            .find(JS, re!(r#"\bnew\s+(?:Telegraf|Client|TelegramBot|Bot|App)\s*\(|\.launch\s*\(|\.login\s*\("#))
            .map(|hit| hit.spot())
            .unwrap_or_else(|| pkg.spot(dep, ""));
        return Some(new(
            Kind::Bot,
            Confidence::Code,
            at.with_detail(format!("{dep} bot client")),
        ));
    }
    None
}

/// What a package without a server is: CLI, library, job, or unknown.
fn non_server(pkg: &PackageJson<'_>, new: &New<'_>) -> Detection {
    if let Some(dep) = pkg.any(&["node-cron", "cron", "agenda", "bree"]) {
        return new(
            Kind::Batch,
            Confidence::Manifest,
            pkg.spot(dep, format!("{dep} scheduled job")),
        );
    }
    if pkg.has_bin {
        return new(
            Kind::Cli,
            Confidence::Manifest,
            pkg.spot("bin", "package.json `bin` command"),
        );
    }
    if let Some(dep) = pkg.any(&["commander", "yargs", "meow", "@oclif/core", "cac", "citty"]) {
        return new(
            Kind::Cli,
            Confidence::Manifest,
            pkg.spot(dep, format!("{dep} command-line parser")),
        );
    }
    if pkg.workspaces {
        return new(
            Kind::Unknown,
            Confidence::Files,
            pkg.spot("workspaces", "workspace root"),
        );
    }
    if pkg.is_importable && pkg.script("start").is_none() {
        let key = ["main", "exports", "module", "types", "typings", "files"]
            .into_iter()
            .find(|k| pkg.text.contains(&format!("\"{k}\"")))
            .unwrap_or("main");
        return new(
            Kind::Library,
            Confidence::Manifest,
            pkg.spot(key, "package exports a module"),
        );
    }
    new(
        Kind::Unknown,
        Confidence::Files,
        Spot::file(&pkg.path, "no server or listen call in the code"),
    )
}
