//! `GET /job/{id}/events`: a job's progress as Server-Sent Events.
//!
//! The stream is the engine's [`engine::Engine::follow`] of the job: `log` events
//! for new lines (their SSE id is the log cursor, so a client that reconnects
//! with `Last-Event-ID` resumes after it) and a `status` event whenever
//! status, state, current step or error change. Once the job is terminal and its last
//! events are sent, the stream ends; it also ends when the server shuts down.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use engine::follow::{Follow, JobEvent};
use futures::{Stream, StreamExt};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::JobId;
use crate::problem_type::ProblemType;
use crate::views::{LogView, StatusEvent};

/// When a client refused for too many streams may try again.
const STREAM_RETRY_AFTER_SECONDS: u64 = 5;
/// How often the stream looks at the job.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Live status changes and log lines of a job, until it finishes.
#[utoipa::path(
    get, path = "/job/{id}/events", tag = "jobs",
    params(
        ("id" = Uuid, Path, description = "Job id"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this log line"),
    ),
    responses(
        (status = 200, description = "An event stream: `status` events (data: StatusEvent) and `log` events (data: LogView); it ends once the job has finished", content_type = "text/event-stream", body = String),
        (status = 400, description = "The id is not a UUID", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token has as many event streams open as it may (`MAX_EVENT_STREAMS_PER_TOKEN`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn job_events(
    State(state): State<AppState>,
    caller: Caller,
    JobId(id): JobId,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    state.engine.job(id).await?;
    let limit = state.config.auth.max_event_streams;
    let slot =
        state.streams.open(&caller.name, limit).map_err(|open| {
            ApiError::new(ProblemType::TooManyEventStreams, format!(
                "token {:?} has {open} event streams open, the most it may have; close one first",
                caller.name
            ),
        )
        .with_retry_after(STREAM_RETRY_AFTER_SECONDS)
        })?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let mut last: Option<StatusEvent> = None;
    let events = state
        .engine
        .follow(id, Follow::default().after_log(after).every(POLL_INTERVAL))
        .take_until(state.shutdown.clone().cancelled_owned())
        .filter_map(move |event| {
            // Held for as long as the stream is open.
            let _slot = &slot;
            let event = match event {
                Ok(JobEvent::Log(line)) => Event::default()
                    .event("log")
                    .id(line.id.to_string())
                    .json_data(LogView::from(&line))
                    .ok(),
                Ok(JobEvent::Status(job)) => {
                    let status = StatusEvent::from(job.as_ref());
                    if last.as_ref() == Some(&status) {
                        None
                    } else {
                        let event = Event::default().event("status").json_data(&status).ok();
                        last = Some(status);
                        event
                    }
                }
                Ok(JobEvent::Attempt(_)) => None,
                Err(error) => {
                    tracing::warn!(job.id = %id, %error, "event stream poll failed; retrying");
                    None
                }
            };
            futures::future::ready(event.map(Ok))
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
