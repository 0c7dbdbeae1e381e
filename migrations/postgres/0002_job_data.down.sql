DROP TABLE engine.artifacts;
DROP TABLE engine.step_memos;
DROP TABLE engine.job_secrets;
