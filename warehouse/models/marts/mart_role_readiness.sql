-- Readiness in each role by the year its spells started (warehouse.md v2): how many
-- spells came with required training, how many were proficient within 90 days (of those
-- observable for 90 days on as_of_date), the median days to proficiency and the training
-- hours of the first 180 days. New roles beside legacy ones. Spells started before the
-- first roster snapshot are left out (int_observed_spell).
WITH counted AS (
    SELECT
        CAST(EXTRACT(YEAR FROM started_on) AS INTEGER) AS year,
        job_code,
        CAST(COUNT(*) AS INTEGER) AS entries,
        -- null, not 0, when no training file was ever loaded (required_courses unknown)
        CASE WHEN COUNT(required_courses) > 0 THEN CAST(
            SUM(CASE WHEN required_courses > 0 THEN 1 ELSE 0 END) AS INTEGER) END
            AS entries_with_requirements,
        CAST(SUM(CASE WHEN required_courses > 0 AND days_observable >= 90 THEN 1 ELSE 0 END)
            AS INTEGER) AS observable_with_requirements,
        CASE WHEN COUNT(required_courses) > 0 THEN CAST(
            SUM(CASE WHEN required_courses > 0 AND days_observable >= 90
                AND days_to_proficiency <= 90 THEN 1 ELSE 0 END) AS INTEGER) END
            AS proficient_within_90,
        {{ days_percentile("days_to_proficiency") }} AS median_days_to_proficiency,
        CAST(ROUND(CAST(AVG(CASE WHEN days_observable >= 180 THEN training_hours_first_180 END)
            AS NUMERIC(18, 6)), 1) AS NUMERIC(10, 1)) AS avg_training_hours_first_180
    FROM int_observed_spell
    GROUP BY CAST(EXTRACT(YEAR FROM started_on) AS INTEGER), job_code
)
SELECT
    c.year, c.job_code, j.job_title, j.created_in_expansion, c.entries,
    c.entries_with_requirements,
    c.proficient_within_90,
    CASE WHEN c.observable_with_requirements > 0
        THEN CAST(c.proficient_within_90 AS DOUBLE PRECISION) / c.observable_with_requirements
    END AS proficiency_rate_90,
    c.median_days_to_proficiency,
    c.avg_training_hours_first_180
FROM counted AS c
JOIN dim_job AS j ON j.job_code = c.job_code
