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
),
spells AS (
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
),
-- Training (contract v2): the required courses of the spell's job assigned from 30 days
-- before it started until it ended, neither cancelled nor waived.
required AS (
    SELECT
        s.employee_key, s.started_on, s.job_code,
        COUNT(*) AS required_courses,
        SUM(CASE WHEN t.status = 'completed' THEN 1 ELSE 0 END) AS completed_courses,
        MAX(t.completed_on) AS last_completed_on
    FROM spells AS s
    JOIN fct_training AS t
        ON t.employee_key = s.employee_key
        AND t.required
        AND t.job_code = s.job_code
        AND t.assigned_on >= s.started_on - 30
        AND (s.ended_on IS NULL OR t.assigned_on < s.ended_on)
        AND t.status NOT IN ('cancelled', 'waived')
    GROUP BY s.employee_key, s.started_on, s.job_code
),
early_hours AS (
    SELECT s.employee_key, s.started_on, s.job_code, SUM(t.hours) AS hours
    FROM spells AS s
    JOIN fct_training AS t
        ON t.employee_key = s.employee_key
        AND t.status = 'completed'
        AND t.completed_on >= s.started_on
        AND t.completed_on < s.started_on + 180
    GROUP BY s.employee_key, s.started_on, s.job_code
),
-- Without any training file the training figures are unknown (null), not zero.
training_loaded AS (
    SELECT COUNT(*) > 0 AS loaded FROM fct_training
)
SELECT
    s.*,
    CASE WHEN l.loaded THEN CAST(COALESCE(r.required_courses, 0) AS INTEGER) END
        AS required_courses,
    CASE WHEN r.required_courses > 0 AND r.completed_courses = r.required_courses
        THEN r.last_completed_on END AS proficient_on,
    CASE WHEN r.required_courses > 0 AND r.completed_courses = r.required_courses
        THEN r.last_completed_on - s.started_on END AS days_to_proficiency,
    CASE WHEN l.loaded THEN CAST(COALESCE(h.hours, 0) AS DOUBLE PRECISION) END
        AS training_hours_first_180
FROM spells AS s
CROSS JOIN training_loaded AS l
LEFT JOIN required AS r
    ON r.employee_key = s.employee_key AND r.started_on = s.started_on AND r.job_code = s.job_code
LEFT JOIN early_hours AS h
    ON h.employee_key = s.employee_key AND h.started_on = s.started_on AND h.job_code = s.job_code
