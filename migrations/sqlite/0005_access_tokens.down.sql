DROP TABLE access_tokens;
DROP INDEX jobs_created_by;
ALTER TABLE jobs DROP COLUMN created_by;
