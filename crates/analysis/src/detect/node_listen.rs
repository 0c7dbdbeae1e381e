//! The call that makes a Node server listen, and what it says about port
//! and address: `app.listen(port, host)`, `fastify.listen({ port, host })`,
//! `Hapi.server({ port })`, `serve({ fetch, port })`.

use super::detection::Detection;
use super::node::JS;
use super::scan::{Spot, hits, named_arg, split_args};
use super::value::{Value, resolve};
use super::view::AppView;

pub(crate) struct Listen<'s> {
    pub file: &'s str,
    pub spot: Spot,
    pub port: Option<Value>,
    pub host: Option<Value>,
    /// Fastify's `listen()` binds localhost when given no host.
    pub loopback_without_host: bool,
}

/// The most informative listen call: the first (entry files first) whose
/// port can be read, else the first one at all.
pub(crate) fn find_listen<'s>(view: &AppView<'s>) -> Option<Listen<'s>> {
    let re = re!(r"\.listen\s*\(|\b(?:Hapi\.)?server\s*\(\s*\{|\bserve\s*\(\s*\{");
    let mut first = None;
    // express-generator starts the server from `bin/www`, which has no extension.
    for file in view.sources(JS).chain(view.file("bin/www")) {
        if is_browser_code(view.rel(&file.path)) {
            continue;
        }
        for hit in hits(file, re) {
            let quote = hit.quote();
            // `window.$events.listen(…)`: an event bus in the page.
            if quote.contains("window.") || quote.contains("document.") {
                continue;
            }
            let open = hit.text[..hit.end()]
                .rfind('(')
                .map_or(hit.end(), |i| i + 1);
            let args = super::scan::call_args(hit.text, open);
            if quote.contains("serve(") && !args.contains("fetch") {
                continue;
            }
            let mut listen = read_args(hit.file, hit.text, args, hit.spot());
            if listen.port.is_none()
                && let Some(first) = split_args(args).first()
            {
                // `listen(config.port)`, `listen({ port: config.server.port })`.
                let port = if first.starts_with('{') {
                    named_arg(first, &["port"])
                } else {
                    Some(*first)
                };
                listen.port = port.and_then(|port| imported_member(view, hit.file, hit.text, port));
            }
            let fastify = is_fastify(hit.text)
                || receiver_module(view, hit.file, hit.text, &quote).is_some_and(is_fastify);
            let listen = Listen {
                loopback_without_host: fastify && quote.contains(".listen"),
                ..listen
            };
            if listen
                .port
                .as_ref()
                .is_some_and(|p| p.port().is_some() || p.env.is_some())
            {
                return Some(listen);
            }
            first.get_or_insert(listen);
        }
    }
    first
}

fn is_fastify(text: &str) -> bool {
    text.contains("fastify") || text.contains("Fastify")
}

/// The text of the app's module the listening object is imported from
/// (`import server from './server'`, then `server.listen(…)`).
fn receiver_module<'s>(view: &AppView<'s>, file: &str, text: &str, quote: &str) -> Option<&'s str> {
    let receiver = re!(r"(\w+)\s*\.listen\s*\(").captures(quote)?;
    module_text(view, file, &imported_module(text, &receiver[1])?)
}

/// The relative module `object` is imported from: by default or by name
/// (`import config from './config'`, `import { config } from './config'`),
/// or required (`config = require('./config')`).
fn imported_module(text: &str, object: &str) -> Option<String> {
    let object = regex::escape(object);
    let imported = regex::Regex::new(&format!(
        r#"import\s*(?:\{{[^}}]*\b{object}\b[^}}]*\}}|{object})\s*from\s*["'](\.[^"']+)["']|\b{object}\s*=\s*require\(\s*["'](\.[^"']+)["']\s*\)"#
    ))
    .ok()?;
    let c = imported.captures(text)?;
    Some(c.get(1).or(c.get(2))?.as_str().to_owned())
}

