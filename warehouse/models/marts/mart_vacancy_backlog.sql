-- The open vacancies on as_of_date (the latest loaded roster snapshot), by job family,
-- pharmacy model and state (each also ALL). The vacancy rate, on the ALL-state rows:
-- FTE of the open vacancies being filled (recruiting or awaiting budget) over that FTE
-- plus the FTE of the group's employees not separated on as_of_date.
WITH as_of AS (
    SELECT MAX(file_date) AS as_of_date
    FROM etl_batch
    WHERE source = 'roster' AND status = 'loaded' AND superseded_by IS NULL
),
open_vacancies AS (
    SELECT
        a.as_of_date,
        j.job_family,
        COALESCE(v.pharmacy_model, '(not stated)') AS pharmacy_model,
        v.state,
        COALESCE(v.fte, 0) AS fte,
        v.opened_on,
        a.as_of_date - v.opened_on AS days_open
    FROM fct_vacancy AS v
    JOIN dim_job AS j ON j.job_code = v.job_code
    CROSS JOIN as_of AS a
    WHERE v.closed_on IS NULL AND v.opened_on <= a.as_of_date
),
grouped AS (
    SELECT
        v.as_of_date,
        CASE WHEN g.all_families = 1 THEN 'ALL' ELSE v.job_family END AS job_family,
        CASE WHEN g.all_models = 1 THEN 'ALL' ELSE v.pharmacy_model END AS pharmacy_model,
        CASE WHEN g.all_states = 1 THEN 'ALL' ELSE v.state END AS state,
        v.fte, v.opened_on, v.days_open,
        CASE WHEN v.state IN ('recruiting', 'awaiting_budget') THEN v.fte ELSE 0 END
            AS fte_being_filled
    FROM open_vacancies AS v
    CROSS JOIN (
        VALUES (0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 1, 1),
               (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)
    ) AS g (all_families, all_models, all_states)
),
staff AS (
    SELECT
        CASE WHEN g.all_families = 1 THEN 'ALL' ELSE j.job_family END AS job_family,
        CASE WHEN g.all_models = 1 THEN 'ALL' ELSE e.pharmacy_model END AS pharmacy_model,
        SUM(e.fte) AS fte
    FROM int_employment_period AS e
    JOIN dim_job AS j ON j.job_code = e.job_code
    CROSS JOIN as_of AS a
    CROSS JOIN (VALUES (0, 0), (0, 1), (1, 0), (1, 1)) AS g (all_families, all_models)
    WHERE e.employed_from <= a.as_of_date
        AND (e.employed_until IS NULL OR e.employed_until > a.as_of_date)
    GROUP BY 1, 2
),
backlog AS (
    SELECT
        as_of_date, job_family, pharmacy_model, state,
        CAST(COUNT(*) AS INTEGER) AS open_vacancies,
        SUM(fte) AS open_fte,
        MIN(opened_on) AS oldest_opened_on,
        CAST(ROUND(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY days_open)
            AS NUMERIC(18, 6)), 1) AS NUMERIC(10, 1)) AS median_days_open,
        SUM(fte_being_filled) AS fte_being_filled
    FROM grouped
    GROUP BY as_of_date, job_family, pharmacy_model, state
)
SELECT
    b.as_of_date,
    b.job_family,
    b.pharmacy_model,
    b.state,
    b.open_vacancies,
    b.open_fte,
    b.oldest_opened_on,
    b.median_days_open,
    CASE
        WHEN b.state = 'ALL' AND b.fte_being_filled + COALESCE(s.fte, 0) > 0
            THEN b.fte_being_filled / (b.fte_being_filled + COALESCE(s.fte, 0))
    END AS vacancy_rate
FROM backlog AS b
LEFT JOIN staff AS s ON s.job_family = b.job_family AND s.pharmacy_model = b.pharmacy_model
