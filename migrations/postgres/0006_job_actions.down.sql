DROP TABLE engine.job_actions;
