-- How long people wait for a step (warehouse.md v3): each year's promotions between two
-- jobs, with the median days the employee had been in the job left (the promotion's date
-- minus the start of the role spell it ended).
WITH waits AS (
    SELECT
        CAST(EXTRACT(YEAR FROM e.event_date) AS INTEGER) AS year,
        e.from_job_code,
        e.to_job_code,
        e.event_date - s.started_on AS days_in_job
    FROM fct_career_event AS e
    LEFT JOIN fct_role_spell AS s
        ON s.employee_key = e.employee_key
        AND s.ended_on = e.event_date
        AND s.end_reason = 'promotion'
        AND s.job_code = e.from_job_code
    WHERE e.event_type = 'promotion'
)
SELECT
    year,
    from_job_code,
    to_job_code,
    CAST(COUNT(*) AS INTEGER) AS promotions,
    {{ days_percentile("days_in_job") }} AS median_days_in_job
FROM waits
GROUP BY year, from_job_code, to_job_code
