DROP TABLE job_actions;
