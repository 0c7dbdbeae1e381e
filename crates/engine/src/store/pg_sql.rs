//! The PostgreSQL store's fixed statements, kept apart from the code that binds them
//! (`postgres.rs`); the checkpoint's (advance or completion) is in `pg_batch.rs`. Each
//! running-job statement is one set of data-modifying CTEs whose first CTE, `lease`, is
//! the fenced queue write: when it matches no row, nothing else is written.

use std::sync::LazyLock;

/// A new job, its queue row, its sealed secrets and the wake-up hint, in one
/// statement: $1..$9 the job's columns, $10..$12 the secrets' names, nonces and
/// ciphertexts, $13 the channel. No row when the idempotency key already exists.
pub(super) const SUBMIT: &str = "
    WITH job AS (
        INSERT INTO engine.jobs
            (id, workflow, workflow_version, steps, input, status, current_step, idempotency_key,
             trace_context, created_by)
        VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8, $9)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id
    ),
    queued AS (
        INSERT INTO engine.queue (job_id, due_at, step_index) SELECT id, now(), 0 FROM job
    ),
    sealed AS (
        INSERT INTO engine.job_secrets (job_id, name, nonce, ciphertext)
        SELECT job.id, s.name, s.nonce, s.ciphertext
        FROM job, unnest($10::text[], $11::bytea[], $12::bytea[]) AS s (name, nonce, ciphertext)
    ),
    woken AS (
        SELECT pg_notify($13, '') FROM job
    )
    SELECT job.id FROM job, woken";

// The parts every attempt-finishing statement shares: $1 job, $2 owner, $3 epoch,
// $4 step index, $5 step name, $6 attempt, $7 started, $8 finished, $9 outcome,
// $10 error, $11 log lines (JSON), $12 error code. Transition-specific parameters
// start at $13.
const RECORD_ATTEMPT_AND_LOGS: &str = "
    attempt_row AS (
        INSERT INTO engine.attempts
            (job_id, step_index, step_name, attempt, worker, epoch, started_at, finished_at, outcome,
             error, error_code)
        SELECT job_id, $4, $5, $6, $2, $3, $7, $8, $9, $10, $12 FROM lease
    ),
    log_rows AS (
        INSERT INTO engine.logs (job_id, step, attempt, level, message, at)
        SELECT lease.job_id, l.step, l.attempt, l.level, l.message, l.at
        FROM lease, jsonb_to_recordset($11::jsonb)
            AS l(step TEXT, attempt INT, level TEXT, message TEXT, at TIMESTAMPTZ)
    )";

const FENCE: &str = "job_id = $1 AND lease_owner = $2 AND lease_epoch = $3";

fn attempt_statement(lease_cte: &str, extra_ctes: &str) -> String {
    format!(
        "WITH lease AS ({lease_cte}), {RECORD_ATTEMPT_AND_LOGS}{extra_ctes}
         SELECT cancel_requested FROM lease"
    )
}

pub(super) static RETRY_AFTER: LazyLock<String> = LazyLock::new(|| {
    attempt_statement(
        &format!(
            "UPDATE engine.queue SET lease_owner = NULL, attempt = attempt + 1,
                 failures = failures + 1, due_at = now() + make_interval(secs => $13)
             WHERE {FENCE} RETURNING job_id, cancel_requested"
        ),
        "",
    )
});

pub(super) static RELEASE: LazyLock<String> = LazyLock::new(|| {
    attempt_statement(
        &format!(
            "UPDATE engine.queue SET lease_owner = NULL, attempt = attempt + 1, due_at = now()
             WHERE {FENCE} RETURNING job_id, cancel_requested"
        ),
        "",
    )
});

pub(super) static STAY: LazyLock<String> = LazyLock::new(|| {
    attempt_statement(
        &format!("SELECT job_id, cancel_requested FROM engine.queue WHERE {FENCE} FOR UPDATE"),
        "",
    )
});

pub(super) static END: LazyLock<String> = LazyLock::new(|| {
    attempt_statement(
        &format!("DELETE FROM engine.queue WHERE {FENCE} RETURNING job_id, cancel_requested"),
        ",
        job AS (
            UPDATE engine.jobs SET status = $13, error = $14, state = COALESCE($15, state),
                failed_step = CASE WHEN $13 = 'failed' THEN $5 END,
                error_code = CASE WHEN $13 = 'failed' THEN $12 END,
                current_step = $5, lease_epoch = $3, updated_at = now(),
                finished_at = CASE WHEN $13 = 'waiting' THEN NULL ELSE now() END
            FROM lease WHERE engine.jobs.id = lease.job_id
        )",
    )
});

