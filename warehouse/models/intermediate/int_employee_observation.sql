-- Every run of identical roster snapshots (int_roster_change), with its employment spell
-- and what changed since the employee's run before: the one place a change of roster
-- columns is found (the employee_attributes of project.yml; the job: job_code or seat).
-- A new spell starts at the first sight of an employee, or when a later hire_date
-- follows a separation (or lies after the previous snapshot): a rehire. A hire_date
-- that changes without either is an HR correction of the same spell.
WITH ordered AS (
    SELECT
        r.*,
        LAG(last_seen) OVER w AS prev_snapshot_date,
        LAG(hire_date) OVER w AS prev_hire_date,
        LAG(employment_status) OVER w AS prev_status,
        LAG(termination_date) OVER w AS prev_termination_date,
        LAG(job_effective_date) OVER w AS prev_job_effective_date,
        LAG(snapshot_date) OVER w IS NULL
        {%- for column in employee_attributes %}
            OR {{ column }} IS DISTINCT FROM LAG({{ column }}) OVER w
        {%- endfor %} AS attributes_changed,
        LAG(snapshot_date) OVER w IS NULL
            OR job_code IS DISTINCT FROM LAG(job_code) OVER w
            OR position_id IS DISTINCT FROM LAG(position_id) OVER w AS job_changed
    FROM int_roster_change AS r
    WINDOW w AS (PARTITION BY employee_key ORDER BY snapshot_date)
),
flagged AS (
    SELECT
        *,
        CASE
            WHEN prev_snapshot_date IS NULL THEN 1
            WHEN hire_date > prev_hire_date
                AND (hire_date > prev_snapshot_date
                     OR (prev_status = 'terminated' AND hire_date > prev_termination_date)) THEN 1
            ELSE 0
        END AS starts_spell
    FROM ordered
),
spells AS (
    SELECT
        *,
        CAST(SUM(starts_spell) OVER (
            PARTITION BY employee_key ORDER BY snapshot_date ROWS UNBOUNDED PRECEDING
        ) AS INTEGER) AS spell_no
    FROM flagged
)
SELECT
    batch_id,
    row_number,
    snapshot_date,
    employee_key,
    spell_no,
    position_id,
    job_code,
    job_effective_date,
    department,
    pharmacy_model,
    employment_status,
    fte,
    LAST_VALUE(hire_date) OVER s AS spell_hire_date,
    LAST_VALUE(employment_status) OVER s AS spell_last_status,
    LAST_VALUE(termination_date) OVER s AS spell_termination_date,
    LAST_VALUE(termination_type) OVER s AS spell_termination_type,
    last_seen,
    attributes_changed,
    job_changed,
    prev_job_effective_date,
    LAG(spell_no) OVER o AS prev_spell_no,
    prev_status AS prev_employment_status
FROM spells
WINDOW
    s AS (
        PARTITION BY employee_key, spell_no ORDER BY snapshot_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ),
    o AS (PARTITION BY employee_key ORDER BY snapshot_date)
