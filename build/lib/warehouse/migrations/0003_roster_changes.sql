-- rxstaff warehouse, schema version 3: roster history kept compressed to its changes.
-- One row per employee per run of identical snapshots: first and last snapshot seen.
-- Maintained incrementally each night, so history models cost what the night brings.
CREATE TABLE int_roster_change (
    batch_id           INTEGER NOT NULL,
    row_number         INTEGER NOT NULL,
    snapshot_date      DATE NOT NULL,
    last_seen          DATE NOT NULL,
    employee_key       TEXT NOT NULL,
    position_id        TEXT NOT NULL,
    job_code           TEXT NOT NULL,
    job_effective_date DATE NOT NULL,
    department         TEXT,
    pharmacy_model     TEXT NOT NULL,
    employment_status  TEXT NOT NULL,
    hire_date          DATE NOT NULL,
    termination_date   DATE,
    termination_type   TEXT,
    fte                DOUBLE PRECISION NOT NULL
);

ALTER TABLE int_employee_observation ADD COLUMN last_seen DATE;
