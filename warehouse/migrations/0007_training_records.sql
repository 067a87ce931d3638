-- rxstaff warehouse, schema version 7: the learning system's training records (contract
-- v2, sources.md "training_records"), staged like the other sources.
CREATE TABLE stg_training_record (
    batch_id          INTEGER NOT NULL,
    row_number        INTEGER NOT NULL,
    file_date         DATE NOT NULL,
    record_id         TEXT NOT NULL,
    employee_key      TEXT NOT NULL,
    course_id         TEXT NOT NULL,
    course_title      TEXT,
    job_code          TEXT,
    required          BOOLEAN NOT NULL,
    assigned_on       DATE NOT NULL,
    completed_on      DATE,
    hours             DOUBLE PRECISION,
    status            TEXT NOT NULL,
    record_updated_at TIMESTAMP NOT NULL
);
