-- A vacancy opens when an incumbent leaves a seat (separation or move to another seat)
-- or when a new_position release is released; the next tenure that starts in the seat
-- on or after that day closes it.
WITH openings AS (
    SELECT position_id, job_code, pharmacy_model, ended_on AS opened_on,
           end_reason AS open_reason
    FROM int_seat_tenure
    WHERE ended_on IS NOT NULL
    UNION ALL
    SELECT position_id, job_code, pharmacy_model, released_date, 'new_position'
    FROM fct_budget_release
    WHERE action = 'new_position' AND status = 'released' AND released_date IS NOT NULL
),
numbered AS (
    SELECT o.*, ROW_NUMBER() OVER (ORDER BY position_id, opened_on, open_reason) AS vacancy_no
    FROM openings AS o
),
fills AS (
    SELECT
        v.vacancy_no, t.started_on, t.start_kind,
        ROW_NUMBER() OVER (
            PARTITION BY v.vacancy_no ORDER BY t.started_on, t.employee_key, t.spell_no, t.tenure_no
        ) AS fill_rank
    FROM numbered AS v
    JOIN int_seat_tenure AS t ON t.position_id = v.position_id AND t.started_on >= v.opened_on
),
filled AS (
    SELECT v.*, f.started_on AS closed_on, f.start_kind = 'internal' AS filled_internally
    FROM numbered AS v
    LEFT JOIN fills AS f ON f.vacancy_no = v.vacancy_no AND f.fill_rank = 1
),
backfills AS (
    SELECT
        v.vacancy_no, b.release_id, b.requested_date, b.released_date,
        ROW_NUMBER() OVER (PARTITION BY v.vacancy_no ORDER BY b.requested_date, b.release_id) AS pick
    FROM filled AS v
    JOIN fct_budget_release AS b
        ON b.position_id = v.position_id
        AND b.action = 'backfill'
        AND b.requested_date >= v.opened_on
        AND (v.closed_on IS NULL OR b.requested_date < v.closed_on)
)
SELECT
    v.position_id,
    v.job_code,
    v.pharmacy_model,
    v.opened_on,
    v.open_reason,
    b.release_id AS backfill_release_id,
    b.requested_date AS budget_requested_on,
    b.released_date AS budget_released_on,
    v.closed_on,
    v.filled_internally,
    v.closed_on - v.opened_on AS days_to_fill,
    b.released_date - b.requested_date AS days_waiting_for_budget
FROM filled AS v
LEFT JOIN backfills AS b ON b.vacancy_no = v.vacancy_no AND b.pick = 1
