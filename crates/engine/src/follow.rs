//! [`Engine::follow`]: one job's progress as a stream — its new log lines, its
//! attempts as they end, and its record whenever what it shows changes — until
//! it finishes (or, when asked, until it parks waiting for a signal). The
//! store has no push channel, so the stream polls; every reader of a job's
//! progress (the API's event stream, `deployflow deploy`) uses this one.

use std::time::Duration;

use futures::Stream;
use uuid::Uuid;

use crate::logs::StoredLogLine;
use crate::store::{AttemptRow, JobRecord, JobStatus};
use crate::{Engine, EngineError, Result};

const LOG_PAGE: i64 = 500;
const DEFAULT_POLL: Duration = Duration::from_millis(500);

/// One thing that happened to a followed job.
#[derive(Debug, Clone)]
pub enum JobEvent {
    /// A log line; its `id` is the cursor to resume after.
    Log(StoredLogLine),
    /// An attempt that ended (only when [`Follow::with_attempts`]).
    Attempt(AttemptRow),
    /// The job's record: sent first, then whenever its status, state,
    /// current step or error changed.
    Status(Box<JobRecord>),
}

/// What to follow and when to stop.
#[derive(Debug, Clone)]
pub struct Follow {
    after_log: Option<i64>,
    attempts: bool,
    until_waiting: bool,
    poll: Duration,
}

impl Default for Follow {
    fn default() -> Self {
        Self {
            after_log: None,
            attempts: false,
            until_waiting: false,
            poll: DEFAULT_POLL,
        }
    }
}

impl Follow {
    /// Log lines after this cursor only (a client resuming).
    pub fn after_log(mut self, cursor: Option<i64>) -> Self {
        self.after_log = cursor;
        self
    }

    /// Also yield each attempt as it ends.
    pub fn with_attempts(mut self) -> Self {
        self.attempts = true;
        self
    }

    /// End when the job waits for a signal too, not only when it finishes:
    /// for a follower that can do nothing about the wait.
    pub fn until_waiting(mut self) -> Self {
        self.until_waiting = true;
        self
    }

    /// How often the job is looked at.
    pub fn every(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }
}

struct Follower {
    engine: Engine,
    id: Uuid,
    options: Follow,
    pending: std::collections::VecDeque<JobEvent>,
    shown_attempts: usize,
    last: Option<JobRecord>,
    first: bool,
    done: bool,
}

impl Engine {
    /// `id`'s events from now on (log lines from `options`' cursor), ending
    /// once the job has finished and its last events are out, or when it is
    /// deleted. A failed read is yielded as an error and the stream goes on.
    pub fn follow(
        &self,
        id: Uuid,
        options: Follow,
    ) -> impl Stream<Item = Result<JobEvent>> + use<> {
        let follower = Follower {
            engine: self.clone(),
            id,
            pending: Default::default(),
            shown_attempts: 0,
            last: None,
            first: true,
            done: false,
            options,
        };
        futures::stream::unfold(follower, |mut follower| async move {
            let next = follower.next().await?;
            Some((next, follower))
        })
    }
}

impl Follower {
    async fn next(&mut self) -> Option<Result<JobEvent>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            if !self.first {
                tokio::time::sleep(self.options.poll).await;
            }
            self.first = false;
            match self.poll().await {
                Ok(()) => {}
                // Deleted (retention) while followed: nothing more will come.
                Err(EngineError::JobNotFound(_)) => self.done = true,
                Err(error) => return Some(Err(error)),
            }
        }
    }

    /// Queues what happened since the last poll. The job is read first, so
    /// when it is seen finished, the log and attempts read after it already
    /// hold its last lines.
    async fn poll(&mut self) -> Result<()> {
        let job = self.engine.job(self.id).await?;
        loop {
            let lines = self
                .engine
                .logs(self.id, self.options.after_log, LOG_PAGE)
                .await?;
            let full_page = lines.len() as i64 == LOG_PAGE;
            if let Some(last) = lines.last() {
                self.options.after_log = Some(last.id);
            }
            self.pending.extend(lines.into_iter().map(JobEvent::Log));
            if !full_page {
                break;
            }
        }
        if self.options.attempts {
            let attempts = self.engine.queue().attempts(self.id).await?;
            let new = attempts.into_iter().skip(self.shown_attempts);
            let before = self.pending.len();
            self.pending.extend(new.map(JobEvent::Attempt));
            self.shown_attempts += self.pending.len() - before;
        }
        let stops = job.status.is_terminal()
            || (self.options.until_waiting && job.status == JobStatus::Waiting);
        if self
            .last
            .as_ref()
            .is_none_or(|last| shows_change(last, &job))
        {
            self.pending
                .push_back(JobEvent::Status(Box::new(job.clone())));
            self.last = Some(job);
        }
        self.done = stops;
        Ok(())
    }
}

/// Whether `now` shows something `before` did not.
fn shows_change(before: &JobRecord, now: &JobRecord) -> bool {
    before.status != now.status
        || before.state != now.state
        || before.current_step != now.current_step
        || before.error != now.error
        || before.error_code != now.error_code
}
