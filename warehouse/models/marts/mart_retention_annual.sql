-- Annual turnover, retention and mobility by job family and pharmacy model (each also
-- ALL). An employee counts in the group held on the day measured: the cohort by its group
-- on 31 December before the year, separations and promotions by the job left.
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
    -- who was employed on a given day, in which family and model
    SELECT
        d.year, d.start_day, d.end_day, e.employee_key, j.job_family, e.pharmacy_model,
        e.employed_from, e.employed_until
    FROM days AS d
    JOIN int_employment_period AS e
        ON e.employed_from <= d.end_day
        AND (e.employed_until IS NULL OR e.employed_until > d.start_day)
    JOIN dim_job AS j ON j.job_code = e.job_code
),
cohort AS (
    SELECT DISTINCT year, employee_key, job_family, pharmacy_model
    FROM employed
    WHERE employed_from <= start_day AND (employed_until IS NULL OR employed_until > start_day)
),
still_employed AS (
    SELECT DISTINCT year, employee_key
    FROM employed
    WHERE employed_from <= end_day AND (employed_until IS NULL OR employed_until > end_day)
),
cohort_outcome AS (
    SELECT
        c.year, c.job_family, c.pharmacy_model,
        CAST(COUNT(*) AS INTEGER) AS start_headcount,
        CAST(COUNT(s.employee_key) AS INTEGER) AS retained
    FROM cohort AS c
    LEFT JOIN still_employed AS s ON s.year = c.year AND s.employee_key = c.employee_key
    GROUP BY c.year, c.job_family, c.pharmacy_model
),
monthly AS (
    SELECT
        CAST(EXTRACT(YEAR FROM h.month_end) AS INTEGER) AS year, j.job_family, h.pharmacy_model,
        SUM(h.headcount) AS headcount_sum
    FROM fct_headcount_monthly AS h
    JOIN dim_job AS j ON j.job_code = h.job_code
    GROUP BY CAST(EXTRACT(YEAR FROM h.month_end) AS INTEGER), j.job_family, h.pharmacy_model
),
event_context AS (
    -- Each separation and promotion with the period before it: the model of the job
    -- left and the hire_date of the employment a separation ends.
    SELECT
        ev.employee_key, ev.event_date, ev.event_type, ev.from_job_code, ev.termination_type,
        COALESCE(e.pharmacy_model, ev.pharmacy_model) AS from_model,
        e.hire_date,
        ROW_NUMBER() OVER (
            PARTITION BY ev.employee_key, ev.event_date, ev.event_type ORDER BY e.valid_from DESC
        ) AS pick
    FROM fct_career_event AS ev
    LEFT JOIN dim_employee AS e
        ON e.employee_key = ev.employee_key AND e.valid_from < ev.event_date
    WHERE ev.event_type IN ('separation', 'promotion')
),
moves AS (
    SELECT
        CAST(EXTRACT(YEAR FROM c.event_date) AS INTEGER) AS year, j.job_family,
        c.from_model AS pharmacy_model,
        CAST(SUM(CASE WHEN c.event_type = 'separation' THEN 1 ELSE 0 END) AS INTEGER)
            AS separations,
        CAST(SUM(
            CASE
                WHEN c.event_type = 'separation'
                    AND c.termination_type IN ('voluntary', 'retirement') THEN 1
                ELSE 0
            END
        ) AS INTEGER) AS voluntary_separations,
        CAST(SUM(
            CASE
                WHEN c.event_type = 'separation' AND c.event_date - c.hire_date < 365 THEN 1
                ELSE 0
            END
        ) AS INTEGER) AS first_year_separations,
        CAST(SUM(CASE WHEN c.event_type = 'promotion' THEN 1 ELSE 0 END) AS INTEGER)
            AS promotions
    FROM event_context AS c
    JOIN dim_job AS j ON j.job_code = c.from_job_code
    WHERE c.pick = 1
    GROUP BY CAST(EXTRACT(YEAR FROM c.event_date) AS INTEGER), j.job_family, c.from_model
),
groups AS (
    SELECT year, job_family, pharmacy_model FROM cohort_outcome
    UNION SELECT year, job_family, pharmacy_model FROM monthly
    UNION SELECT year, job_family, pharmacy_model FROM moves
),
by_group AS (
    SELECT
        g.year,
        g.job_family,
        g.pharmacy_model,
        COALESCE(c.start_headcount, 0) AS start_headcount,
        COALESCE(c.retained, 0) AS retained,
        COALESCE(m.headcount_sum, 0) AS headcount_sum,
        COALESCE(v.separations, 0) AS separations,
        COALESCE(v.voluntary_separations, 0) AS voluntary_separations,
        COALESCE(v.first_year_separations, 0) AS first_year_separations,
        COALESCE(v.promotions, 0) AS promotions
    FROM groups AS g
    JOIN years AS y ON y.year = g.year
    LEFT JOIN cohort_outcome AS c
        ON c.year = g.year AND c.job_family = g.job_family AND c.pharmacy_model = g.pharmacy_model
    LEFT JOIN monthly AS m
        ON m.year = g.year AND m.job_family = g.job_family AND m.pharmacy_model = g.pharmacy_model
    LEFT JOIN moves AS v
        ON v.year = g.year AND v.job_family = g.job_family AND v.pharmacy_model = g.pharmacy_model
),
rolled_up AS (
    SELECT
        b.year,
        CASE WHEN r.all_families = 1 THEN 'ALL' ELSE b.job_family END AS job_family,
        CASE WHEN r.all_models = 1 THEN 'ALL' ELSE b.pharmacy_model END AS pharmacy_model,
        SUM(b.start_headcount) AS start_headcount,
        SUM(b.retained) AS retained,
        SUM(b.headcount_sum) AS headcount_sum,
        SUM(b.separations) AS separations,
        SUM(b.voluntary_separations) AS voluntary_separations,
        SUM(b.first_year_separations) AS first_year_separations,
        SUM(b.promotions) AS promotions
    FROM by_group AS b
    CROSS JOIN (VALUES (0, 0), (0, 1), (1, 0), (1, 1)) AS r (all_families, all_models)
    GROUP BY 1, 2, 3
)
SELECT
    t.year,
    t.job_family,
    t.pharmacy_model,
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
        THEN CAST(t.retained AS DOUBLE PRECISION) / t.start_headcount END AS retention_rate,
    CAST(t.promotions AS INTEGER) AS promotions,
    CASE WHEN t.headcount_sum > 0
        THEN CAST(t.promotions AS DOUBLE PRECISION) * y.month_ends / t.headcount_sum END
        AS promotion_rate,
    CAST(t.first_year_separations AS INTEGER) AS first_year_separations
FROM rolled_up AS t
JOIN years AS y ON y.year = t.year
