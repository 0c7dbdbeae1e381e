//! The handlers. Each carries its OpenAPI annotation, which `lib.rs` registers
//! together with its route.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use engine::JobStatus;
use engine::store::{CancelOutcome, JobFilter, Submitted};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JobId, JsonBody, OptionalJson, PathParam, Query};
use crate::problem_type::ProblemType;
use crate::views::{
    CancelResponse, Health, JobList, JobSummary, JobView, LogPage, LogView, RetryRequest,
    RunRequest, WorkflowList, WorkflowView,
};

/// Jobs per page of `GET /list` unless `limit` says otherwise, and the most it may say.
pub const DEFAULT_LIST_LIMIT: u32 = 50;
pub const MAX_LIST_LIMIT: u32 = 200;
/// Log lines per page of `GET /job/{id}/logs`, by default and at most.
pub const DEFAULT_LOG_LIMIT: i64 = 200;
pub const MAX_LOG_LIMIT: i64 = 1000;
/// Log lines `GET /job/{id}` includes (the most recent).
pub const JOB_VIEW_LOG_LINES: usize = 200;

/// Submit a job of a workflow.
#[utoipa::path(
    post, path = "/workflows/{name}/runs", tag = "jobs",
    params(("name" = String, Path, description = "Workflow name, as listed by GET /workflows")),
    request_body = RunRequest,
    responses(
        (status = 202, description = "Job created and queued", body = JobSummary),
        (status = 200, description = "The idempotency key already named a job: that job", body = JobSummary),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown workflow", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing, mistyped or unknown fields; input the workflow rejects", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit_run(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(name): PathParam,
    JsonBody(request): JsonBody<RunRequest>,
) -> ApiResult<Response> {
    // Destroying is an admin's, whichever route asks for it.
    if name == pipeline::DESTROY_WORKFLOW && caller.role < Role::Admin {
        return Err(ApiError::new(
            ProblemType::Forbidden,
            format!(
                "token {:?} has role {}; running the destroy workflow needs admin",
                caller.name, caller.role
            ),
        ));
    }
    let submitted = state
        .engine
        .submit_as(
            &name,
            request.input,
            request.idempotency_key,
            &[],
            Some(&caller.name),
        )
        .await?;
    Ok(submitted_response(submitted))
}

/// 202 with the new job and its `Location`, or 200 with the job an idempotency key named.
pub(crate) fn submitted_response(submitted: Submitted) -> Response {
    let job = submitted.job;
    let status = if submitted.created {
        tracing::info!(job.id = %job.id, workflow = %job.workflow, "job submitted");
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(JobSummary::from(&job))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/job/{}", job.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// A job: status, state, step timeline, outputs and recent logs.
#[utoipa::path(
    get, path = "/job/{id}", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = JobView),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_job(State(state): State<AppState>, JobId(id): JobId) -> ApiResult<Json<JobView>> {
    let details = state.engine.details(id).await?;
    let logs = tail_logs(&state, id).await?;
    Ok(Json(JobView::new(details, state.engine.catalog(), logs)))
}

/// The last [`JOB_VIEW_LOG_LINES`] lines of a job's log, oldest first.
async fn tail_logs(state: &AppState, id: uuid::Uuid) -> ApiResult<Vec<LogView>> {
    let lines = state
        .engine
        .tail_logs(id, JOB_VIEW_LOG_LINES as i64)
        .await?;
    Ok(lines.iter().map(LogView::from).collect())
}

/// Query parameters of `GET /list`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only jobs in these statuses, comma-separated: queued, running, waiting, succeeded, failed,
    /// cancelled (empty: all).
    #[param(
        pattern = "^$|^(queued|running|waiting|succeeded|failed|cancelled)(,(queued|running|waiting|succeeded|failed|cancelled))*$"
    )]
    pub status: Option<String>,
    /// Only jobs of this workflow.
    pub workflow: Option<String>,
    /// Jobs per page, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(value_type = Option<u64>, minimum = 0)]
    pub cursor: Option<String>,
}

