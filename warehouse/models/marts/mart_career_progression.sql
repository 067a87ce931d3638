-- Moves between job codes per year (promotions, laterals, demotions).
SELECT
    CAST(EXTRACT(YEAR FROM event_date) AS INTEGER) AS year,
    from_job_code,
    to_job_code,
    event_type,
    CAST(COUNT(DISTINCT employee_key) AS INTEGER) AS employees,
    CAST(COUNT(*) AS INTEGER) AS moves
FROM fct_career_event
WHERE event_type IN ('promotion', 'lateral', 'demotion')
GROUP BY CAST(EXTRACT(YEAR FROM event_date) AS INTEGER), from_job_code, to_job_code, event_type
