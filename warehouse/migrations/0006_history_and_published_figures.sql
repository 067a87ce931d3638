-- rxstaff warehouse, schema version 6: corrections keep history, and every figure a run
-- published can be read back (contract v2, "Audit").

-- Rows a corrected file replaced, moved out of staging (only live rows feed the models).
-- Auditors read it; survey staging rows go to stg_replaced_row instead, which no reader
-- role or copy ever sees (a survey's answers are single persons').
CREATE TABLE etl_replaced_row (
    relation      TEXT NOT NULL,
    batch_id      INTEGER NOT NULL,
    row_number    INTEGER NOT NULL,
    superseded_by INTEGER NOT NULL,
    row_values    TEXT NOT NULL
);

CREATE TABLE stg_replaced_row (
    relation      TEXT NOT NULL,
    batch_id      INTEGER NOT NULL,
    row_number    INTEGER NOT NULL,
    superseded_by INTEGER NOT NULL,
    row_values    TEXT NOT NULL
);

-- Every mart row as each run that changed the warehouse published it.
CREATE TABLE etl_metric_snapshot (
    run_id     TEXT NOT NULL,
    relation   TEXT NOT NULL,
    row_key    TEXT NOT NULL,
    row_values TEXT NOT NULL
);

-- The figures a run changed against the snapshot before it, found as the run publishes
-- (portable: no JSON functions, which differ between DuckDB and PostgreSQL).
CREATE TABLE rxstaff_metric_change (
    run_id      TEXT NOT NULL,
    relation    TEXT NOT NULL,
    row_key     TEXT NOT NULL,
    column_name TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT
);

CREATE VIEW etl_metric_change AS
SELECT
    c.run_id,
    c.relation,
    c.row_key,
    c.column_name AS "column",
    c.old_value,
    c.new_value,
    (SELECT string_agg(CAST(b.batch_id AS TEXT), ',' ORDER BY b.batch_id)
       FROM etl_batch b
      WHERE b.run_id = c.run_id AND b.status = 'loaded') AS loaded_batches,
    (SELECT string_agg(CAST(o.batch_id AS TEXT), ',' ORDER BY o.batch_id)
       FROM etl_batch o JOIN etl_batch n ON o.superseded_by = n.batch_id
      WHERE n.run_id = c.run_id) AS superseded_batches
FROM rxstaff_metric_change c;
