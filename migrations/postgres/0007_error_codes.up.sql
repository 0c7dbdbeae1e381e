-- A failure's stable name (`clone.not_found`) beside its message, on the attempt that
-- failed and on the job it ended.
ALTER TABLE engine.attempts ADD COLUMN error_code TEXT;
ALTER TABLE engine.jobs ADD COLUMN error_code TEXT;
