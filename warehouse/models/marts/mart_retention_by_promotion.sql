-- Do promoted people stay? (warehouse.md v3) Each retention year's cohort, as in
-- mart_retention_annual (int_retention_cohort), split by whether the employee was
-- promoted in the 24 months up to the start day, by job family (and ALL). Where the data
-- began less than 24 months before the start day, earlier promotions are unknown:
-- lookback_complete says so.
WITH promoted AS (
    SELECT DISTINCT c.year, c.employee_key
    FROM int_retention_cohort AS c
    JOIN fct_career_event AS e
        ON e.employee_key = c.employee_key
        AND e.event_type = 'promotion'
        AND e.event_date > c.start_day - 730
        AND e.event_date <= c.start_day
),
cohort AS (
    SELECT c.*, p.employee_key IS NOT NULL AS promoted_last_24m
    FROM int_retention_cohort AS c
    LEFT JOIN promoted AS p ON p.year = c.year AND p.employee_key = c.employee_key
),
counted AS (
    SELECT
        c.year,
        c.start_day,
        {{ all_or("g.all_families", "c.job_family") }} AS job_family,
        c.promoted_last_24m,
        CAST(COUNT(*) AS INTEGER) AS start_headcount,
        CAST(SUM(CASE WHEN c.retained THEN 1 ELSE 0 END) AS INTEGER) AS retained
    FROM cohort AS c
    {{ rollups(["all_families"]) }}
    GROUP BY 1, 2, 3, 4
)
SELECT
    c.year,
    c.job_family,
    c.promoted_last_24m,
    c.start_headcount,
    c.retained,
    CAST(c.retained AS DOUBLE PRECISION) / c.start_headcount AS retention_rate,
    r.first_snapshot_date <= c.start_day - 730 AS lookback_complete
FROM counted AS c
CROSS JOIN int_roster_coverage AS r
