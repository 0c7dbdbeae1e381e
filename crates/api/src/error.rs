//! The API's one error type and its one mapping to HTTP.
//!
//! Policy: every error response is an RFC 9457 `application/problem+json` document whose
//! `detail` tells the caller what to change. Bad requests are 4xx, never 500. Engine
//! errors are mapped to HTTP in exactly one place ([`From<EngineError>`] below); the
//! ones that are our fault (database, migrations, definitions) answer 500 with an error
//! id, and the underlying error is logged once, here, with that id, never sent to the
//! client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::EngineError;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::problem_type::ProblemType;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem (`/problems/<code>`); stable, branch on it.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request and how to fix it.
    pub detail: String,
    /// For 500s only: quote it when reporting the problem; the server log has the cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_id: Option<Uuid>,
}

/// An error answered as a problem document.
#[derive(Debug)]
pub struct ApiError {
    kind: ProblemType,
    status: StatusCode,
    detail: String,
    error_id: Option<Uuid>,
    /// The `WWW-Authenticate` challenge of a 401.
    challenge: Option<&'static str>,
    /// Seconds a 429 asks the client to wait (`Retry-After`).
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            kind,
            status: kind.status(),
            detail: detail.into(),
            error_id: None,
            challenge: None,
            retry_after: None,
        }
    }

    /// Adds `Retry-After: seconds` to a 429.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Adds a `WWW-Authenticate` challenge (`Bearer`) to a 401.
    pub fn with_challenge(mut self, scheme: &'static str) -> Self {
        self.challenge = Some(scheme);
        self
    }

    /// The same problem answered with another status: axum's own rejections say
    /// which 4xx fits (a body that stopped arriving, one of an unknown length).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// A failure that is ours, not the caller's: logged with an id, answered without detail.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        let id = Uuid::new_v4();
        tracing::error!(error.id = %id, error = %cause, "request failed");
        Self {
            kind: ProblemType::Internal,
            status: ProblemType::Internal.status(),
            detail: format!(
                "the server failed to handle this request; it was logged with error id {id}, \
                 quote it when reporting the problem, or try again later"
            ),
            error_id: Some(id),
            challenge: None,
            retry_after: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("/problems/{}", self.kind.code()),
            title: self.kind.title().to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            error_id: self.error_id,
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        match error {
            EngineError::JobNotFound(id) => Self::new(
                ProblemType::JobNotFound,
                format!("no job has id {id}; GET /list shows the jobs that exist"),
            ),
            EngineError::UnknownWorkflow(name) => Self::new(
                ProblemType::UnknownWorkflow,
                format!(
                    "unknown workflow {name:?}; GET /workflows lists the workflows this server runs"
                ),
            ),
            EngineError::Conflict(message) => Self::new(ProblemType::Conflict, message),
            EngineError::InvalidInput(message) => Self::new(ProblemType::InvalidInput, message),
            EngineError::ArtifactNotFound { job_id, path } => Self::new(
                ProblemType::ArtifactNotFound,
                format!(
                    "job {job_id} has no artifact {path:?}; GET /job/{job_id}/artifacts lists them"
                ),
            ),
            EngineError::SecretsUnavailable => Self::new(
                ProblemType::SecretsUnavailable,
                "this server has no secrets key configured (SECRETS_KEY), so it cannot keep a \
                 token for the job; submit without one, or ask the operator to set SECRETS_KEY",
            ),
            EngineError::Database(_)
            | EngineError::Config(_)
            | EngineError::Migrate(_)
            | EngineError::Definition(_)
            | EngineError::LeaseLost { .. }
            | EngineError::InvalidDatabaseUrl(_) => Self::internal(&error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(scheme) = self.challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(scheme));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause_behind_an_error_id() {
        let error = ApiError::from(EngineError::InvalidDatabaseUrl(
            "postgres://admin:hunter2@db/prod".into(),
        ));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let problem = error.problem();
        let id = problem.error_id.expect("an error id");
        assert!(problem.detail.contains(&id.to_string()));
        assert!(!problem.detail.contains("hunter2"));
        assert!(!problem.detail.contains("postgres"));
    }

    #[test]
    fn refused_requests_keep_the_engine_message() {
        let conflict = ApiError::from(EngineError::Conflict(
            "cannot cancel job x: it is failed".into(),
        ));
        assert_eq!(conflict.status(), StatusCode::CONFLICT);
        assert_eq!(
            conflict.problem().detail,
            "cannot cancel job x: it is failed"
        );
        assert_eq!(conflict.problem().kind, "/problems/conflict");
        let invalid = ApiError::from(EngineError::InvalidInput("sleep_ms too large".into()));
        assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(invalid.problem().error_id.is_none());
    }
}
