-- Who could answer each survey: the employees on its close date (the latest submitted_at
-- date of that year), with the job family, pharmacy model and department they held then.
-- Headcounts and 12-month retention of the surveyed groups read it.
WITH closes AS (
    SELECT survey_year, CAST(MAX(submitted_at) AS DATE) AS close_date
    FROM stg_survey_respondent
    GROUP BY survey_year
)
SELECT
    c.survey_year,
    c.close_date,
    e.employee_key,
    j.job_family,
    e.pharmacy_model,
    e.department
FROM closes AS c
JOIN int_employment_period AS e
    ON {{ employed_on("e", "c.close_date") }}
JOIN dim_job AS j ON j.job_code = e.job_code
