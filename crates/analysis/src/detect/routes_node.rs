//! Where a JavaScript or TypeScript route is served: Express and Koa
//! routers take the prefix they are mounted under (`app.use('/api',
//! router)`), Nest controllers their `@Controller` path and the app's
//! global prefix. A route read at its own path, when the app serves it
//! under a prefix, fails the health check with 404 where `/` would have
//! shown the app up; a prefix that cannot be read gives no path at all.

use std::collections::HashMap;

use crate::snapshot::FileEntry;

use super::scan::{Spot, in_comment, line_at, line_text, quote};
use super::view::{AppView, parent};

pub(super) const SOURCES: &[&str] = &[".js", ".mjs", ".cjs", ".ts", ".mts", ".cts"];

/// The last segment of a health route's path.
const HEALTH_NAMES: &[&str] = &[
    "health",
    "healthz",
    "healthcheck",
    "health-check",
    "livez",
    "readyz",
    "ping",
    "status",
    "up",
];

/// Where the app serves a route, as far as its source shows.
pub(super) enum Served {
    At(String),
    /// Under a prefix the analysis cannot read.
    Unknown,
}

/// What the app's sources say about prefixes, read once per app.
pub(super) struct NodeRoutes<'s> {
    /// Each router file traced from a mount: the prefix it is mounted under
    /// (`None` when that is no literal) and the file that mounts it.
    mounted: HashMap<&'s str, (Option<String>, &'s str)>,
    /// Some mount names a prefix other than `/`: a router no mount could be
    /// traced to may be under it.
    prefixed_mounts: bool,
    /// Fastify plugins registered with a `prefix`.
    fastify_prefixes: bool,
}

impl<'s> NodeRoutes<'s> {
    pub(super) fn read(view: &AppView<'s>) -> Self {
        let mut routes = Self {
            mounted: HashMap::new(),
            prefixed_mounts: false,
            fastify_prefixes: false,
        };
        for file in view.sources(SOURCES) {
            let text = file.content.as_deref().unwrap_or_default();
            routes.fastify_prefixes |= re!(r"\.register\([^;]*\bprefix\s*:").is_match(text);
            for mount in mounts(text) {
                routes.prefixed_mounts |= mount
                    .prefix
                    .as_deref()
                    .is_none_or(|p| !p.trim_matches('/').is_empty());
                if let Some(target) = resolve(view, file, text, mount.target) {
                    routes
                        .mounted
                        .entry(target)
                        .or_insert((mount.prefix, file.path.as_str()));
                }
            }
        }
        routes
    }

    /// Where a route found at `offset` of `file`, at `path`, is served.
    pub(super) fn served(&self, file: &'s FileEntry, offset: usize, path: &str) -> Served {
        let text = file.content.as_deref().unwrap_or_default();
        // A Fastify plugin's routes, wherever the plugin is registered.
        if self.fastify_prefixes && !re!(r"\b(?:fastify|Fastify)\s*\(").is_match(text) {
            return Served::Unknown;
        }
        let Some(receiver) = receiver(text, offset) else {
            return Served::At(path.to_owned());
        };
        if !is_router(text, receiver) {
            return Served::At(path.to_owned());
        }
        let own = own_prefix(text).unwrap_or_default();
        match self.prefix_of(&file.path, 0) {
            Some(Some(outer)) => Served::At(join(&join(&outer, &own), path)),
            Some(None) => Served::Unknown,
            None if self.prefixed_mounts => Served::Unknown,
            None => Served::At(join(&own, path)),
        }
    }

    /// The prefix the mounts above `file` add: `None` when no mount was
    /// traced to it, `Some(None)` when one was, under a prefix that is no
    /// literal.
    fn prefix_of(&self, file: &str, depth: usize) -> Option<Option<String>> {
        let (prefix, mounting) = self.mounted.get(file)?;
        let Some(prefix) = prefix else {
            return Some(None);
        };
        if *mounting == file {
            return Some(Some(prefix.clone()));
        }
        if depth > 4 {
            return Some(None);
        }
        // The mounting file may itself be a router mounted elsewhere.
        match self.prefix_of(mounting, depth + 1) {
            Some(Some(outer)) => Some(Some(join(&outer, prefix))),
            Some(None) => Some(None),
            None => Some(Some(prefix.clone())),
        }
    }
}

/// The object a route at `offset` is declared on: `router` in
/// `router.get('/health', …)`, also when the call continues a chain begun
/// on an earlier line (`router\n  .get('/ping', …)`).
fn receiver(text: &str, offset: usize) -> Option<&str> {
    let line = line_text(text, offset);
    if let Some(name) = re!(r"\b(\w+)\s*\.\s*(?:get|all|head|route|use|options)\s*\(")
        .captures(line)
        .and_then(|c| c.get(1))
    {
        return Some(name.as_str());
    }
    if !re!(r"^\s*\.\s*(?:get|all|head|route|options)\s*\(").is_match(line) {
        return None;
    }
    let before = &text[..offset.min(text.len())];
    before
        .lines()
        .rev()
        .skip(1)
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('.') && !l.starts_with("//"))
        .and_then(|l| re!(r"^(\w+)\b").captures(l)?.get(1))
        .map(|m| m.as_str())
}

