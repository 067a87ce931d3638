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
        MAX(CASE WHEN seen_in_spell = 1 THEN 1 ELSE 0 END) AS is_first_seat
    FROM numbered
    GROUP BY employee_key, spell_no, tenure_no
),
last_state AS (
    SELECT employee_key, spell_no, tenure_no, job_code, pharmacy_model, fte
    FROM (
        SELECT
            employee_key, spell_no, tenure_no, job_code, pharmacy_model, fte,
            ROW_NUMBER() OVER (
                PARTITION BY employee_key, spell_no, tenure_no ORDER BY snapshot_date DESC
            ) AS from_end
        FROM numbered
    ) AS ranked
    WHERE from_end = 1
),
first_row AS (
    SELECT employee_key, spell_no, tenure_no, batch_id, row_number
    FROM (
        SELECT
            employee_key, spell_no, tenure_no, batch_id, row_number,
            ROW_NUMBER() OVER (
                PARTITION BY employee_key, spell_no, tenure_no ORDER BY snapshot_date
            ) AS seen
        FROM numbered
    ) AS ranked
    WHERE seen = 1
),
termination_row AS (
    SELECT employee_key, spell_no, batch_id, row_number
    FROM (
        SELECT
            employee_key, spell_no, batch_id, row_number,
            ROW_NUMBER() OVER (PARTITION BY employee_key, spell_no ORDER BY snapshot_date) AS seen
        FROM numbered
        WHERE employment_status = 'terminated'
    ) AS ranked
    WHERE seen = 1
)
SELECT
    t.employee_key,
    t.spell_no,
    t.tenure_no,
    t.position_id,
    s.job_code,
    s.pharmacy_model,
    s.fte,
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
    f.batch_id AS first_batch_id,
    f.row_number AS first_row_number,
    CASE
        WHEN LEAD(t.started_on) OVER n IS NOT NULL THEN LEAD(f.batch_id) OVER n
        WHEN t.spell_last_status = 'terminated' THEN x.batch_id
    END AS left_batch_id,
    CASE
        WHEN LEAD(t.started_on) OVER n IS NOT NULL THEN LEAD(f.row_number) OVER n
        WHEN t.spell_last_status = 'terminated' THEN x.row_number
    END AS left_row_number
FROM tenures AS t
JOIN last_state AS s
    ON s.employee_key = t.employee_key AND s.spell_no = t.spell_no AND s.tenure_no = t.tenure_no
JOIN first_row AS f
    ON f.employee_key = t.employee_key AND f.spell_no = t.spell_no AND f.tenure_no = t.tenure_no
LEFT JOIN termination_row AS x ON x.employee_key = t.employee_key AND x.spell_no = t.spell_no
WINDOW n AS (PARTITION BY t.employee_key, t.spell_no ORDER BY t.tenure_no)
