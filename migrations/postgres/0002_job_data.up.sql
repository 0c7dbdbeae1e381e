-- Data a job keeps besides its steps' checkpoints:
-- `job_secrets`: values submitted with the job that must survive a resume (a clone token)
--   but never be shown; stored encrypted (ChaCha20-Poly1305, key outside the database).
-- `step_memos`: results a step recorded while running (e.g. a paid API call), so the
--   same step retried or resumed by another worker does not redo them.
-- `artifacts`: files a job produced (generated configuration), downloadable from the API.
CREATE TABLE engine.job_secrets (
    job_id     UUID NOT NULL REFERENCES engine.jobs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    nonce      BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    PRIMARY KEY (job_id, name)
);

CREATE TABLE engine.step_memos (
    job_id     UUID NOT NULL,
    step_name  TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, step_name, key)
);

CREATE TABLE engine.artifacts (
    job_id     UUID NOT NULL,
    path       TEXT NOT NULL,
    step_name  TEXT NOT NULL,
    content    BYTEA NOT NULL,
    sha256     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, path)
);
