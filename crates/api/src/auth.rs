//! Who may do what. Every route but the probes, this document and the
//! dashboard's static page needs `Authorization: Bearer <token>`; the token's
//! role decides what it may do ([`required_role`]), and a submitter sees only
//! the jobs it submitted. One middleware decides all of it, before any
//! handler runs, so a refused request has no side effect.
//!
//! Requests whose `Host` or `Origin` is not an address this server answers to
//! are refused too (DNS rebinding, cross-site requests).

use std::fmt;
use std::str::FromStr;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use engine::store::JobAction;

use crate::error::ApiError;
use crate::problem_type::ProblemType;
use crate::{AppState, session};

/// What a token may do; each role may also do everything of the roles before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads jobs, logs, artifacts without secrets, metrics.
    Viewer,
    /// Also submits jobs, and retries and cancels its own.
    Submitter,
    /// Also approves and rejects plans.
    Approver,
    /// Also destroys deployments and reads artifacts that hold secrets.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Submitter, Role::Approver, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Submitter => "submitter",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}: one of viewer, submitter, approver, admin"))
    }
}

/// How the API authenticates.
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    /// Off only for a single user on loopback: every request acts as a local
    /// admin. `deployflow serve` refuses it on any other address.
    pub disabled: bool,
    /// Submitters see every job, not only their own.
    pub submitters_see_all: bool,
    /// `Host` values (`name` or `name:port`) requests may carry; empty: any.
    pub allowed_hosts: Vec<String>,
    /// Submissions (and retries) one token may make per minute; 0: no limit.
    pub submissions_per_minute: u32,
    /// Queued, running and waiting jobs one token may have at once; 0: no limit.
    pub max_active_jobs: u32,
    /// Event streams one token may have open at once; 0: no limit.
    pub max_event_streams: u32,
}

/// Per-token submission rate, shared by the server's requests.
pub(crate) type SubmissionLimiter = governor::DefaultKeyedRateLimiter<String>;

pub(crate) fn submission_limiter(config: &AuthConfig) -> Option<SubmissionLimiter> {
    let per_minute = std::num::NonZeroU32::new(config.submissions_per_minute)?;
    Some(governor::RateLimiter::keyed(governor::Quota::per_minute(
        per_minute,
    )))
}

/// Routes that create or re-queue work: the rate limit and the cap apply.
fn submits(route: &str) -> bool {
    matches!(
        route,
        "/request" | "/workflows/{name}/runs" | "/job/{id}/retry"
    )
}

/// The token a request was made with.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

impl Caller {
    /// Whether this caller sees jobs submitted by others.
    fn sees_all(&self, config: &AuthConfig) -> bool {
        self.role != Role::Submitter || config.submitters_see_all
    }

    /// The submitter a job listing is narrowed to, if any.
    pub(crate) fn only_own(&self, config: &AuthConfig) -> Option<String> {
        (!self.sees_all(config)).then(|| self.name.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| unauthenticated("this route needs a token"))
    }
}

/// The least role a route needs; `None` for public ones.
pub fn required_role(method: &Method, route: &str) -> Option<Role> {
    match route {
        "/healthz" | "/readyz" | "/openapi.json" | "/" | "/assets/{file}" => None,
        "/session" if method != Method::GET => None,
        "/job/{id}/approve" | "/job/{id}/reject" => Some(Role::Approver),
        "/job/{id}/destroy" => Some(Role::Admin),
        _ if method == Method::GET || method == Method::HEAD => Some(Role::Viewer),
        _ => Some(Role::Submitter),
    }
}

/// Actions recorded on the job's log with who took them.
fn audited(route: &str) -> Option<&'static str> {
    Some(match route {
        "/job/{id}/approve" => "approved",
        "/job/{id}/reject" => "rejected",
        "/job/{id}/cancel" => "cancel requested",
        "/job/{id}/retry" => "retried",
        "/job/{id}/destroy" => "destroy requested",
        _ => return None,
    })
}

