ALTER TABLE engine.jobs DROP COLUMN trace_context;