struct Mount<'t> {
    /// `None` for a prefix that is no literal (`${API}/users`).
    prefix: Option<String>,
    target: &'t str,
}

/// `x.use('/api', auth, router)`, `x.use(router)`, `x.use('/api', require('./routes'))`:
/// the prefix and the last argument.
fn mounts(text: &str) -> Vec<Mount<'_>> {
    let mut found = Vec::new();
    for caps in re!(r"\.use\(\s*").captures_iter(text) {
        let whole = caps.get(0).expect("match");
        if in_comment(text, whole.start()) {
            continue;
        }
        let args = super::scan::call_args(text, whole.end());
        let parts = super::scan::split_args(args);
        let Some(target) = parts.last().map(|p| p.trim()) else {
            continue;
        };
        let prefix = match parts.first().map(|p| p.trim()) {
            Some(first) if parts.len() > 1 && is_quoted(first) => {
                let inner = &first[1..first.len() - 1];
                (!inner.contains("${")).then(|| inner.to_owned())
            }
            // A middleware before the router: `app.use(cors(), router)`.
            Some(first) if parts.len() > 1 && first.ends_with(')') => Some(String::new()),
            // A constant this file declares: `app.use(API_PREFIX, router)`.
            Some(first) if parts.len() > 1 => string_constant(text, first),
            _ => Some(String::new()),
        };
        found.push(Mount { prefix, target });
    }
    found
}

/// The value of `const NAME = '…'` in `text`.
fn string_constant(text: &str, name: &str) -> Option<String> {
    if !re!(r"^[A-Za-z_$][\w$]*$").is_match(name) {
        return None;
    }
    let declared = format!(
        r#"(?:const|let|var)\s+{}\s*=\s*['"`]([^'"`$]*)['"`]"#,
        regex::escape(name)
    );
    regex::Regex::new(&declared)
        .ok()?
        .captures(text)?
        .get(1)
        .map(|m| m.as_str().to_owned())
}

fn is_quoted(arg: &str) -> bool {
    arg.len() >= 2
        && ["'", "\"", "`"]
            .iter()
            .any(|q| arg.starts_with(q) && arg.ends_with(q))
}

/// The repository path of the file a mount's target comes from: a
/// `require('./x')`, or a name imported or required from a relative path,
/// or a router the same file declares.
fn resolve<'s>(
    view: &AppView<'s>,
    file: &'s FileEntry,
    text: &str,
    target: &str,
) -> Option<&'s str> {
    if let Some(spec) = re!(r#"^require\(\s*['"](\.[^'"]+)['"]\s*\)"#)
        .captures(target)
        .and_then(|c| c.get(1))
    {
        return module_file(view, &file.path, spec.as_str());
    }
    // Koa mounts a router's middleware: `app.use(router.routes())`.
    let target = target.strip_suffix(".routes()").unwrap_or(target);
    let name = re!(r"^[A-Za-z_$][\w$]*$").find(target)?.as_str();
    if is_router(text, name) {
        return Some(file.path.as_str());
    }
    let name = regex::escape(name);
    let default_import =
        format!(r#"import\s+{name}\s*(?:,\s*\{{[^}}]*\}}\s*)?from\s*['"](\.[^'"]+)['"]"#);
    let named_import =
        format!(r#"import\s*\{{[^}}]*\b{name}\b[^}}]*\}}\s*from\s*['"](\.[^'"]+)['"]"#);
    let required = format!(
        r#"(?:const|let|var)\s+(?:{name}|\{{[^}}]*\b{name}\b[^}}]*\}})\s*=\s*require\(\s*['"](\.[^'"]+)['"]\s*\)"#
    );
    [default_import, named_import, required]
        .iter()
        .filter_map(|pattern| regex::Regex::new(pattern).ok())
        .find_map(|re| re.captures(text)?.get(1).map(|m| m.as_str().to_owned()))
        .and_then(|spec| module_file(view, &file.path, &spec))
}

/// The source file a relative module specifier names, as Node and
/// TypeScript resolve it.
fn module_file<'s>(view: &AppView<'s>, from: &str, spec: &str) -> Option<&'s str> {
    let base = super::view::join_rel(parent(from), spec);
    // TypeScript's ESM imports name the `.js` the `.ts` compiles to.
    let stem = [".js", ".mjs", ".cjs"]
        .iter()
        .find_map(|ext| base.strip_suffix(ext))
        .unwrap_or(&base);
    let candidates = [
        base.clone(),
        format!("{stem}.ts"),
        format!("{stem}.js"),
        format!("{stem}.mjs"),
        format!("{stem}.cjs"),
        format!("{stem}/index.ts"),
        format!("{stem}/index.js"),
    ];
    candidates
        .iter()
        .find_map(|c| view.snapshot().get(c))
        .map(|f| f.path.as_str())
}