pub(crate) async fn authorize(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let config = &state.config.auth;
    if let Err(refusal) = check_origin(request.headers(), config) {
        return refusal.into_response();
    }
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let Some(route) = route else {
        // No route matched: the fallback answers 404/405 without touching data.
        return next.run(request).await;
    };
    let Some(needed) = required_role(request.method(), &route) else {
        return next.run(request).await;
    };
    let caller = if config.disabled {
        Caller {
            name: "local".to_owned(),
            role: Role::Admin,
        }
    } else {
        match caller_of(&state, request.method(), request.headers()).await {
            Ok(caller) => caller,
            Err(refusal) => return refusal.into_response(),
        }
    };
    if caller.role < needed {
        return ApiError::new(
            ProblemType::Forbidden,
            format!(
                "token {:?} has role {}; {} {route} needs {needed} or above",
                caller.name,
                caller.role,
                request.method()
            ),
        )
        .into_response();
    }
    let job = job_of(request.uri().path());
    if let Some(id) = job
        && !caller.sees_all(config)
    {
        match state.engine.job(id).await {
            Ok(job) if job.created_by.as_deref() == Some(caller.name.as_str()) => {}
            // Another's job is answered as if it did not exist.
            Ok(_) | Err(engine::EngineError::JobNotFound(_)) => {
                return ApiError::new(ProblemType::JobNotFound, format!("no job with id {id}"))
                    .into_response();
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    if submits(&route)
        && !config.disabled
        && let Err(refusal) = within_limits(&state, &caller).await
    {
        return refusal.into_response();
    }
    let action = audited(&route);
    request.extensions_mut().insert(caller.clone());
    let response = next.run(request).await;
    if let (Some(action), Some(id)) = (action, job)
        && response.status().is_success()
    {
        let record = JobAction {
            action: action.to_owned(),
            actor: caller.name.clone(),
            role: caller.role.to_string(),
            at: chrono::Utc::now(),
        };
        if let Err(e) = state.engine.record_action(id, &record).await {
            tracing::warn!(job.id = %id, error = %e, "could not record who acted on the job");
        }
        tracing::info!(job.id = %id, actor = %caller.name, role = %caller.role, action, "job action");
    }
    response
}

/// The token's submission rate and active jobs, against the limits.
async fn within_limits(state: &AppState, caller: &Caller) -> Result<(), ApiError> {
    let config = &state.config.auth;
    // The cap first: a refused submission does not use up the rate.
    if config.max_active_jobs > 0 {
        let filter = engine::store::JobFilter {
            statuses: vec![
                engine::JobStatus::Queued,
                engine::JobStatus::Running,
                engine::JobStatus::Waiting,
            ],
            created_by: Some(caller.name.clone()),
            ..Default::default()
        };
        let active = state.engine.count(&filter).await.map_err(ApiError::from)?;
        if active >= i64::from(config.max_active_jobs) {
            return Err(ApiError::new(
                ProblemType::TooManyActiveJobs,
                format!(
                    "token {:?} has {active} queued, running or waiting jobs, the most it may have; wait for some to finish or cancel them",
                    caller.name
                ),
            ));
        }
    }
    if let Some(limiter) = &state.submissions
        && let Err(not_until) = limiter.check_key(&caller.name)
    {
        let wait = not_until
            .wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
            .as_secs()
            .max(1);
        return Err(ApiError::new(
            ProblemType::RateLimited,
            format!(
                "token {:?} may submit {} jobs a minute; try again in {wait} s",
                caller.name, config.submissions_per_minute
            ),
        )
        .with_retry_after(wait));
    }
    Ok(())
}

/// The live token the request carries: in `Authorization: Bearer`, or in
/// the dashboard's session cookie (then a state-changing request must also
/// carry the session's CSRF token).
async fn caller_of(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    let secret = match headers.get(header::AUTHORIZATION) {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, secret) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| secret.trim())
            })
            .ok_or_else(|| unauthenticated("the Authorization header must be `Bearer <token>`"))?,
        None => {
            let secret = session::cookie_secret(headers).ok_or_else(|| {
                unauthenticated(
                    "send `Authorization: Bearer <token>` (`deployflow token create` makes one; the CLI sends DEPLOYFLOW_TOKEN), or sign in to the dashboard",
                )
            })?;
            let safe = *method == Method::GET || *method == Method::HEAD;
            let csrf = headers
                .get(session::CSRF_HEADER)
                .and_then(|v| v.to_str().ok());
            if !safe && csrf != Some(session::csrf_token(secret).as_str()) {
                return Err(ApiError::new(
                    ProblemType::Csrf,
                    "a request signed in by cookie must carry the session's CSRF token in X-CSRF-Token (GET /session tells it)",
                ));
            }
            secret
        }
    };
    let token = state
        .engine
        .authenticate(secret)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| unauthenticated("the token is unknown, revoked or expired"))?;
    let role = token
        .role
        .parse::<Role>()
        .map_err(|e| ApiError::internal(&format!("token {:?} has a bad role: {e}", token.name)))?;
    Ok(Caller {
        name: token.name,
        role,
    })
}

