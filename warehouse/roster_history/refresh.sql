-- Rebuild the compressed roster history from every staged snapshot (a correction or an
-- older snapshot arrived, or the table is new). Consecutive snapshots of an employee that
-- agree on every column below are one row, from its first snapshot to last_seen.
-- One pass over the staged rows marks where each run starts and ends (LAG and LEAD);
-- only those rows are paired up, so no second window, grouping or join touches every
-- snapshot (17.5 s -> 11.5 s for 13M rows on DuckDB).
DELETE FROM int_roster_change;

INSERT INTO int_roster_change
WITH marked AS (
    SELECT
        r.*,
        LAG(snapshot_date) OVER w IS NULL
            OR position_id IS DISTINCT FROM LAG(position_id) OVER w
            OR job_code IS DISTINCT FROM LAG(job_code) OVER w
            OR job_effective_date IS DISTINCT FROM LAG(job_effective_date) OVER w
            OR department IS DISTINCT FROM LAG(department) OVER w
            OR pharmacy_model IS DISTINCT FROM LAG(pharmacy_model) OVER w
            OR employment_status IS DISTINCT FROM LAG(employment_status) OVER w
            OR hire_date IS DISTINCT FROM LAG(hire_date) OVER w
            OR termination_date IS DISTINCT FROM LAG(termination_date) OVER w
            OR termination_type IS DISTINCT FROM LAG(termination_type) OVER w
            OR fte IS DISTINCT FROM LAG(fte) OVER w AS starts_run,
        LEAD(snapshot_date) OVER w IS NULL
            OR position_id IS DISTINCT FROM LEAD(position_id) OVER w
            OR job_code IS DISTINCT FROM LEAD(job_code) OVER w
            OR job_effective_date IS DISTINCT FROM LEAD(job_effective_date) OVER w
            OR department IS DISTINCT FROM LEAD(department) OVER w
            OR pharmacy_model IS DISTINCT FROM LEAD(pharmacy_model) OVER w
            OR employment_status IS DISTINCT FROM LEAD(employment_status) OVER w
            OR hire_date IS DISTINCT FROM LEAD(hire_date) OVER w
            OR termination_date IS DISTINCT FROM LEAD(termination_date) OVER w
            OR termination_type IS DISTINCT FROM LEAD(termination_type) OVER w
            OR fte IS DISTINCT FROM LEAD(fte) OVER w AS ends_run
    FROM stg_roster AS r
    WINDOW w AS (PARTITION BY employee_key ORDER BY snapshot_date)
),
bounds AS (
    SELECT
        *,
        CASE
            WHEN ends_run THEN snapshot_date
            ELSE LEAD(snapshot_date) OVER (PARTITION BY employee_key ORDER BY snapshot_date)
        END AS last_seen
    FROM marked
    WHERE starts_run OR ends_run
)
SELECT
    batch_id, row_number, snapshot_date, last_seen, employee_key, position_id,
    job_code, job_effective_date, department, pharmacy_model, employment_status,
    hire_date, termination_date, termination_type, fte
FROM bounds
WHERE starts_run;
