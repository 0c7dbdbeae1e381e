//! A health-check path, when the app's routes show one.

use super::routes_node::{self, NodeRoutes, Served};
use super::scan::{Found, Spot, hits};
use super::view::AppView;

/// Paths load balancers are pointed at, best first.
const HEALTH_PATHS: &[&str] = &[
    "/health",
    "/healthz",
    "/healthcheck",
    "/health-check",
    "/api/health",
    "/api/healthz",
    "/livez",
    "/readyz",
    "/ping",
    "/status",
    "/up",
];

const ROUTE_FILES: &[&str] = &[
    ".py", ".js", ".mjs", ".cjs", ".ts", ".go", ".rs", ".java", ".kt", ".rb", ".php", ".cs",
];

pub(crate) fn health_path(view: &AppView<'_>) -> Option<Found<String>> {
    // `"/health"` in any route definition; `"GET /healthz"` (Go 1.22 mux).
    let slashed = re!(
        r#"["'`](?:GET\s+)?(/(?:api/)?(?:v\d+/)?(?:health|healthz|healthcheck|health-check|livez|readyz|ping|status|up))/?["'`]"#
    );
    // Route names written without the slash: Nest's `@Get('health')`,
    // Rails' `get "up" => ...`.
    let bare = re!(
        r#"(?:@Get\(\s*|(?m:^)\s*get\s+)["']((?:api/)?(?:health|healthz|healthcheck|livez|readyz|ping|status|up))["']"#
    );
    // FastAPI routers mounted under a prefix (`include_router(api_router,
    // prefix=settings.API_V1_STR)`): a path on a router's decorator is not
    // the path the app serves it at, and a wrong one fails the health
    // check with 404 where `/` would have shown the app up.
    let prefixed_routers = view.sources(&[".py"]).any(|file| {
        file.content
            .as_deref()
            .is_some_and(|text| re!(r"\binclude_router\([^)]*\bprefix\s*=").is_match(text))
    });
    let on_a_router = re!(r#"@\w+\.(?:get|api_route|head)\(\s*["']"#);
    let node_routes = NodeRoutes::read(view);
    let mut candidates: Vec<(String, Spot)> = routes_node::nest_health_routes(view);
    for file in view.sources(ROUTE_FILES) {
        // Settings name paths too (`PING_ENDPOINT = SITE_ROOT + "/ping/"`).
        let name = super::view::file_name(&file.path);
        if name.starts_with("settings") || name.starts_with("config") {
            continue;
        }
        let javascript = routes_node::SOURCES
            .iter()
            .any(|ext| file.path.ends_with(ext));
        if javascript && routes_node::is_nest_controller(file) {
            continue;
        }
        let found =
            hits(file, slashed)
                .filter_map(|hit| Some((hit.group(1)?.to_owned(), hit.start(), hit.spot())))
                .chain(hits(file, bare).filter_map(|hit| {
                    Some((format!("/{}", hit.group(1)?), hit.start(), hit.spot()))
                }));
        let text = file.content.as_deref().unwrap_or_default();
        for (path, offset, at) in found {
            // `include_router(r, prefix="/v1/health")`, a blueprint's
            // `url_prefix`: where a router's routes start, not a route.
            let line_start = text[..offset.min(text.len())]
                .rfind('\n')
                .map_or(0, |n| n + 1);
            if re!(r"prefix\s*=\s*$").is_match(&text[line_start..offset.min(text.len())]) {
                continue;
            }
            let path = if javascript {
                match node_routes.served(file, offset, &path) {
                    Served::At(path) => path,
                    Served::Unknown => continue,
                }
            } else {
                path
            };
            if prefixed_routers && file.path.ends_with(".py") {
                let line = at
                    .line
                    .and_then(|n| text.lines().nth(n.saturating_sub(1) as usize))
                    .unwrap_or_default();
                if on_a_router.is_match(line) && !line.contains("@app.") {
                    continue;
                }
            }
            candidates.push((path, at));
        }
    }
    let rank = |path: &str| {
        HEALTH_PATHS
            .iter()
            .position(|p| *p == path)
            .unwrap_or(HEALTH_PATHS.len())
    };
    // The best rank; the first seen among equals.
    let mut best: Option<(usize, String, Spot)> = None;
    for (path, at) in candidates {
        let r = rank(&path);
        if best.as_ref().is_none_or(|(b, _, _)| r < *b) {
            best = Some((r, path, at));
        }
    }
    best.map(|(_, path, at)| Found::new(path, at))
}
