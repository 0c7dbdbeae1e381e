ALTER TABLE engine.jobs DROP COLUMN error_code;
ALTER TABLE engine.attempts DROP COLUMN error_code;
