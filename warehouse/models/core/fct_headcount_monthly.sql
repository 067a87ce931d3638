-- Month-end headcount: employees hired on or before the day and not separated on or
-- before it, in the job and pharmacy model they held that day (leave counts; a vanished
-- employee keeps the last known state). Month ends run from the first snapshot's month
-- to the latest snapshot date: later month ends are not yet known.
WITH coverage AS (
    SELECT MIN(snapshot_date) AS first_snapshot, MAX(last_seen) AS last_snapshot
    FROM int_roster_change
),
month_ends AS (
    SELECT d.date_day AS month_end
    FROM dim_date AS d, coverage AS c
    WHERE d.month_end
        AND d.date_day >= c.first_snapshot - CAST(EXTRACT(DAY FROM c.first_snapshot) AS INTEGER) + 1
        AND d.date_day <= c.last_snapshot
)
SELECT
    m.month_end,
    e.job_code,
    e.pharmacy_model,
    CAST(COUNT(*) AS INTEGER) AS headcount,
    SUM(e.fte) AS fte
FROM month_ends AS m
JOIN int_employment_period AS e
    ON {{ employed_on("e", "m.month_end") }}
GROUP BY m.month_end, e.job_code, e.pharmacy_model
