-- A step may park its job until a signal (e.g. an approval) resumes it.
ALTER TABLE engine.jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE engine.jobs ADD CONSTRAINT jobs_status_check
    CHECK (status IN ('queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'));
