-- Early exits from each role, by the year spells started (warehouse.md v2): of the spells
-- observable for 90 (365) days on as_of_date, those ended by a separation, a lateral move
-- or a demotion less than 90 (365) days after they started. New roles beside legacy ones.
-- Spells started before the first roster snapshot are left out (int_observed_spell).
WITH spells AS (
    SELECT
        s.*,
        CASE
            WHEN s.end_reason IN ('separation', 'lateral', 'demotion')
                THEN s.ended_on - s.started_on
        END AS days_to_exit,
        CASE WHEN s.end_reason = 'separation' THEN s.ended_on - s.started_on END
            AS days_to_separation
    FROM int_observed_spell AS s
),
counted AS (
    SELECT
        CAST(EXTRACT(YEAR FROM started_on) AS INTEGER) AS year,
        job_code,
        CAST(COUNT(*) AS INTEGER) AS entries,
        CAST(SUM(CASE WHEN days_observable >= 90 THEN 1 ELSE 0 END) AS INTEGER) AS observable_90,
        CAST(SUM(CASE WHEN days_observable >= 90 AND days_to_exit < 90 THEN 1 ELSE 0 END)
            AS INTEGER) AS early_exits_90,
        CAST(SUM(CASE WHEN days_observable >= 365 THEN 1 ELSE 0 END) AS INTEGER)
            AS observable_365,
        CAST(SUM(CASE WHEN days_observable >= 365 AND days_to_exit < 365 THEN 1 ELSE 0 END)
            AS INTEGER) AS early_exits_365,
        CAST(SUM(CASE WHEN days_observable >= 365 AND days_to_separation < 365 THEN 1 ELSE 0 END)
            AS INTEGER) AS separations_365
    FROM spells
    GROUP BY CAST(EXTRACT(YEAR FROM started_on) AS INTEGER), job_code
)
SELECT
    c.year, c.job_code, j.job_title, j.created_in_expansion, c.entries,
    c.observable_90,
    c.early_exits_90,
    CASE WHEN c.observable_90 > 0
        THEN CAST(c.early_exits_90 AS DOUBLE PRECISION) / c.observable_90 END
        AS early_exit_rate_90,
    c.observable_365,
    c.early_exits_365,
    CASE WHEN c.observable_365 > 0
        THEN CAST(c.early_exits_365 AS DOUBLE PRECISION) / c.observable_365 END
        AS early_exit_rate_365,
    c.separations_365
FROM counted AS c
JOIN dim_job AS j ON j.job_code = c.job_code
