//! The queue protocol: every write on behalf of a job, fenced by its lease
//! where a running job writes. The trait is public in a private module
//! (sealed): `Engine`, the worker and the step context call it; code outside
//! the engine cannot name it, so it cannot claim, checkpoint or finish a job
//! behind the engine's back. The engine's own conformance tests reach it
//! through the `protocol-tests` feature.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::Notify;
use uuid::Uuid;

use super::*;
use crate::error::Result;
use crate::logs::LogLine;
use crate::secrets::SealedSecret;

#[async_trait]
pub trait Protocol: Store {
    /// Woken when work may have appeared (a submit or retry, here or, on Postgres,
    /// in any process through LISTEN/NOTIFY). A hint only: workers also poll.
    fn work_notifier(&self) -> Arc<Notify>;

    /// Ids of jobs whose cancellation was just requested (here or, on Postgres, in any
    /// process), so their workers stop the running step at once. A hint: workers also
    /// see the request at their next heartbeat.
    fn cancel_signals(&self) -> tokio::sync::broadcast::Receiver<Uuid>;

    /// Starts forwarding cross-process wake-ups to [`Protocol::work_notifier`] and
    /// [`Protocol::cancel_signals`]. Returns at once.
    fn start_listening(&self);

    /// Creates the job and queues it, or returns the job already holding the idempotency key.
    async fn submit(&self, job: NewJob) -> Result<Submitted>;

    /// Claims up to `limit` runnable jobs (queued and due, or leased with an expired
    /// lease) for `owner`, taking a lease of `lease` on each in the same statement.
    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<ClaimedJob>>;

    /// Hands back jobs `owner` claimed ahead and never started: each lease it still
    /// holds is dropped, the job is due again from when it was claimed and queued, and
    /// no attempt is recorded (none ran). Returns how many were handed back.
    async fn hand_back_unstarted(&self, owner: &str, leases: &[Lease]) -> Result<u64>;

    /// Extends the lease and stores buffered log lines. `Err(LeaseLost)` if it is gone.
    async fn heartbeat(
        &self,
        lease: &Lease,
        duration: Duration,
        logs: &[LogLine],
    ) -> Result<Heartbeat>;

    /// Records a finished attempt and moves the job on, in one transaction fenced by the lease.
    async fn finish_attempt(
        &self,
        lease: &Lease,
        attempt: &AttemptRecord,
        transition: &Transition,
        logs: &[LogLine],
    ) -> Result<Heartbeat>;

    /// When the next queued job becomes due, if any.
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>>;

    /// Appends log lines outside of a lease (engine-side notes such as "retry requested").
    async fn append_logs(&self, job_id: Uuid, logs: &[LogLine]) -> Result<()>;

    /// Records `action` on the job's timeline and, in the same transaction,
    /// as a line of its log.
    async fn record_action(&self, job_id: Uuid, action: &JobAction) -> Result<()>;

    /// Cancels a queued job at once, or flags a running one so its worker stops it.
    async fn cancel(&self, job_id: Uuid) -> Result<CancelOutcome>;

    /// Re-queues a failed, cancelled (or, with `from_step`, succeeded) job.
    async fn requeue(&self, job_id: Uuid, plan: &RequeuePlan) -> Result<()>;

    /// Deletes finished jobs (and their attempts, checkpoints and logs) finished before `before`.
    async fn purge_finished(&self, before: DateTime<Utc>) -> Result<u64>;

    /// A job's sealed secret, if it was submitted with one of that name.
    async fn sealed_secret(&self, job_id: Uuid, name: &str) -> Result<Option<SealedSecret>>;

    /// Records a value for the step's later attempts, fenced by the lease: steps keep
    /// state in memos (a saved plan, a pushed image), so a worker that lost its lease
    /// must not overwrite what the current attempt recorded.
    async fn memo_put(&self, lease: &Lease, step: &str, key: &str, value: &Value) -> Result<()>;

    /// Stores (or replaces) a file the job produced, fenced by the lease.
    async fn put_artifact(
        &self,
        lease: &Lease,
        step: &str,
        path: &str,
        content: &[u8],
    ) -> Result<()>;

    /// Stores a new API token; false when its name is taken.
    async fn insert_token(&self, token: &TokenRecord) -> Result<bool>;

    /// The token whose secret has this digest, revoked and expired ones included.
    async fn token_by_digest(&self, digest: &str) -> Result<Option<TokenRecord>>;

    /// Every token, oldest first.
    async fn list_tokens(&self) -> Result<Vec<TokenRecord>>;

    /// Revokes the token of this name; false when there is none not yet revoked.
    async fn revoke_token(&self, name: &str) -> Result<bool>;
}
