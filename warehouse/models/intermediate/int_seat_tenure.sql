-- Who sat in which budgeted seat, and when: the basis of vacancies.
-- A tenure starts on the job_effective_date of the first observation in a seat and
-- ends when the employee moves to another seat or separates. Lineage: the first roster
-- row showing the employee in the seat, and the first showing them gone from it (their
-- row in the next seat, or the first showing the termination).
WITH compared AS (
    SELECT
        o.*,
        LAG(position_id) OVER w AS p_position,
        ROW_NUMBER() OVER w AS seen_in_spell
    FROM int_employee_observation AS o
    WINDOW w AS (PARTITION BY employee_key, spell_no ORDER BY snapshot_date)
),
numbered AS (
    SELECT
        *,
        CAST(SUM(CASE WHEN seen_in_spell = 1 OR position_id <> p_position THEN 1 ELSE 0 END) OVER (
            PARTITION BY employee_key, spell_no ORDER BY snapshot_date ROWS UNBOUNDED PRECEDING
        ) AS INTEGER) AS tenure_no
    FROM compared
),
-- Each tenure's first row, last state and its spell's first terminated row are carried
-- on every row by window functions, not joined back: PostgreSQL estimated those joins at
-- one row and nested them, far slower than DuckDB's plan (docs/benchmark.md).
described AS (
    SELECT
        *,
        FIRST_VALUE(batch_id) OVER t AS first_batch_id,
        FIRST_VALUE(row_number) OVER t AS first_row_number,
        LAST_VALUE(job_code) OVER t AS last_job_code,
        LAST_VALUE(pharmacy_model) OVER t AS last_pharmacy_model,
        LAST_VALUE(fte) OVER t AS last_fte,
        MIN(CASE WHEN employment_status = 'terminated' THEN snapshot_date END)
            OVER (PARTITION BY employee_key, spell_no) AS terminated_seen_on
    FROM numbered
    WINDOW t AS (
        PARTITION BY employee_key, spell_no, tenure_no ORDER BY snapshot_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    )
),
spell_end AS (
    SELECT
        *,
        MAX(CASE WHEN snapshot_date = terminated_seen_on THEN batch_id END) OVER sp
            AS termination_batch_id,
        MAX(CASE WHEN snapshot_date = terminated_seen_on THEN row_number END) OVER sp
            AS termination_row_number
    FROM described
    WINDOW sp AS (PARTITION BY employee_key, spell_no)
),
tenures AS (
    SELECT
        employee_key,
        spell_no,
        tenure_no,
        MIN(position_id) AS position_id,
        MIN(CASE WHEN seen_in_spell = 1 OR position_id <> p_position THEN job_effective_date END)
            AS started_on,
        MAX(snapshot_date) AS last_seen,
        MIN(spell_last_status) AS spell_last_status,
        MIN(spell_termination_date) AS spell_termination_date,
        MAX(CASE WHEN seen_in_spell = 1 THEN 1 ELSE 0 END) AS is_first_seat,
        MIN(last_job_code) AS job_code,
        MIN(last_pharmacy_model) AS pharmacy_model,
        MIN(last_fte) AS fte,
        MIN(first_batch_id) AS first_batch_id,
        MIN(first_row_number) AS first_row_number,
        MIN(termination_batch_id) AS termination_batch_id,
        MIN(termination_row_number) AS termination_row_number
    FROM spell_end
    GROUP BY employee_key, spell_no, tenure_no
)
SELECT
    t.employee_key,
    t.spell_no,
    t.tenure_no,
    t.position_id,
    t.job_code,
    t.pharmacy_model,
    t.fte,
    t.started_on,
    CASE
        WHEN t.is_first_seat = 1 AND t.spell_no = 1 THEN 'hire'
        WHEN t.is_first_seat = 1 THEN 'rehire'
        ELSE 'internal'
    END AS start_kind,
    COALESCE(
        LEAD(t.started_on) OVER n,
        CASE WHEN t.spell_last_status = 'terminated' THEN t.spell_termination_date END
    ) AS ended_on,
    CASE
        WHEN LEAD(t.started_on) OVER n IS NOT NULL THEN 'internal_move'
        WHEN t.spell_last_status = 'terminated' THEN 'separation'
    END AS end_reason,
    t.first_batch_id,
    t.first_row_number,
    CASE
        WHEN LEAD(t.started_on) OVER n IS NOT NULL THEN LEAD(t.first_batch_id) OVER n
        WHEN t.spell_last_status = 'terminated' THEN t.termination_batch_id
    END AS left_batch_id,
    CASE
        WHEN LEAD(t.started_on) OVER n IS NOT NULL THEN LEAD(t.first_row_number) OVER n
        WHEN t.spell_last_status = 'terminated' THEN t.termination_row_number
    END AS left_row_number
FROM tenures AS t
WINDOW n AS (PARTITION BY t.employee_key, t.spell_no ORDER BY t.tenure_no)
