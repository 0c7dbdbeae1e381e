//! A health-check path, when the app's routes show one.

use super::scan::{Found, hits};
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
        r#"["'`](?:GET\s+)?(/(?:api/)?(?:health|healthz|healthcheck|health-check|livez|readyz|ping|status|up))/?["'`]"#
    );
    // Route names written without the slash: Nest's `@Get('health')`,
    // Rails' `get "up" => ...`.
    let bare = re!(
        r#"(?:@Get\(\s*|(?m:^)\s*get\s+)["']((?:api/)?(?:health|healthz|healthcheck|livez|readyz|ping|status|up))["']"#
    );
    let mut best: Option<(usize, Found<String>)> = None;
    for file in view.sources(ROUTE_FILES) {
        let found = hits(file, slashed)
            .filter_map(|hit| Some((hit.group(1)?.to_owned(), hit.spot())))
            .chain(
                hits(file, bare)
                    .filter_map(|hit| Some((format!("/{}", hit.group(1)?), hit.spot()))),
            );
        for (path, at) in found {
            let rank = HEALTH_PATHS
                .iter()
                .position(|p| *p == path)
                .unwrap_or(HEALTH_PATHS.len());
            if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                best = Some((rank, Found::new(path, at)));
            }
        }
    }
    best.map(|(_, found)| found)
}
