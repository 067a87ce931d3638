-- Vacancies by year opened and job family, with fill and budget delays.
WITH vacancies AS (
    SELECT
        CAST(EXTRACT(YEAR FROM v.opened_on) AS INTEGER) AS year,
        j.job_family,
        v.*
    FROM fct_vacancy AS v
    JOIN dim_job AS j ON j.job_code = v.job_code
),
grouped AS (
    SELECT year, job_family, opened_on, closed_on, days_to_fill, days_waiting_for_budget
    FROM vacancies
    UNION ALL
    SELECT year, 'ALL', opened_on, closed_on, days_to_fill, days_waiting_for_budget
    FROM vacancies
)
SELECT
    year,
    job_family,
    CAST(COUNT(*) AS INTEGER) AS vacancies_opened,
    CAST(COUNT(closed_on) AS INTEGER) AS vacancies_filled,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY days_to_fill) AS median_days_to_fill,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY days_to_fill) AS p90_days_to_fill,
    percentile_cont(0.5) WITHIN GROUP (
        ORDER BY CASE WHEN closed_on IS NOT NULL THEN days_waiting_for_budget END
    ) AS median_days_waiting_for_budget,
    CAST(SUM(
        CASE
            WHEN closed_on IS NULL OR closed_on > CAST(CAST(year AS TEXT) || '-12-31' AS DATE) THEN 1
            ELSE 0
        END
    ) AS INTEGER) AS open_at_year_end
FROM grouped
GROUP BY year, job_family
