//! The dashboard's sign-in: a token exchanged for an HttpOnly, SameSite=Strict
//! session cookie (so the page's scripts never hold it, and event streams,
//! which cannot send headers, are authenticated too). State-changing requests
//! made with the cookie must also carry the session's CSRF token in
//! `X-CSRF-Token`, which the page reads from `GET /session`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::JsonBody;
use crate::problem_type::ProblemType;

pub(crate) const COOKIE: &str = "deployflow_session";
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// Body of `POST /session`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// An API token, as `deployflow token create` printed it.
    pub token: String,
}

/// The signed-in token, and the CSRF token its state-changing requests carry.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub name: String,
    pub role: String,
    pub csrf_token: String,
}

/// The CSRF token of a session: bound to its secret, useless without the cookie.
pub(crate) fn csrf_token(secret: &str) -> String {
    hex::encode(Sha256::digest(
        format!("deployflow-csrf:{secret}").as_bytes(),
    ))
}

/// The session cookie's secret, if the request carries one.
pub(crate) fn cookie_secret(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Sign in: exchanges a token for a session cookie.
#[utoipa::path(
    post, path = "/session", tag = "session",
    request_body = SignIn,
    responses(
        (status = 200, description = "Signed in; the cookie is set", body = SessionView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or unknown fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
pub async fn sign_in(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<SignIn>,
) -> ApiResult<Response> {
    let secret = body.token.trim();
    let token = state.engine.authenticate(secret).await?.ok_or_else(|| {
        ApiError::new(
            ProblemType::Unauthenticated,
            "the token is unknown, revoked or expired",
        )
    })?;
    tracing::info!(token = %token.name, "dashboard sign-in");
    let cookie = format!("{COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict");
    let mut response = Json(SessionView {
        name: token.name,
        role: token.role,
        csrf_token: csrf_token(secret),
    })
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Who is signed in, with the session's CSRF token.
#[utoipa::path(
    get, path = "/session", tag = "session",
    responses(
        (status = 200, description = "The signed-in token", body = SessionView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn current(caller: Caller, headers: HeaderMap) -> ApiResult<Json<SessionView>> {
    let csrf = cookie_secret(&headers).map(csrf_token).unwrap_or_default();
    Ok(Json(SessionView {
        name: caller.name,
        role: caller.role.to_string(),
        csrf_token: csrf,
    }))
}

/// Sign out: the cookie is cleared.
#[utoipa::path(
    delete, path = "/session", tag = "session",
    responses((status = 204, description = "Signed out")),
    security(())
)]
pub async fn sign_out() -> Response {
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
