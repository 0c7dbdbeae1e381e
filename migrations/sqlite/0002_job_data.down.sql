DROP TABLE artifacts;
DROP TABLE step_memos;
DROP TABLE job_secrets;