/// Whether `name` is an Express or Koa router in `text`.
fn is_router(text: &str, name: &str) -> bool {
    let name = regex::escape(name);
    let declared = format!(
        r#"\b{name}\s*=\s*(?:new\s+)?(?:express\s*\.\s*|require\(\s*['"]express['"]\s*\)\s*\.\s*)?(?:Koa)?Router\s*\("#
    );
    regex::Regex::new(&declared).is_ok_and(|re| re.is_match(text))
}

/// A prefix the router declares itself: Koa's `new Router({ prefix: '/api' })`,
/// `router.prefix('/api')`.
fn own_prefix(text: &str) -> Option<String> {
    re!(r#"(?:Router\(\s*\{[^}]*\bprefix\s*:\s*|\.prefix\(\s*)['"`](/[^'"`$]*)['"`]"#)
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
}

/// `/api` + `/health` → `/api/health`; empty parts add nothing.
fn join(prefix: &str, path: &str) -> String {
    let joined = [prefix, path]
        .iter()
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    format!("/{joined}")
}

/// Health routes of Nest controllers, at the path the app serves them:
/// global prefix, controller path and route joined. Controllers whose path
/// or version the analysis cannot read give none.
pub(super) fn nest_health_routes<'s>(view: &AppView<'s>) -> Vec<(String, Spot)> {
    let global = nest_global_prefix(view);
    let mut found = Vec::new();
    for file in view.sources(SOURCES) {
        let text = file.content.as_deref().unwrap_or_default();
        let Some(controller) = re!(r"@Controller\(").find(text) else {
            continue;
        };
        let Some(controller_path) = decorator_path(text, controller.end()) else {
            continue;
        };
        for route in re!(r"@(?:Get|All|Head)\(").find_iter(text) {
            if in_comment(text, route.start()) {
                continue;
            }
            let Some(route_path) = decorator_path(text, route.end()) else {
                continue;
            };
            let local = join(&controller_path, &route_path);
            // A health route, or a route of a health controller
            // (`@Controller('health')`, `@Get('check')`).
            let named = |path: &str| {
                let last = path
                    .trim_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or_default();
                HEALTH_NAMES.contains(&last)
            };
            if !(named(&local) || named(&controller_path)) || local.contains(':') {
                continue;
            }
            let served = match &global {
                GlobalPrefix::None => local,
                GlobalPrefix::Unknown => continue,
                GlobalPrefix::Literal { prefix, excluded } => {
                    if excluded
                        .iter()
                        .any(|e| e.trim_matches('/') == local.trim_matches('/'))
                    {
                        local
                    } else {
                        join(prefix, &local)
                    }
                }
            };
            let line = line_at(text, route.start());
            found.push((
                served,
                Spot::at(&file.path, line, quote(line_text(text, route.start()))),
            ));
        }
    }
    found
}

/// Whether `file` holds a Nest controller, whose routes only
/// [`nest_health_routes`] places.
pub(super) fn is_nest_controller(file: &FileEntry) -> bool {
    file.content
        .as_deref()
        .is_some_and(|text| text.contains("@Controller("))
}

/// The path a `@Controller(…)` or `@Get(…)` names: `''` when it names none;
/// `None` when it is not a literal, or the controller is versioned.
fn decorator_path(text: &str, open: usize) -> Option<String> {
    let args = super::scan::call_args(text, open).trim();
    if args.is_empty() {
        return Some(String::new());
    }
    if is_quoted(args) && !args.contains("${") {
        return Some(args[1..args.len() - 1].to_owned());
    }
    if args.starts_with('{') && !args.contains("version") {
        return re!(r#"\bpath\s*:\s*['"]([^'"]*)['"]"#)
            .captures(args)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_owned())
            .or_else(|| (!args.contains("path")).then(String::new));
    }
    None
}

enum GlobalPrefix {
    None,
    Unknown,
    Literal {
        prefix: String,
        excluded: Vec<String>,
    },
}

/// `app.setGlobalPrefix('api', { exclude: ['health'] })`, or with a
/// constant the same file declares (Nx's `const globalPrefix = 'api'`).
/// Versioning by default, or a `RouterModule`, puts routes where the
/// analysis does not follow.
fn nest_global_prefix(view: &AppView<'_>) -> GlobalPrefix {
    for file in view.sources(SOURCES) {
        let text = file.content.as_deref().unwrap_or_default();
        if text.contains("RouterModule.register")
            || (text.contains("enableVersioning(") && text.contains("defaultVersion"))
        {
            return GlobalPrefix::Unknown;
        }
        let Some(call) = re!(r"\.setGlobalPrefix\(").find(text) else {
            continue;
        };
        let args = super::scan::call_args(text, call.end());
        let parts = super::scan::split_args(args);
        let Some(first) = parts.first().map(|p| p.trim()) else {
            continue;
        };
        let prefix = if is_quoted(first) && !first.contains("${") {
            first[1..first.len() - 1].to_owned()
        } else if let Some(prefix) = string_constant(text, first) {
            prefix
        } else {
            return GlobalPrefix::Unknown;
        };
        let excluded = parts
            .get(1)
            .map(|options| {
                re!(r#"['"]([^'"]*)['"]"#)
                    .captures_iter(options)
                    .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        return GlobalPrefix::Literal { prefix, excluded };
    }
    GlobalPrefix::None
}
