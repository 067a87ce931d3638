-- The years retention is measured over: those with month ends in fct_headcount_monthly
-- whose start day (31 December of the year before) the data saw, on or after the first
-- roster snapshot (warehouse.md v3); each ends on 31 December, or on the latest snapshot
-- in the current year.
WITH coverage AS (
    SELECT MAX(last_seen) AS last_snapshot FROM int_roster_change
),
years AS (
    SELECT
        CAST(EXTRACT(YEAR FROM month_end) AS INTEGER) AS year,
        CAST(COUNT(DISTINCT month_end) AS INTEGER) AS month_ends
    FROM fct_headcount_monthly
    GROUP BY CAST(EXTRACT(YEAR FROM month_end) AS INTEGER)
)
SELECT
    y.year,
    y.month_ends,
    CAST(CAST(y.year - 1 AS TEXT) || '-12-31' AS DATE) AS start_day,
    CASE
        WHEN CAST(CAST(y.year AS TEXT) || '-12-31' AS DATE) < c.last_snapshot
            THEN CAST(CAST(y.year AS TEXT) || '-12-31' AS DATE)
        ELSE c.last_snapshot
    END AS end_day
FROM years AS y
CROSS JOIN coverage AS c
CROSS JOIN int_roster_coverage AS r
WHERE CAST(CAST(y.year - 1 AS TEXT) || '-12-31' AS DATE) >= r.first_snapshot_date
