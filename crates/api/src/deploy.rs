//! The deployment workflow's routes: `POST /request` (its front door) and the
//! artifacts a job produced.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use pipeline::DeployRequest;

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ArtifactPath, JobId, JsonBody};
use crate::problem_type::ProblemType;
use crate::routes::submitted_response;
use crate::views::{ArtifactList, ArtifactView, DeployRequestBody, JobSummary};

/// Request a deployment of a repository.
#[utoipa::path(
    post, path = "/request", tag = "jobs",
    request_body = DeployRequestBody,
    responses(
        (status = 202, description = "Deployment job created and queued", body = JobSummary),
        (status = 200, description = "The idempotency key already named a job: that job", body = JobSummary),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing, mistyped or unknown fields; a URL or host that is not allowed; an empty description", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit_request(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<DeployRequestBody>,
) -> ApiResult<Response> {
    let request = DeployRequest {
        repo_url: body.repo_url,
        description: body.description,
        git_ref: body.git_ref,
        github_token: body.github_token,
        approve_before_apply: body.approve_before_apply,
        env: body.env,
    };
    let accepted = request
        .validate(&state.config.url_policy)
        .map_err(|e| ApiError::new(ProblemType::InvalidRequest, e.to_string()))?;
    let input = serde_json::to_value(&accepted.input).map_err(|e| ApiError::internal(&e))?;
    let secrets = accepted.secret_pairs();
    let submitted = state
        .engine
        .submit_as(
            pipeline::WORKFLOW,
            input,
            body.idempotency_key,
            &secrets,
            Some(&caller.name),
        )
        .await?;
    Ok(submitted_response(submitted))
}

/// The files a job produced (generated Dockerfile, compose file, Makefile, Terraform).
#[utoipa::path(
    get, path = "/job/{id}/artifacts", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job's artifacts, by path", body = ArtifactList),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_artifacts(
    State(state): State<AppState>,
    JobId(id): JobId,
) -> ApiResult<Json<ArtifactList>> {
    let artifacts = state.engine.artifacts(id).await?;
    Ok(Json(ArtifactList {
        artifacts: artifacts
            .into_iter()
            .map(|meta| ArtifactView::new(id, meta))
            .collect(),
    }))
}

/// One artifact's content.
#[utoipa::path(
    get, path = "/job/{id}/artifacts/{*path}", tag = "jobs",
    params(
        ("id" = uuid::Uuid, Path, description = "Job id"),
        ("path" = String, Path, description = "Artifact path, as listed by GET /job/{id}/artifacts"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The artifact can hold secrets and the token is not an admin's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job or artifact", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_artifact(
    State(state): State<AppState>,
    caller: Caller,
    ArtifactPath(id, path): ArtifactPath,
) -> ApiResult<Response> {
    if pipeline::artifact_holds_secrets(&path) && caller.role < Role::Admin {
        return Err(ApiError::new(
            ProblemType::Forbidden,
            format!("{path} can hold secrets of the deployment: only an admin token reads it"),
        ));
    }
    let artifact = state.engine.artifact(id, &path).await?;
    let content_type = if std::str::from_utf8(&artifact.content).is_ok() {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    };
    let mut response = (StatusCode::OK, artifact.content).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // A download, never a page rendered in the dashboard's origin.
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", artifact.meta.sha256)) {
        headers.insert(header::ETAG, etag);
    }
    Ok(response)
}
