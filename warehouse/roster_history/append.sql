-- Add one snapshot later than everything loaded (:snapshot_date): an employee whose
-- latest run it repeats extends that run; anyone else starts a new run. Touches only the
-- night's rows and each employee's latest run, whatever the years already loaded.
UPDATE int_roster_change AS c
SET last_seen = n.snapshot_date
FROM (
    SELECT employee_key, MAX(snapshot_date) AS latest
    FROM int_roster_change
    GROUP BY employee_key
) AS l, stg_roster AS n
WHERE c.employee_key = l.employee_key
  AND c.snapshot_date = l.latest
  AND n.snapshot_date = :snapshot_date
  AND n.employee_key = c.employee_key
  AND n.position_id IS NOT DISTINCT FROM c.position_id
  AND n.job_code IS NOT DISTINCT FROM c.job_code
  AND n.job_effective_date IS NOT DISTINCT FROM c.job_effective_date
  AND n.department IS NOT DISTINCT FROM c.department
  AND n.pharmacy_model IS NOT DISTINCT FROM c.pharmacy_model
  AND n.employment_status IS NOT DISTINCT FROM c.employment_status
  AND n.hire_date IS NOT DISTINCT FROM c.hire_date
  AND n.termination_date IS NOT DISTINCT FROM c.termination_date
  AND n.termination_type IS NOT DISTINCT FROM c.termination_type
  AND n.fte IS NOT DISTINCT FROM c.fte;

INSERT INTO int_roster_change
SELECT
    n.batch_id, n.row_number, n.snapshot_date, n.snapshot_date, n.employee_key, n.position_id,
    n.job_code, n.job_effective_date, n.department, n.pharmacy_model, n.employment_status,
    n.hire_date, n.termination_date, n.termination_type, n.fte
FROM stg_roster AS n
LEFT JOIN int_roster_change AS c
    ON c.employee_key = n.employee_key AND c.last_seen = n.snapshot_date
WHERE n.snapshot_date = :snapshot_date AND c.employee_key IS NULL;
