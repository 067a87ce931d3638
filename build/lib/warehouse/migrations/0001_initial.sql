-- rxstaff warehouse, schema version 1.
-- Portable SQL: runs unchanged on DuckDB and PostgreSQL.

CREATE TABLE rxstaff_setting (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Audit -------------------------------------------------------------------------------------

CREATE TABLE etl_batch (
    batch_id         INTEGER PRIMARY KEY,
    run_id           TEXT NOT NULL,
    source           TEXT NOT NULL,
    file_name        TEXT NOT NULL,
    file_date        DATE,
    sha256           TEXT NOT NULL,
    rows_read        INTEGER,
    rows_loaded      INTEGER,
    rows_quarantined INTEGER,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP,
    status           TEXT NOT NULL,
    superseded_by    INTEGER,
    validated_with   TEXT,
    error            TEXT
);

CREATE TABLE etl_quarantine (
    batch_id     INTEGER NOT NULL,
    row_number   INTEGER NOT NULL,
    rule         TEXT NOT NULL,
    detail       TEXT,
    employee_key TEXT
);

CREATE TABLE etl_anomaly (
    run_id       TEXT NOT NULL,
    batch_id     INTEGER,
    kind         TEXT NOT NULL,
    employee_key TEXT,
    observed_on  DATE,
    detail       TEXT,
    origin       TEXT NOT NULL
);

-- Staging: typed rows of the live batches, no personal data ---------------------------------

CREATE TABLE stg_roster (
    batch_id           INTEGER NOT NULL,
    row_number         INTEGER NOT NULL,
    snapshot_date      DATE NOT NULL,
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
    fte                DOUBLE PRECISION NOT NULL,
    supervisor_key     TEXT
);

CREATE TABLE stg_budget_release (
    batch_id          INTEGER NOT NULL,
    row_number        INTEGER NOT NULL,
    file_date         DATE NOT NULL,
    release_id        TEXT NOT NULL,
    position_id       TEXT NOT NULL,
    action            TEXT NOT NULL,
    job_code          TEXT NOT NULL,
    pharmacy_model    TEXT,
    fte               DOUBLE PRECISION,
    annual_amount     NUMERIC(14, 2),
    requested_date    DATE NOT NULL,
    released_date     DATE,
    status            TEXT NOT NULL,
    record_updated_at TIMESTAMP NOT NULL
);

CREATE TABLE stg_survey_respondent (
    batch_id       INTEGER NOT NULL,
    row_number     INTEGER NOT NULL,
    survey_year    INTEGER NOT NULL,
    response_id    TEXT NOT NULL,
    submitted_at   TIMESTAMP,
    department     TEXT,
    pharmacy_model TEXT,
    job_family     TEXT,
    tenure_band    TEXT
);

CREATE TABLE stg_survey_answer (
    batch_id    INTEGER NOT NULL,
    row_number  INTEGER NOT NULL,
    question_id TEXT NOT NULL,
    answer      INTEGER NOT NULL
);

CREATE TABLE stg_survey_item (
    batch_id    INTEGER NOT NULL,
    row_number  INTEGER NOT NULL,
    survey_year INTEGER NOT NULL,
    question_id TEXT NOT NULL,
    dimension   TEXT NOT NULL,
    text        TEXT
);

-- Internal models (rebuilt every run; not part of the BI contract) -------------------------

CREATE TABLE int_employee_observation (
    batch_id                INTEGER NOT NULL,
    row_number              INTEGER NOT NULL,
    snapshot_date           DATE NOT NULL,
    employee_key            TEXT NOT NULL,
    spell_no                INTEGER NOT NULL,
    position_id             TEXT NOT NULL,
    job_code                TEXT NOT NULL,
    job_effective_date      DATE NOT NULL,
    department              TEXT,
    pharmacy_model          TEXT NOT NULL,
    employment_status       TEXT NOT NULL,
    fte                     DOUBLE PRECISION NOT NULL,
    spell_hire_date         DATE NOT NULL,
    spell_last_status       TEXT NOT NULL,
    spell_termination_date  DATE,
    spell_termination_type  TEXT
);

CREATE TABLE int_seat_tenure (
    employee_key   TEXT NOT NULL,
    spell_no       INTEGER NOT NULL,
    tenure_no      INTEGER NOT NULL,
    position_id    TEXT NOT NULL,
    job_code       TEXT NOT NULL,
    pharmacy_model TEXT NOT NULL,
    started_on     DATE NOT NULL,
    start_kind     TEXT NOT NULL,
    ended_on       DATE,
    end_reason     TEXT
);

-- BI contract: dimensions and facts ----------------------------------------------------------

CREATE TABLE dim_date (
    date_day  DATE PRIMARY KEY,
    year      INTEGER NOT NULL,
    quarter   INTEGER NOT NULL,
    month     INTEGER NOT NULL,
    month_end BOOLEAN NOT NULL,
    iso_week  INTEGER NOT NULL
);

CREATE TABLE dim_job (
    job_code             TEXT PRIMARY KEY,
    job_title            TEXT NOT NULL,
    job_family           TEXT NOT NULL,
    ladder_level         INTEGER,
    grade                INTEGER NOT NULL,
    created_in_expansion BOOLEAN NOT NULL
);

CREATE TABLE dim_employee (
    employee_key      TEXT NOT NULL,
    job_code          TEXT NOT NULL,
    position_id       TEXT NOT NULL,
    pharmacy_model    TEXT NOT NULL,
    department        TEXT,
    fte               DOUBLE PRECISION NOT NULL,
    employment_status TEXT NOT NULL,
    hire_date         DATE NOT NULL,
    valid_from        DATE NOT NULL,
    valid_to          DATE,
    is_current        BOOLEAN NOT NULL,
    source_batch_id   INTEGER NOT NULL,
    source_row_number INTEGER NOT NULL
);

CREATE TABLE fct_career_event (
    event_date        DATE NOT NULL,
    employee_key      TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    from_job_code     TEXT,
    to_job_code       TEXT,
    from_position_id  TEXT,
    to_position_id    TEXT,
    pharmacy_model    TEXT,
    termination_type  TEXT,
    source_batch_id   INTEGER NOT NULL,
    source_row_number INTEGER NOT NULL
);

CREATE TABLE fct_budget_release (
    release_id        TEXT PRIMARY KEY,
    position_id       TEXT NOT NULL,
    action            TEXT NOT NULL,
    job_code          TEXT NOT NULL,
    pharmacy_model    TEXT,
    fte               DOUBLE PRECISION,
    annual_amount     NUMERIC(14, 2),
    requested_date    DATE NOT NULL,
    released_date     DATE,
    status            TEXT NOT NULL,
    days_to_release   INTEGER,
    source_batch_id   INTEGER NOT NULL,
    source_row_number INTEGER NOT NULL
);

CREATE TABLE fct_vacancy (
    position_id             TEXT NOT NULL,
    job_code                TEXT,
    pharmacy_model          TEXT,
    opened_on               DATE NOT NULL,
    open_reason             TEXT NOT NULL,
    backfill_release_id     TEXT,
    budget_requested_on     DATE,
    budget_released_on      DATE,
    closed_on               DATE,
    filled_internally       BOOLEAN,
    days_to_fill            INTEGER,
    days_waiting_for_budget INTEGER
);

CREATE TABLE fct_headcount_monthly (
    month_end      DATE NOT NULL,
    job_code       TEXT NOT NULL,
    pharmacy_model TEXT NOT NULL,
    headcount      INTEGER NOT NULL,
    fte            DOUBLE PRECISION NOT NULL
);
