-- The open vacancies on as_of_date (the latest loaded roster snapshot), by job family,
-- pharmacy model and state (each also ALL). The vacancy rate, on the ALL-state rows:
-- FTE of the open vacancies being filled (recruiting or awaiting budget) over that FTE
-- plus the FTE of the group's employees not separated on as_of_date. The money awaiting
-- release: the budget asked for by the vacancies awaiting budget.
WITH open_vacancies AS (
    SELECT
        a.as_of_date,
        j.job_family,
        COALESCE(v.pharmacy_model, '(not stated)') AS pharmacy_model,
        v.state,
        COALESCE(v.fte, 0) AS fte,
        v.opened_on,
        a.as_of_date - v.opened_on AS days_open,
        CASE WHEN v.state = 'awaiting_budget' THEN v.budget_amount END AS awaiting_amount
    FROM fct_vacancy AS v
    JOIN dim_job AS j ON j.job_code = v.job_code
    CROSS JOIN int_roster_coverage AS a
    WHERE v.closed_on IS NULL AND v.opened_on <= a.as_of_date
),
grouped AS (
    SELECT
        v.as_of_date,
        {{ all_or("g.all_families", "v.job_family") }} AS job_family,
        {{ all_or("g.all_models", "v.pharmacy_model") }} AS pharmacy_model,
        {{ all_or("g.all_states", "v.state") }} AS state,
        v.fte, v.opened_on, v.days_open, v.awaiting_amount,
        CASE WHEN v.state IN ('recruiting', 'awaiting_budget') THEN v.fte ELSE 0 END
            AS fte_being_filled
    FROM open_vacancies AS v
    {{ rollups(["all_families", "all_models", "all_states"]) }}
),
staff AS (
    SELECT
        {{ all_or("g.all_families", "j.job_family") }} AS job_family,
        {{ all_or("g.all_models", "e.pharmacy_model") }} AS pharmacy_model,
        SUM(e.fte) AS fte
    FROM int_employment_period AS e
    JOIN dim_job AS j ON j.job_code = e.job_code
    CROSS JOIN int_roster_coverage AS a
    {{ rollups(["all_families", "all_models"]) }}
    WHERE {{ employed_on("e", "a.as_of_date") }}
    GROUP BY 1, 2
),
backlog AS (
    SELECT
        as_of_date, job_family, pharmacy_model, state,
        CAST(COUNT(*) AS INTEGER) AS open_vacancies,
        SUM(fte) AS open_fte,
        MIN(opened_on) AS oldest_opened_on,
        {{ days_percentile("days_open") }} AS median_days_open,
        SUM(fte_being_filled) AS fte_being_filled,
        COALESCE(SUM(awaiting_amount), 0) AS awaiting_budget_amount
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
    END AS vacancy_rate,
    CAST(b.awaiting_budget_amount AS NUMERIC(14, 2)) AS awaiting_budget_amount
FROM backlog AS b
LEFT JOIN staff AS s ON s.job_family = b.job_family AND s.pharmacy_model = b.pharmacy_model
