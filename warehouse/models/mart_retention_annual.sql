-- Annual turnover and retention by job family and ALL.
-- Years are those with month ends in fct_headcount_monthly. In the current year the
-- average runs over the month ends known so far and retention is measured on the latest
-- snapshot date (docs/decisions.md).
WITH coverage AS (
    SELECT MAX(last_seen) AS last_snapshot FROM int_roster_change
),
years AS (
    SELECT
        CAST(EXTRACT(YEAR FROM month_end) AS INTEGER) AS year,
        CAST(COUNT(DISTINCT month_end) AS INTEGER) AS month_ends
    FROM fct_headcount_monthly
    GROUP BY CAST(EXTRACT(YEAR FROM month_end) AS INTEGER)
),
days AS (
    SELECT
        y.year,
        y.month_ends,
        CAST(CAST(y.year - 1 AS TEXT) || '-12-31' AS DATE) AS start_day,
        CASE
            WHEN CAST(CAST(y.year AS TEXT) || '-12-31' AS DATE) < c.last_snapshot
                THEN CAST(CAST(y.year AS TEXT) || '-12-31' AS DATE)
            ELSE c.last_snapshot
        END AS end_day
    FROM years AS y, coverage AS c
),
employed AS (
    -- who was employed on a given day, in which family
    SELECT d.year, d.start_day, d.end_day, e.employee_key, j.job_family, e.valid_from, e.valid_to
    FROM days AS d
    JOIN dim_employee AS e
        ON e.employment_status <> 'terminated'
        AND e.valid_from <= d.end_day
        AND (e.valid_to IS NULL OR e.valid_to > d.start_day)
    JOIN dim_job AS j ON j.job_code = e.job_code
),
cohort AS (
    SELECT DISTINCT year, employee_key, job_family
    FROM employed
    WHERE valid_from <= start_day AND (valid_to IS NULL OR valid_to > start_day)
),
still_employed AS (
    SELECT DISTINCT year, employee_key
    FROM employed
    WHERE valid_from <= end_day AND (valid_to IS NULL OR valid_to > end_day)
),
cohort_outcome AS (
    SELECT c.year, c.job_family,
           CAST(COUNT(*) AS INTEGER) AS start_headcount,
           CAST(COUNT(s.employee_key) AS INTEGER) AS retained
    FROM cohort AS c
    LEFT JOIN still_employed AS s ON s.year = c.year AND s.employee_key = c.employee_key
    GROUP BY c.year, c.job_family
),
monthly AS (
    SELECT CAST(EXTRACT(YEAR FROM h.month_end) AS INTEGER) AS year, j.job_family,
           SUM(h.headcount) AS headcount_sum
    FROM fct_headcount_monthly AS h
    JOIN dim_job AS j ON j.job_code = h.job_code
    GROUP BY CAST(EXTRACT(YEAR FROM h.month_end) AS INTEGER), j.job_family
),
leavers AS (
    SELECT CAST(EXTRACT(YEAR FROM ev.event_date) AS INTEGER) AS year, j.job_family,
           CAST(COUNT(*) AS INTEGER) AS separations,
           CAST(SUM(CASE WHEN ev.termination_type IN ('voluntary', 'retirement') THEN 1 ELSE 0 END)
                AS INTEGER) AS voluntary_separations
    FROM fct_career_event AS ev
    JOIN dim_job AS j ON j.job_code = ev.from_job_code
    WHERE ev.event_type = 'separation'
    GROUP BY CAST(EXTRACT(YEAR FROM ev.event_date) AS INTEGER), j.job_family
),
families AS (
    SELECT year, job_family FROM cohort_outcome
    UNION SELECT year, job_family FROM monthly
    UNION SELECT year, job_family FROM leavers
),
by_family AS (
    SELECT
        f.year,
        f.job_family,
        COALESCE(c.start_headcount, 0) AS start_headcount,
        COALESCE(c.retained, 0) AS retained,
        COALESCE(m.headcount_sum, 0) AS headcount_sum,
        COALESCE(l.separations, 0) AS separations,
        COALESCE(l.voluntary_separations, 0) AS voluntary_separations
    FROM families AS f
    JOIN years AS y ON y.year = f.year
    LEFT JOIN cohort_outcome AS c ON c.year = f.year AND c.job_family = f.job_family
    LEFT JOIN monthly AS m ON m.year = f.year AND m.job_family = f.job_family
    LEFT JOIN leavers AS l ON l.year = f.year AND l.job_family = f.job_family
),
with_total AS (
    SELECT * FROM by_family
    UNION ALL
    SELECT year, 'ALL', SUM(start_headcount), SUM(retained), SUM(headcount_sum),
           SUM(separations), SUM(voluntary_separations)
    FROM by_family
    GROUP BY year
)
SELECT
    t.year,
    t.job_family,
    CAST(t.start_headcount AS INTEGER) AS start_headcount,
    CAST(t.headcount_sum AS DOUBLE PRECISION) / y.month_ends AS avg_headcount,
    CAST(t.separations AS INTEGER) AS separations,
    CAST(t.voluntary_separations AS INTEGER) AS voluntary_separations,
    CASE WHEN t.headcount_sum > 0
        THEN CAST(t.separations AS DOUBLE PRECISION) * y.month_ends / t.headcount_sum END
        AS turnover_rate,
    CASE WHEN t.headcount_sum > 0
        THEN CAST(t.voluntary_separations AS DOUBLE PRECISION) * y.month_ends / t.headcount_sum END
        AS voluntary_turnover_rate,
    CASE WHEN t.start_headcount > 0
        THEN CAST(t.retained AS DOUBLE PRECISION) / t.start_headcount END AS retention_rate
FROM with_total AS t
JOIN years AS y ON y.year = t.year
