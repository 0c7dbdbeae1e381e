//! Deno and Bun: JavaScript runtimes with a server built in, and the
//! framework an app runs on them (Oak, Hono, Elysia).

use super::detection::{Confidence, Detection, Kind};
use super::node::JS;
use super::package_json::PackageJson;
use super::scan::{Found, Spot, named_arg, split_args};
use super::value::resolve;
use super::view::AppView;
use crate::snapshot::FileEntry;

pub(crate) fn deno(view: &AppView<'_>) -> Option<Detection> {
    let config = ["deno.json", "deno.jsonc"]
        .into_iter()
        .find_map(|name| view.file(name));
    let serve = view.find(JS, re!(r"\bDeno\.serve\s*\("));
    let std_serve = view.find(
        JS,
        re!(
            r#"from\s+["'](?:https://deno\.land/std[^"']*/http/server\.ts|jsr:@std/http[^"']*)["']"#
        ),
    );
    let oak = view
        .find(
            JS,
            re!(r#"from\s+["'](?:https://deno\.land/x/oak[^"']*|jsr:@oak/oak[^"']*)["']"#),
        )
        .or_else(|| {
            // `import { Application } from "oak"` through an import map.
            maps_import(
                view,
                re!(r#"["'](?:https://deno\.land/x/oak[^"']*|jsr:@oak/oak[^"']*)["']"#),
            )
            .then(|| view.find(JS, re!(r"\bnew\s+Application\s*\(")))
            .flatten()
        });
    if config.is_none() && serve.is_none() && std_serve.is_none() && oak.is_none() {
        return None;
    }
    let language_at = config.map_or_else(
        || {
            Spot::file(
                serve
                    .as_ref()
                    .or(std_serve.as_ref())
                    .or(oak.as_ref())
                    .map_or("", |h| h.file),
                "Deno source",
            )
        },
        |f| Spot::file(&f.path, "Deno configuration"),
    );
    let server = serve
        .or_else(|| {
            view.find(JS, re!(r"\bserve\s*\("))
                .filter(|_| std_serve.is_some())
        })
        .or_else(|| {
            view.find(JS, re!(r"\.listen\s*\("))
                .filter(|_| oak.is_some())
        });
    let Some(server) = server else {
        let at = language_at.with_detail("no Deno.serve or listen call");
        let kind = if view
            .find(JS, re!(r"\bDeno\.args\b|parseArgs\s*\("))
            .is_some()
        {
            Kind::Cli
        } else {
            Kind::Unknown
        };
        return Some(
            Detection::new("deno", kind, Confidence::Files, language_at).framework_less(at),
        );
    };
    let hono = view.find(
        JS,
        re!(r#"from\s+["'](?:hono|npm:hono[^"']*|jsr:@hono/hono[^"']*|https://deno\.land/x/hono[^"']*)["']"#),
    );
    let framework = if oak.is_some() {
        "oak"
    } else if hono.is_some() {
        "hono"
    } else {
        "deno"
    };
    let mut d = Detection::new("deno", Kind::Server, Confidence::Code, language_at)
        .framework(framework, server.spot());
    d.default_port = Some(8000);
    let options = split_args(server.call_args())
        .into_iter()
        .find(|a| a.starts_with('{'));
    if let Some(options) = options {
        if let Some(port) = named_arg(options, &["port"]) {
            d.set_port(&resolve(server.text, port), server.spot());
        }
        if let Some(host) = named_arg(options, &["hostname"]) {
            d.set_host(&resolve(server.text, host), server.spot());
        }
    }
    d.start = config.and_then(start_task);
    let entry = view.rel(server.file);
    d.start_derived = Some(format!(
        "deno run --allow-net --allow-env --allow-read {entry}"
    ));
    Some(d)
}

/// The Deno import map (`import_map.json`, or `imports` of deno.json) maps
/// a bare specifier to a module `target` matches.
fn maps_import(view: &AppView<'_>, target: &regex::Regex) -> bool {
    ["import_map.json", "deno.json", "deno.jsonc"]
        .into_iter()
        .filter_map(|name| view.file(name)?.content.as_deref())
        .any(|text| target.is_match(text))
}

/// `deno task start`, when deno.json defines the task.
fn start_task(config: &FileEntry) -> Option<Found<String>> {
    let text = config.content.as_deref()?;
    let at = re!(r#""start"\s*:"#).find(text)?;
    let spot = Spot::at(
        &config.path,
        super::scan::line_at(text, at.start()),
        "tasks.start",
    );
    Some(Found::new("deno task start".to_owned(), spot))
}

pub(crate) fn bun(view: &AppView<'_>) -> Option<Detection> {
    let serve = view.find(JS, re!(r"\bBun\.serve\s*\("));
    let pkg = PackageJson::read(view);
    let markers = view.has("bunfig.toml")
        || view.has("bun.lockb")
        || view.has("bun.lock")
        || pkg
            .as_ref()
            .is_some_and(|p| p.has("@types/bun") || p.has("bun-types") || p.has("elysia"));
    let exported = view
        .find(JS, re!(r"(?m)^export\s+default\s*\{[^}]*\bfetch\b"))
        .filter(|_| markers);
    let elysia = view
        .find(JS, re!(r"\bnew\s+Elysia\s*\("))
        .and_then(|_| view.find(JS, re!(r"\.listen\s*\(")));
    let server = serve.or(exported).or(elysia)?;
    let language_at = pkg.as_ref().map_or_else(
        || Spot::file(server.file, "Bun source"),
        |p| Spot::file(&p.path, "package.json"),
    );
    let framework = match pkg.as_ref() {
        Some(p) if p.has("elysia") => "elysia",
        Some(p) if p.has("hono") => "hono",
        _ => "bun",
    };
    let mut d = Detection::new("bun", Kind::Server, Confidence::Code, language_at)
        .framework(framework, server.spot());
    d.default_port = Some(3000);
    let args = if server.quote().contains("export default") {
        &server.text[server.start()..]
    } else {
        server.call_args()
    };
    let args = args.trim_start_matches(|c: char| c != '{' && c != '(' && !c.is_ascii_digit());
    let first = split_args(args).into_iter().next().unwrap_or_default();
    let port = if first.starts_with('{') {
        named_arg(first, &["port"])
    } else {
        Some(first)
    };
    if let Some(port) = port.filter(|p| !p.is_empty()) {
        d.set_port(&resolve(server.text, port), server.spot());
    }
    if first.starts_with('{')
        && let Some(host) = named_arg(first, &["hostname"])
    {
        d.set_host(&resolve(server.text, host), server.spot());
    }
    match pkg.as_ref().and_then(|p| p.script("start").map(|s| (p, s))) {
        Some((pkg, script)) => {
            d.start = Some(Found::new(
                "bun run start".to_owned(),
                pkg.spot("start", format!("scripts.start: {script}")),
            ));
            d.scripts = pkg.scripts.clone();
        }
        None => d.start_derived = Some(format!("bun run {}", view.rel(server.file))),
    }
    Some(d)
}
