//! deployflow's HTTP API on top of [`engine::Engine`]: submit runs of a workflow, read a
//! job with its step timeline, outputs and logs, list jobs, cancel and retry them,
//! follow one live over Server-Sent Events, and the OpenAPI document of all of it.
//!
//! Every error is an RFC 9457 problem document (`error.rs`); request bodies and query
//! strings are read by our own extractors (`extract.rs`) so that even a malformed
//! request gets one. The API reads no environment: `deployflow serve` configures it.

mod approval;
pub mod auth;
mod dashboard;
mod deploy;
mod error;
mod events;
mod extract;
pub mod metrics;
mod problem_type;
mod routes;
mod session;
mod stream_limit;
mod views;

use std::sync::LazyLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use engine::Engine;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, Problem, ProblemType};

/// Largest request body accepted (64 KiB); larger ones are answered 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the API needs besides the engine; `deployflow serve` builds it from its config.
#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    /// Which repository URLs `POST /request` accepts.
    pub url_policy: pipeline::UrlPolicy,
    /// The process's recorder, installed by the binary ([`metrics::install_recorder`]);
    /// without one `/metrics` serves only the database-wide gauges.
    pub metrics: Option<metrics::PrometheusHandle>,
    /// Tokens, roles and the hosts requests may name.
    pub auth: auth::AuthConfig,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub engine: Engine,
    pub config: std::sync::Arc<ApiConfig>,
    /// Cancelled at shutdown: ends long-lived event streams so the server can drain.
    pub shutdown: CancellationToken,
    /// Per-token submission rate ([`auth::AuthConfig::submissions_per_minute`]).
    pub submissions: Option<std::sync::Arc<auth::SubmissionLimiter>>,
    /// Event streams open per token ([`auth::AuthConfig::max_event_streams`]).
    pub streams: stream_limit::OpenStreams,
}

/// What the OpenAPI 3.1 document says besides its operations, which come from the
/// router itself ([`api_routes`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "deployflow",
        description = "Durable workflow jobs: submit, inspect, list, cancel, retry, follow live. \
                       Every error is an RFC 9457 application/problem+json document."
    ),
    components(schemas(Problem, views::StatusEvent, views::LogView)),
    tags(
        (name = "jobs", description = "Jobs: runs of a workflow"),
        (name = "workflows", description = "The workflows this server runs"),
        (name = "health", description = "Liveness and readiness probes"),
        (name = "session", description = "The dashboard's sign-in"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// Every API operation, each registered with its handler's OpenAPI annotation: a
/// route and its documentation are one entry, so neither can be added without the other.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(deploy::submit_request))
        .routes(routes!(deploy::list_artifacts))
        .routes(routes!(deploy::get_artifact))
        .routes(routes!(routes::list_workflows))
        .routes(routes!(routes::submit_run))
        .routes(routes!(routes::get_job))
        .routes(routes!(routes::job_logs))
        .routes(routes!(events::job_events))
        .routes(routes!(routes::retry_job))
        .routes(routes!(routes::cancel_job))
        .routes(routes!(approval::approve))
        .routes(routes!(approval::reject))
        .routes(routes!(approval::destroy))
        .routes(routes!(routes::list_jobs))
        .routes(routes!(
            session::current,
            session::sign_in,
            session::sign_out
        ))
        .routes(routes!(routes::healthz))
        .routes(routes!(routes::readyz))
        .routes(routes!(metrics::get_metrics))
        .routes(routes!(openapi_json))
}

/// The API's OpenAPI 3.1 document, built from the same routes the server serves.
pub fn openapi() -> utoipa::openapi::OpenApi {
    static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| {
        let (_, mut document) = api_routes().split_for_parts();
        document.paths.paths = std::mem::take(&mut document.paths.paths)
            .into_iter()
            .map(|(path, item)| (openapi_path(&path), item))
            .collect();
        Security.modify(&mut document);
        document
    });
    DOCUMENT.clone()
}

/// The router's path in OpenAPI's template syntax: a catch-all `{*path}` is `{path}`.
fn openapi_path(route: &str) -> String {
    route.replace("{*", "{")
}

/// Declares the bearer-token scheme every operation needs unless it says
/// otherwise (`security(())`), and the 401/403 answers those operations give.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::Schema;
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, SecurityRequirement};
        let components = openapi.components.get_or_insert_with(Default::default);
        if let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem")
            && let Some(RefOr::T(Schema::Object(kind))) = problem.properties.get_mut("type")
        {
            kind.enum_values = Some(
                ProblemType::ALL
                    .iter()
                    .map(|kind| format!("/problems/{}", kind.code()).into())
                    .collect(),
            );
        }
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            if let Some(submit) = item.post.as_mut()
                && ["/request", "/workflows/{name}/runs", "/job/{id}/retry"]
                    .contains(&path.as_str())
            {
                submit.responses.responses.entry("429".into()).or_insert_with(|| {
                    problem("The token's submission rate or its number of active jobs is at its limit (Retry-After says when to try again)").into()
                });
            }
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                if operation.security.is_some() {
                    continue;
                }
                let responses = &mut operation.responses.responses;
                responses.entry("401".into()).or_insert_with(|| {
                    problem("No token, or an unknown, revoked or expired one").into()
                });
                responses.entry("403".into()).or_insert_with(|| {
                    problem("The token's role does not allow this, a cookie request without its CSRF token, or a cross-site Origin").into()
                });
            }
        }
    }
}

/// This API's OpenAPI document.
#[utoipa::path(
    get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")),
    security(())
)]
async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(openapi())
}

/// The API's routes over `engine`; event streams end only when their job finishes.
pub fn router(engine: Engine, config: ApiConfig) -> Router {
    app(AppState {
        submissions: auth::submission_limiter(&config.auth).map(std::sync::Arc::new),
        streams: stream_limit::OpenStreams::default(),
        engine,
        config: std::sync::Arc::new(config),
        shutdown: CancellationToken::new(),
    })
}

fn app(state: AppState) -> Router {
    let (api, _) = api_routes().split_for_parts();
    api
        // The dashboard's page and assets are not API operations.
        .route("/", get(dashboard::index))
        .route("/assets/{file}", get(dashboard::asset))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_request))
        .layer(middleware::from_fn(metrics::record_request))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` is cancelled, then drains: open
/// event streams end and in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    engine: Engine,
    config: ApiConfig,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = app(AppState {
        submissions: auth::submission_limiter(&config.auth).map(std::sync::Arc::new),
        streams: stream_limit::OpenStreams::default(),
        engine,
        config: std::sync::Arc::new(config),
        shutdown: shutdown.clone(),
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// One log line per request (probes at debug level, so they do not drown the rest).
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    // A job submitted in this span links its trace to the request's.
    let span = tracing::info_span!("http.request", http.method = %method, http.path = %path);
    let response = next.run(request).instrument(span).await;
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_millis() as u64;
    if path == "/healthz" || path == "/readyz" {
        tracing::debug!(http.method = %method, http.path = %path, http.status = status, duration_ms, "request");
    } else {
        tracing::info!(http.method = %method, http.path = %path, http.status = status, duration_ms, "request");
    }
    response
}
