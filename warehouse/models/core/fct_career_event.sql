-- Employment events read off consecutive observations of each employee.
WITH compared AS (
    SELECT
        o.*,
        ROW_NUMBER() OVER (PARTITION BY employee_key, spell_no ORDER BY snapshot_date) AS seen_in_spell,
        ROW_NUMBER() OVER (PARTITION BY employee_key, spell_no ORDER BY snapshot_date DESC) AS seen_from_end,
        LAG(job_code) OVER w AS p_job,
        LAG(position_id) OVER w AS p_position
    FROM int_employee_observation AS o
    WINDOW w AS (PARTITION BY employee_key, spell_no ORDER BY snapshot_date)
),
hires AS (
    SELECT
        spell_hire_date AS event_date, employee_key,
        CASE WHEN spell_no = 1 THEN 'hire' ELSE 'rehire' END AS event_type,
        CAST(NULL AS TEXT) AS from_job_code, job_code AS to_job_code,
        CAST(NULL AS TEXT) AS from_position_id, position_id AS to_position_id,
        pharmacy_model, CAST(NULL AS TEXT) AS termination_type,
        batch_id AS source_batch_id, row_number AS source_row_number
    FROM compared
    WHERE seen_in_spell = 1
),
job_changes AS (
    SELECT
        c.job_effective_date AS event_date, c.employee_key,
        -- A declared career path decides first (career_paths.csv), the grades after.
        CASE
            WHEN p.move_type IS NOT NULL THEN p.move_type
            WHEN t.grade > f.grade THEN 'promotion'
            WHEN t.grade < f.grade THEN 'demotion'
            ELSE 'lateral'
        END AS event_type,
        c.p_job AS from_job_code, c.job_code AS to_job_code,
        c.p_position AS from_position_id, c.position_id AS to_position_id,
        c.pharmacy_model, CAST(NULL AS TEXT) AS termination_type, c.batch_id, c.row_number
    FROM compared AS c
    JOIN dim_job AS f ON f.job_code = c.p_job
    JOIN dim_job AS t ON t.job_code = c.job_code
    LEFT JOIN int_career_path AS p ON p.from_job_code = c.p_job AND p.to_job_code = c.job_code
    WHERE c.seen_in_spell > 1 AND (c.job_code <> c.p_job OR c.position_id <> c.p_position)
),
separations AS (
    SELECT
        spell_termination_date AS event_date, employee_key, 'separation' AS event_type,
        job_code AS from_job_code, CAST(NULL AS TEXT) AS to_job_code,
        position_id AS from_position_id, CAST(NULL AS TEXT) AS to_position_id,
        pharmacy_model, spell_termination_type AS termination_type, batch_id, row_number
    FROM compared
    WHERE seen_from_end = 1 AND spell_last_status = 'terminated'
)
-- A UNION takes its column names from the first branch (hires).
SELECT * FROM hires
UNION ALL SELECT * FROM job_changes
UNION ALL SELECT * FROM separations
