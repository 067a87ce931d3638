-- One row per employee per continuous period in one job_code (warehouse.md v2). A hire or
-- rehire starts a spell; a job change to another job_code or a separation ends it (and a
-- job change starts the next); a move to another seat or model with the same job_code,
-- or a leave, does not. On one day, an end comes before a start.
WITH job_changes AS (
    SELECT *
    FROM fct_career_event
    WHERE event_type IN ('promotion', 'lateral', 'demotion') AND from_job_code <> to_job_code
),
boundaries AS (
    SELECT
        employee_key, event_date, 0 AS ord, 'end' AS kind, event_type,
        termination_type, CAST(NULL AS TEXT) AS job_code, CAST(NULL AS TEXT) AS prior_job_code,
        CAST(NULL AS TEXT) AS pharmacy_model
    FROM fct_career_event
    WHERE event_type = 'separation'
    UNION ALL
    SELECT
        employee_key, event_date, 0, 'end', event_type, CAST(NULL AS TEXT), CAST(NULL AS TEXT),
        CAST(NULL AS TEXT), CAST(NULL AS TEXT)
    FROM job_changes
    UNION ALL
    SELECT
        employee_key, event_date, 1, 'start', event_type, CAST(NULL AS TEXT), to_job_code,
        CAST(NULL AS TEXT), pharmacy_model
    FROM fct_career_event
    WHERE event_type IN ('hire', 'rehire')
    UNION ALL
    SELECT
        employee_key, event_date, 1, 'start', event_type, CAST(NULL AS TEXT), to_job_code,
        from_job_code, pharmacy_model
    FROM job_changes
),
sequenced AS (
    SELECT
        b.*,
        LEAD(kind) OVER w AS next_kind,
        LEAD(event_date) OVER w AS next_date,
        LEAD(event_type) OVER w AS next_event,
        LEAD(termination_type) OVER w AS next_termination_type
    FROM boundaries AS b
    WINDOW w AS (PARTITION BY employee_key ORDER BY event_date, ord)
)
SELECT
    s.employee_key,
    s.job_code,
    j.job_family,
    j.created_in_expansion,
    s.pharmacy_model,
    s.event_date AS started_on,
    CASE WHEN s.next_kind = 'end' THEN s.next_date END AS ended_on,
    CASE WHEN s.next_kind = 'end' THEN s.next_event END AS end_reason,
    CASE WHEN s.next_kind = 'end' THEN s.next_termination_type END AS termination_type,
    s.prior_job_code
FROM sequenced AS s
JOIN dim_job AS j ON j.job_code = s.job_code
WHERE s.kind = 'start'