/// The text of a module of the app a file imports by relative path.
fn module_text<'s>(view: &AppView<'s>, file: &str, module: &str) -> Option<&'s str> {
    let dir = super::view::parent(view.rel(file));
    let base = super::view::join_rel(dir, module);
    // TypeScript written for ESM imports its own `.ts` files as `.js`.
    let stem = base
        .strip_suffix(".js")
        .filter(|_| view.text(&base).is_none())
        .unwrap_or(&base);
    ["", ".ts", ".js", ".mjs", ".cjs", "/index.ts", "/index.js"]
        .iter()
        .find_map(|ext| view.text(&format!("{stem}{ext}")))
}

/// Scripts a server framework serves to browsers (Laravel's and Rails'
/// `resources/js/`, `app/javascript/`, a `public/` or `static/` folder):
/// their `listen` calls are the page's events, not a server.
fn is_browser_code(rel: &str) -> bool {
    [
        "resources/js/",
        "resources/assets/",
        "app/javascript/",
        "app/assets/",
        "public/",
        "static/",
    ]
    .iter()
    .any(|dir| rel.starts_with(dir) || rel.contains(&format!("/{dir}")))
}

/// `config.apiPort` (directly, or through `const port = config.apiPort`)
/// where `config` comes from a module of the app (`import { config } from
/// "./config"`, `require('./config')`) that sets `apiPort: 3001`, or reads
/// it from the environment with a fallback; or `port` imported by name
/// (`import { port } from './config'`) from a module that exports it
/// (`export const port = 8080`).
fn imported_member(view: &AppView<'_>, file: &str, text: &str, expr: &str) -> Option<Value> {
    let expr = expr.trim();
    let (module, property) = member_of_import(text, expr).or_else(|| named_import(text, expr))?;
    let source = module_text(view, file, &module)?;
    let property = regex::escape(&property);
    let set = regex::Regex::new(&format!(
        r"(?m)(?:\b(?:const|let|var)\s+{property}\s*=|\bexports\.{property}\s*=|\b{property}\s*:)\s*([^,;\n}}]+)"
    ))
    .ok()?;
    let value = resolve(source, set.captures(source)?.get(1)?.as_str());
    (!value.is_empty()).then_some(value)
}

/// `config.port`, or `port` set from `config.port`, with `config` imported
/// from a module of the app: that module and `port`.
fn member_of_import(text: &str, expr: &str) -> Option<(String, String)> {
    // `config.server.port`: the last property, where the module sets it.
    let member = re!(r"^(\w+)(?:\.\w+)*\.(\w+)$");
    let (object, property) = match member.captures(expr) {
        Some(c) => (c[1].to_owned(), c[2].to_owned()),
        None => {
            let name = re!(r"^\w+$").find(expr)?.as_str();
            let assigned = regex::Regex::new(&format!(
                r"(?m)\b(?:const|let|var)\s+{}\s*=\s*(\w+)\.(\w+)\s*;?\s*$",
                regex::escape(name)
            ))
            .ok()?;
            let c = assigned.captures(text)?;
            (c[1].to_owned(), c[2].to_owned())
        }
    };
    Some((imported_module(text, &object)?, property))
}

/// `port` imported by name from a module of the app (`import { port } from
/// './config'`, `const { port } = require('./config')`).
fn named_import(text: &str, expr: &str) -> Option<(String, String)> {
    let name = re!(r"^\w+$").find(expr)?.as_str();
    let escaped = regex::escape(name);
    let imported = regex::Regex::new(&format!(
        r#"import\s*\{{[^}}]*\b{escaped}\b[^}}]*\}}\s*from\s*["'](\.[^"']+)["']|\{{[^}}]*\b{escaped}\b[^}}]*\}}\s*=\s*require\(\s*["'](\.[^"']+)["']\s*\)"#
    ))
    .ok()?;
    let c = imported.captures(text)?;
    let module = c.get(1).or(c.get(2))?.as_str();
    Some((module.to_owned(), name.to_owned()))
}

