-- rxstaff warehouse, schema version 2: one row per nightly run, for operators.
CREATE TABLE etl_run (
    run_id           TEXT PRIMARY KEY,
    run_date         DATE NOT NULL,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP NOT NULL,
    status           TEXT NOT NULL,
    files_loaded     INTEGER NOT NULL,
    files_skipped    INTEGER NOT NULL,
    files_rejected   INTEGER NOT NULL,
    rows_loaded      INTEGER NOT NULL,
    rows_quarantined INTEGER NOT NULL,
    error            TEXT
);
