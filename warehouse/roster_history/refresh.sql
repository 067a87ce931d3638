-- Rebuild the compressed roster history from every staged snapshot (a correction or an
-- older snapshot arrived, or the table is new). Consecutive snapshots of an employee that
-- agree on every column below are one row, from its first snapshot to last_seen.
DELETE FROM int_roster_change;

INSERT INTO int_roster_change
WITH flagged AS (
    SELECT
        r.*,
        CASE
            WHEN LAG(snapshot_date) OVER w IS NULL THEN 1
            WHEN position_id IS DISTINCT FROM LAG(position_id) OVER w
                OR job_code IS DISTINCT FROM LAG(job_code) OVER w
                OR job_effective_date IS DISTINCT FROM LAG(job_effective_date) OVER w
                OR department IS DISTINCT FROM LAG(department) OVER w
                OR pharmacy_model IS DISTINCT FROM LAG(pharmacy_model) OVER w
                OR employment_status IS DISTINCT FROM LAG(employment_status) OVER w
                OR hire_date IS DISTINCT FROM LAG(hire_date) OVER w
                OR termination_date IS DISTINCT FROM LAG(termination_date) OVER w
                OR termination_type IS DISTINCT FROM LAG(termination_type) OVER w
                OR fte IS DISTINCT FROM LAG(fte) OVER w THEN 1
            ELSE 0
        END AS starts_run
    FROM stg_roster AS r
    WINDOW w AS (PARTITION BY employee_key ORDER BY snapshot_date)
),
runs AS (
    SELECT
        *,
        SUM(starts_run) OVER (
            PARTITION BY employee_key ORDER BY snapshot_date ROWS UNBOUNDED PRECEDING
        ) AS run_no
    FROM flagged
),
ends AS (
    SELECT employee_key, run_no, MAX(snapshot_date) AS last_seen
    FROM runs
    GROUP BY employee_key, run_no
)
SELECT
    s.batch_id, s.row_number, s.snapshot_date, e.last_seen, s.employee_key, s.position_id,
    s.job_code, s.job_effective_date, s.department, s.pharmacy_model, s.employment_status,
    s.hire_date, s.termination_date, s.termination_type, s.fte
FROM runs AS s
JOIN ends AS e ON e.employee_key = s.employee_key AND e.run_no = s.run_no
WHERE s.starts_run = 1;
