-- The W3C traceparent every run of the job continues, so its spans form one trace.
ALTER TABLE jobs ADD COLUMN trace_context TEXT;