fn read_args<'s>(file: &'s str, text: &'s str, args: &str, spot: Spot) -> Listen<'s> {
    let parts = split_args(args);
    let (port, host) = match parts.first() {
        Some(first) if first.starts_with('{') => (
            named_arg(first, &["port"]).map(|e| resolve(text, e)),
            named_arg(first, &["host", "hostname"]).map(|e| resolve(text, e)),
        ),
        Some(first) => {
            let host = parts
                .get(1)
                .filter(|h| !h.contains("=>") && !h.starts_with("function") && !h.starts_with('('))
                .map(|e| resolve(text, e));
            (Some(resolve(text, first)), host)
        }
        None => (None, None),
    };
    Listen {
        file,
        spot,
        port: port.filter(|v| !v.is_empty()),
        host: host.filter(|v| !v.is_empty()),
        loopback_without_host: false,
    }
}

/// Records what a listen call says on the detection.
pub(crate) fn apply_listen(d: &mut Detection, listen: &Listen<'_>) {
    if let Some(port) = &listen.port {
        d.set_port(port, listen.spot.clone());
    }
    match &listen.host {
        Some(host) => d.set_host(host, listen.spot.clone()),
        None if listen.loopback_without_host => {
            d.loopback_default = Some(
                listen
                    .spot
                    .with_detail("fastify listen() without a host listens on localhost only"),
            );
            d.bind_fix = Some(format!(
                "pass `host: '0.0.0.0'` to listen() at {}",
                listen.spot.cite()
            ));
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Snapshot;

    fn listen_of(path: &str, code: &str) -> (Option<u16>, Option<String>, Option<String>, bool) {
        let snapshot = Snapshot::from_texts([("package.json", "{}"), (path, code)]);
        let views = super::super::view::app_views(&snapshot, None);
        let listen = find_listen(&views[0]).expect("a listen call");
        (
            listen.port.as_ref().and_then(Value::port),
            listen.port.and_then(|p| p.env),
            listen.host.and_then(|h| h.host()),
            listen.loopback_without_host,
        )
    }

    #[test]
    fn a_pages_event_bus_is_no_server() {
        let snapshot = Snapshot::from_texts([
            ("package.json", "{}"),
            (
                "resources/js/components/book-sort.js",
                "window.$events.listen('entity-select-change', this.onSelect);\n",
            ),
            ("src/page.js", "window.$events.listen('x', go);\n"),
        ]);
        let views = super::super::view::app_views(&snapshot, None);
        assert!(find_listen(&views[0]).is_none());
    }

    #[test]
    fn express_with_env_port() {
        let code = "const port = process.env.PORT || 3000;\napp.listen(port, () => {});\n";
        assert_eq!(
            listen_of("server.js", code),
            (Some(3000), Some("PORT".into()), None, false)
        );
    }

    #[test]
    fn node_http_on_loopback() {
        let code = "const hostname = '127.0.0.1';\nconst port = 3000;\nserver.listen(port, hostname, () => {});\n";
        assert_eq!(
            listen_of("server.js", code),
            (Some(3000), None, Some("127.0.0.1".into()), false)
        );
    }

    #[test]
    fn a_fastify_server_made_in_one_module_and_started_in_another() {
        let snapshot = Snapshot::from_texts([
            ("package.json", r#"{"dependencies": {"fastify": "5"}}"#),
            (
                "src/config.ts",
                "const config = {\n  server: {\n    port: process.env.SERVER_PORT ? parseInt(process.env.SERVER_PORT) : 8080,\n  },\n};\nexport default config;\n",
            ),
            (
                "src/server.ts",
                "import fastify from 'fastify';\nconst server = fastify({ logger: true });\nexport default server;\n",
            ),
            (
                "src/app.ts",
                "import server from './server.js';\nimport config from './config.js';\nawait server.listen({ port: config.server.port });\n",
            ),
        ]);
        let views = super::super::view::app_views(&snapshot, None);
        let listen = find_listen(&views[0]).expect("a listen call");
        let port = listen.port.expect("a port");
        assert_eq!(port.port(), Some(8080));
        assert_eq!(port.env.as_deref(), Some("SERVER_PORT"));
        assert!(listen.loopback_without_host);
    }

    #[test]
    fn fastify_object_form_and_default_host() {
        let code = "import Fastify from 'fastify';\nawait fastify.listen({ port: 3000 });\n";
        assert_eq!(listen_of("server.js", code), (Some(3000), None, None, true));
    }
}
