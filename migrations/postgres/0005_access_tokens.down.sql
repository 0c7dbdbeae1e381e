DROP TABLE engine.access_tokens;
DROP INDEX engine.jobs_created_by;
ALTER TABLE engine.jobs DROP COLUMN created_by;
