-- Who submitted each job: the name of the API token (NULL for jobs the
-- binary submitted itself, or older than this column).
ALTER TABLE jobs ADD COLUMN created_by TEXT;
CREATE INDEX jobs_created_by ON jobs (created_by, seq);

-- API tokens: only a SHA-256 digest of each secret is kept. Times in
-- milliseconds since the epoch, as elsewhere in this schema.
CREATE TABLE access_tokens (
    name        TEXT PRIMARY KEY,
    role        TEXT NOT NULL,
    digest      TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked_at  INTEGER
);
