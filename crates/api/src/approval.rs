//! A deployment's later life: `POST /job/{id}/approve` and `/reject` answer a job
//! parked in `AwaitingApproval`; `POST /job/{id}/destroy` starts the durable
//! destroy workflow on what the job applied.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use engine::JobStatus;
use pipeline::{APPROVAL_SIGNAL, Approval, DESTROY_WORKFLOW, DestroyInput};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JobId, OptionalJson};
use crate::problem_type::ProblemType;
use crate::routes::submitted_response;
use crate::views::JobSummary;

/// Longest approval comment kept.
const MAX_COMMENT_CHARS: usize = 2000;

/// Body of `POST /job/{id}/approve` and `/reject` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// Why, for the job's log and timeline.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Approve the plan of a job waiting in `AwaitingApproval`: it applies that plan.
#[utoipa::path(
    post, path = "/job/{id}/approve", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id")),
    request_body(content = Option<ApprovalRequest>, description = "Optional: `{\"comment\": \"…\"}`"),
    responses(
        (status = 202, description = "Approved: the job is queued to apply its saved plan", body = JobSummary),
        (status = 400, description = "Bad id or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job is not waiting for approval", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown field or comment too long", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn approve(
    State(state): State<AppState>,
    JobId(id): JobId,
    OptionalJson(request): OptionalJson<ApprovalRequest>,
) -> ApiResult<(StatusCode, Json<JobSummary>)> {
    answer(state, id, true, request.unwrap_or_default()).await
}

/// Reject the plan of a job waiting in `AwaitingApproval`: it ends failed, in state
/// `Rejected`, without applying.
#[utoipa::path(
    post, path = "/job/{id}/reject", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id")),
    request_body(content = Option<ApprovalRequest>, description = "Optional: `{\"comment\": \"why\"}`"),
    responses(
        (status = 202, description = "Rejected: the job is queued to record it and end", body = JobSummary),
        (status = 400, description = "Bad id or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job is not waiting for approval", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown field or comment too long", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reject(
    State(state): State<AppState>,
    JobId(id): JobId,
    OptionalJson(request): OptionalJson<ApprovalRequest>,
) -> ApiResult<(StatusCode, Json<JobSummary>)> {
    answer(state, id, false, request.unwrap_or_default()).await
}

async fn answer(
    state: AppState,
    id: uuid::Uuid,
    approved: bool,
    request: ApprovalRequest,
) -> ApiResult<(StatusCode, Json<JobSummary>)> {
    if request
        .comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS)
    {
        return Err(ApiError::new(
            ProblemType::InvalidRequest,
            format!("comment is longer than {MAX_COMMENT_CHARS} characters"),
        ));
    }
    let job = state.engine.job(id).await?;
    if job.status != JobStatus::Waiting || job.state.as_deref() != Some(pipeline::AWAITING_APPROVAL)
    {
        return Err(ApiError::new(
            ProblemType::Conflict,
            format!(
                "job {id} is not waiting for approval: it is {} in state {}",
                job.status,
                job.state.as_deref().unwrap_or("none")
            ),
        ));
    }
    let signal = Approval {
        approved,
        comment: request.comment,
    };
    let value = serde_json::to_value(&signal).map_err(|e| ApiError::internal(&e))?;
    let job = state.engine.signal(id, APPROVAL_SIGNAL, value).await?;
    tracing::info!(job.id = %id, approved, "approval answered");
    Ok((StatusCode::ACCEPTED, Json(JobSummary::from(&job))))
}

/// Destroy what a deployment job applied: starts a `destroy` job (the same one
/// when asked again) with its own timeline, retries and logs.
#[utoipa::path(
    post, path = "/job/{id}/destroy", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "The deployment job's id")),
    responses(
        (status = 202, description = "The destroy job, queued", body = JobSummary),
        (status = 200, description = "A destroy job already existed for this deployment: that job", body = JobSummary),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a deployment job, or it is still running", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn destroy(
    State(state): State<AppState>,
    caller: Caller,
    JobId(id): JobId,
) -> ApiResult<Response> {
    let job = state.engine.job(id).await?;
    let conflict = |detail: String| ApiError::new(ProblemType::Conflict, detail);
    if job.workflow != pipeline::WORKFLOW {
        return Err(conflict(format!(
            "job {id} is a {} job, not a deployment: there is nothing to destroy",
            job.workflow
        )));
    }
    if !job.status.is_terminal() {
        return Err(conflict(format!(
            "job {id} is {}: cancel it or let it finish before destroying what it applied",
            job.status
        )));
    }
    let input = serde_json::to_value(DestroyInput { deployment: id })
        .map_err(|e| ApiError::internal(&e))?;
    let submitted = state
        .engine
        .submit_as(
            DESTROY_WORKFLOW,
            input,
            Some(format!("destroy:{id}")),
            &[],
            Some(&caller.name),
        )
        .await?;
    Ok(submitted_response(submitted))
}
