-- Where each role is staffed (warehouse.md v2): for every year from the first roster
-- snapshot's to as_of_date's, on 31 December (or as_of_date in the current year), the
-- headcount, FTE and open vacancies of each job in each pharmacy model, and how many
-- models have the role at all.
WITH days AS (
    SELECT
        CAST(g.year AS INTEGER) AS year,
        LEAST(CAST(CAST(g.year AS TEXT) || '-12-31' AS DATE), b.as_of_date) AS on_date
    FROM int_roster_coverage AS b,
        generate_series(
            CAST(EXTRACT(YEAR FROM b.first_snapshot_date) AS INTEGER),
            CAST(EXTRACT(YEAR FROM b.as_of_date) AS INTEGER)
        ) AS g (year)
    WHERE b.as_of_date IS NOT NULL
),
staffed AS (
    SELECT
        d.year, d.on_date, e.job_code, e.pharmacy_model,
        CAST(COUNT(*) AS INTEGER) AS headcount,
        SUM(e.fte) AS fte
    FROM days AS d
    JOIN int_employment_period AS e
        ON {{ employed_on("e", "d.on_date") }}
    GROUP BY d.year, d.on_date, e.job_code, e.pharmacy_model
),
vacant AS (
    SELECT
        d.year, d.on_date, v.job_code, COALESCE(v.pharmacy_model, '(not stated)') AS pharmacy_model,
        CAST(COUNT(*) AS INTEGER) AS open_vacancies
    FROM days AS d
    JOIN fct_vacancy AS v
        ON v.opened_on <= d.on_date AND (v.closed_on IS NULL OR v.closed_on > d.on_date)
    WHERE v.job_code IS NOT NULL
    GROUP BY d.year, d.on_date, v.job_code, COALESCE(v.pharmacy_model, '(not stated)')
),
cells AS (
    SELECT year, on_date, job_code, pharmacy_model FROM staffed
    UNION
    SELECT year, on_date, job_code, pharmacy_model FROM vacant
),
counted AS (
    SELECT
        c.year, c.on_date, c.job_code, c.pharmacy_model,
        COALESCE(s.headcount, 0) AS headcount,
        COALESCE(s.fte, 0) AS fte,
        COALESCE(v.open_vacancies, 0) AS open_vacancies,
        CAST(COUNT(*) OVER (PARTITION BY c.year, c.job_code) AS INTEGER) AS models_with_role
    FROM cells AS c
    LEFT JOIN staffed AS s
        ON s.year = c.year AND s.job_code = c.job_code AND s.pharmacy_model = c.pharmacy_model
    LEFT JOIN vacant AS v
        ON v.year = c.year AND v.job_code = c.job_code AND v.pharmacy_model = c.pharmacy_model
)
SELECT
    c.year,
    c.on_date,
    c.job_code,
    j.job_title,
    j.created_in_expansion,
    c.pharmacy_model,
    c.headcount,
    c.fte,
    c.open_vacancies,
    c.models_with_role,
    c.models_with_role = 1 AS unique_to_model
FROM counted AS c
JOIN dim_job AS j ON j.job_code = c.job_code
