-- Did new hires stay their first year? (warehouse.md v3) Every hire and rehire, by the
-- year, job family and pharmacy model of the job entered (each also ALL). A hire is
-- observable once made at least 365 days before as_of_date; it left within 365 days when
-- the employment it began ended by a separation less than 365 days after the hire date.
-- The employment's end is the employee's next separation, before any later hire (on one
-- day a separation comes before a hire, as in fct_role_spell).
WITH employment AS (
    SELECT
        employee_key, event_date, event_type, to_job_code, pharmacy_model,
        LEAD(event_type) OVER w AS next_event,
        LEAD(event_date) OVER w AS next_date
    FROM fct_career_event
    WHERE event_type IN ('hire', 'rehire', 'separation')
    WINDOW w AS (
        PARTITION BY employee_key
        ORDER BY event_date, CASE WHEN event_type = 'separation' THEN 0 ELSE 1 END
    )
),
hires AS (
    SELECT
        CAST(EXTRACT(YEAR FROM h.event_date) AS INTEGER) AS hire_year,
        j.job_family,
        h.pharmacy_model,
        c.as_of_date - h.event_date >= 365 AS observable,
        h.next_event = 'separation' AND h.next_date - h.event_date < 365 AS left_early
    FROM employment AS h
    JOIN dim_job AS j ON j.job_code = h.to_job_code
    CROSS JOIN int_roster_coverage AS c
    WHERE h.event_type IN ('hire', 'rehire')
),
counted AS (
    SELECT
        h.hire_year,
        {{ all_or("g.all_families", "h.job_family") }} AS job_family,
        {{ all_or("g.all_models", "h.pharmacy_model") }} AS pharmacy_model,
        CAST(COUNT(*) AS INTEGER) AS hires,
        CAST(SUM(CASE WHEN h.observable THEN 1 ELSE 0 END) AS INTEGER) AS observable_365,
        CAST(SUM(CASE WHEN h.observable AND h.left_early THEN 1 ELSE 0 END) AS INTEGER)
            AS left_within_365
    FROM hires AS h
    {{ rollups(["all_families", "all_models"]) }}
    GROUP BY 1, 2, 3
)
SELECT
    *,
    CASE WHEN observable_365 > 0
        THEN CAST(left_within_365 AS DOUBLE PRECISION) / observable_365 END
        AS first_year_turnover_rate
FROM counted
