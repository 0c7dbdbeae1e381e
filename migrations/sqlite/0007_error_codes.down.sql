ALTER TABLE jobs DROP COLUMN error_code;
ALTER TABLE attempts DROP COLUMN error_code;
