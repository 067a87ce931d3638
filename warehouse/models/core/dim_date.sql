-- One row per day, from 1 January of the earliest date in the data to 31 December of
-- the latest, so every fact's date joins.
WITH bounds AS (
    SELECT MIN(d) AS first_day, MAX(d) AS last_day
    FROM (
        SELECT MIN(hire_date) AS d FROM int_roster_change
        UNION ALL SELECT MAX(last_seen) FROM int_roster_change
        UNION ALL SELECT MAX(termination_date) FROM int_roster_change
        UNION ALL SELECT MAX(job_effective_date) FROM int_roster_change
        UNION ALL SELECT MIN(requested_date) FROM stg_budget_release
        UNION ALL SELECT MAX(requested_date) FROM stg_budget_release
        UNION ALL SELECT MAX(released_date) FROM stg_budget_release
        UNION ALL SELECT CAST(MIN(submitted_at) AS DATE) FROM stg_survey_respondent
        UNION ALL SELECT CAST(MAX(submitted_at) AS DATE) FROM stg_survey_respondent
    ) AS all_dates
),
days AS (
    SELECT CAST(g.day AS DATE) AS date_day
    FROM bounds,
        generate_series(
            CAST(CAST(EXTRACT(YEAR FROM first_day) AS INTEGER) || '-01-01' AS DATE),
            CAST(CAST(EXTRACT(YEAR FROM last_day) AS INTEGER) || '-12-31' AS DATE),
            INTERVAL '1 day'
        ) AS g(day)
    WHERE first_day IS NOT NULL
)
SELECT
    date_day,
    CAST(EXTRACT(YEAR FROM date_day) AS INTEGER) AS year,
    CAST(EXTRACT(QUARTER FROM date_day) AS INTEGER) AS quarter,
    CAST(EXTRACT(MONTH FROM date_day) AS INTEGER) AS month,
    EXTRACT(MONTH FROM date_day + 1) <> EXTRACT(MONTH FROM date_day) AS month_end,
    CAST(EXTRACT(WEEK FROM date_day) AS INTEGER) AS iso_week
FROM days
