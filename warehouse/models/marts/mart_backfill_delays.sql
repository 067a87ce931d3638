-- Vacancies by year opened, job family and pharmacy model (each also ALL), with the time
-- to fill split into its stages: open -> request -> release -> fill.
WITH vacancies AS (
    SELECT
        CAST(EXTRACT(YEAR FROM v.opened_on) AS INTEGER) AS year,
        j.job_family,
        COALESCE(v.pharmacy_model, '(not stated)') AS pharmacy_model,
        v.closed_on, v.state, v.days_to_fill, v.days_to_request, v.days_waiting_for_budget,
        v.days_release_to_fill
    FROM fct_vacancy AS v
    JOIN dim_job AS j ON j.job_code = v.job_code
),
grouped AS (
    SELECT
        v.year,
        CASE WHEN g.all_families = 1 THEN 'ALL' ELSE v.job_family END AS job_family,
        CASE WHEN g.all_models = 1 THEN 'ALL' ELSE v.pharmacy_model END AS pharmacy_model,
        v.closed_on, v.state, v.days_to_fill, v.days_to_request, v.days_waiting_for_budget,
        v.days_release_to_fill
    FROM vacancies AS v
    CROSS JOIN (VALUES (0, 0), (0, 1), (1, 0), (1, 1)) AS g (all_families, all_models)
)
SELECT
    year,
    job_family,
    pharmacy_model,
    CAST(COUNT(*) AS INTEGER) AS vacancies_opened,
    CAST(COUNT(closed_on) AS INTEGER) AS vacancies_filled,
    CAST(ROUND(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_fill)
        AS NUMERIC(18, 6)), 1) AS NUMERIC(10, 1)) AS median_days_to_fill,
    CAST(ROUND(CAST(percentile_cont(0.9) WITHIN GROUP (ORDER BY days_to_fill)
        AS NUMERIC(18, 6)), 1) AS NUMERIC(10, 1)) AS p90_days_to_fill,
    CAST(ROUND(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_request)
        AS NUMERIC(18, 6)), 1) AS NUMERIC(10, 1)) AS median_days_to_request,
    CAST(ROUND(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY days_waiting_for_budget)
        AS NUMERIC(18, 6)), 1) AS NUMERIC(10, 1)) AS median_days_waiting_for_budget,
    CAST(ROUND(CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY days_release_to_fill)
        AS NUMERIC(18, 6)), 1) AS NUMERIC(10, 1)) AS median_days_release_to_fill,
    CAST(SUM(CASE WHEN state IN ('denied', 'withdrawn') THEN 1 ELSE 0 END) AS INTEGER)
        AS denied_or_withdrawn,
    CAST(SUM(
        CASE
            WHEN closed_on IS NULL OR closed_on > CAST(CAST(year AS TEXT) || '-12-31' AS DATE) THEN 1
            ELSE 0
        END
    ) AS INTEGER) AS open_at_year_end
FROM grouped
GROUP BY year, job_family, pharmacy_model