/// $1 job ids, $2 their lease epochs, $3 the owner. The claim set `attempt_started_at`
/// to the time it claimed, which is where the job goes back in the queue; a job that
/// claim started (its `started_at` is that time) is queued again, one that had run
/// before stays running.
pub(super) const HAND_BACK_UNSTARTED: &str = "
    WITH handed_back AS (
        UPDATE engine.queue q SET lease_owner = NULL, due_at = COALESCE(q.attempt_started_at, now())
        FROM unnest($1::uuid[], $2::bigint[]) AS i(job_id, epoch)
        WHERE q.job_id = i.job_id AND q.lease_owner = $3 AND q.lease_epoch = i.epoch
        RETURNING q.job_id, q.attempt_started_at
    ),
    queued AS (
        UPDATE engine.jobs j SET status = 'queued', started_at = NULL, updated_at = now()
        FROM handed_back h
        WHERE j.id = h.job_id AND j.status = 'running' AND j.started_at = h.attempt_started_at
    )
    SELECT count(*) FROM handed_back";

/// Deletes jobs and everything recorded about them (the queue row goes by its foreign key).
pub(super) const DELETE_JOBS_WHERE: &str = "
    WITH gone AS (DELETE FROM engine.jobs WHERE {condition} RETURNING id),
    attempt_rows AS (DELETE FROM engine.attempts WHERE job_id IN (SELECT id FROM gone)),
    checkpoint_rows AS (DELETE FROM engine.checkpoints WHERE job_id IN (SELECT id FROM gone)),
    log_rows AS (DELETE FROM engine.logs WHERE job_id IN (SELECT id FROM gone)),
    memo_rows AS (DELETE FROM engine.step_memos WHERE job_id IN (SELECT id FROM gone)),
    artifact_rows AS (DELETE FROM engine.artifacts WHERE job_id IN (SELECT id FROM gone)),
    action_rows AS (DELETE FROM engine.job_actions WHERE job_id IN (SELECT id FROM gone))
    SELECT count(*) FROM gone";

pub(super) const CLAIM: &str = "
    WITH candidates AS (
        SELECT job_id, lease_owner, attempt, attempt_started_at
        FROM engine.queue
        WHERE due_at <= now()
        ORDER BY due_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED
    ),
    claimed AS (
        UPDATE engine.queue q SET
            lease_owner = $1,
            lease_epoch = q.lease_epoch + 1,
            due_at = now() + make_interval(secs => $3),
            recoveries = q.recoveries + (c.lease_owner IS NOT NULL)::int,
            attempt = q.attempt + (c.lease_owner IS NOT NULL)::int,
            attempt_started_at = now()
        FROM candidates c
        WHERE q.job_id = c.job_id
        RETURNING q.job_id, q.lease_epoch, q.step_index, q.attempt, q.failures, q.recoveries,
            q.cancel_requested, c.lease_owner AS previous_owner, c.attempt AS previous_attempt,
            c.attempt_started_at AS previous_started_at
    ),
    started AS (
        UPDATE engine.jobs j SET status = 'running', started_at = COALESCE(j.started_at, now()),
            updated_at = now()
        FROM claimed WHERE j.id = claimed.job_id AND j.status <> 'running'
    ),
    -- A dead worker's attempt is recorded by the claim that takes its job over, in the
    -- same commit: a rescuer that dies in turn cannot lose it.
    interrupted AS (
        INSERT INTO engine.attempts
            (job_id, step_index, step_name, attempt, worker, epoch, started_at, finished_at,
             outcome, error)
        SELECT c.job_id, c.step_index, j.steps ->> c.step_index, c.previous_attempt, $1,
            c.lease_epoch, COALESCE(c.previous_started_at, now()), now(), 'interrupted',
            'worker ' || c.previous_owner || ' stopped responding'
        FROM claimed c JOIN engine.jobs j ON j.id = c.job_id
        WHERE c.previous_owner IS NOT NULL
    )
    SELECT claimed.*, j.workflow, j.workflow_version, j.steps, j.input, j.trace_context
    FROM claimed JOIN engine.jobs j ON j.id = claimed.job_id";
