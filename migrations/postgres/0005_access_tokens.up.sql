-- Who submitted each job: the name of the API token (NULL for jobs the
-- binary submitted itself, or older than this column).
ALTER TABLE engine.jobs ADD COLUMN created_by TEXT;
CREATE INDEX jobs_created_by ON engine.jobs (created_by, seq);

-- API tokens: only a SHA-256 digest of each secret is kept.
CREATE TABLE engine.access_tokens (
    name        TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    digest      TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