/// Jobs, newest first, with filters and cursor pagination.
#[utoipa::path(
    get, path = "/list", tag = "jobs",
    params(ListParams),
    responses(
        (status = 200, description = "A page of jobs", body = JobList),
        (status = 400, description = "Unknown status, bad limit or cursor, unknown parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_jobs(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<JobList>> {
    let statuses = match params.status.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| s.trim().parse::<JobStatus>())
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::new(ProblemType::InvalidStatus, format!("status: {e}")))?,
    };
    let limit = match params.limit.as_deref() {
        None => DEFAULT_LIST_LIMIT,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=MAX_LIST_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::new(
                    ProblemType::InvalidLimit,
                    format!("limit must be a whole number from 1 to {MAX_LIST_LIMIT}, got {raw:?}"),
                )
            })?,
    };
    let before = params
        .cursor
        .as_deref()
        .map(|raw| parse_cursor("cursor", raw, "the next_cursor of a previous GET /list"))
        .transpose()?;
    let filter = JobFilter {
        statuses,
        workflow: params.workflow.filter(|w| !w.is_empty()),
        created_by: caller.only_own(&state.config.auth),
        before,
        limit,
    };
    let page = state.engine.list(&filter).await?;
    Ok(Json(JobList {
        jobs: page.jobs.iter().map(JobSummary::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

fn parse_cursor(name: &str, raw: &str, source: &str) -> ApiResult<i64> {
    raw.parse::<i64>().ok().filter(|c| *c >= 0).ok_or_else(|| {
        ApiError::new(
            ProblemType::InvalidCursor,
            format!("{name} must be {source} (a non-negative integer), got {raw:?}"),
        )
    })
}

/// Query parameters of `GET /job/{id}/logs`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Only lines after this cursor (a line's `id`, or a previous page's `next_cursor`).
    #[param(value_type = Option<u64>, minimum = 0)]
    pub after: Option<String>,
    /// Lines per page, 1 to 1000 (default 200).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

/// A job's log, oldest first, paged with a cursor.
#[utoipa::path(
    get, path = "/job/{id}/logs", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id"), LogParams),
    responses(
        (status = 200, description = "A page of log lines", body = LogPage),
        (status = 400, description = "Bad id, cursor or limit", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn job_logs(
    State(state): State<AppState>,
    JobId(id): JobId,
    Query(params): Query<LogParams>,
) -> ApiResult<Json<LogPage>> {
    let after = params
        .after
        .as_deref()
        .map(|raw| parse_cursor("after", raw, "a log line's id or a previous next_cursor"))
        .transpose()?;
    let limit = match params.limit.as_deref() {
        None => DEFAULT_LOG_LIMIT,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=MAX_LOG_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::new(
                    ProblemType::InvalidLimit,
                    format!("limit must be a whole number from 1 to {MAX_LOG_LIMIT}, got {raw:?}"),
                )
            })?,
    };
    // 404 for an unknown job rather than an empty page.
    state.engine.job(id).await?;
    let lines = state.engine.logs(id, after, limit).await?;
    let logs: Vec<LogView> = lines.iter().map(LogView::from).collect();
    let next_cursor = logs.last().map(|l| l.id).or(after);
    Ok(Json(LogPage { logs, next_cursor }))
}

/// Re-queue a failed or cancelled job at the step that did not complete.
#[utoipa::path(
    post, path = "/job/{id}/retry", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id")),
    request_body(content = Option<RetryRequest>, description = "Optional: `{\"from_step\": \"build\"}` re-runs that step and every later one"),
    responses(
        (status = 202, description = "The job, queued again", body = JobSummary),
        (status = 400, description = "Bad id or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job's status does not allow a retry", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown from_step or unknown field", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn retry_job(
    State(state): State<AppState>,
    JobId(id): JobId,
    OptionalJson(request): OptionalJson<RetryRequest>,
) -> ApiResult<(StatusCode, Json<JobSummary>)> {
    let request = request.unwrap_or_default();
    let job = state.engine.retry(id, request.from_step.as_deref()).await?;
    tracing::info!(job.id = %id, from_step = ?request.from_step, "job retried");
    Ok((StatusCode::ACCEPTED, Json(JobSummary::from(&job))))
}

/// Cancel a job: a waiting one at once, a running one at its next heartbeat.
#[utoipa::path(
    post, path = "/job/{id}/cancel", tag = "jobs",
    params(("id" = uuid::Uuid, Path, description = "Job id")),
    responses(
        (status = 202, description = "Cancelled, or cancellation requested", body = CancelResponse),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The job has already finished", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel_job(
    State(state): State<AppState>,
    JobId(id): JobId,
) -> ApiResult<(StatusCode, Json<CancelResponse>)> {
    let outcome = state.engine.cancel(id).await?;
    let job = state.engine.job(id).await?;
    let cancel = match outcome {
        CancelOutcome::Cancelled => "cancelled",
        CancelOutcome::Requested => "requested",
    };
    tracing::info!(job.id = %id, cancel, "job cancel");
    Ok((
        StatusCode::ACCEPTED,
        Json(CancelResponse {
            id,
            status: job.status,
            cancel: cancel.to_owned(),
            links: crate::views::Links::job(id),
        }),
    ))
}

/// The workflows this server runs.
#[utoipa::path(
    get, path = "/workflows", tag = "workflows",
    responses((status = 200, description = "Workflow definitions", body = WorkflowList))
)]
pub async fn list_workflows(State(state): State<AppState>) -> Json<WorkflowList> {
    Json(WorkflowList {
        workflows: state
            .engine
            .catalog()
            .workflows()
            .map(WorkflowView::from)
            .collect(),
    })
}

/// Liveness: the process answers.
#[utoipa::path(
    get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Alive", body = Health)),
    security(())
)]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(
    get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    match state.engine.ping().await {
        Ok(()) => Ok(Json(Health {
            status: "ready".into(),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::new(
                ProblemType::NotReady,
                "the database does not answer; the server log has the cause",
            ))
        }
    }
}

/// Unknown paths.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ProblemType::NoRoute,
        format!(
            "no route for {method} {}; GET /openapi.json lists every route",
            uri.path()
        ),
    )
}

/// Known paths, wrong method.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ProblemType::MethodNotAllowed,
        format!(
            "{} does not accept {method}; GET /openapi.json lists the methods of every route",
            uri.path()
        ),
    )
}
