//! Extractors that reject with our problem documents instead of axum's plain text.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::MAX_BODY_BYTES;
use crate::error::ApiError;
use crate::problem_type::ProblemType;

/// A JSON request body; a missing or malformed one is a problem document.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// A JSON request body that may be left out entirely (an empty body, or JSON `null`,
/// is `None`).
pub struct OptionalJson<T>(pub Option<T>);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = is_json(req.headers());
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(bytes_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        if !json_type {
            return Err(unsupported_media_type());
        }
        if bytes.trim_ascii() == b"null" {
            return Ok(OptionalJson(None));
        }
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(value)| OptionalJson(Some(value)))
            .map_err(json_rejection)
    }
}

/// Query parameters; unknown or mistyped ones are a 400 problem.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

/// The `{id}` of a `/job/{id}` path, parsed as a UUID.
pub struct JobId(pub Uuid);

impl<S> FromRequestParts<S> for JobId
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::new(ProblemType::InvalidPath, e.body_text()))?;
        parse_job_id(&raw).map(JobId)
    }
}

fn parse_job_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|e| {
        ApiError::new(
            ProblemType::InvalidJobId,
            format!(
                "{raw:?} is not a job id ({e}); job ids are UUIDs such as \
                 0197a8f2-3c4d-7e5f-8a9b-0c1d2e3f4a5b, as returned by POST /request"
            ),
        )
    })
}

/// The `{id}` and `{*path}` of `/job/{id}/artifacts/{*path}`.
pub struct ArtifactPath(pub Uuid, pub String);

impl<S> FromRequestParts<S> for ArtifactPath
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path((raw_id, path)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::new(ProblemType::InvalidPath, e.body_text()))?;
        Ok(ArtifactPath(parse_job_id(&raw_id)?, path))
    }
}

/// The one path parameter of a route such as `/workflows/{name}/runs`.
pub struct PathParam(pub String);

impl<S> FromRequestParts<S> for PathParam
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| PathParam(value))
            .map_err(|e| ApiError::new(ProblemType::InvalidPath, e.body_text()))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

fn unsupported_media_type() -> ApiError {
    ApiError::new(
        ProblemType::UnsupportedMediaType,
        "send the request body as JSON with the header `content-type: application/json`",
    )
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::new(
            ProblemType::InvalidBody,
            format!(
                "{}; see GET /openapi.json for the expected body",
                e.body_text()
            ),
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::new(
            ProblemType::MalformedJson,
            format!("the request body is not valid JSON: {}", e.body_text()),
        ),
        JsonRejection::MissingJsonContentType(_) => unsupported_media_type(),
        JsonRejection::BytesRejection(e) => bytes_rejection(e),
        other => {
            ApiError::new(ProblemType::InvalidBody, other.body_text()).with_status(other.status())
        }
    }
}

fn bytes_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ProblemType::BodyTooLarge,
            format!("the request body is larger than the limit of {MAX_BODY_BYTES} bytes"),
        )
    } else {
        ApiError::new(ProblemType::UnreadableBody, rejection.body_text())
            .with_status(rejection.status())
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        ProblemType::InvalidQuery,
        format!(
            "{}; see GET /openapi.json for the accepted parameters",
            rejection.body_text()
        ),
    )
}