fn unauthenticated(detail: &str) -> ApiError {
    ApiError::new(ProblemType::Unauthenticated, detail).with_challenge("Bearer")
}

/// Refuses a `Host` this server does not answer to, and a cross-site
/// `Origin` (only a browser sends one; its host must be an allowed one too).
fn check_origin(headers: &HeaderMap, config: &AuthConfig) -> Result<(), ApiError> {
    if config.allowed_hosts.is_empty() {
        return Ok(());
    }
    let allowed = |host: &str| {
        let host = host.to_ascii_lowercase();
        config
            .allowed_hosts
            .iter()
            .any(|a| *a == host || host.rsplit_once(':').is_some_and(|(name, _)| a == name))
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !allowed(host) {
        return Err(ApiError::new(
            ProblemType::UnknownHost,
            format!(
                "this server answers to {}, not to Host {host:?}",
                config.allowed_hosts.join(", ")
            ),
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let origin_host = origin
            .split_once("://")
            .map_or(origin, |(_, rest)| rest)
            .trim_end_matches('/');
        if !allowed(origin_host) {
            return Err(ApiError::new(
                ProblemType::CrossOrigin,
                format!("requests from pages of {origin} are refused"),
            ));
        }
    }
    Ok(())
}

/// The job id of a `/job/{id}…` path.
fn job_of(path: &str) -> Option<uuid::Uuid> {
    let rest = path.strip_prefix("/job/")?;
    let id = rest.split('/').next()?;
    uuid::Uuid::parse_str(id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, StatusCode};

    #[test]
    fn roles_parse_and_order() {
        assert_eq!("approver".parse::<Role>(), Ok(Role::Approver));
        assert!("root".parse::<Role>().is_err());
        assert!(Role::Viewer < Role::Submitter && Role::Approver < Role::Admin);
    }

    #[test]
    fn hosts_and_origins_outside_the_allowed_ones_are_refused() {
        let config = AuthConfig {
            allowed_hosts: vec!["127.0.0.1".into(), "localhost".into()],
            ..AuthConfig::default()
        };
        let headers = |pairs: &[(header::HeaderName, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
            }
            map
        };
        assert!(check_origin(&headers(&[(header::HOST, "127.0.0.1:8080")]), &config).is_ok());
        assert!(check_origin(&headers(&[(header::HOST, "localhost")]), &config).is_ok());
        let rebound = check_origin(&headers(&[(header::HOST, "evil.example:8080")]), &config);
        assert_eq!(
            rebound.unwrap_err().status(),
            StatusCode::MISDIRECTED_REQUEST
        );
        let cross = check_origin(
            &headers(&[
                (header::HOST, "127.0.0.1:8080"),
                (header::ORIGIN, "https://evil.example"),
            ]),
            &config,
        );
        assert_eq!(cross.unwrap_err().status(), StatusCode::FORBIDDEN);
        assert!(
            check_origin(
                &headers(&[
                    (header::HOST, "127.0.0.1:8080"),
                    (header::ORIGIN, "http://127.0.0.1:8080"),
                ]),
                &config,
            )
            .is_ok()
        );
    }

    #[test]
    fn job_paths_name_their_job() {
        let id = uuid::Uuid::now_v7();
        assert_eq!(job_of(&format!("/job/{id}/logs")), Some(id));
        assert_eq!(job_of(&format!("/job/{id}")), Some(id));
        assert_eq!(job_of("/job/nope"), None);
        assert_eq!(job_of("/list"), None);
    }
}
