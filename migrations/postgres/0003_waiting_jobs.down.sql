UPDATE engine.jobs SET status = 'cancelled', error = 'cancelled: waiting jobs are not supported',
    finished_at = now()
WHERE status = 'waiting';
ALTER TABLE engine.jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE engine.jobs ADD CONSTRAINT jobs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'));
