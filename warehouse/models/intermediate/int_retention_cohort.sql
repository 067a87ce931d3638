-- Each retention year's cohort: who was employed on its start day, in the job family and
-- pharmacy model they held that day, and whether they were still employed (in any job)
-- on its end day; one who left and was rehired by then is retained.
WITH employed AS (
    SELECT
        d.year, d.start_day, d.end_day, e.employee_key, j.job_family, e.pharmacy_model,
        e.employed_from, e.employed_until
    FROM int_retention_year AS d
    JOIN int_employment_period AS e
        ON e.employed_from <= d.end_day
        AND (e.employed_until IS NULL OR e.employed_until > d.start_day)
    JOIN dim_job AS j ON j.job_code = e.job_code
),
cohort AS (
    SELECT DISTINCT year, start_day, employee_key, job_family, pharmacy_model
    FROM employed
    WHERE {{ employed_on("employed", "start_day") }}
),
still_employed AS (
    SELECT DISTINCT year, employee_key
    FROM employed
    WHERE {{ employed_on("employed", "end_day") }}
)
SELECT
    c.year,
    c.start_day,
    c.employee_key,
    c.job_family,
    c.pharmacy_model,
    s.employee_key IS NOT NULL AS retained
FROM cohort AS c
LEFT JOIN still_employed AS s ON s.year = c.year AND s.employee_key = c.employee_key
