-- Type 2 history: one row per run of unchanged employee_attributes (project.yml: job_code,
-- position_id, pharmacy_model, department, fte, employment_status) within a spell, as
-- int_employee_observation marks their changes.
-- valid_from is the change's own effective date where the roster gives one: hire_date
-- for a spell's first period, job_effective_date for a job change, termination_date
-- for a separation; otherwise the first snapshot that showed the change. Periods are
-- kept strictly increasing (a back-dated change never overlaps the period before it).
WITH starts AS (
    SELECT
        *,
        CASE
            WHEN prev_spell_no IS NULL OR spell_no <> prev_spell_no OR attributes_changed THEN 1
            ELSE 0
        END AS starts_period,
        CASE
            WHEN prev_spell_no IS NULL OR spell_no <> prev_spell_no THEN spell_hire_date
            WHEN job_changed THEN job_effective_date
            WHEN employment_status = 'terminated' AND prev_employment_status <> 'terminated'
                THEN COALESCE(spell_termination_date, snapshot_date)
            ELSE snapshot_date
        END AS effective_from
    FROM int_employee_observation
),
numbered AS (
    SELECT
        *,
        CAST(SUM(starts_period) OVER (
            PARTITION BY employee_key ORDER BY snapshot_date ROWS UNBOUNDED PRECEDING
        ) AS INTEGER) AS period_no
    FROM starts
),
periods AS (
    SELECT
        employee_key, period_no, job_code, position_id, pharmacy_model, department, fte,
        employment_status, spell_hire_date AS hire_date, effective_from,
        batch_id AS source_batch_id, row_number AS source_row_number
    FROM numbered
    WHERE starts_period = 1
),
clamped AS (
    -- valid_from(i) = max(effective_from(i), valid_from(i-1) + 1), as a running max.
    SELECT
        *,
        MAX(effective_from - period_no) OVER (
            PARTITION BY employee_key ORDER BY period_no ROWS UNBOUNDED PRECEDING
        ) + period_no AS valid_from
    FROM periods
)
SELECT
    employee_key, job_code, position_id, pharmacy_model, department, fte, employment_status,
    hire_date,
    valid_from,
    LEAD(valid_from) OVER (PARTITION BY employee_key ORDER BY period_no) AS valid_to,
    LEAD(valid_from) OVER (PARTITION BY employee_key ORDER BY period_no) IS NULL AS is_current,
    source_batch_id,
    source_row_number
FROM clamped
