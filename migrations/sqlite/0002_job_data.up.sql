-- See the PostgreSQL migration of the same name for what each table holds.
CREATE TABLE job_secrets (
    job_id     TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    nonce      BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    PRIMARY KEY (job_id, name)
);

CREATE TABLE step_memos (
    job_id     TEXT NOT NULL,
    step_name  TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, step_name, key)
);

CREATE TABLE artifacts (
    job_id     TEXT NOT NULL,
    path       TEXT NOT NULL,
    step_name  TEXT NOT NULL,
    content    BLOB NOT NULL,
    sha256     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, path)
);
