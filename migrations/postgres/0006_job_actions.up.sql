-- What people did to a job (approve, reject, cancel, retry, destroy) and
-- who: the job's timeline shows them.
CREATE TABLE engine.job_actions (
    id      BIGINT GENERATED ALWAYS AS IDENTITY,
    job_id  UUID NOT NULL,
    action  TEXT NOT NULL,
    actor   TEXT NOT NULL,
    role    TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job_id, id)
);
