-- Annual turnover, retention, hiring and mobility by job family and pharmacy model (each
-- also ALL). An employee counts in the group held on the day measured: the cohort by its
-- group on 31 December before the year, separations and promotions by the job left,
-- hires by the job entered. Years are those of int_retention_year (month ends known, a
-- start day the data saw). In the current year the average runs over the month ends
-- known so far and retention is measured on the latest snapshot date.
WITH years AS (
    SELECT year, month_ends FROM int_retention_year
),
cohort_outcome AS (
    SELECT
        year, job_family, pharmacy_model,
        CAST(COUNT(*) AS INTEGER) AS start_headcount,
        CAST(SUM(CASE WHEN retained THEN 1 ELSE 0 END) AS INTEGER) AS retained
    FROM int_retention_cohort
    GROUP BY year, job_family, pharmacy_model
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
hires AS (
    SELECT
        CAST(EXTRACT(YEAR FROM ev.event_date) AS INTEGER) AS year, j.job_family,
        ev.pharmacy_model, CAST(COUNT(*) AS INTEGER) AS hires
    FROM fct_career_event AS ev
    JOIN dim_job AS j ON j.job_code = ev.to_job_code
    WHERE ev.event_type IN ('hire', 'rehire')
    GROUP BY CAST(EXTRACT(YEAR FROM ev.event_date) AS INTEGER), j.job_family, ev.pharmacy_model
),
groups AS (
    SELECT year, job_family, pharmacy_model FROM cohort_outcome
    UNION SELECT year, job_family, pharmacy_model FROM monthly
    UNION SELECT year, job_family, pharmacy_model FROM moves
    UNION SELECT year, job_family, pharmacy_model FROM hires
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
        COALESCE(v.promotions, 0) AS promotions,
        COALESCE(h.hires, 0) AS hires
    FROM groups AS g
    JOIN years AS y ON y.year = g.year
    LEFT JOIN cohort_outcome AS c
        ON c.year = g.year AND c.job_family = g.job_family AND c.pharmacy_model = g.pharmacy_model
    LEFT JOIN monthly AS m
        ON m.year = g.year AND m.job_family = g.job_family AND m.pharmacy_model = g.pharmacy_model
    LEFT JOIN moves AS v
        ON v.year = g.year AND v.job_family = g.job_family AND v.pharmacy_model = g.pharmacy_model
    LEFT JOIN hires AS h
        ON h.year = g.year AND h.job_family = g.job_family AND h.pharmacy_model = g.pharmacy_model
),
rolled_up AS (
    SELECT
        b.year,
        {{ all_or("r.all_families", "b.job_family") }} AS job_family,
        {{ all_or("r.all_models", "b.pharmacy_model") }} AS pharmacy_model,
        SUM(b.start_headcount) AS start_headcount,
        SUM(b.retained) AS retained,
        SUM(b.headcount_sum) AS headcount_sum,
        SUM(b.separations) AS separations,
        SUM(b.voluntary_separations) AS voluntary_separations,
        SUM(b.first_year_separations) AS first_year_separations,
        SUM(b.promotions) AS promotions,
        SUM(b.hires) AS hires
    FROM by_group AS b
    {{ rollups(["all_families", "all_models"], "r") }}
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
    CAST(t.first_year_separations AS INTEGER) AS first_year_separations,
    CAST(t.hires AS INTEGER) AS hires
FROM rolled_up AS t
JOIN years AS y ON y.year = t.year
