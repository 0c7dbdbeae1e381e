//! `GET /job/{id}/events`: a job's progress as Server-Sent Events.
//!
//! The stream polls the store (the engine has no push channel for log lines) and sends
//! `log` events for new lines (their SSE id is the log cursor, so a client that
//! reconnects with `Last-Event-ID` resumes after it) and a `status` event whenever
//! status, state, current step or error change. Once the job is terminal and its last
//! events are sent, the stream ends; it also ends when the server shuts down.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use engine::{Engine, EngineError};
use futures::Stream;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::JobId;
use crate::problem_type::ProblemType;
use crate::stream_limit::StreamSlot;
use crate::views::{LogView, StatusEvent};

/// When a client refused for too many streams may try again.
const STREAM_RETRY_AFTER_SECONDS: u64 = 5;
/// How often the stream looks at the job.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
const LOG_PAGE: i64 = 500;

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
    let poller = Poller {
        _slot: slot,
        engine: state.engine.clone(),
        shutdown: state.shutdown.clone(),
        id,
        after,
        last: None,
        pending: VecDeque::new(),
        first: true,
        done: false,
    };
    let stream = futures::stream::unfold(poller, |mut poller| async move {
        let event = poller.next_event().await?;
        Some((Ok(event), poller))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

struct Poller {
    /// Held for as long as the stream is open.
    _slot: StreamSlot,
    engine: Engine,
    shutdown: CancellationToken,
    id: Uuid,
    /// Cursor of the last log line sent.
    after: Option<i64>,
    /// The last status event sent.
    last: Option<StatusEvent>,
    pending: VecDeque<Event>,
    first: bool,
    done: bool,
}

impl Poller {
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.done {
                return None;
            }
            if !self.first {
                tokio::select! {
                    _ = tokio::time::sleep(POLL_INTERVAL) => {}
                    _ = self.shutdown.cancelled() => return None,
                }
            }
            self.first = false;
            match self.poll().await {
                Ok(()) => {}
                // Deleted (retention) while watched: nothing more will come.
                Err(EngineError::JobNotFound(_)) => self.done = true,
                Err(e) => {
                    tracing::warn!(job.id = %self.id, error = %e, "event stream poll failed; retrying")
                }
            }
        }
    }

    /// Queues the events since the last poll. The job is read before its log, so when
    /// it is seen terminal, the log read after it already holds its last lines.
    async fn poll(&mut self) -> engine::Result<()> {
        let job = self.engine.job(self.id).await?;
        loop {
            let lines = self.engine.logs(self.id, self.after, LOG_PAGE).await?;
            for line in &lines {
                if let Ok(event) = Event::default()
                    .event("log")
                    .id(line.id.to_string())
                    .json_data(LogView::from(line))
                {
                    self.pending.push_back(event);
                }
            }
            self.after = lines.last().map(|l| l.id).or(self.after);
            if (lines.len() as i64) < LOG_PAGE {
                break;
            }
        }
        let status = StatusEvent::from(&job);
        if self.last.as_ref() != Some(&status) {
            if let Ok(event) = Event::default().event("status").json_data(&status) {
                self.pending.push_back(event);
            }
            self.last = Some(status);
        }
        if job.status.is_terminal() {
            self.done = true;
        }
        Ok(())
    }
}
