-- What people did to a job (approve, reject, cancel, retry, destroy) and
-- who: the job's timeline shows them. Times in milliseconds since the epoch.
CREATE TABLE job_actions (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id  TEXT NOT NULL,
    action  TEXT NOT NULL,
    actor   TEXT NOT NULL,
    role    TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX job_actions_job ON job_actions (job_id, id);
