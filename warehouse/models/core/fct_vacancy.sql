-- One row per vacancy of a seat (warehouse.md v2, fct_vacancy).
-- A vacancy opens when an incumbent leaves a seat (separation or move to another seat)
-- or when a new_position release is released; the next tenure that starts in the seat
-- on or after that day closes it. Its requests: the backfill releases of the seat
-- requested from 30 days before it opened (the notice period) until it closed, each
-- claimed by the earliest vacancy whose window holds it; a new seat's request is its own
-- release. Ties on a date go to the lower release_id.
WITH released_rows AS (
    -- The first loaded row that shows a release released: a new seat's opening row.
    SELECT release_id, batch_id, row_number
    FROM (
        SELECT
            release_id, batch_id, row_number,
            ROW_NUMBER() OVER (
                PARTITION BY release_id ORDER BY record_updated_at, file_date, batch_id, row_number
            ) AS seen
        FROM stg_budget_release
        WHERE status = 'released'
    ) AS ranked
    WHERE seen = 1
),
openings AS (
    SELECT
        position_id, job_code, pharmacy_model, fte, ended_on AS opened_on,
        end_reason AS open_reason, CAST(NULL AS TEXT) AS own_release_id,
        left_batch_id AS opened_batch_id, left_row_number AS opened_row_number
    FROM int_seat_tenure
    WHERE ended_on IS NOT NULL
    UNION ALL
    SELECT
        b.position_id, b.job_code, b.pharmacy_model, b.fte, b.released_date, 'new_position',
        b.release_id, r.batch_id, r.row_number
    FROM fct_budget_release AS b
    LEFT JOIN released_rows AS r ON r.release_id = b.release_id
    WHERE b.action = 'new_position' AND b.status = 'released' AND b.released_date IS NOT NULL
),
numbered AS (
    SELECT o.*, ROW_NUMBER() OVER (ORDER BY position_id, opened_on, open_reason) AS vacancy_no
    FROM openings AS o
),
fills AS (
    SELECT
        v.vacancy_no, t.started_on, t.start_kind, t.first_batch_id, t.first_row_number,
        ROW_NUMBER() OVER (
            PARTITION BY v.vacancy_no ORDER BY t.started_on, t.employee_key, t.spell_no, t.tenure_no
        ) AS fill_rank
    FROM numbered AS v
    JOIN int_seat_tenure AS t ON t.position_id = v.position_id AND t.started_on >= v.opened_on
),
filled AS (
    SELECT
        v.*,
        f.started_on AS closed_on,
        f.start_kind = 'internal' AS filled_internally,
        f.first_batch_id AS closed_batch_id,
        f.first_row_number AS closed_row_number
    FROM numbered AS v
    LEFT JOIN fills AS f ON f.vacancy_no = v.vacancy_no AND f.fill_rank = 1
),
claims AS (
    SELECT
        v.vacancy_no, b.release_id, b.requested_date, b.released_date, b.status,
        ROW_NUMBER() OVER (PARTITION BY b.release_id ORDER BY v.opened_on, v.vacancy_no) AS claim
    FROM filled AS v
    JOIN fct_budget_release AS b
        ON b.position_id = v.position_id
        AND b.action = 'backfill'
        AND v.open_reason <> 'new_position'
        AND b.requested_date >= v.opened_on - 30
        AND (v.closed_on IS NULL OR b.requested_date < v.closed_on)
),
requests AS (
    SELECT vacancy_no, release_id, requested_date, released_date, status
    FROM claims
    WHERE claim = 1
    UNION ALL
    SELECT v.vacancy_no, b.release_id, b.requested_date, b.released_date, b.status
    FROM filled AS v
    JOIN fct_budget_release AS b ON b.release_id = v.own_release_id
),
ranked AS (
    SELECT
        r.*,
        ROW_NUMBER() OVER (
            PARTITION BY vacancy_no
            ORDER BY CASE WHEN status = 'released' THEN 0 ELSE 1 END, released_date, release_id
        ) AS release_rank,
        ROW_NUMBER() OVER (PARTITION BY vacancy_no ORDER BY requested_date, release_id)
            AS request_rank,
        ROW_NUMBER() OVER (PARTITION BY vacancy_no ORDER BY requested_date DESC, release_id)
            AS recency
    FROM requests AS r
),
budget AS (
    SELECT
        vacancy_no,
        MIN(requested_date) AS budget_requested_on,
        MIN(CASE WHEN status = 'released' THEN released_date END) AS budget_released_on,
        COALESCE(
            MAX(CASE WHEN release_rank = 1 AND status = 'released' THEN release_id END),
            MAX(CASE WHEN request_rank = 1 THEN release_id END)
        ) AS backfill_release_id,
        CAST(COUNT(*) AS INTEGER) AS budget_requests,
        CAST(SUM(CASE WHEN status = 'denied' THEN 1 ELSE 0 END) AS INTEGER) AS budget_denials,
        MAX(CASE WHEN status = 'released' THEN 1 ELSE 0 END) AS any_released,
        MAX(CASE WHEN status = 'requested' THEN 1 ELSE 0 END) AS any_pending,
        MAX(CASE WHEN recency = 1 THEN status END) AS last_status
    FROM ranked
    GROUP BY vacancy_no
)
SELECT
    v.position_id || '@' || CAST(v.opened_on AS TEXT) AS vacancy_id,
    v.position_id,
    v.job_code,
    v.pharmacy_model,
    v.fte,
    v.opened_on,
    v.open_reason,
    b.budget_requested_on,
    b.budget_released_on,
    b.backfill_release_id,
    a.annual_amount AS budget_amount,
    COALESCE(b.budget_requests, 0) AS budget_requests,
    COALESCE(b.budget_denials, 0) AS budget_denials,
    v.closed_on,
    v.filled_internally,
    CASE
        WHEN v.closed_on IS NOT NULL THEN 'filled'
        WHEN b.any_released = 1 THEN 'recruiting'
        WHEN b.any_pending = 1 THEN 'awaiting_budget'
        WHEN b.last_status IN ('denied', 'withdrawn') THEN b.last_status
        ELSE 'no_request'
    END AS state,
    v.closed_on - v.opened_on AS days_to_fill,
    CASE
        WHEN v.open_reason <> 'new_position' THEN b.budget_requested_on - v.opened_on
    END AS days_to_request,
    b.budget_released_on - b.budget_requested_on AS days_waiting_for_budget,
    CASE
        WHEN v.open_reason = 'new_position' THEN v.closed_on - v.opened_on
        ELSE v.closed_on - b.budget_released_on
    END AS days_release_to_fill,
    v.opened_batch_id,
    v.opened_row_number,
    v.closed_batch_id,
    v.closed_row_number
FROM filled AS v
LEFT JOIN budget AS b ON b.vacancy_no = v.vacancy_no
LEFT JOIN fct_budget_release AS a ON a.release_id = b.backfill_release_id
