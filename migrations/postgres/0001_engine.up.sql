-- The engine's tables live in their own schema.
-- `jobs` is the record of every job (history included); `queue` holds only jobs that
-- are waiting or running, so the table workers claim from stays small however long
-- the history grows.
CREATE SCHEMA IF NOT EXISTS engine;

CREATE TABLE engine.jobs (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id               UUID PRIMARY KEY,
    workflow         TEXT NOT NULL,
    workflow_version TEXT NOT NULL,
    steps            JSONB NOT NULL,
    input            JSONB NOT NULL,
    status           TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    state            TEXT,
    current_step     TEXT,
    idempotency_key  TEXT UNIQUE,
    error            TEXT,
    failed_step      TEXT,
    lease_epoch      BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ
) WITH (fillfactor = 80);
CREATE INDEX jobs_status_seq ON engine.jobs (status, seq DESC);
CREATE INDEX jobs_finished_at ON engine.jobs (finished_at) WHERE finished_at IS NOT NULL;

-- due_at is when the row may next be claimed: run_after for a waiting job, the lease
-- expiry for a running one. One column, one index, one claim predicate.
CREATE TABLE engine.queue (
    job_id             UUID PRIMARY KEY REFERENCES engine.jobs (id) ON DELETE CASCADE,
    due_at             TIMESTAMPTZ NOT NULL,
    step_index         INT NOT NULL,
    attempt            INT NOT NULL DEFAULT 1,
    failures           INT NOT NULL DEFAULT 0,
    recoveries         INT NOT NULL DEFAULT 0,
    lease_owner        TEXT,
    lease_epoch        BIGINT NOT NULL DEFAULT 0,
    attempt_started_at TIMESTAMPTZ,
    cancel_requested   BOOLEAN NOT NULL DEFAULT false
) WITH (fillfactor = 70);
CREATE INDEX queue_due_at ON engine.queue (due_at);

-- checkpoints, attempts and logs are written on every step: they carry no foreign key
-- (a per-row RI check), since every write of them is fenced through the job's queue row,
-- which does reference jobs; deleting a job deletes them explicitly (store: purge).
CREATE TABLE engine.checkpoints (
    job_id     UUID NOT NULL,
    step_name  TEXT NOT NULL,
    step_index INT NOT NULL,
    output     JSONB NOT NULL,
    worker     TEXT NOT NULL,
    epoch      BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, step_name)
);

CREATE TABLE engine.attempts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY,
    job_id      UUID NOT NULL,
    step_index  INT NOT NULL,
    step_name   TEXT NOT NULL,
    attempt     INT NOT NULL,
    worker      TEXT NOT NULL,
    epoch       BIGINT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    outcome     TEXT NOT NULL,
    error       TEXT,
    PRIMARY KEY (job_id, id)
);

CREATE TABLE engine.logs (
    id      BIGINT GENERATED ALWAYS AS IDENTITY,
    job_id  UUID NOT NULL,
    step    TEXT,
    attempt INT,
    level   TEXT NOT NULL,
    message TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job_id, id)
);
