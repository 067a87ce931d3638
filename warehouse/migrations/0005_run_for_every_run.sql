-- rxstaff warehouse, schema version 5: every run is recorded (nothing new, rejected files,
-- a stale or empty landing folder, failed), with the scheduler's flow-run id.
ALTER TABLE etl_run ADD COLUMN flow_run_id TEXT;
