-- Where people who crossed into another job family went (warehouse.md v3). For each
-- employee promoted from a job of one family to a job of another, the highest job of the
-- new family they held on any day from that promotion (the earliest, for the same two
-- families) to as_of_date: by ladder level, for a family without levels by grade, on a
-- tie the job held last. A row per (from, to, highest job) and an ALL row per (from, to),
-- each employee counted once.
WITH crossings AS (
    SELECT
        e.employee_key, f.job_family AS from_family, t.job_family AS to_family,
        e.event_date AS promoted_on, e.to_job_code,
        ROW_NUMBER() OVER (
            PARTITION BY e.employee_key, f.job_family, t.job_family ORDER BY e.event_date
        ) AS crossing_no
    FROM fct_career_event AS e
    JOIN dim_job AS f ON f.job_code = e.from_job_code
    JOIN dim_job AS t ON t.job_code = e.to_job_code
    WHERE e.event_type = 'promotion' AND f.job_family <> t.job_family
),
first_crossing AS (
    SELECT * FROM crossings WHERE crossing_no = 1
),
held AS (
    -- the job the promotion entered, and every job of the new family held since
    SELECT c.employee_key, c.from_family, c.to_family, c.to_job_code AS job_code,
           c.promoted_on AS held_from
    FROM first_crossing AS c
    UNION ALL
    SELECT c.employee_key, c.from_family, c.to_family, p.job_code, p.employed_from
    FROM first_crossing AS c
    JOIN int_employment_period AS p
        ON p.employee_key = c.employee_key
        AND (p.employed_until IS NULL OR p.employed_until > c.promoted_on)
    JOIN dim_job AS j ON j.job_code = p.job_code AND j.job_family = c.to_family
    CROSS JOIN int_roster_coverage AS r
    WHERE p.employed_from <= r.as_of_date
),
ranked AS (
    SELECT
        h.*,
        ROW_NUMBER() OVER (
            PARTITION BY h.employee_key, h.from_family, h.to_family
            ORDER BY COALESCE(j.ladder_level, -1) DESC, j.grade DESC, h.held_from DESC
        ) AS pick
    FROM held AS h
    JOIN dim_job AS j ON j.job_code = h.job_code
),
highest AS (
    SELECT employee_key, from_family, to_family, job_code AS highest_job_code
    FROM ranked
    WHERE pick = 1
)
SELECT
    from_family, to_family, highest_job_code,
    CAST(COUNT(DISTINCT employee_key) AS INTEGER) AS employees
FROM highest
GROUP BY from_family, to_family, highest_job_code
UNION ALL
SELECT
    from_family, to_family, 'ALL',
    CAST(COUNT(DISTINCT employee_key) AS INTEGER)
FROM highest
GROUP BY from_family, to_family
