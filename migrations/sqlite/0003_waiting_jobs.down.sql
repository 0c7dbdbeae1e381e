-- no-transaction
-- SQLite cannot alter a CHECK constraint: the table is rebuilt, the documented way
-- (foreign keys off so `queue`'s reference to `jobs` survives the swap).
PRAGMA foreign_keys = OFF;
BEGIN;
UPDATE jobs SET status = 'cancelled', error = 'cancelled: waiting jobs are not supported'
WHERE status = 'waiting';
CREATE TABLE jobs_rebuilt (
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
INSERT INTO jobs_rebuilt SELECT * FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_rebuilt RENAME TO jobs;
CREATE INDEX jobs_status_seq ON jobs (status, seq DESC);
CREATE INDEX jobs_finished_at ON jobs (finished_at) WHERE finished_at IS NOT NULL;
COMMIT;
PRAGMA foreign_keys = ON;
