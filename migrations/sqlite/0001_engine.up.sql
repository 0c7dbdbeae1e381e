-- Same shape as migrations/postgres: times are milliseconds since the Unix epoch,
-- ids are hyphenated UUID text, JSON is text. `queue` holds only waiting and running
-- jobs; `jobs` keeps the history.
CREATE TABLE jobs (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    workflow         TEXT NOT NULL,
    workflow_version TEXT NOT NULL,
    steps            TEXT NOT NULL,
    input            TEXT NOT NULL,
    status           TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    state            TEXT,
    current_step     TEXT,
    idempotency_key  TEXT UNIQUE,
    error            TEXT,
    failed_step      TEXT,
    lease_epoch      INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER
);
CREATE INDEX jobs_status_seq ON jobs (status, seq DESC);
CREATE INDEX jobs_finished_at ON jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE queue (
    job_id             TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    due_at             INTEGER NOT NULL,
    step_index         INTEGER NOT NULL,
    attempt            INTEGER NOT NULL DEFAULT 1,
    failures           INTEGER NOT NULL DEFAULT 0,
    recoveries         INTEGER NOT NULL DEFAULT 0,
    lease_owner        TEXT,
    lease_epoch        INTEGER NOT NULL DEFAULT 0,
    attempt_started_at INTEGER,
    cancel_requested   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX queue_due_at ON queue (due_at);

-- No foreign keys on the per-step tables, as in migrations/postgres.
CREATE TABLE checkpoints (
    job_id     TEXT NOT NULL,
    step_name  TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    output     TEXT NOT NULL,
    worker     TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, step_name)
);

CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      TEXT NOT NULL,
    step_index  INTEGER NOT NULL,
    step_name   TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    worker      TEXT NOT NULL,
    epoch       INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    error       TEXT
);
CREATE INDEX attempts_job ON attempts (job_id, id);

CREATE TABLE logs (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id  TEXT NOT NULL,
    step    TEXT,
    attempt INTEGER,
    level   TEXT NOT NULL,
    message TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX logs_job ON logs (job_id, id);
